// Test support only (not exported from index.ts): @sigstore/mock's Fulcio,
// Rekor and TSA served from a local HTTP server (the mock's own helpers patch
// the network with nock; a real socket exercises sigstore-js's HTTP client
// unchanged), with a trusted root for them.
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  fulcioHandler,
  type HandlerFn,
  initializeCA,
  initializeCTLog,
  initializeTLog,
  initializeTSA,
  rekorHandler,
  tsaHandler,
} from '@sigstore/mock';

export interface MockSigstore {
  /** Base URL of Fulcio, Rekor and the TSA alike. */
  base: string;
  /** A trusted_root.json (parsed) trusting exactly these mock services. */
  trustedRoot: Record<string, unknown>;
  /** Every request path served, in order. */
  requests: string[];
  /** The time every service signs with: certificate notBefore, log integrated time, TSA genTime. */
  clock: Date;
  /**
   * The environment of a GitHub Actions job with `id-token: write` whose
   * token endpoint (served here, as GitHub serves it: GET with a bearer
   * request token, `audience` query, JSON `{ value }`) hands out `token`.
   */
  githubActions(token: string): {
    ACTIONS_ID_TOKEN_REQUEST_URL: string;
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: string;
  };
  close(): Promise<void>;
}

const b64 = (b: Uint8Array | ArrayBufferView) =>
  Buffer.from(
    b instanceof Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
  ).toString('base64');

/**
 * An unsigned JWT: the mock Fulcio only decodes it. It takes the SAN from
 * `sub` and maps GitHub claims (`repository`, `ref`, `sha`, `workflow`,
 * `event_name`, `workflow_ref`, …) to Fulcio extensions 1.3.6.1.4.1.57264.1.*.
 */
export function identityToken(claims: Record<string, unknown>): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.c2ln`;
}

/**
 * The claims of a token the mock Fulcio accepts for `sub` issued by `iss`:
 * audience `sigstore`, expiring ten minutes from now. `extra` adds claims or
 * overrides these (an `exp` in the past, another `aud`) to make a bad one.
 */
export function tokenClaims(
  iss: string,
  sub: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { iss, sub, aud: 'sigstore', exp: Math.floor(Date.now() / 1000) + 600, ...extra };
}

/** Rekor's stored form of a dsse 0.0.1 entry (rekor pkg/types/dsse/v0.0.1). */
function rekorCanonicalDsse(proposed: {
  kind: string;
  apiVersion: string;
  spec: { proposedContent: { envelope: string; verifiers: string[] } };
}): object {
  const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
  const envelope = JSON.parse(proposed.spec.proposedContent.envelope) as {
    payload: string;
    signatures: Array<{ sig: string }>;
  };
  return {
    apiVersion: proposed.apiVersion,
    kind: proposed.kind,
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256(proposed.spec.proposedContent.envelope) },
      payloadHash: { algorithm: 'sha256', value: sha256(Buffer.from(envelope.payload, 'base64')) },
      signatures: envelope.signatures.map((s) => ({
        signature: s.sig,
        verifier: proposed.spec.proposedContent.verifiers[0],
      })),
    },
  };
}

/** Fulcio's refusal of a token it cannot accept (fulcio pkg/api/error.go, invalidIdentityToken). */
const FULCIO_TOKEN_REFUSAL = JSON.stringify({
  code: 3,
  message: 'There was an error processing the identity token',
  details: [],
});

/**
 * What real Fulcio checks of a token and the mock does not: a token that has
 * expired or is for another audience is refused (when it carries `exp` /
 * `aud`, so tests may still use bare tokens).
 */
function fulcioTokenCheck(body: string): boolean {
  try {
    const token = (JSON.parse(body) as { credentials: { oidcIdentityToken: string } }).credentials
      .oidcIdentityToken;
    const claims = JSON.parse(
      Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as { exp?: unknown; aud?: unknown };
    if (typeof claims.exp === 'number' && claims.exp * 1000 < Date.now()) return false;
    if (claims.aud !== undefined) {
      const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (!aud.includes('sigstore')) return false;
    }
    return true;
  } catch {
    return true; // the mock's own handler reports what it cannot parse
  }
}

/**
 * Starts the mock services on 127.0.0.1. They all sign with one clock, set
 * once every service exists to the current time rounded down to a whole
 * second: the mock's root certificates are valid from their creation (to the
 * second), so an earlier clock fails whenever a second boundary passes during
 * setup; pkijs writes a TSA genTime with fewer than 3 fraction digits (".5Z")
 * that @sigstore/core refuses to parse; and equal times keep the TSA time
 * inside the certificate's validity.
 */
export async function startMockSigstore(): Promise<MockSigstore> {
  const keyPair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // The mock services keep this Date object and read it when they sign.
  const time = new Date(0);
  const ctlog = await initializeCTLog(keyPair(), time);
  const ca = await initializeCA(keyPair(), ctlog, time);
  const tsa = await initializeTSA(keyPair(), time);
  const routes = new Map<string, HandlerFn>();
  const requests: string[] = [];
  const github = { requestToken: randomBytes(16).toString('hex'), token: '' };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      requests.push(req.url ?? '');
      if (req.method === 'GET' && (req.url ?? '').startsWith('/github-oidc?')) {
        const ok = req.headers.authorization === `Bearer ${github.requestToken}`;
        res.writeHead(ok ? 200 : 401, { 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify(ok ? { count: 1, value: github.token } : { message: 'Bad credentials' }),
        );
        return;
      }
      const fn = routes.get(req.url ?? '');
      if (!fn || req.method !== 'POST') {
        res.writeHead(404).end();
        return;
      }
      const body = Buffer.concat(chunks);
      // The TSA request is DER; the mock handler wants it as a binary string.
      const r = await fn(
        req.url === '/api/v1/timestamp' ? body.toString('latin1') : body.toString('utf8'),
      );
      res.writeHead(r.statusCode, { 'Content-Type': r.contentType ?? 'text/plain' });
      res.end(
        typeof r.response === 'string'
          ? r.response
          : Buffer.from(r.response.buffer, r.response.byteOffset, r.response.byteLength),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Checkpoints are signed under the log's host name, which must be part of its trusted URL.
  const tlog = await initializeTLog(base, keyPair(), time);
  for (const h of [fulcioHandler(ca), rekorHandler(tlog), tsaHandler(tsa)])
    routes.set(h.path, h.fn);
  const signingCert = routes.get('/api/v2/signingCert') as HandlerFn;
  routes.set('/api/v2/signingCert', async (body) =>
    fulcioTokenCheck(body)
      ? signingCert(body)
      : { statusCode: 400, response: FULCIO_TOKEN_REFUSAL, contentType: 'application/json' },
  );
  time.setTime(Math.floor(Date.now() / 1000) * 1000);
  // The mock logs a proposed entry verbatim; real Rekor stores a canonical
  // body instead, which is what verifiers compare against. Do as Rekor does.
  const logEntry = routes.get('/api/v1/log/entries') as HandlerFn;
  routes.set('/api/v1/log/entries', (body) =>
    logEntry(JSON.stringify(rekorCanonicalDsse(JSON.parse(body)))),
  );

  const start = new Date(time.getTime() - 24 * 3600 * 1000).toISOString();
  const logKey = (publicKey: Buffer, logId: Buffer) => ({
    baseUrl: base,
    hashAlgorithm: 'SHA2_256',
    publicKey: {
      rawBytes: b64(publicKey),
      keyDetails: 'PKIX_ECDSA_P256_SHA_256',
      validFor: { start },
    },
    logId: { keyId: b64(logId) },
  });
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [logKey(tlog.publicKey, createHash('sha256').update(tlog.publicKey).digest())],
    ctlogs: [logKey(ctlog.publicKey, Buffer.from(b64(ctlog.logID), 'base64'))],
    certificateAuthorities: [
      {
        uri: base,
        certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] },
        validFor: { start },
      },
    ],
    timestampAuthorities: [
      {
        uri: base,
        certChain: {
          certificates: [
            { rawBytes: b64(tsa.intCertificate) },
            { rawBytes: b64(tsa.rootCertificate) },
          ],
        },
        validFor: { start },
      },
    ],
  };
  return {
    base,
    trustedRoot,
    requests,
    clock: time,
    githubActions(token) {
      github.token = token;
      return {
        // GitHub's URL carries a query of its own; the audience is added to it.
        ACTIONS_ID_TOKEN_REQUEST_URL: `${base}/github-oidc?api-version=2.0`,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: github.requestToken,
      };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
