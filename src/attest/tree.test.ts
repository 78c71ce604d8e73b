import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { lstat, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from './testing.ts';
import {
  type FileStamp,
  listFiles,
  sameStamp,
  stampMatches,
  stampOf,
  stampTree,
  statTree,
} from './tree.ts';

/** Files in several directories, an excluded one, a link to a directory and an empty directory. */
async function tree(dir: string): Promise<string[]> {
  const files = ['top.txt', 'a/1.txt', 'a/2.txt', 'a/b/3.txt', 'c/4.txt', 'c/d/e/5.txt'];
  for (const f of files) {
    await mkdir(join(dir, f, '..'), { recursive: true });
    await writeFile(join(dir, f), f);
  }
  await mkdir(join(dir, 'node_modules', 'x'), { recursive: true });
  await writeFile(join(dir, 'node_modules', 'x', 'i.js'), '');
  await mkdir(join(dir, 'empty'));
  await symlink('a', join(dir, 'a-link'));
  return [...files, 'a-link'].sort();
}

test('listFiles: files and links (not followed) in every directory but the excluded, sorted', async (t) => {
  const dir = await tempDir(t);
  const expected = await tree(dir);
  assert.deepEqual(await listFiles(dir), expected);
  assert.deepEqual(await listFiles(dir, []), [...expected, 'node_modules/x/i.js'].sort());
});

test('listFiles: a walk that fails rejects, naming the error', async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(listFiles(join(dir, 'missing')), { code: 'ENOENT' });
});

test('listFiles reads the tree after the caller has run on: work started next goes first', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'early'), '');
  const listing = listFiles(dir);
  // Still the caller's turn: the walk has not read the directory yet.
  writeFileSync(join(dir, 'sync-later'), '');
  assert.deepEqual(await listing, ['early', 'sync-later']);
});

test('statTree: every listed file once, with its lstat; stampTree is built from it', async (t) => {
  const dir = await tempDir(t);
  const expected = await tree(dir);
  const seen: string[] = [];
  await statTree(dir, ['node_modules'], (rel, st) => {
    seen.push(rel);
    // bigint stats: nanosecond times and exact inode numbers, never rounded doubles
    assert.equal(typeof st.ctimeNs, 'bigint');
    assert.equal(typeof st.ino, 'bigint');
  });
  assert.deepEqual(seen.sort(), expected);
  const stamps = await stampTree(dir);
  assert.deepEqual([...stamps.keys()].sort(), expected);
  for (const [rel, stamp] of stamps) {
    const st = stampOf(await lstat(join(dir, rel), { bigint: true }));
    assert.ok(st && sameStamp(st, stamp), rel);
  }
});

test('stampMatches(stamp, st) is sameStamp(stamp, stampOf(st)) field by field', async (t) => {
  const dir = await tempDir(t);
  const f = join(dir, 'f');
  await writeFile(f, 'one');
  await symlink('f', join(dir, 'l'));
  const st = await lstat(f, { bigint: true });
  const stamp = stampOf(st);
  assert.ok(stamp);
  assert.equal(stampMatches(stamp, st), true);
  // Each field alone makes a difference, as in sameStamp.
  for (const field of ['size', 'mtimeNs', 'ctimeNs', 'ino', 'dev'] as const) {
    const other: FileStamp = { ...stamp, [field]: stamp[field] + 1n };
    assert.equal(stampMatches(other, st), false, field);
    assert.equal(sameStamp(other, stamp), false, field);
  }
  // A link with the file's numbers is still not the file.
  assert.equal(stampMatches({ ...stamp, kind: 'symlink' }, st), false);
  const link = await lstat(join(dir, 'l'), { bigint: true });
  const linkStamp = stampOf(link);
  assert.ok(linkStamp);
  assert.equal(stampMatches(linkStamp, link), true);
  assert.equal(stampMatches(linkStamp, st), false);
  // A rewrite moves ctime (and usually size): no longer a match.
  await writeFile(f, 'three');
  assert.equal(stampMatches(stamp, await lstat(f, { bigint: true })), false);
});
