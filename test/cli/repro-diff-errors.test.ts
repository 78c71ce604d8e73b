// `vouch repro diff A B` names every difference by one logical path rooted at
// A's name, but an error met while reading B must name B's own file (or the
// path inside it), never the good A: a corrupt B is blamed on B, a corrupt A on A.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { jsonOf, show, tempDir, vouch } from './helpers.ts';

/** app.zip: a few members made by Info-ZIP, fixed times, large enough that a cut hits the central directory. */
async function appZip(d: string): Promise<void> {
  await mkdir(join(d, 'src', 'lib'), { recursive: true });
  await writeFile(join(d, 'src', 'lib', 'x.js'), `export const x = ${'1'.repeat(400)};\n`);
  await writeFile(join(d, 'src', 'README'), 'an app\n'.repeat(50));
  execFileSync('sh', ['-c', 'touch -d 2020-01-01 lib lib/x.js README && zip -qrX ../app.zip .'], {
    cwd: join(d, 'src'),
  });
}

/** A tgz holding inner.tar (and a note); `cut` truncates inner.tar before it is packed. */
function nestedTgz(d: string, out: string, cut: boolean): void {
  const w = join(d, `${out}.work`);
  execFileSync(
    'sh',
    [
      '-c',
      `mkdir -p ${w}/in && cd ${w} && head -c 3000 /dev/zero | tr '\\0' y > in/data.txt && echo note > note.txt &&
       tar --sort=name --mtime=@0 --owner=0 --group=0 -C in -cf inner.tar data.txt &&
       ${cut ? 'truncate -s 1200 inner.tar &&' : ''}
       tar --sort=name --mtime=@0 --owner=0 --group=0 -cf - inner.tar note.txt | gzip -n > ${join(d, out)}`,
    ],
    { cwd: d },
  );
}

async function failing(d: string, a: string, b: string) {
  const r = await vouch(['repro', 'diff', '--json', a, b], { cwd: d });
  assert.equal(r.code, 2, show(r));
  const { error } = jsonOf(r) as { error: { code: string; file: string; message: string } };
  return { r, error };
}

test('a truncated B zip is blamed on B, exit 2; the good A is not named', async (t) => {
  const d = await tempDir(t);
  await appZip(d);
  execFileSync('sh', ['-c', 'cp app.zip diff-app.zip && truncate -s -100 diff-app.zip'], {
    cwd: d,
  });
  const { r, error } = await failing(d, 'app.zip', 'diff-app.zip');
  assert.equal(error.code, 'ARCHIVE_MALFORMED', show(r));
  assert.equal(error.file, 'diff-app.zip', show(r));
  assert.match(error.message, /^diff-app\.zip: /);
  // Text mode says the same on stderr.
  const text = await vouch(['repro', 'diff', 'app.zip', 'diff-app.zip'], { cwd: d });
  assert.equal(text.code, 2, show(text));
  assert.match(text.stderr, /diff-app\.zip: /);
  assert.doesNotMatch(text.stderr, /(^|[^-])app\.zip: /);
});

test('a corrupt A zip is blamed on A, exit 2', async (t) => {
  const d = await tempDir(t);
  await appZip(d);
  execFileSync('sh', ['-c', 'cp app.zip bad-app.zip && truncate -s -100 bad-app.zip'], {
    cwd: d,
  });
  const { r, error } = await failing(d, 'bad-app.zip', 'app.zip');
  assert.equal(error.code, 'ARCHIVE_MALFORMED', show(r));
  assert.equal(error.file, 'bad-app.zip', show(r));
});

test('a corrupt tar nested in B only (tgz/inner.tar) is named by its path inside B, exit 2', async (t) => {
  const d = await tempDir(t);
  nestedTgz(d, 'good.tgz', false);
  nestedTgz(d, 'cut.tgz', true);
  const b = await failing(d, 'good.tgz', 'cut.tgz');
  assert.equal(b.error.code, 'ARCHIVE_MALFORMED', show(b.r));
  assert.equal(b.error.file, 'cut.tgz/inner.tar', show(b.r));
  // The other way round the same bad member is A's.
  const a = await failing(d, 'cut.tgz', 'good.tgz');
  assert.equal(a.error.file, 'cut.tgz/inner.tar', show(a.r));
});

test('B with the same base name as A (another directory) is named by the path as given', async (t) => {
  const d = await tempDir(t);
  await appZip(d);
  execFileSync(
    'sh',
    ['-c', 'mkdir -p other && cp app.zip other/app.zip && truncate -s -100 other/app.zip'],
    { cwd: d },
  );
  const { r, error } = await failing(d, 'app.zip', 'other/app.zip');
  assert.equal(error.file, join(d, 'other', 'app.zip'), show(r));
});
