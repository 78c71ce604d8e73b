// Hostile and edge input for the differ: path traversal, escaping links,
// decompression bombs, deep nesting, truncation; and the private temp dir
// is gone afterwards. Archives are made by real tools (tar, gzip, python's
// tarfile for names tar refuses to write).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { diffFiles } from './diff.ts';

async function dir(t: { after: (fn: () => Promise<void>) => void }) {
  const d = await mkdtemp(join(tmpdir(), 'vouch-repro-test-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

/** A tar made by python's tarfile: members as (name, type, data or link target). */
function pyTar(out: string, members: [string, 'file' | 'symlink' | 'hardlink', string][]) {
  const script = `
import tarfile, io, sys, json
members = json.loads(sys.argv[2])
with tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT) as t:
    for name, kind, data in members:
        i = tarfile.TarInfo(name); i.mtime = 1600000000
        if kind == 'file':
            b = data.encode(); i.size = len(b); t.addfile(i, io.BytesIO(b))
        else:
            i.type = tarfile.SYMTYPE if kind == 'symlink' else tarfile.LNKTYPE; i.linkname = data; t.addfile(i)
`;
  execFileSync('python3', ['-c', script, out, JSON.stringify(members)]);
}

const tmpLeft = async () =>
  (await readdir(tmpdir())).filter((n) => n.startsWith('vouch-repro-diff-'));

test('a member climbing out with ../ is refused with ARCHIVE_UNSAFE naming the archive', async (t) => {
  const d = await dir(t);
  pyTar(join(d, 'a.tar'), [['ok.txt', 'file', 'a']]);
  pyTar(join(d, 'b.tar'), [
    ['ok.txt', 'file', 'a'],
    ['../../evil.txt', 'file', 'x'],
  ]);
  const before = await tmpLeft();
  await assert.rejects(
    diffFiles(join(d, 'a.tar'), join(d, 'b.tar')),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, 'ARCHIVE_UNSAFE');
      // The bad member is in B: B is named, not the good A.
      assert.match(e.message, /^b\.tar: .*escapes/);
      return true;
    },
  );
  assert.deepEqual(await tmpLeft(), before, 'the private temp dir is removed after an error');
  pyTar(join(d, 'c.tar'), [
    ['ok.txt', 'file', 'a'],
    ['/etc/evil', 'file', 'x'],
  ]);
  await assert.rejects(diffFiles(join(d, 'a.tar'), join(d, 'c.tar')), { code: 'ARCHIVE_UNSAFE' });
});

test('links are compared as text and never followed; a hard link escaping the root is refused', async (t) => {
  const d = await dir(t);
  pyTar(join(d, 'a.tar'), [
    ['x', 'file', 'x'],
    ['l', 'symlink', 'x'],
  ]);
  pyTar(join(d, 'b.tar'), [
    ['x', 'file', 'x'],
    ['l', 'symlink', '/tmp/build-1234/x'],
  ]);
  const r = await diffFiles(join(d, 'a.tar'), join(d, 'b.tar'));
  const link = r.differences.find((x) => x.path === 'a.tar/l');
  assert.equal(link?.field, 'linkname');
  assert.equal(link?.b, '/tmp/build-1234/x');
  assert.equal(link?.class, 'embedded-build-path');
  pyTar(join(d, 'c.tar'), [
    ['x', 'file', 'x'],
    ['h', 'hardlink', '../../etc/passwd'],
  ]);
  await assert.rejects(diffFiles(join(d, 'a.tar'), join(d, 'c.tar')), { code: 'ARCHIVE_UNSAFE' });
});

test('a decompression bomb is stopped by the ratio and the total budget', async (t) => {
  const d = await dir(t);
  await writeFile(join(d, 'a.gz'), gzipSync(Buffer.alloc(32 * 1024 * 1024)));
  await writeFile(join(d, 'b.gz'), gzipSync(Buffer.alloc(32 * 1024 * 1024 + 1)));
  await assert.rejects(
    diffFiles(join(d, 'a.gz'), join(d, 'b.gz')),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, 'ARCHIVE_TOO_LARGE');
      assert.match(e.message, /bomb/);
      return true;
    },
  );
  await assert.rejects(
    diffFiles(join(d, 'a.gz'), join(d, 'b.gz'), {
      limits: { maxRatio: 1e9, maxDecompressed: 40 * 1024 * 1024 },
    }),
    /limit of 41943040 bytes in total/,
  );
});

test('nesting deeper than the limit is ARCHIVE_TOO_DEEP; within it, nested gzip is looked through', async (t) => {
  const d = await dir(t);
  const nest = (text: string, n: number) => {
    let b = Buffer.from(text);
    for (let i = 0; i < n; i++) b = gzipSync(b);
    return b;
  };
  await writeFile(join(d, 'a.gz'), nest('built 2024-01-01\n', 3));
  await writeFile(join(d, 'b.gz'), nest('built 2025-02-03\n', 3));
  const ok = await diffFiles(join(d, 'a.gz'), join(d, 'b.gz'));
  assert.equal(ok.differences.length, 1);
  assert.equal(ok.differences[0]?.class, 'timestamp');
  assert.match(ok.differences[0]?.detail ?? '', /-built 2024-01-01/);
  await writeFile(join(d, 'c.gz'), nest('a\n', 12));
  await writeFile(join(d, 'e.gz'), nest('b\n', 12));
  await assert.rejects(diffFiles(join(d, 'c.gz'), join(d, 'e.gz')), { code: 'ARCHIVE_TOO_DEEP' });
});

test('a truncated archive is ARCHIVE_MALFORMED; the same content compressed differently is compression-level', async (t) => {
  const d = await dir(t);
  pyTar(join(d, 'a.tar'), [['x', 'file', 'x'.repeat(2000)]]);
  execFileSync('sh', ['-c', `head -c 1000 ${join(d, 'a.tar')} > ${join(d, 'cut.tar')}`]);
  await assert.rejects(diffFiles(join(d, 'a.tar'), join(d, 'cut.tar')), {
    code: 'ARCHIVE_MALFORMED',
  });
  execFileSync('sh', ['-c', `gzip -n -1 -c a.tar > fast.tgz && gzip -n -9 -c a.tar > best.tgz`], {
    cwd: d,
  });
  const r = await diffFiles(join(d, 'fast.tgz'), join(d, 'best.tgz'));
  assert.ok(r.differences.length > 0);
  assert.ok(
    r.differences.every((x) => x.class === 'compression-level'),
    JSON.stringify(r.differences),
  );
  // gzip without -n stores the name and time: a header difference with the gzip -n hint.
  execFileSync(
    'sh',
    [
      '-c',
      'cp a.tar one.tar && touch -d 2020-01-01 one.tar && gzip -k one.tar && cp a.tar two.tar && touch -d 2021-01-01 two.tar && gzip -k two.tar',
    ],
    { cwd: d },
  );
  const h = await diffFiles(join(d, 'one.tar.gz'), join(d, 'two.tar.gz'));
  const mtime = h.differences.find((x) => x.field === 'gzip.mtime');
  assert.equal(mtime?.class, 'timestamp');
  assert.match(mtime?.hint ?? '', /gzip -n/);
  assert.ok(h.differences.some((x) => x.field === 'gzip.name'));
});

test('directories (an OCI layout) are compared member by member, nested layers included', async (t) => {
  const d = await dir(t);
  for (const v of ['a', 'b']) {
    execFileSync(
      'sh',
      [
        '-c',
        `mkdir -p ${v}/blobs/sha256 l${v} && echo 'built ${v === 'a' ? '2024-01-01' : '2025-02-03'}' > l${v}/etc.txt && tar --sort=name --mtime=@0 --owner=0 --group=0 -C l${v} -czf ${v}/blobs/sha256/layer etc.txt && echo '{"imageLayoutVersion":"1.0.0"}' > ${v}/oci-layout`,
      ],
      { cwd: d },
    );
  }
  const r = await diffFiles(join(d, 'a'), join(d, 'b'));
  assert.deepEqual(
    r.differences.map((x) => `${x.path} ${x.kind} ${x.class}`),
    ['a/blobs/sha256/layer/etc.txt content timestamp'],
  );
});

test('an error reading B names B (a corrupt inner gzip layer), while differences keep A-rooted paths', async (t) => {
  const d = await dir(t);
  await writeFile(join(d, 'a.gz'), gzipSync(gzipSync(Buffer.from('built 2024-01-01\n'))));
  const inner = gzipSync(Buffer.from('built 2025-02-03\n'.repeat(40)));
  await writeFile(join(d, 'b.gz'), gzipSync(inner.subarray(0, inner.length - 12)));
  await assert.rejects(
    diffFiles(join(d, 'a.gz'), join(d, 'b.gz')),
    (e: Error & { code?: string; file?: string }) => {
      assert.equal(e.code, 'ARCHIVE_MALFORMED');
      assert.equal(e.file, 'b.gz');
      return true;
    },
  );
  await assert.rejects(diffFiles(join(d, 'b.gz'), join(d, 'a.gz')), { file: 'b.gz' });
  // A caller naming the sides (as `repro check` does for two copies of one product).
  await assert.rejects(
    diffFiles(join(d, 'a.gz'), join(d, 'b.gz'), { name: 'out.gz', nameB: 'rebuild/out.gz' }),
    { file: 'rebuild/out.gz' },
  );
  await writeFile(join(d, 'c.gz'), gzipSync(gzipSync(Buffer.from('built 2025-02-03\n'))));
  const ok = await diffFiles(join(d, 'a.gz'), join(d, 'c.gz'));
  assert.deepEqual(
    ok.differences.map((x) => x.path),
    ['a.gz'],
  );
});

test('ELF objects assembled in two directories: the embedded build path is found in their strings, named as such', async (t) => {
  const d = await dir(t);
  const objs: string[] = [];
  for (const sub of ['one/x', 'other/longer/y']) {
    const at = join(d, sub);
    execFileSync('mkdir', ['-p', at]);
    await writeFile(join(at, 'f.s'), '.text\n.globl f\nf:\n ret\n');
    // as -g records the directory it ran in (DW_AT_comp_dir).
    execFileSync('as', ['-g', 'f.s', '-o', 'f.o'], { cwd: at });
    objs.push(join(at, 'f.o'));
  }
  const r = await diffFiles(objs[0] as string, objs[1] as string);
  assert.equal(r.differences.length, 1, JSON.stringify(r.differences));
  const [x] = r.differences;
  assert.equal(x?.class, 'embedded-build-path', x?.detail);
  assert.ok(x?.detail?.includes(join(d, 'one/x')), x?.detail);
  assert.ok(x?.detail?.includes(join(d, 'other/longer/y')), x?.detail);
});

test('an ELF binary differing only in its GNU build ID is named so, not unknown', async (t) => {
  const d = await dir(t);
  const a = join(d, 'a');
  const b = join(d, 'b');
  execFileSync('cp', ['/usr/bin/true', a]);
  // The build ID as binutils reads it; its bytes are replaced in a copy.
  const id = /Build ID: ([0-9a-f]+)/.exec(
    execFileSync('readelf', ['-n', a], { encoding: 'utf8' }),
  )?.[1];
  assert.ok(id);
  const bytes = await readFile(a);
  const at = bytes.indexOf(Buffer.from(id, 'hex'));
  assert.ok(at > 0);
  const other = Buffer.from(Buffer.from(id, 'hex').map((v) => v ^ 0xff));
  other.copy(bytes, at);
  await writeFile(b, bytes);
  const r = await diffFiles(a, b);
  assert.equal(r.differences.length, 1);
  const [x] = r.differences;
  assert.equal(x?.class, 'random-id', x?.detail);
  assert.match(x?.detail ?? '', new RegExp(`GNU build ID.*${id}`));
  assert.match(x?.detail ?? '', new RegExp(Buffer.from(other).toString('hex')));
  assert.match(x?.hint ?? '', /build-id/);
});

test('a zip entry with extra fields vs the same entry without (zip vs zip -X) is named by member and field', async (t) => {
  const d = await dir(t);
  await writeFile(join(d, 'd.txt'), 'data\n');
  execFileSync('touch', ['-d', '2020-01-01', join(d, 'd.txt')]);
  execFileSync('zip', ['-q', 'x1.zip', 'd.txt'], { cwd: d });
  execFileSync('zip', ['-qX', 'x2.zip', 'd.txt'], { cwd: d });
  const r = await diffFiles(join(d, 'x1.zip'), join(d, 'x2.zip'));
  assert.deepEqual(
    r.differences.map((x) => [x.path, x.kind, x.field, x.class, x.b]),
    [['x1.zip/d.txt', 'metadata', 'extra', 'timestamp', '(none)']],
  );
  assert.match(r.differences[0]?.a ?? '', /^5554/);
});
