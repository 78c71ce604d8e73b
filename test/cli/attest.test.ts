import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  generateKey,
  isolatedEnv,
  jsonOf,
  sha256,
  show,
  statementOf,
  tempDir,
  vouch,
} from './helpers.ts';

const TYPE = 'https://example.com/p/v1';

async function setup(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  const keys = await generateKey(dir, env);
  await writeFile(join(dir, 'app.bin'), 'the artifact\n');
  await writeFile(join(dir, 'p.json'), '{"result":"pass","count":3}\n');
  return { dir, env, ...keys, digest: sha256('the artifact\n') };
}

test('attest a file with a custom predicate type, then verify by type', async (t) => {
  const { dir, env, key, pub, digest } = await setup(t);
  const r = await vouch(
    [
      'attest',
      'app.bin',
      '--predicate-type',
      TYPE,
      '--predicate',
      'p.json',
      '--key',
      key,
      '--json',
    ],
    { cwd: dir, env },
  );
  assert.equal(r.code, 0, show(r));
  const out = jsonOf(r);
  assert.deepEqual(out.subject, { name: 'app.bin', digest: { sha256: digest } });
  assert.equal(out.predicateType, TYPE);
  const st = await statementOf(join(dir, out.bundle.stored.path));
  assert.equal(st._type, 'https://in-toto.io/Statement/v1');
  assert.equal(st.predicateType, TYPE);
  assert.deepEqual(st.predicate, { result: 'pass', count: 3 });
  assert.deepEqual(st.subject, [out.subject]);

  const v = await vouch(['verify', 'app.bin', '--key', pub, '--type', TYPE], { cwd: dir, env });
  assert.equal(v.code, 0, show(v));
  assert.match(v.stdout, /✓ 1 verified bundle\(s\) of type https:\/\/example\.com\/p\/v1/);

  // Verified evidence exists, but none of the required type: a policy failure, exit 1.
  const slsa = await vouch(
    ['verify', 'app.bin', '--key', pub, '--type', 'slsaprovenance', '--json'],
    {
      cwd: dir,
      env,
    },
  );
  assert.equal(slsa.code, 1, show(slsa));
  const verdict = jsonOf(slsa);
  assert.equal(verdict.ok, false);
  assert.equal(verdict.bundles[0].ok, true);
  assert.equal(verdict.policy.name, 'evidence-types');
  assert.deepEqual(verdict.policy.reasons[1], {
    ok: false,
    detail: 'no verified bundle of type https://slsa.dev/provenance/v1',
  });
});

test('attest sha256:<hex> signs about the digest without a file', async (t) => {
  const { dir, env, key, pub, digest } = await setup(t);
  const r = await vouch(
    [
      'attest',
      `sha256:${digest}`,
      '--predicate-type',
      'custom',
      '--predicate',
      'p.json',
      '--key',
      key,
      '--name',
      'registry.example.com/app',
      '--json',
    ],
    { cwd: dir, env },
  );
  assert.equal(r.code, 0, show(r));
  const out = jsonOf(r);
  assert.deepEqual(out.subject, {
    name: 'registry.example.com/app',
    digest: { sha256: digest },
  });
  assert.equal(out.predicateType, 'https://vouch.dev/attestation/custom/v0.1');
  // The evidence is about the digest, so the file with those bytes verifies.
  const v = await vouch(['verify', 'app.bin', '--key', pub, '--type', 'custom'], {
    cwd: dir,
    env,
  });
  assert.equal(v.code, 0, show(v));
  const byDigest = await vouch(['verify', `sha256:${digest}`, '--key', pub], { cwd: dir, env });
  assert.equal(byDigest.code, 0, show(byDigest));
});

test('attest input errors: unknown type name, predicate not an object, truncated JSON', async (t) => {
  const { dir, env, key } = await setup(t);
  const attest = (predicateType: string, predicate: string) =>
    vouch(
      [
        'attest',
        'app.bin',
        '--predicate-type',
        predicateType,
        '--predicate',
        predicate,
        '--key',
        key,
        '--json',
      ],
      { cwd: dir, env },
    );

  const unknown = await attest('foo', 'p.json');
  assert.equal(unknown.code, 2, show(unknown));
  assert.equal(jsonOf(unknown).error.code, 'STATEMENT_UNKNOWN_TYPE');
  assert.match(unknown.stderr, /unknown predicate type "foo"/);

  await writeFile(join(dir, 'array.json'), '[1, 2]\n');
  const notObject = await attest(TYPE, 'array.json');
  assert.equal(notObject.code, 2, show(notObject));
  assert.equal(jsonOf(notObject).error.code, 'PREDICATE_MALFORMED');
  assert.match(notObject.stderr, /array\.json: predicate must be a JSON object/);

  await writeFile(join(dir, 'trunc.json'), '{\n  "result": "pass",\n  "count": [1,\n');
  const truncated = await attest(TYPE, 'trunc.json');
  assert.equal(truncated.code, 2, show(truncated));
  assert.equal(jsonOf(truncated).error.code, 'JSON_MALFORMED');
  assert.match(truncated.stderr, /trunc\.json: .*line 4, column 1/);

  const missing = await attest(TYPE, 'nope.json');
  assert.equal(missing.code, 2, show(missing));
  assert.equal(jsonOf(missing).error.code, 'FILE_NOT_FOUND');
  assert.match(missing.stderr, /nope\.json/);

  // An SLSA provenance predicate is checked before signing.
  const badSlsa = await attest('slsaprovenance', 'p.json');
  assert.equal(badSlsa.code, 2, show(badSlsa));
  assert.equal(jsonOf(badSlsa).error.code, 'PREDICATE_MALFORMED');

  // Nothing was signed by any of these.
  await assert.rejects(readdir(join(dir, '.vouch')), { code: 'ENOENT' });
});

test('attest usage errors name what is missing', async (t) => {
  const { dir, env, key } = await setup(t);
  const cases: Array<[string[], RegExp]> = [
    [['attest', '--predicate-type', TYPE, '--predicate', 'p.json', '--key', key], /exactly one/],
    [['attest', 'app.bin', '--predicate', 'p.json', '--key', key], /--predicate-type is required/],
    [['attest', 'app.bin', '--predicate-type', TYPE, '--key', key], /--predicate is required/],
    [['attest', 'app.bin', '--predicate-type', TYPE, '--predicate', 'p.json'], /--key FILE/],
  ];
  for (const [args, message] of cases) {
    const r = await vouch([...args, '--json'], { cwd: dir, env });
    assert.equal(r.code, 2, show(r));
    assert.equal(jsonOf(r).error.code, 'USAGE');
    assert.match(jsonOf(r).error.message, message);
  }
});
