// --tuf-mirror, --tuf-root and --tuf-cache-only against a real TUF client
// (@sigstore/tuf → tuf-js) talking to a TUF repository served from this test
// process. The repository is built here with keys generated here: root,
// timestamp, snapshot and targets metadata signed with Ed25519 over TUF's
// canonical JSON, one target trusted_root.json = the Sigstore public-good
// trusted root (../shared vectors). The public-good TUF repository itself
// cannot be served offline: @sigstore/tuf ships only its root.json and
// trusted_root.json (seeds.json), not its timestamp/snapshot/targets.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { isolatedEnv, show, tempDir, VECTORS, vouch } from './helpers.ts';

const CASES = join(VECTORS, 'sigstore', 'conformance', 'bundle-verify');
const PUBLIC_GOOD = join(VECTORS, 'sigstore', 'public-good', 'trusted_root.json');
const HAPPY = join(CASES, 'happy-path-intoto-in-dsse-v3', 'bundle.sigstore.json');
const ARTIFACT = join(CASES, 'a.txt');
const IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';
const skip = existsSync(HAPPY) && existsSync(PUBLIC_GOOD) ? false : `no vectors at ${CASES}`;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** TUF's canonical JSON (OLPC): sorted keys, no whitespace; our metadata has only strings, integers, booleans. */
function canonical(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k] as Json)}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

interface TufKey {
  id: string;
  json: { [k: string]: Json };
  privateKey: KeyObject;
}

function newKey(): TufKey {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const json = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: raw.toString('hex') } };
  return { id: createHash('sha256').update(canonical(json)).digest('hex'), json, privateKey };
}

function signed(signedPart: { [k: string]: Json }, ...keys: TufKey[]): string {
  const bytes = Buffer.from(canonical(signedPart));
  const signatures = keys.map((k) => ({
    keyid: k.id,
    sig: sign(null, bytes, k.privateKey).toString('hex'),
  }));
  return `${JSON.stringify({ signatures, signed: signedPart }, null, 1)}\n`;
}

interface RepoOptions {
  /** The bytes of the trusted_root.json target. */
  trustedRoot?: Buffer;
  /** Served instead of the signed target (a hash mismatch). */
  servedTrustedRoot?: Buffer;
  timestampExpires?: string;
  /** Change targets.json after signing it. */
  tamperTargets?: boolean;
}

const FUTURE = '2099-01-01T00:00:00Z';

/** The files of a TUF repository (consistent_snapshot off), by URL path. */
function tufRepo(o: RepoOptions = {}) {
  const root = newKey();
  const online = newKey();
  const trustedRoot = o.trustedRoot ?? readFileSync(PUBLIC_GOOD);
  const common = { spec_version: '1.0.31', version: 1 };
  const rootJson = signed(
    {
      _type: 'root',
      ...common,
      expires: FUTURE,
      consistent_snapshot: false,
      keys: { [root.id]: root.json, [online.id]: online.json },
      roles: {
        root: { keyids: [root.id], threshold: 1 },
        targets: { keyids: [online.id], threshold: 1 },
        snapshot: { keyids: [online.id], threshold: 1 },
        timestamp: { keyids: [online.id], threshold: 1 },
      },
    },
    root,
  );
  let targets = signed(
    {
      _type: 'targets',
      ...common,
      expires: FUTURE,
      targets: {
        'trusted_root.json': {
          length: trustedRoot.length,
          hashes: { sha256: createHash('sha256').update(trustedRoot).digest('hex') },
        },
      },
    },
    online,
  );
  if (o.tamperTargets) targets = targets.replace('"length": ', '"length": 1');
  const snapshot = signed(
    { _type: 'snapshot', ...common, expires: FUTURE, meta: { 'targets.json': { version: 1 } } },
    online,
  );
  const timestamp = signed(
    {
      _type: 'timestamp',
      ...common,
      expires: o.timestampExpires ?? FUTURE,
      meta: { 'snapshot.json': { version: 1 } },
    },
    online,
  );
  return {
    rootJson,
    files: new Map<string, string | Buffer>([
      ['/1.root.json', rootJson],
      ['/timestamp.json', timestamp],
      ['/snapshot.json', snapshot],
      ['/targets.json', targets],
      ['/targets/trusted_root.json', o.servedTrustedRoot ?? trustedRoot],
    ]),
  };
}

/** Serves `files` on 127.0.0.1 until the test ends; counts the requests. */
async function serve(
  t: { after: (fn: () => Promise<void> | void) => void },
  files: Map<string, string | Buffer>,
) {
  const state = { requests: 0 };
  const server: Server = createServer((req, res) => {
    state.requests++;
    const body = files.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (body === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, state };
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function setup(t: Parameters<typeof tempDir>[0], rootJson?: string) {
  const dir = await tempDir(t);
  const rootFile = join(dir, 'tuf-root.json');
  if (rootJson !== undefined) await writeFile(rootFile, rootJson);
  const run = (...extra: string[]) =>
    vouch(
      [
        'verify',
        ARTIFACT,
        '--no-store',
        '--bundle',
        HAPPY,
        '--certificate-identity',
        IDENTITY,
        '--certificate-oidc-issuer',
        ISSUER,
        ...extra,
      ],
      { cwd: dir, env: isolatedEnv(dir) },
    );
  return { dir, rootFile, run };
}

function assertError(r: { code: number | null; stderr: string }, code: string, ...parts: RegExp[]) {
  assert.equal(r.code, 2, show(r as never));
  assert.match(r.stderr, new RegExp(`error ${code}:`), r.stderr);
  for (const p of parts) assert.match(r.stderr, p, r.stderr);
}

test('tuf: a served repository gives the trusted root the bundle verifies against', {
  skip,
}, async (t) => {
  const repo = tufRepo();
  const { url, state } = await serve(t, repo.files);
  const { rootFile, run } = await setup(t, repo.rootJson);
  const r = await run('--tuf-mirror', url, '--tuf-root', rootFile);
  assert.equal(r.code, 0, show(r));
  assert.ok(
    state.requests >= 4,
    `timestamp, snapshot, targets and the target were fetched (${state.requests})`,
  );
});

test('tuf: a repository serving another trusted root than the public-good one fails verification', {
  skip,
}, async (t) => {
  // The control for the test above: the served root is what verification used.
  const own = JSON.parse(readFileSync(PUBLIC_GOOD, 'utf8'));
  own.certificateAuthorities = own.certificateAuthorities.slice(0, 0);
  const repo = tufRepo({ trustedRoot: Buffer.from(JSON.stringify(own)) });
  const { url } = await serve(t, repo.files);
  const { rootFile, run } = await setup(t, repo.rootJson);
  const r = await run('--tuf-mirror', url, '--tuf-root', rootFile);
  assert.equal(r.code, 1, show(r));
});

test('tuf: an unreachable mirror is TRUST_UPDATE_FAILED naming the URL and ECONNREFUSED', {
  skip,
}, async (t) => {
  const repo = tufRepo();
  const url = `http://127.0.0.1:${await closedPort()}`;
  const { rootFile, run } = await setup(t, repo.rootJson);
  const r = await run('--tuf-mirror', url, '--tuf-root', rootFile);
  assertError(
    r,
    'TRUST_UPDATE_FAILED',
    new RegExp(`TUF mirror ${url.replace(/\./g, '\\.')}`),
    /ECONNREFUSED/,
  );
});

test('tuf: an unknown host is TRUST_UPDATE_FAILED naming the resolver error', {
  skip,
}, async (t) => {
  const repo = tufRepo();
  const { rootFile, run } = await setup(t, repo.rootJson);
  const r = await run('--tuf-mirror', 'http://tuf.vouch-test.invalid', '--tuf-root', rootFile);
  assertError(r, 'TRUST_UPDATE_FAILED', /tuf\.vouch-test\.invalid/, /ENOTFOUND|EAI_AGAIN/);
});

test('tuf: an HTTP error status is TRUST_UPDATE_FAILED naming it', { skip }, async (t) => {
  const repo = tufRepo();
  repo.files.delete('/timestamp.json');
  const { url } = await serve(t, repo.files);
  const { rootFile, run } = await setup(t, repo.rootJson);
  const r = await run('--tuf-mirror', url, '--tuf-root', rootFile);
  assertError(r, 'TRUST_UPDATE_FAILED', /HTTP 404/, new RegExp(url.replace(/\./g, '\\.')));
});

test('tuf: a tampered targets.json (signature no longer valid) is refused', { skip }, async (t) => {
  const repo = tufRepo({ tamperTargets: true });
  const { url } = await serve(t, repo.files);
  const { rootFile, run } = await setup(t, repo.rootJson);
  const r = await run('--tuf-mirror', url, '--tuf-root', rootFile);
  assertError(r, 'TRUST_UPDATE_FAILED', /targets/i, /signature|threshold/i);
});

test('tuf: a trusted_root.json that does not match its signed hash is refused', {
  skip,
}, async (t) => {
  const good = readFileSync(PUBLIC_GOOD);
  const evil = Buffer.from(good.toString('utf8').replace('"tlogs"', '"tlogs" '));
  // Same length as far as the client can tell is not needed: a length or a hash mismatch both refuse.
  const repo = tufRepo({ servedTrustedRoot: evil });
  const { url } = await serve(t, repo.files);
  const { rootFile, run } = await setup(t, repo.rootJson);
  const r = await run('--tuf-mirror', url, '--tuf-root', rootFile);
  assertError(r, 'TRUST_UPDATE_FAILED', /trusted_root\.json/, /length|hash/i);
});

test('tuf: expired timestamp metadata is refused online, and --tuf-cache-only does not use it', {
  skip,
}, async (t) => {
  const repo = tufRepo({ timestampExpires: '2020-01-01T00:00:00Z' });
  const { url, state } = await serve(t, repo.files);
  const { rootFile, run } = await setup(t, repo.rootJson);
  const online = await run('--tuf-mirror', url, '--tuf-root', rootFile);
  assertError(online, 'TRUST_UPDATE_FAILED', /expired/i);
  const before = state.requests;
  const cached = await run('--tuf-mirror', url, '--tuf-cache-only');
  assertError(cached, 'TRUST_UPDATE_FAILED', /--tuf-cache-only/, /expired|no cached/);
  assert.equal(state.requests, before, '--tuf-cache-only made no request');
});

test('tuf: a correctly signed but malformed trusted root stays TRUSTED_ROOT_MALFORMED', {
  skip,
}, async (t) => {
  const repo = tufRepo({ trustedRoot: Buffer.from('{"mediaType":"text/plain"}') });
  const { url } = await serve(t, repo.files);
  const { rootFile, run } = await setup(t, repo.rootJson);
  const r = await run('--tuf-mirror', url, '--tuf-root', rootFile);
  assertError(r, 'TRUSTED_ROOT_MALFORMED', /trusted_root\.json/, /mediaType/);
});

test('tuf: --tuf-cache-only uses a warm cache with no request; online without it always refreshes', {
  skip,
}, async (t) => {
  const repo = tufRepo();
  const { url, state } = await serve(t, repo.files);
  const { rootFile, run } = await setup(t, repo.rootJson);
  const cold = await run('--tuf-mirror', url, '--tuf-cache-only', '--tuf-root', rootFile);
  assertError(cold, 'TRUST_UPDATE_FAILED', /no cached/);
  assert.equal(state.requests, 0, 'a cold --tuf-cache-only made no request');

  assert.equal((await run('--tuf-mirror', url, '--tuf-root', rootFile)).code, 0);
  const warmed = state.requests;
  const cached = await run('--tuf-mirror', url, '--tuf-cache-only');
  assert.equal(cached.code, 0, show(cached));
  assert.equal(state.requests, warmed, 'a warm --tuf-cache-only made no request');

  const refreshed = await run('--tuf-mirror', url);
  assert.equal(refreshed.code, 0, show(refreshed));
  assert.ok(state.requests > warmed, 'without --tuf-cache-only the client refreshes');
});

test('tuf: a warm cache does not hide an unreachable mirror unless --tuf-cache-only is given', {
  skip,
}, async (t) => {
  const repo = tufRepo();
  const server = await serve(t, repo.files);
  const { rootFile, run } = await setup(t, repo.rootJson);
  assert.equal((await run('--tuf-mirror', server.url, '--tuf-root', rootFile)).code, 0);
  repo.files.clear(); // the mirror now answers 404 to everything
  const online = await run('--tuf-mirror', server.url);
  assertError(online, 'TRUST_UPDATE_FAILED', /HTTP 404/);
  const cached = await run('--tuf-mirror', server.url, '--tuf-cache-only');
  assert.equal(cached.code, 0, show(cached));
});

test('tuf: a malformed --tuf-root and flag misuse are input errors', { skip }, async (t) => {
  const { rootFile, run } = await setup(t, '{"signed":{"_type":"targets"},"signatures":[]}');
  assertError(
    await run('--tuf-mirror', 'http://127.0.0.1:9', '--tuf-root', rootFile),
    'TRUSTED_ROOT_MALFORMED',
    /tuf-root\.json/,
    /_type/,
  );
  assertError(await run('--tuf-cache-only'), 'USAGE', /--tuf-cache-only needs --tuf-mirror/);
  assertError(await run('--tuf-root', rootFile), 'USAGE', /--tuf-root needs --tuf-mirror/);
  assertError(
    await run('--tuf-mirror', 'http://127.0.0.1:9', '--trusted-root', PUBLIC_GOOD),
    'USAGE',
    /exclude each other/,
  );
  assertError(await run('--tuf-mirror', 'ftp://example.com'), 'USAGE', /http\(s\)/);
});

test('tuf: a mirror with no built-in root needs --tuf-root', { skip }, async (t) => {
  const { url, state } = await serve(t, tufRepo().files);
  const { run } = await setup(t);
  assertError(await run('--tuf-mirror', url), 'USAGE', /give --tuf-root FILE/);
  assert.equal(state.requests, 0);
});
