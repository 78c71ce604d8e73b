// `vouch repro normalize`: two archives that differ only in timestamps,
// order and ownership become byte-identical (checked with cmp and with
// diffoscope), stay valid for the tools that read them, and nothing is
// rewritten in place without --in-place.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { isolatedEnv, jsonOf, sha256File, show, tempDir, vouch } from './helpers.ts';

const sh = (cwd: string, script: string) =>
  execFileSync('sh', ['-c', script], { cwd, stdio: 'pipe', encoding: 'utf8' });
const hasDiffoscope = spawnSync('sh', ['-c', 'command -v diffoscope']).status === 0;

test('normalize: tar.gz built with other mtimes, order and owners become identical', async (t) => {
  const dir = await tempDir(t);
  for (const v of ['a', 'b']) {
    await mkdir(join(dir, v, 'tree', 'sub'), { recursive: true });
    await writeFile(join(dir, v, 'tree', 'one.txt'), 'one\n');
    await writeFile(join(dir, v, 'tree', 'sub', 'two.txt'), 'two\n');
  }
  sh(
    dir,
    'touch -d 2020-01-01 a/tree/one.txt a/tree/sub/two.txt && touch -d 2021-01-01 b/tree/one.txt b/tree/sub/two.txt',
  );
  sh(
    join(dir, 'a'),
    'tar --no-recursion --owner=1000 --group=1000 -czf ../a.tgz tree/sub/two.txt tree/sub tree/one.txt tree',
  );
  sh(
    join(dir, 'b'),
    'tar --no-recursion --owner=0 --group=0 -cf - tree tree/one.txt tree/sub tree/sub/two.txt | gzip -9 > ../b.tgz',
  );
  const env = isolatedEnv(dir, { SOURCE_DATE_EPOCH: '1700000000' });
  const before = await sha256File(join(dir, 'a.tgz'));
  const na = await vouch(['repro', 'normalize', '--json', 'a.tgz', '-o', 'a.norm.tgz'], {
    cwd: dir,
    env,
  });
  assert.equal(na.code, 0, show(na));
  const nb = await vouch(['repro', 'normalize', 'b.tgz', '-o', 'b.norm.tgz'], { cwd: dir, env });
  assert.equal(nb.code, 0, show(nb));
  assert.match(nb.stdout, /member times set/);
  assert.equal(
    await sha256File(join(dir, 'a.tgz')),
    before,
    'the input is untouched without --in-place',
  );
  const report = jsonOf(na);
  assert.equal(report.format, 'tar+gzip');
  assert.ok(report.changes.some((c: { what: string }) => c.what === 'owner set to 0:0'));
  assert.deepEqual(
    await readFile(join(dir, 'a.norm.tgz')),
    await readFile(join(dir, 'b.norm.tgz')),
  );
  // GNU tar reads it: sorted, 0/0, the fixed time.
  const listing = sh(dir, 'tar --full-time -tvzf a.norm.tgz');
  assert.deepEqual(
    listing
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/).slice(-1)[0]),
    ['tree/', 'tree/one.txt', 'tree/sub/', 'tree/sub/two.txt'],
  );
  assert.match(listing, /0\/0 .* 2023-11-14 22:13:20 tree\/one\.txt/);
  assert.equal(sh(dir, 'tar -xzOf a.norm.tgz tree/sub/two.txt'), 'two\n');
  const same = await vouch(['repro', 'diff', 'a.norm.tgz', 'b.norm.tgz'], { cwd: dir, env });
  assert.equal(same.code, 0, show(same));
  if (hasDiffoscope)
    assert.equal(spawnSync('diffoscope', ['a.norm.tgz', 'b.norm.tgz'], { cwd: dir }).status, 0);
});

test('normalize: jars from two clocks become identical and stay valid zips; --in-place', async (t) => {
  const dir = await tempDir(t);
  for (const v of ['a', 'b']) {
    await mkdir(join(dir, v, 'com'), { recursive: true });
    await writeFile(join(dir, v, 'com', 'x.txt'), 'x\n');
    await writeFile(join(dir, v, 'com', 'y.txt'), 'y\n');
    sh(dir, `touch -d ${v === 'a' ? '2020-01-01' : '2021-03-04'} ${v}/com/*.txt ${v}/com`);
    sh(
      join(dir, v),
      `jar cfM ../${v}.jar ${v === 'a' ? 'com/x.txt com/y.txt' : 'com/y.txt com/x.txt'}`,
    );
  }
  const env = isolatedEnv(dir);
  for (const v of ['a', 'b']) {
    const r = await vouch(['repro', 'normalize', `${v}.jar`, '--in-place'], { cwd: dir, env });
    assert.equal(r.code, 0, show(r));
  }
  assert.equal(await sha256File(join(dir, 'a.jar')), await sha256File(join(dir, 'b.jar')));
  const check = sh(
    dir,
    `python3 -c "import zipfile,sys; z=zipfile.ZipFile('a.jar'); assert z.testzip() is None; print(','.join(z.namelist())); print(z.read('com/y.txt').decode(), end='')"`,
  );
  assert.equal(check, 'com/x.txt,com/y.txt\ny\n');
});

test('normalize: a gzip loses its name and time; bad input and missing flags are exit 2', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'notes.txt'), 'hello\n');
  sh(dir, 'gzip -k notes.txt');
  const env = isolatedEnv(dir);
  const r = await vouch(['repro', 'normalize', 'notes.txt.gz', '-o', 'n.gz'], { cwd: dir, env });
  assert.equal(r.code, 0, show(r));
  assert.match(r.stdout, /gzip header name removed/);
  const head = await readFile(join(dir, 'n.gz'));
  assert.equal(head.readUInt32LE(4), 0);
  assert.equal(head[3], 0);
  assert.equal(sh(dir, 'gzip -dc n.gz'), 'hello\n');
  for (const args of [
    ['repro', 'normalize', 'notes.txt.gz'],
    ['repro', 'normalize', 'notes.txt.gz', '-o', 'x', '--in-place'],
    ['repro', 'normalize', 'notes.txt', '-o', 'x'],
    ['repro', 'normalize', 'missing.tgz', '-o', 'x'],
  ]) {
    const bad = await vouch(args, { cwd: dir, env });
    assert.equal(bad.code, 2, `${args.join(' ')}: ${show(bad)}`);
  }
});
