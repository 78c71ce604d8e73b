// TarStore reads image archives (docker save, skopeo docker-archive/oci-archive).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TarStore } from './store.ts';

test('a sparse member of a plain tar is read as its content (holes as zeros), not as its stored runs', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // 1 MiB with data at 0, in the middle and at the end: GNU tar stores only those runs.
  const f = await open(join(dir, 'manifest.json'), 'w');
  await f.truncate(1 << 20);
  await f.write(Buffer.from('[{"Config":"c.json"}]'), 0, undefined, 0);
  await f.write(Buffer.from('middle'), 0, undefined, 300_000);
  await f.write(Buffer.from('end'), 0, undefined, (1 << 20) - 3);
  await f.close();
  const want = await readFile(join(dir, 'manifest.json'));
  for (const format of ['gnu', 'posix']) {
    const archive = join(dir, `${format}.tar`);
    execFileSync('tar', [
      '--sparse',
      `--format=${format}`,
      '-C',
      dir,
      '-cf',
      archive,
      'manifest.json',
    ]);
    const store = await TarStore.index(archive, `${format}.tar`, {});
    const got = await store.readAll('manifest.json', 2 << 20);
    assert.equal(got.length, want.length, format);
    assert.equal(
      createHash('sha256').update(got).digest('hex'),
      createHash('sha256').update(want).digest('hex'),
      format,
    );
  }
});
