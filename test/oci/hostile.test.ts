// The client against a small in-test HTTP server that pretends to be a
// registry: huge, malformed and substituted manifests and blobs, a registry
// that never answers, and the token (WWW-Authenticate Bearer) and basic auth
// flows with docker-config credentials. docker-registry's own `auth: token`
// needs a JWT-issuing token server with a certificate chain; the flow is
// tested here against the protocol instead.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { fetchEvidence, parseReference, RegistryClient, withDigest } from '../../src/oci/index.ts';
import { isolatedEnv, show, vouch } from '../cli/helpers.ts';
import { tempDir } from './registry.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, base: string) => void;

async function fakeRegistry(t: { after: (fn: () => Promise<void>) => void }, handler: Handler) {
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((req, res) => handler(req, res, `http://127.0.0.1:${port}`));
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return `127.0.0.1:${port}`;
}

const MANIFEST = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.empty.v1+json',
      digest: `sha256:${'4'.repeat(64)}`,
      size: 2,
    },
    layers: [],
  }),
);
const DIGEST = `sha256:${createHash('sha256').update(MANIFEST).digest('hex')}`;
const client = (o: ConstructorParameters<typeof RegistryClient>[0] = {}) =>
  new RegistryClient({ insecure: true, warn: () => {}, auth: { kind: 'anonymous' }, ...o });

function manifest(
  res: ServerResponse,
  body: Buffer | string,
  type = 'application/vnd.oci.image.manifest.v1+json',
) {
  res.writeHead(200, { 'Content-Type': type });
  res.end(body);
}

test('a huge manifest is cut off at the cap, streamed or declared', async (t) => {
  const host = await fakeRegistry(t, (req, res) => {
    res.writeHead(200, {
      'Content-Type': 'application/vnd.oci.image.manifest.v1+json',
      ...(req.url?.includes('declared') ? { 'Content-Length': String(1 << 30) } : {}),
    });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < 64 * 1024 * 1024 && !res.destroyed) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  for (const tag of ['streamed', 'declared']) {
    await assert.rejects(
      client({ maxManifestBytes: 1024 * 1024 }).resolve(parseReference(`oci://${host}/app:${tag}`)),
      (e: Error & { code?: string }) =>
        e.code === 'OCI_TOO_LARGE' && /limit is 1048576 bytes/.test(e.message),
    );
  }
});

test('malformed manifests are rejected with the reason', async (t) => {
  const bodies: Record<string, string> = {
    truncated: MANIFEST.toString().slice(0, 40),
    notobject: '[1,2]',
    v1: '{"schemaVersion":1,"name":"app"}',
    deep: `${'['.repeat(5000)}${']'.repeat(5000)}`,
    mediatype: '{"schemaVersion":2,"mediaType":"text/html"}',
  };
  const host = await fakeRegistry(t, (req, res) =>
    manifest(res, bodies[(req.url ?? '').split('/').pop() as string] ?? ''),
  );
  const expect: Record<string, RegExp> = {
    truncated: /not valid JSON/,
    notobject: /not a JSON object/,
    v1: /schemaVersion is 1/,
    deep: /nested deeper/,
    mediatype: /unsupported media type "text\/html"/,
  };
  for (const [tag, re] of Object.entries(expect)) {
    await assert.rejects(
      client().getManifest(parseReference(`oci://${host}/app:${tag}`)),
      (e: Error & { code?: string }) => e.code === 'OCI_MANIFEST_MALFORMED' && re.test(e.message),
      tag,
    );
  }
});

test('content fetched by digest must hash to it: substituted manifests and blobs fail closed', async (t) => {
  const other = Buffer.from(MANIFEST.toString().replace('"layers":[]', '"layers":[] '));
  const host = await fakeRegistry(t, (req, res) => {
    if (req.url?.includes('/blobs/')) {
      res.writeHead(200);
      res.end('not the blob');
    } else manifest(res, other);
  });
  const ref = withDigest(parseReference(`oci://${host}/app`), DIGEST);
  await assert.rejects(
    client().getManifest(ref),
    (e: Error & { code?: string }) => e.code === 'OCI_DIGEST_MISMATCH',
  );
  await assert.rejects(
    client().getBlob(ref, DIGEST),
    (e: Error & { code?: string }) => e.code === 'OCI_DIGEST_MISMATCH',
  );
  // And fetchEvidence, which reads the referrers tag by name and referrers by digest.
  const index = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: DIGEST,
        size: 10,
        artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      },
    ],
  });
  const host2 = await fakeRegistry(t, (req, res) => {
    if (req.url?.includes('/referrers/')) {
      res.writeHead(404);
      res.end();
    } else if (req.url?.endsWith(`sha256-${DIGEST.slice(7)}`))
      manifest(res, index, 'application/vnd.oci.image.index.v1+json');
    else manifest(res, other);
  });
  await assert.rejects(
    fetchEvidence(withDigest(parseReference(`oci://${host2}/app`), DIGEST), client()),
    (e: Error & { code?: string }) => e.code === 'OCI_DIGEST_MISMATCH',
  );
});

test('a malformed referrers index fails closed', async (t) => {
  const host = await fakeRegistry(t, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.index.v1+json' });
    res.end(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [{ digest: '../../etc', size: -1 }],
      }),
    );
  });
  await assert.rejects(
    fetchEvidence(withDigest(parseReference(`oci://${host}/app`), DIGEST), client()),
    (e: Error & { code?: string }) =>
      e.code === 'OCI_MANIFEST_MALFORMED' && /manifests\/0/.test(e.message),
  );
});

test('a registry that never answers times out instead of hanging (library and CLI)', async (t) => {
  const host = await fakeRegistry(t, () => {
    // accept, never answer
  });
  await assert.rejects(
    client({ timeoutMs: 300 }).resolve(parseReference(`oci://${host}/app:v1`)),
    (e: Error & { code?: string }) =>
      e.code === 'OCI_REGISTRY_UNAVAILABLE' && /within 300 ms/.test(e.message),
  );
  const dir = await tempDir(t);
  const env = isolatedEnv(dir, { VOUCH_REGISTRY_TIMEOUT_MS: '500' });
  const keys = await vouch(['keys', 'generate', '--no-passphrase', '--prefix', 'k'], {
    cwd: dir,
    env,
  });
  assert.equal(keys.code, 0, show(keys));
  const r = await vouch(
    ['verify', `oci://${host}/app:v1`, '--key', 'k.pub', '--insecure-registry'],
    {
      cwd: dir,
      env,
    },
  );
  assert.equal(r.code, 2, show(r));
  assert.match(r.stderr, /OCI_REGISTRY_UNAVAILABLE: .*no complete answer .* within 500 ms/);
});

test('a huge manifest from a registry is a clear CLI error (exit 2)', async (t) => {
  const host = await fakeRegistry(t, (_req, res) => {
    res.writeHead(200, {
      'Content-Type': 'application/vnd.oci.image.manifest.v1+json',
      'Content-Length': String(1 << 30),
    });
    res.end();
  });
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  const keys = await vouch(['keys', 'generate', '--no-passphrase', '--prefix', 'k'], {
    cwd: dir,
    env,
  });
  assert.equal(keys.code, 0, show(keys));
  const r = await vouch(
    ['verify', `oci://${host}/app:v1`, '--key', 'k.pub', '--insecure-registry'],
    { cwd: dir, env },
  );
  assert.equal(r.code, 2, show(r));
  assert.match(r.stderr, /OCI_TOO_LARGE: .*declares 1073741824 bytes; the limit is 4194304 bytes/);
});

test('token auth: Bearer challenge, token from the realm with docker-config basic credentials', async (t) => {
  const dir = await tempDir(t);
  const seen: string[] = [];
  const host = await fakeRegistry(t, (req, res, base) => {
    const url = new URL(req.url ?? '/', base);
    if (url.pathname === '/token') {
      const ok =
        req.headers.authorization === `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;
      seen.push(
        `token service=${url.searchParams.get('service')} scope=${url.searchParams.get('scope')} ok=${ok}`,
      );
      res.writeHead(ok ? 200 : 401, { 'Content-Type': 'application/json' });
      res.end(ok ? '{"token":"T0KEN"}' : '{}');
      return;
    }
    if (req.headers.authorization !== 'Bearer T0KEN') {
      res.writeHead(401, {
        'WWW-Authenticate': `Bearer realm="${base}/token",service="fake-registry",scope="repository:team/app:pull"`,
        'Content-Type': 'application/json',
      });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    manifest(res, MANIFEST);
  });
  const config = join(dir, 'config.json');
  await writeFile(
    config,
    JSON.stringify({ auths: { [host]: { auth: Buffer.from('alice:s3cret').toString('base64') } } }),
  );
  const c = client({ auth: { kind: 'docker-config', path: config } });
  assert.equal(await c.resolve(parseReference(`oci://${host}/team/app:v1`)), DIGEST);
  // The token is reused: a second request does not ask the token service again.
  assert.equal(await c.resolve(parseReference(`oci://${host}/team/app:v1`)), DIGEST);
  assert.deepEqual(seen, ['token service=fake-registry scope=repository:team/app:pull ok=true']);

  await writeFile(
    config,
    JSON.stringify({ auths: { [host]: { auth: Buffer.from('alice:wrong').toString('base64') } } }),
  );
  await assert.rejects(
    client({ auth: { kind: 'docker-config', path: config } }).resolve(
      parseReference(`oci://${host}/team/app:v1`),
    ),
    (e: Error & { code?: string }) =>
      e.code === 'OCI_AUTH_FAILED' && /token service .* answered 401/.test(e.message),
  );
  // No config at all: anonymous, and the token service refuses.
  await assert.rejects(
    client({ auth: { kind: 'docker-config', path: join(dir, 'missing.json') } }).resolve(
      parseReference(`oci://${host}/team/app:v1`),
    ),
    (e: Error & { code?: string }) =>
      e.code === 'OCI_AUTH_FAILED' && /no credentials configured/.test(e.message),
  );
});

test('basic auth challenge and credential helpers off by default', async (t) => {
  const dir = await tempDir(t);
  const host = await fakeRegistry(t, (req, res) => {
    if (req.headers.authorization !== `Basic ${Buffer.from('bob:pw').toString('base64')}`) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="registry"' });
      res.end();
      return;
    }
    manifest(res, MANIFEST);
  });
  const ref = parseReference(`oci://${host}/app:v1`);
  assert.equal(
    await client({ auth: { kind: 'basic', username: 'bob', password: 'pw' } }).resolve(ref),
    DIGEST,
  );
  const config = join(dir, 'config.json');
  // A helper is configured but must not run unless enabled: no credentials, so 401 → auth error.
  await writeFile(config, JSON.stringify({ credsStore: 'evil-helper-that-must-not-run' }));
  await assert.rejects(
    client({ auth: { kind: 'docker-config', path: config } }).resolve(ref),
    (e: Error & { code?: string }) =>
      e.code === 'OCI_AUTH_FAILED' && /no credentials are configured/.test(e.message),
  );
  await assert.rejects(
    client({ auth: { kind: 'docker-config', path: config, credentialHelpers: true } }).resolve(ref),
    (e: Error & { code?: string }) =>
      e.code === 'OCI_AUTH_FAILED' &&
      /docker-credential-evil-helper-that-must-not-run get failed/.test(e.message),
  );
});
