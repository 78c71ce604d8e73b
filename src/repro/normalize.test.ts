// normalizeArchive as a library: the memory bound (input size, and
// decompressed bytes across nested layers), GNU ar's own deterministic mode
// as the oracle for plain ar archives, and idempotence.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { normalizeArchive } from './normalize.ts';

async function scratch(t: { after: (fn: () => Promise<void>) => void }) {
  const d = await realpath(await mkdtemp(join(tmpdir(), 'vouch-normalize-')));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}
const sh = (cwd: string, script: string) =>
  execFileSync('sh', ['-c', script], { cwd, stdio: 'pipe', encoding: 'utf8' });

test('normalize refuses inputs and decompressed streams past maxBytes', async (t) => {
  const d = await scratch(t);
  // 4 MiB of zeros in a tar compresses to a few KiB in every codec.
  sh(d, 'head -c 4194304 /dev/zero > zeros && tar -cf z.tar zeros');
  sh(d, 'xz -k z.tar && zstd -q -k z.tar && gzip -k z.tar');
  for (const f of ['z.tar.xz', 'z.tar.zst', 'z.tar.gz']) {
    await assert.rejects(normalizeArchive(join(d, f), { mtime: 0, maxBytes: 1024 * 1024 }), (e) => {
      assert.equal((e as { code: string }).code, 'ARCHIVE_TOO_LARGE', f);
      assert.match((e as Error).message, new RegExp(f.replace(/\./g, '\\.')));
      return true;
    });
    // The same file inside the bound is fine.
    const ok = await normalizeArchive(join(d, f), { mtime: 0, maxBytes: 8 * 1024 * 1024 });
    assert.equal(ok.report.members, 1);
  }
  await assert.rejects(normalizeArchive(join(d, 'z.tar'), { mtime: 0, maxBytes: 1024 * 1024 }), {
    code: 'ARCHIVE_TOO_LARGE',
  });
});

test('the decompression budget is shared by the tars inside a .deb', async (t) => {
  const d = await scratch(t);
  sh(
    d,
    'mkdir -p p/DEBIAN p/opt && printf "Package: z\\nVersion: 1\\nArchitecture: all\\nMaintainer: T <t@e>\\nDescription: z\\n" > p/DEBIAN/control && head -c 3000000 /dev/zero > p/opt/zeros && dpkg-deb -Zxz --build p z.deb',
  );
  const data = Number(sh(d, 'dpkg-deb --fsys-tarfile z.deb | wc -c'));
  const control = Number(sh(d, 'dpkg-deb --ctrl-tarfile z.deb | wc -c'));
  assert.ok(data > 3000000 && control > 0);
  // Each tar alone fits in data + control - 1 bytes; both together do not.
  const ok = await normalizeArchive(join(d, 'z.deb'), { mtime: 0, maxBytes: data + control });
  assert.equal(ok.report.format, 'deb');
  await assert.rejects(
    normalizeArchive(join(d, 'z.deb'), { mtime: 0, maxBytes: data + control - 1 }),
    { code: 'ARCHIVE_TOO_LARGE' },
  );
});

test('a plain ar comes out as GNU ar writes it in deterministic mode, order kept', async (t) => {
  const d = await scratch(t);
  await writeFile(join(d, 'b.txt'), 'second, odd\n');
  await writeFile(join(d, 'a.txt'), 'first\n');
  sh(d, 'touch -d 2021-02-03 a.txt b.txt && chmod 755 b.txt');
  // U: real mtimes, uid/gid and modes; D: zeros and 644. b before a: order is not sorted.
  sh(d, 'ar rcU real.a b.txt a.txt && ar rcD det.a b.txt a.txt');
  const { data, report } = await normalizeArchive(join(d, 'real.a'), { mtime: 0 });
  assert.equal(report.format, 'ar');
  assert.equal(report.changed, true);
  assert.deepEqual(
    report.changes.map((c) => c.what),
    ['ar member modes set', 'ar member times set'],
  );
  assert.deepEqual(data, await readFile(join(d, 'det.a')));
});

test('normalizing twice changes nothing the second time', async (t) => {
  const d = await scratch(t);
  sh(
    d,
    'mkdir -p tree && echo x > tree/x && tar --zstd -cf t.tar.zst tree && tar -cJf t.tar.xz tree',
  );
  for (const f of ['t.tar.zst', 't.tar.xz']) {
    const once = await normalizeArchive(join(d, f), { mtime: 1700000000 });
    assert.equal(once.report.changed, true);
    await writeFile(join(d, `${f}.n`), once.data);
    const twice = await normalizeArchive(join(d, `${f}.n`), { mtime: 1700000000 });
    assert.equal(twice.report.changed, false, f);
    assert.deepEqual(twice.report.changes, []);
  }
});
