import assert from 'node:assert/strict';
import { lstat, mkdir, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { digestFile } from '../core/digest.ts';
import { isVouchError } from '../core/errors.ts';
import type { AttestationContext } from './attestor.ts';
import { changedFiles, type ProductsAttestation, productsAttestor } from './products.ts';
import { takeSnapshot } from './snapshot.ts';
import { sha256, tempDir } from './testing.ts';
import { sameStamp, stampOf, stampTree } from './tree.ts';

function ctx(workdir: string, products?: string[]): AttestationContext {
  return { workdir, argv: ['true'], env: {}, options: products ? { products } : {}, log: () => {} };
}

async function globProducts(workdir: string, globs: string[]): Promise<ProductsAttestation> {
  return productsAttestor.attest(ctx(workdir, globs));
}

async function rejectsWithEscape(p: Promise<unknown>, path: string): Promise<void> {
  await assert.rejects(p, (e) => {
    assert.ok(isVouchError(e));
    assert.equal(e.code, 'PATH_ESCAPE');
    assert.equal(e.file, path);
    assert.ok(e.message.includes(path));
    return true;
  });
}

test('unchanged files are not products; created and modified files are', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'same.txt'), 'same');
  await writeFile(join(dir, 'edit.txt'), 'before');
  await writeFile(join(dir, 'rewritten-identically.txt'), 'x');
  const materials = new Map([
    ['same.txt', await digestFile(join(dir, 'same.txt'))],
    ['edit.txt', await digestFile(join(dir, 'edit.txt'))],
    ['rewritten-identically.txt', await digestFile(join(dir, 'rewritten-identically.txt'))],
  ]);
  const snap = await takeSnapshot(dir);
  await writeFile(join(dir, 'edit.txt'), 'after!');
  await writeFile(join(dir, 'rewritten-identically.txt'), 'x');
  await mkdir(join(dir, 'dist'));
  await writeFile(join(dir, 'dist', 'new.txt'), 'new');
  await mkdir(join(dir, 'node_modules'));
  await writeFile(join(dir, 'node_modules', 'ignored.js'), '');
  assert.deepEqual(await changedFiles(dir, snap, materials), ['dist/new.txt', 'edit.txt']);
});

test('content changed with mtime put back and size equal: ctime changes, so it is caught', async (t) => {
  // utimes(2) can restore mtime but the kernel sets ctime to "now" on every
  // write and on utimes itself, so the stamp still differs.
  const dir = await tempDir(t);
  const f = join(dir, 'sneaky.txt');
  await writeFile(f, 'AAAA');
  // Whole seconds, so utimes can restore the mtime exactly (it takes a double).
  await utimes(f, 1_700_000_000, 1_700_000_000);
  const material = new Map([['sneaky.txt', await digestFile(f)]]);
  const before = await lstat(f, { bigint: true });
  // A zero racy window: only the stamp comparison can catch this change.
  const snap = await takeSnapshot(dir, 0n);
  await new Promise((r) => setTimeout(r, 20)); // let the coarse kernel clock tick
  await writeFile(f, 'BBBB');
  await utimes(f, 1_700_000_000, 1_700_000_000);
  const after = await lstat(f, { bigint: true });
  assert.equal(after.mtimeNs, before.mtimeNs);
  assert.equal(after.size, before.size);
  const [s1, s2] = [stampOf(before), stampOf(after)];
  assert.ok(s1 && s2);
  assert.equal(sameStamp(s1, s2), false);
  assert.deepEqual(await changedFiles(dir, snap, material), ['sneaky.txt']);
});

test('identical stamp: outside the racy window the file is trusted, inside it is re-hashed', async (t) => {
  // Simulates a rewrite within one clock tick (identical stamp) by taking the
  // "before" stamps after the change while the material digest is the old one.
  const dir = await tempDir(t);
  const f = join(dir, 'racy.txt');
  await writeFile(f, 'new content');
  const oldDigest = new Map([['racy.txt', { sha256: sha256('old content') }]]);
  const stamps = await stampTree(dir);
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  // Snapshot taken well after the file last changed: its stamp is trustworthy.
  const later = nowNs + 10_000_000_000n;
  const paths = Promise.resolve([...stamps.keys()]);
  const trusted = {
    takenAtNs: later,
    racyWindowNs: 2_000_000_000n,
    paths,
    stamps,
    baselines: new Map(),
  };
  assert.deepEqual(
    await changedFiles(dir, trusted, oldDigest),
    [],
    'stamp match is trusted without reading',
  );
  const racy = {
    takenAtNs: nowNs,
    racyWindowNs: 2_000_000_000n,
    paths,
    stamps,
    baselines: new Map(),
  };
  assert.deepEqual(await changedFiles(dir, racy, oldDigest), ['racy.txt']);
});

test('--products globs: every matching file, digested by content', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'dist'));
  await writeFile(join(dir, 'dist', 'a.js'), 'a');
  await writeFile(join(dir, 'dist', 'b.js'), 'b');
  await writeFile(join(dir, 'README'), 'r');
  const r = await globProducts(dir, ['dist/*.js']);
  assert.equal(r.mode, 'globs');
  assert.deepEqual(r.products, [
    { name: 'dist/a.js', digest: { sha256: sha256('a') } },
    { name: 'dist/b.js', digest: { sha256: sha256('b') } },
  ]);
});

test('a symlinked product inside the tree is named by its path and digested by its target', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'dist'));
  await writeFile(join(dir, 'dist', 'app-1.0.js'), 'app');
  await symlink('app-1.0.js', join(dir, 'dist', 'app.js'));
  const r = await globProducts(dir, ['dist/app.js']);
  assert.deepEqual(r.products, [{ name: 'dist/app.js', digest: { sha256: sha256('app') } }]);
});

test('PATH_ESCAPE: a product symlink to /etc/passwd', async (t) => {
  const dir = await tempDir(t);
  await symlink('/etc/passwd', join(dir, 'passwd'));
  await rejectsWithEscape(globProducts(dir, ['passwd']), 'passwd');
  await rejectsWithEscape(globProducts(dir, ['*']), 'passwd');
});

test('PATH_ESCAPE: a product symlink to ../outside', async (t) => {
  const root = await tempDir(t);
  const dir = join(root, 'work');
  await mkdir(dir);
  await writeFile(join(root, 'outside'), 'secret');
  await symlink('../outside', join(dir, 'out'));
  await rejectsWithEscape(globProducts(dir, ['out']), 'out');
});

test('PATH_ESCAPE: a glob reaching ../ outside the working directory', async (t) => {
  const root = await tempDir(t);
  const dir = join(root, 'work');
  await mkdir(dir);
  await writeFile(join(root, 'outside.txt'), 'secret');
  await rejectsWithEscape(globProducts(dir, ['../*.txt']), '../outside.txt');
});

test('PATH_ESCAPE: a glob descending through a symlinked directory that leaves the tree', async (t) => {
  const root = await tempDir(t);
  const dir = join(root, 'work');
  await mkdir(join(root, 'elsewhere'), { recursive: true });
  await mkdir(dir);
  await writeFile(join(root, 'elsewhere', 'f.txt'), 'secret');
  await symlink('../elsewhere', join(dir, 'linked'));
  await rejectsWithEscape(globProducts(dir, ['linked/*']), 'linked/f.txt');
  // `**/*` matches the link itself first; it resolves outside too.
  await rejectsWithEscape(globProducts(dir, ['**/*']), 'linked');
});
