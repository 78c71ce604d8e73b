import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { isolatedEnv, jsonOf, sha256, show, tempDir, vouch } from './helpers.ts';

const CURVES: Record<string, { type: string; curve?: string }> = {
  'ecdsa-p256': { type: 'ec', curve: 'prime256v1' },
  'ecdsa-p384': { type: 'ec', curve: 'secp384r1' },
  ed25519: { type: 'ed25519' },
};

for (const [algorithm, expected] of Object.entries(CURVES)) {
  test(`keys generate ${algorithm}: files, mode 0600, keyid = sha256(SPKI DER)`, async (t) => {
    const dir = await tempDir(t);
    const env = isolatedEnv(dir);
    const r = await vouch(
      ['keys', 'generate', '--algorithm', algorithm, '--prefix', 'sk', '--no-passphrase', '--json'],
      { cwd: dir, env },
    );
    assert.equal(r.code, 0, show(r));
    const out = jsonOf(r);
    assert.deepEqual(out, {
      keyid: out.keyid,
      algorithm,
      encrypted: false,
      privateKey: 'sk.key',
      publicKey: 'sk.pub',
    });

    const pubPem = await readFile(join(dir, 'sk.pub'), 'utf8');
    const keyPem = await readFile(join(dir, 'sk.key'), 'utf8');
    assert.match(pubPem, /^-----BEGIN PUBLIC KEY-----\n/);
    assert.match(keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.equal((await stat(join(dir, 'sk.key'))).mode & 0o777, 0o600);

    const pub = createPublicKey(pubPem);
    const spki = pub.export({ type: 'spki', format: 'der' });
    assert.equal(out.keyid, sha256(spki));
    assert.equal(pub.asymmetricKeyType, expected.type);
    if (expected.curve) assert.equal(pub.asymmetricKeyDetails?.namedCurve, expected.curve);
    // The two halves belong together.
    const derived = createPublicKey(createPrivateKey(keyPem)).export({
      type: 'spki',
      format: 'der',
    });
    assert.deepEqual(derived, spki);
  });
}

test('keys generate with VOUCH_PASSPHRASE writes an encrypted PKCS#8 key', async (t) => {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir, { VOUCH_PASSPHRASE: 'correct horse' });
  const r = await vouch(['keys', 'generate', '--prefix', 'enc', '--json'], { cwd: dir, env });
  assert.equal(r.code, 0, show(r));
  assert.equal(jsonOf(r).encrypted, true);
  const pem = await readFile(join(dir, 'enc.key'), 'utf8');
  assert.match(pem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
  assert.throws(() => createPrivateKey(pem));
  assert.throws(() => createPrivateKey({ key: pem, passphrase: 'wrong' }));
  const key = createPrivateKey({ key: pem, passphrase: 'correct horse' });
  assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
});

test('keys generate without a passphrase source and no terminal: exit 2 KEY_PASSPHRASE, no files', async (t) => {
  const dir = await tempDir(t);
  const r = await vouch(['keys', 'generate', '--prefix', 'np'], {
    cwd: dir,
    env: isolatedEnv(dir),
  });
  assert.equal(r.code, 2, show(r));
  assert.match(r.stderr, /KEY_PASSPHRASE/);
  assert.match(r.stderr, /VOUCH_PASSPHRASE/);
  assert.equal(r.stdout, '');
  await assert.rejects(stat(join(dir, 'np.key')), { code: 'ENOENT' });
  await assert.rejects(stat(join(dir, 'np.pub')), { code: 'ENOENT' });

  const j = await vouch(['keys', 'generate', '--prefix', 'np', '--json'], {
    cwd: dir,
    env: isolatedEnv(dir),
  });
  assert.equal(j.code, 2, show(j));
  assert.equal(jsonOf(j).error.code, 'KEY_PASSPHRASE');
});

test('keys generate does not overwrite existing files without --force', async (t) => {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  await writeFile(join(dir, 'old.key'), 'OLD PRIVATE\n');
  await writeFile(join(dir, 'old.pub'), 'OLD PUBLIC\n');
  const r = await vouch(['keys', 'generate', '--prefix', 'old', '--no-passphrase', '--json'], {
    cwd: dir,
    env,
  });
  assert.equal(r.code, 2, show(r));
  assert.equal(jsonOf(r).error.code, 'FILE_WRITE');
  assert.match(r.stderr, /old\.(pub|key).*already exists/);
  assert.equal(await readFile(join(dir, 'old.key'), 'utf8'), 'OLD PRIVATE\n');
  assert.equal(await readFile(join(dir, 'old.pub'), 'utf8'), 'OLD PUBLIC\n');

  const forced = await vouch(
    ['keys', 'generate', '--prefix', 'old', '--no-passphrase', '--force'],
    {
      cwd: dir,
      env,
    },
  );
  assert.equal(forced.code, 0, show(forced));
  assert.match(await readFile(join(dir, 'old.key'), 'utf8'), /BEGIN PRIVATE KEY/);
  assert.match(await readFile(join(dir, 'old.pub'), 'utf8'), /BEGIN PUBLIC KEY/);
});

test('keys generate with only an old .key present leaves no stray new .pub', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'half.key'), 'OLD PRIVATE\n');
  const r = await vouch(['keys', 'generate', '--prefix', 'half', '--no-passphrase'], {
    cwd: dir,
    env: isolatedEnv(dir),
  });
  assert.equal(r.code, 2, show(r));
  assert.match(r.stderr, /FILE_WRITE/);
  assert.equal(await readFile(join(dir, 'half.key'), 'utf8'), 'OLD PRIVATE\n');
  await assert.rejects(stat(join(dir, 'half.pub')), { code: 'ENOENT' });
});

test('keys generate rejects an unknown algorithm and keys --help works', async (t) => {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  const bad = await vouch(['keys', 'generate', '--algorithm', 'rsa', '--no-passphrase', '--json'], {
    cwd: dir,
    env,
  });
  assert.equal(bad.code, 2, show(bad));
  assert.equal(jsonOf(bad).error.code, 'USAGE');
  assert.match(jsonOf(bad).error.message, /ecdsa-p256, ecdsa-p384, ed25519/);

  for (const args of [
    ['keys', '--help'],
    ['keys', 'generate', '--help'],
  ]) {
    const h = await vouch(args, { cwd: dir, env });
    assert.equal(h.code, 0, show(h));
    assert.match(h.stdout, /^Usage: vouch keys generate/);
  }
  const sub = await vouch(['keys', 'rotate'], { cwd: dir, env });
  assert.equal(sub.code, 2, show(sub));
  assert.match(sub.stderr, /unknown subcommand "rotate"/);
});

test('keys generate --out: the deprecated spelling of --prefix warns once; both at once is exit 2', async (t) => {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  const old = await vouch(['keys', 'generate', '--out', 'legacy', '--no-passphrase', '--json'], {
    cwd: dir,
    env,
  });
  assert.equal(old.code, 0, show(old));
  assert.equal(jsonOf(old).privateKey, 'legacy.key');
  assert.match(await readFile(join(dir, 'legacy.key'), 'utf8'), /BEGIN PRIVATE KEY/);
  assert.equal(old.stderr.match(/--out is deprecated: use --prefix/g)?.length, 1, show(old));

  const now = await vouch(['keys', 'generate', '--prefix', 'fresh', '--no-passphrase'], {
    cwd: dir,
    env,
  });
  assert.equal(now.code, 0, show(now));
  assert.doesNotMatch(now.stderr, /deprecated/);

  const both = await vouch(
    ['keys', 'generate', '--prefix', 'a', '--out', 'b', '--no-passphrase', '--json'],
    { cwd: dir, env },
  );
  assert.equal(both.code, 2, show(both));
  assert.equal(jsonOf(both).error.code, 'USAGE');
  assert.match(jsonOf(both).error.message, /--out is the old spelling of --prefix/);
  for (const f of ['a.key', 'a.pub', 'b.key', 'b.pub']) {
    await assert.rejects(stat(join(dir, f)), { code: 'ENOENT' });
  }

  const empty = await vouch(['keys', 'generate', '--prefix', '', '--no-passphrase'], {
    cwd: dir,
    env,
  });
  assert.equal(empty.code, 2, show(empty));

  const dflt = await vouch(['keys', 'generate', '--no-passphrase', '--json'], { cwd: dir, env });
  assert.equal(dflt.code, 0, show(dflt));
  assert.equal(jsonOf(dflt).publicKey, 'vouch.pub');
});
