// Keyless verification through the CLI, against the Sigstore conformance
// bundle-verify vectors (see ../shared/vectors/MANIFEST.md, "How to read
// expected outcomes": a case ending in _fail must fail, others must pass).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isolatedEnv, jsonOf, show, tempDir, VECTORS, vouch } from './helpers.ts';

const CASES = join(VECTORS, 'sigstore', 'conformance', 'bundle-verify');
const PUBLIC_GOOD = join(VECTORS, 'sigstore', 'public-good', 'trusted_root.json');
const IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';
const HAPPY = join(CASES, 'happy-path-intoto-in-dsse-v3', 'bundle.sigstore.json');
const ARTIFACT = join(CASES, 'a.txt');

const haveVectors = existsSync(HAPPY);
const skip = haveVectors ? false : `no vectors at ${CASES}`;

async function run(t: Parameters<typeof tempDir>[0], args: string[]) {
  const dir = await tempDir(t);
  return vouch(['verify', ARTIFACT, '--no-store', '--bundle', HAPPY, ...args], {
    cwd: dir,
    env: isolatedEnv(dir),
  });
}

test('keyless: a DSSE bundle verifies with identity, issuer and trusted root', {
  skip,
}, async (t) => {
  const r = await run(t, [
    '--certificate-identity',
    IDENTITY,
    '--certificate-oidc-issuer',
    ISSUER,
    '--trusted-root',
    PUBLIC_GOOD,
    '--json',
  ]);
  assert.equal(r.code, 0, show(r));
  const v = jsonOf(r);
  assert.equal(v.ok, true);
  assert.equal(v.bundles[0].statement.predicateType, 'https://slsa.dev/provenance/v1');
  assert.deepEqual(v.bundles[0].signers, [
    { kind: 'certificate', subject: IDENTITY, issuer: ISSUER },
  ]);
  const names = v.bundles[0].checks.map((c: { name: string }) => c.name);
  for (const name of ['certificate', 'transparency-log', 'identity', 'issuer', 'subject'])
    assert.ok(names.includes(name), `check ${name} in ${names}`);
});

test('keyless: a wrong identity or issuer is a verification failure (exit 1)', {
  skip,
}, async (t) => {
  const wrongIdentity = await run(t, [
    '--certificate-identity',
    'https://github.com/someone-else/repo/.github/workflows/release.yml@refs/heads/main',
    '--certificate-oidc-issuer',
    ISSUER,
    '--trusted-root',
    PUBLIC_GOOD,
    '--json',
  ]);
  assert.equal(wrongIdentity.code, 1, show(wrongIdentity));
  const v = jsonOf(wrongIdentity);
  const identity = v.bundles[0].checks.find((c: { name: string }) => c.name === 'identity');
  assert.equal(identity.ok, false);
  assert.match(identity.detail, /someone-else/);
  assert.deepEqual(v.bundles[0].signers, []);

  const wrongIssuer = await run(t, [
    '--certificate-identity',
    IDENTITY,
    '--certificate-oidc-issuer',
    'https://accounts.google.com',
    '--trusted-root',
    PUBLIC_GOOD,
    '--json',
  ]);
  assert.equal(wrongIssuer.code, 1, show(wrongIssuer));
  const issuer = jsonOf(wrongIssuer).bundles[0].checks.find(
    (c: { name: string }) => c.name === 'issuer',
  );
  assert.equal(issuer.ok, false);
});

test('keyless: --certificate-identity-regexp matches the whole SAN', { skip }, async (t) => {
  const trust = ['--certificate-oidc-issuer', ISSUER, '--trusted-root', PUBLIC_GOOD];
  const matching = await run(t, [
    '--certificate-identity-regexp',
    'https://github\\.com/sigstore-conformance/.*@refs/heads/main',
    ...trust,
  ]);
  assert.equal(matching.code, 0, show(matching));
  // Anchored: a pattern matching only part of the SAN does not pass.
  const partial = await run(t, ['--certificate-identity-regexp', 'sigstore-conformance', ...trust]);
  assert.equal(partial.code, 1, show(partial));
  const invalid = await run(t, ['--certificate-identity-regexp', '(', ...trust, '--json']);
  assert.equal(invalid.code, 2, show(invalid));
  assert.match(jsonOf(invalid).error.message, /not a valid regular expression/);
});

test('keyless usage errors: missing issuer, both identity flags, key and identity', {
  skip,
}, async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [
      ['--certificate-identity', IDENTITY, '--trusted-root', PUBLIC_GOOD],
      /oidc-issuer is required/,
    ],
    [
      [
        '--certificate-identity',
        IDENTITY,
        '--certificate-identity-regexp',
        '.*',
        '--certificate-oidc-issuer',
        ISSUER,
      ],
      /exactly one of --certificate-identity/,
    ],
    [['--certificate-oidc-issuer', ISSUER], /exactly one of --certificate-identity/],
    [
      [
        '--key',
        PUBLIC_GOOD,
        '--certificate-identity',
        IDENTITY,
        '--certificate-oidc-issuer',
        ISSUER,
      ],
      /exclude each other/,
    ],
  ];
  for (const [args, message] of cases) {
    const r = await run(t, [...args, '--json']);
    assert.equal(r.code, 2, show(r));
    assert.equal(jsonOf(r).error.code, 'USAGE');
    assert.match(jsonOf(r).error.message, message);
    assert.match(r.stderr, /error USAGE/);
  }
});

/** Every bundle-verify case through `vouch verify`: pass cases exit 0, _fail cases exit 1 or 2. */
test('keyless: all conformance bundle-verify cases through the CLI', { skip }, async (t) => {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  const names = readdirSync(CASES, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name);
  assert.ok(names.length > 20, `only ${names.length} cases`);
  const results: Array<{ name: string; code: number | null; detail: string }> = [];
  const queue = [...names];
  const worker = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const c = join(CASES, name);
      const file = (f: string) => join(c, f);
      const artifact = existsSync(file('artifact')) ? file('artifact') : ARTIFACT;
      const root = existsSync(file('trusted_root.json')) ? file('trusted_root.json') : PUBLIC_GOOD;
      const read = (f: string, dflt: string) =>
        existsSync(file(f)) ? readFileSync(file(f), 'utf8').trim() : dflt;
      const trust = existsSync(file('key.pub'))
        ? ['--key', file('key.pub'), '--trusted-root', root]
        : [
            '--certificate-identity',
            read('identity', IDENTITY),
            '--certificate-oidc-issuer',
            read('issuer', ISSUER),
            '--trusted-root',
            root,
          ];
      const r = await vouch(
        ['verify', artifact, '--no-store', '--bundle', file('bundle.sigstore.json'), ...trust],
        { cwd: dir, env },
      );
      results.push({ name, code: r.code, detail: show(r) });
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  const wrong = results.filter((r) =>
    r.name.endsWith('_fail') ? r.code !== 1 && r.code !== 2 : r.code !== 0,
  );
  assert.deepEqual(
    wrong.map((w) => `${w.name}: ${w.detail}`),
    [],
  );
});
