import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { git, run } from './exec.ts';
import { tempDir } from './testing.ts';

test('run: a cwd that is a file is ok:false with the reason, not a rejection', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'not-a-dir');
  await writeFile(file, 'x\n');
  // Node throws ENOTDIR from spawn itself here (it reports ENOENT through the callback).
  const r = await run(process.execPath, ['-e', 'process.stdout.write("ran")'], { cwd: file });
  assert.equal(r.ok, false);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /ENOTDIR/);
  const g = await git(['rev-parse', '--show-prefix'], file);
  assert.equal(g.ok, false);
});

test('run: a missing cwd or program is ok:false; a real one runs with its output', async (t) => {
  const dir = await tempDir(t);
  assert.equal((await run(process.execPath, ['-e', '0'], { cwd: join(dir, 'gone') })).ok, false);
  assert.equal((await run(join(dir, 'no-such-program'), [], { cwd: dir })).ok, false);
  await mkdir(join(dir, 'sub'));
  const r = await run(process.execPath, ['-e', 'process.stdout.write(process.cwd())'], {
    cwd: join(dir, 'sub'),
  });
  assert.deepEqual(r, { ok: true, stdout: join(dir, 'sub'), stderr: '' });
  const failed = await run(process.execPath, ['-e', 'console.error("no");process.exit(3)'], {
    cwd: dir,
  });
  assert.deepEqual(failed, { ok: false, stdout: '', stderr: 'no\n' });
});
