import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { digestFiles } from './hashing.ts';
import { sha256, tempDir } from './testing.ts';
import { type FileStamp, sameStamp, stampOf } from './tree.ts';

test('digests files, links by their target text, and skips what is not a file', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'a.txt'), 'alpha');
  await writeFile(join(dir, 'empty'), '');
  await symlink('/etc/passwd', join(dir, 'link'));
  await mkdir(join(dir, 'sub'));
  // A FIFO where a file was expected: must neither block nor be read.
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  const stamps = new Map<string, FileStamp>();
  const out = await digestFiles(dir, ['a.txt', 'empty', 'link', 'sub', 'fifo', 'gone'], stamps);
  assert.deepEqual(Array.from(out), [
    { sha256: sha256('alpha') },
    { sha256: sha256('') },
    { sha256: sha256('/etc/passwd') },
    undefined,
    undefined,
    undefined,
  ]);
  assert.deepEqual([...stamps.keys()].sort(), ['a.txt', 'empty', 'link']);
  assert.equal(stamps.get('link')?.kind, 'symlink');
  // The recorded stamps are the files' own, as lstat sees them.
  for (const [path, stamp] of stamps) {
    const st = stampOf(await lstat(join(dir, path), { bigint: true }));
    assert.ok(st && sameStamp(st, stamp), path);
  }
});

test('a file bigger than the read buffer and one over the streaming limit digest whole', async (t) => {
  const dir = await tempDir(t);
  const big = Buffer.alloc(1024 * 1024 + 17, 7);
  await writeFile(join(dir, 'big.bin'), big);
  const exact = Buffer.alloc(1024 * 1024, 9);
  await writeFile(join(dir, 'exact.bin'), exact);
  const stamps = new Map<string, FileStamp>();
  const out = await digestFiles(dir, ['big.bin', 'exact.bin'], stamps);
  assert.deepEqual(out, [{ sha256: sha256(big) }, { sha256: sha256(exact) }]);
  const st = stampOf(await lstat(join(dir, 'big.bin'), { bigint: true }));
  const recorded = stamps.get('big.bin');
  assert.ok(st && recorded && sameStamp(st, recorded));
});

test('a link to a large file outside the tree is digested as a link, its target never read', async (t) => {
  const dir = await tempDir(t);
  const outside = await tempDir(t);
  await writeFile(join(outside, 'secret.bin'), Buffer.alloc(3 * 1024 * 1024, 1));
  await symlink(join(outside, 'secret.bin'), join(dir, 'link.bin'));
  const out = await digestFiles(dir, ['link.bin']);
  assert.deepEqual(out, [{ sha256: sha256(join(outside, 'secret.bin')) }]);
});

test('an unreadable file is an error naming it', async (t) => {
  if (process.getuid?.() === 0) return t.skip('root reads anything');
  const dir = await tempDir(t);
  await writeFile(join(dir, 'secret'), 'x', { mode: 0o000 });
  await assert.rejects(digestFiles(dir, ['secret']), { code: 'FILE_READ', file: 'secret' });
});
