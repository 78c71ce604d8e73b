// Keyless signing end to end against @sigstore/mock's Fulcio, Rekor and TSA,
// served from a local HTTP server (the mock's own helpers patch the network
// with nock; a real socket exercises sigstore-js's HTTP client unchanged).
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
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
import * as sigstoreSign from '@sigstore/sign';
import { makeStatement } from '../core/statement.ts';
import { signStatement } from './bundle.ts';
import { DEFAULT_FULCIO_URL, DEFAULT_REKOR_URL, type TrustPolicy } from './types.ts';
import { verifyBundle } from './verify.ts';

const ISSUER = 'https://issuer.example.com';
const SUBJECT = 'https://github.com/example/repo/.github/workflows/release.yml@refs/heads/main';
const ARTIFACT = Buffer.from('keyless artifact');
const STATEMENT = makeStatement(
  [{ name: 'a', digest: { sha256: createHash('sha256').update(ARTIFACT).digest('hex') } }],
  'https://example.com/predicate/v1',
  {},
);

const b64 = (b: Uint8Array | ArrayBufferView) =>
  Buffer.from(
    b instanceof Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
  ).toString('base64');

/** An unsigned JWT: the mock Fulcio only decodes it. */
function identityToken(claims: Record<string, unknown>): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.c2ln`;
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

describe('keyless signing with @sigstore/mock', () => {
  let server: Server;
  let base: string;
  let trustedRoot: Record<string, unknown>;
  let requests: string[];

  before(async () => {
    const keyPair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
    // One whole-second clock for every service: pkijs writes a TSA genTime with
    // fewer than 3 fraction digits (".5Z") that @sigstore/core refuses to parse,
    // and equal times keep the TSA time inside the certificate's validity.
    const clock = new Date(Math.floor(Date.now() / 1000) * 1000);
    const ctlog = await initializeCTLog(keyPair(), clock);
    const ca = await initializeCA(keyPair(), ctlog, clock);
    const tsa = await initializeTSA(keyPair(), clock);
    const routes = new Map<string, HandlerFn>();
    requests = [];
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        requests.push(req.url ?? '');
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
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Checkpoints are signed under the log's host name, which must be part of its trusted URL.
    const tlog = await initializeTLog(base, keyPair(), clock);
    for (const h of [fulcioHandler(ca), rekorHandler(tlog), tsaHandler(tsa)])
      routes.set(h.path, h.fn);
    // The mock logs a proposed entry verbatim; real Rekor stores a canonical
    // body instead, which is what verifiers compare against. Do as Rekor does.
    const logEntry = routes.get('/api/v1/log/entries') as HandlerFn;
    routes.set('/api/v1/log/entries', (body) =>
      logEntry(JSON.stringify(rekorCanonicalDsse(JSON.parse(body)))),
    );

    const start = new Date(Date.now() - 24 * 3600 * 1000).toISOString();
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
    trustedRoot = {
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
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const policy = (issuer = ISSUER, subject = SUBJECT): TrustPolicy => ({
    mode: 'keyless',
    trustedRoot,
    identity: { issuer, subject },
  });

  test('signs with a Fulcio certificate, a Rekor entry and a TSA timestamp, and verifies', async () => {
    const token = identityToken({ iss: ISSUER, sub: SUBJECT, aud: 'sigstore' });
    const bundle = (await signStatement(STATEMENT, {
      mode: 'keyless',
      identityToken: token,
      fulcioURL: base,
      rekorURL: base,
      tsaURL: base,
    })) as {
      mediaType: string;
      verificationMaterial: {
        certificate?: unknown;
        tlogEntries: Array<{ kindVersion: { kind: string } }>;
        timestampVerificationData?: { rfc3161Timestamps: unknown[] };
      };
    };
    assert.deepEqual(requests.sort(), [
      '/api/v1/log/entries',
      '/api/v1/timestamp',
      '/api/v2/signingCert',
    ]);
    assert.equal(bundle.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    assert.ok(bundle.verificationMaterial.certificate, 'a single leaf certificate, as v0.3 wants');
    assert.equal(bundle.verificationMaterial.tlogEntries.length, 1);
    assert.equal(bundle.verificationMaterial.tlogEntries[0]?.kindVersion.kind, 'dsse');
    assert.equal(
      bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps.length,
      1,
    );

    const v = verifyBundle(bundle, 'keyless.json', { bytes: ARTIFACT }, policy());
    assert.equal(
      v.ok,
      true,
      v.checks
        .filter((c) => !c.ok)
        .map((c) => `${c.name}: ${c.detail}`)
        .join(' | '),
    );
    assert.deepEqual(v.signers, [{ kind: 'certificate', subject: SUBJECT, issuer: ISSUER }]);
    assert.deepEqual(v.statement, STATEMENT);

    assert.equal(
      verifyBundle(bundle, 'k', { bytes: ARTIFACT }, policy('https://other.example.com')).ok,
      false,
    );
    assert.equal(
      verifyBundle(bundle, 'k', { bytes: ARTIFACT }, policy(ISSUER, `${SUBJECT}x`)).ok,
      false,
    );
    assert.equal(verifyBundle(bundle, 'k', { bytes: Buffer.from('other') }, policy()).ok, false);
    // Against the real public-good root the mock's CA is not trusted.
    const { publicGoodTrustedRoot } = await import('./trusted-root.ts');
    const pg = verifyBundle(
      bundle,
      'k',
      { bytes: ARTIFACT },
      { ...policy(), trustedRoot: publicGoodTrustedRoot() },
    );
    assert.equal(pg.ok, false);
  });

  test('without a token and outside CI, signing fails with IDENTITY_TOKEN_MISSING', async () => {
    const saved = { ...process.env };
    for (const k of Object.keys(process.env)) {
      if (/^(ACTIONS_ID_TOKEN|GITLAB|CI_|SIGSTORE_ID_TOKEN)/.test(k)) delete process.env[k];
    }
    try {
      await assert.rejects(
        signStatement(STATEMENT, { mode: 'keyless', fulcioURL: base, rekorURL: base }),
        { code: 'IDENTITY_TOKEN_MISSING' },
      );
    } finally {
      process.env = saved;
    }
  });

  test('a Fulcio refusal is SIGNING_FAILED', async () => {
    await assert.rejects(
      signStatement(STATEMENT, {
        mode: 'keyless',
        identityToken: identityToken({ iss: ISSUER, sub: SUBJECT }),
        fulcioURL: `${base}/nowhere`,
        rekorURL: base,
      }),
      { code: 'SIGNING_FAILED' },
    );
  });
});

test('the default keyless endpoints are the ones @sigstore/sign uses', () => {
  assert.equal(DEFAULT_FULCIO_URL, sigstoreSign.DEFAULT_FULCIO_URL);
  assert.equal(DEFAULT_REKOR_URL, sigstoreSign.DEFAULT_REKOR_URL);
});
