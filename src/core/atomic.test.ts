import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeFileAtomic } from './atomic.ts';

test('replaces a file whole and leaves no temp file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-atomic-'));
  const f = join(dir, 'a', 'b.json');
  await writeFileAtomic(f, 'one');
  await writeFileAtomic(f, 'two', { mode: 0o600 });
  assert.equal(readFileSync(f, 'utf8'), 'two');
  assert.deepEqual(readdirSync(join(dir, 'a')), ['b.json']);
  await writeFileAtomic(join(dir, 'k.pem'), 'secret', { mode: 0o600 });
  assert.equal(statSync(join(dir, 'k.pem')).mode & 0o777, 0o600);
});

test('exclusive refuses to overwrite and keeps the old content', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-atomic-'));
  const f = join(dir, 'key');
  writeFileSync(f, 'old');
  await assert.rejects(writeFileAtomic(f, 'new', { exclusive: true }), {
    code: 'FILE_WRITE',
    message: /already exists/,
  });
  assert.equal(readFileSync(f, 'utf8'), 'old');
  assert.deepEqual(readdirSync(dir), ['key']);
});

test('a write into an unwritable place fails with the path and no partial file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-atomic-'));
  writeFileSync(join(dir, 'plain'), 'not a directory');
  const target = join(dir, 'plain', 'x.json');
  await assert.rejects(writeFileAtomic(target, 'x'), (e: Error & { code?: string }) => {
    return e.code === 'FILE_WRITE' && e.message.includes(target);
  });
  assert.deepEqual(readdirSync(dir), ['plain']);
});
