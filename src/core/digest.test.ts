import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { digestFile, digestTree, parseDigest } from './digest.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'vouch-digest-'));

test('digestFile agrees with openssl for sha256 and sha512 across the read-chunk boundary', async () => {
  const dir = tmp();
  const file = join(dir, 'big.bin');
  // 4 MiB + 7 bytes: crosses the 4 MiB read buffer, so a chunking bug changes the digest.
  const data = Buffer.alloc(4 * 1024 * 1024 + 7);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + 7) & 0xff;
  writeFileSync(file, data);
  const d = await digestFile(file, ['sha256', 'sha512']);
  for (const alg of ['sha256', 'sha512'] as const) {
    const out = execFileSync('openssl', ['dgst', `-${alg}`, '-r', file], { encoding: 'utf8' });
    assert.equal(d[alg], out.split(' ')[0]);
  }
});

test('digestFile names the missing file', async () => {
  await assert.rejects(digestFile('/nonexistent/x'), {
    code: 'FILE_NOT_FOUND',
    message: /\/nonexistent\/x/,
  });
});

test('digestTree is Go dirhash h1 (sha256sum lines), sorted, links not followed', async () => {
  const dir = tmp();
  mkdirSync(join(dir, 'b'));
  writeFileSync(join(dir, 'b', 'x.txt'), 'x\n');
  writeFileSync(join(dir, 'a.txt'), 'a\n');
  symlinkSync('/etc/passwd', join(dir, 'link'));
  const t = await digestTree(dir);
  assert.deepEqual(
    t.entries.map((e) => e.path),
    ['a.txt', 'b/x.txt', 'link'],
  );
  // Same lines sha256sum prints, hashed: what a user can reproduce with coreutils.
  const lines = execFileSync('sh', ['-c', 'sha256sum a.txt b/x.txt'], {
    cwd: dir,
    encoding: 'utf8',
  });
  const linkLine = `${execFileSync('sh', ['-c', 'printf %s /etc/passwd | sha256sum'], { encoding: 'utf8' }).split(' ')[0]}  link\n`;
  const expected = execFileSync('sha256sum', [], {
    input: lines + linkLine,
    encoding: 'utf8',
  }).split(' ')[0];
  assert.equal(t.digest.sha256, expected);
  writeFileSync(join(dir, 'a.txt'), 'A\n');
  assert.notEqual((await digestTree(dir)).digest.sha256, t.digest.sha256);
});

test('parseDigest accepts sha256/sha512 and rejects everything else', () => {
  const hex = 'ab'.repeat(32);
  assert.deepEqual(parseDigest(`sha256:${hex.toUpperCase()}`), { algorithm: 'sha256', hex });
  for (const bad of [
    `sha256:${hex}0`,
    `md5:${hex}`,
    hex,
    'sha256:../../etc/passwd',
    `sha512:${hex}`,
  ]) {
    assert.throws(() => parseDigest(bad), { code: 'DIGEST_MALFORMED' }, bad);
  }
});
