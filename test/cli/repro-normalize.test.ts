// `vouch repro normalize`: two archives that differ only in timestamps,
// order and ownership become byte-identical (checked with cmp and with
// diffoscope), stay valid for the tools that read them, and nothing is
// rewritten in place without --in-place.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { normalizeArchive } from '../../src/repro/normalize.ts';
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
  const listing = sh(dir, 'TZ=UTC tar --full-time -tvzf a.norm.tgz');
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

/** sh with an environment free of SOURCE_DATE_EPOCH, so dpkg-deb and tar use the (faked) clock. */
const shClock = (cwd: string, script: string) => {
  const env = { ...process.env };
  delete env.SOURCE_DATE_EPOCH;
  return execFileSync('sh', ['-c', script], { cwd, stdio: 'pipe', encoding: 'utf8', env });
};

/** A two-file package tree under `dir/<v>/pkg`, every path's mtime set to `when`. */
async function packageTree(dir: string, v: string, when: string) {
  const root = join(dir, v, 'pkg');
  await mkdir(join(root, 'DEBIAN'), { recursive: true });
  await mkdir(join(root, 'usr', 'share', 'hello'), { recursive: true });
  await writeFile(
    join(root, 'DEBIAN', 'control'),
    'Package: hello\nVersion: 1.0\nArchitecture: all\nMaintainer: T <t@example.com>\nDescription: test package\n',
  );
  await writeFile(join(root, 'usr', 'share', 'hello', 'hi.txt'), 'hi\n');
  await writeFile(join(root, 'usr', 'share', 'hello', 'odd.txt'), 'odd length\n');
  shClock(dir, `find ${v}/pkg -exec touch -h -d '${when}' {} +`);
}

for (const z of ['xz', 'zstd', 'gzip']) {
  test(`normalize: a .deb (${z}) built twice at different times becomes byte-identical and dpkg-deb reads it`, async (t) => {
    const dir = await tempDir(t);
    await packageTree(dir, 'a', '2020-01-01 00:00:00');
    await packageTree(dir, 'b', '2022-05-05 12:00:00');
    // Different clocks for the ar headers and different owners in the tars.
    shClock(dir, `faketime '2020-01-01 00:00:00' dpkg-deb -Z${z} --build a/pkg a.deb`);
    shClock(
      dir,
      `faketime '2022-05-05 12:00:00' dpkg-deb -Z${z} --root-owner-group --build b/pkg b.deb`,
    );
    const env = isolatedEnv(dir, { SOURCE_DATE_EPOCH: '1700000000' });
    const before = await vouch(['repro', 'diff', 'a.deb', 'b.deb'], { cwd: dir, env });
    assert.equal(before.code, 1, show(before));
    for (const v of ['a', 'b']) {
      const r = await vouch(['repro', 'normalize', '--json', `${v}.deb`, '-o', `${v}.n.deb`], {
        cwd: dir,
        env,
      });
      assert.equal(r.code, 0, show(r));
      const report = jsonOf(r);
      assert.equal(report.format, 'deb');
      assert.equal(report.members, 3);
      assert.ok(
        report.changes.some((c: { what: string }) => c.what === 'ar member times set'),
        show(r),
      );
    }
    assert.deepEqual(await readFile(join(dir, 'a.n.deb')), await readFile(join(dir, 'b.n.deb')));
    const same = await vouch(['repro', 'diff', 'a.n.deb', 'b.n.deb'], { cwd: dir, env });
    assert.equal(same.code, 0, show(same));
    // dpkg's own reader accepts it: member order, compression kept, the fixed time inside.
    const ext = { xz: '.xz', zstd: '.zst', gzip: '.gz' }[z];
    assert.equal(
      shClock(dir, 'ar t a.n.deb'),
      `debian-binary\ncontrol.tar${ext}\ndata.tar${ext}\n`,
    );
    assert.match(
      shClock(dir, 'TZ=UTC ar tv a.n.deb'),
      /rw-r--r-- 0\/0 +4 Nov 14 22:13 2023 debian-binary/,
    );
    assert.match(shClock(dir, 'dpkg-deb --info a.n.deb'), /Package: hello/);
    const contents = shClock(dir, 'TZ=UTC dpkg-deb --contents a.n.deb');
    assert.deepEqual(
      contents
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/).slice(-1)[0]),
      [
        './',
        './usr/',
        './usr/share/',
        './usr/share/hello/',
        './usr/share/hello/hi.txt',
        './usr/share/hello/odd.txt',
      ],
    );
    assert.match(contents, /0\/0 +3 2023-11-14 22:13 \.\/usr\/share\/hello\/hi\.txt/);
    assert.equal(
      shClock(dir, 'dpkg-deb --fsys-tarfile a.n.deb | tar -xOf - ./usr/share/hello/odd.txt'),
      'odd length\n',
    );
    assert.equal(shClock(dir, 'dpkg-deb --field a.n.deb Package'), 'hello\n');
  });
}

for (const [z, flag, magic] of [
  ['xz', '-J', 'fd377a585a00'],
  ['zstd', '--zstd', '28b52ffd'],
] as const) {
  test(`normalize: tar.${z} made at two times and in two orders becomes identical and stays ${z}`, async (t) => {
    const dir = await tempDir(t);
    for (const [v, when] of [
      ['a', '2020-01-01'],
      ['b', '2021-06-07'],
    ] as const) {
      await mkdir(join(dir, v, 'tree', 'sub'), { recursive: true });
      await writeFile(join(dir, v, 'tree', 'one.txt'), 'one\n');
      await writeFile(join(dir, v, 'tree', 'sub', 'two.txt'), 'two\n');
      shClock(dir, `find ${v}/tree -exec touch -d ${when} {} +`);
    }
    shClock(
      join(dir, 'a'),
      `tar --no-recursion --owner=1000 ${flag} -cf ../a.t tree/sub/two.txt tree/sub tree/one.txt tree`,
    );
    shClock(
      join(dir, 'b'),
      `tar --no-recursion ${flag} -cf ../b.t tree tree/one.txt tree/sub tree/sub/two.txt`,
    );
    const env = isolatedEnv(dir);
    for (const v of ['a', 'b']) {
      const r = await vouch(['repro', 'normalize', '--json', `${v}.t`, '-o', `${v}.n`], {
        cwd: dir,
        env,
      });
      assert.equal(r.code, 0, show(r));
      assert.equal(jsonOf(r).format, `tar+${z}`);
    }
    const a = await readFile(join(dir, 'a.n'));
    assert.deepEqual(a, await readFile(join(dir, 'b.n')));
    assert.equal(a.subarray(0, magic.length / 2).toString('hex'), magic);
    assert.equal(
      shClock(dir, `tar ${flag} -tf a.n`),
      'tree/\ntree/one.txt\ntree/sub/\ntree/sub/two.txt\n',
    );
    assert.equal(shClock(dir, `tar ${flag} -xOf a.n tree/sub/two.txt`), 'two\n');
    const same = await vouch(['repro', 'diff', 'a.n', 'b.n'], { cwd: dir, env });
    assert.equal(same.code, 0, show(same));
  });
}

test('normalize: a tar.xz without the xz command is REPRO_TOOL_MISSING, exit 2, nothing written', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'x.txt'), 'x\n');
  sh(dir, 'tar -cJf x.tar.xz x.txt');
  const env = isolatedEnv(dir, { PATH: join(dir, 'no-such-bin') });
  const r = await vouch(['repro', 'normalize', 'x.tar.xz', '-o', 'out.txz'], { cwd: dir, env });
  assert.equal(r.code, 2, show(r));
  assert.match(r.stderr, /REPRO_TOOL_MISSING/);
  assert.match(r.stderr, /x\.tar\.xz/);
  assert.match(r.stderr, /xz-utils/);
  assert.equal(spawnSync('test', ['-e', join(dir, 'out.txz')]).status, 1);
});

/** One ar member: a 60-byte header (fields as given) and its body. */
function arMember(name: string, body: string, size = String(Buffer.byteLength(body))): Buffer {
  const h = `${name.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}${size.padEnd(10)}\`\n`;
  const b = Buffer.from(body);
  return Buffer.concat([
    Buffer.from(h, 'latin1'),
    b,
    b.length % 2 ? Buffer.from('\n') : Buffer.alloc(0),
  ]);
}

test('normalize: hostile ar input is exit 2 naming the file', async (t) => {
  const dir = await tempDir(t);
  const magic = Buffer.from('!<arch>\n');
  const good = arMember('debian-binary', '2.0\n');
  const cases: [string, Buffer, RegExp][] = [
    [
      'truncated-header.deb',
      Buffer.concat([magic, good, good.subarray(0, 30)]),
      /ARCHIVE_MALFORMED.*truncated member header/,
    ],
    [
      'past-eof.deb',
      Buffer.concat([magic, arMember('debian-binary', '2.0\n', '4000')]),
      /ARCHIVE_MALFORMED.*past the end of the file/,
    ],
    [
      'dotdot.deb',
      Buffer.concat([magic, good, arMember('/..', 'x')]),
      /ARCHIVE_UNSAFE.*not a plain file name/,
    ],
    [
      'longname.a',
      Buffer.concat([magic, arMember('//', '../../etc/passwd/\n'), arMember('/0', 'x')]),
      /ARCHIVE_UNSAFE.*\.\.\/\.\.\/etc\/passwd/,
    ],
    [
      'bad-size.a',
      Buffer.concat([magic, arMember('x.o', 'x', '-1')]),
      /ARCHIVE_MALFORMED.*bad size/,
    ],
    [
      'inner-ar.deb',
      Buffer.concat([magic, good, arMember('control.tar', '!<arch>\n'), arMember('data.tar', 'x')]),
      /inner-ar\.deb\/control\.tar: .*not a tar/,
    ],
    [
      'no-data.deb',
      Buffer.concat([magic, good, arMember('control.tar', 'x')]),
      /ARCHIVE_MALFORMED.*one control\.tar\.\* and one data\.tar\.\*/,
    ],
  ];
  const env = isolatedEnv(dir);
  for (const [name, bytes, message] of cases) {
    await writeFile(join(dir, name), bytes);
    const r = await vouch(['repro', 'normalize', name, '-o', 'out'], { cwd: dir, env });
    assert.equal(r.code, 2, `${name}: ${show(r)}`);
    assert.match(r.stderr, new RegExp(name.replace('.', '\\.')), `${name}: ${show(r)}`);
    assert.match(r.stderr, message, `${name}: ${show(r)}`);
  }
  assert.equal(spawnSync('test', ['-e', join(dir, 'out')]).status, 1, 'nothing was written');
});

test('normalize: sparse members (tar -S) are written out in full, same content as tar -x; the expansion is bounded', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'tree'));
  // 8 MiB with data at both ends and in the middle: GNU tar stores ~3 blocks.
  sh(
    dir,
    'truncate -s 8M tree/lastlog && printf start | dd of=tree/lastlog conv=notrunc 2>/dev/null && printf middle | dd of=tree/lastlog bs=1 seek=4000000 conv=notrunc 2>/dev/null && printf end | dd of=tree/lastlog bs=1 seek=8388605 conv=notrunc 2>/dev/null',
  );
  sh(
    dir,
    'tar --sparse --format=gnu -cf sparse.tar tree/lastlog && tar --format=gnu -cf plain.tar tree/lastlog',
  );
  const env = isolatedEnv(dir, { SOURCE_DATE_EPOCH: '1700000000' });
  const n = await vouch(['repro', 'normalize', '--json', 'sparse.tar', '-o', 'sparse.norm.tar'], {
    cwd: dir,
    env,
  });
  assert.equal(n.code, 0, show(n));
  assert.ok(
    jsonOf(n).changes.some(
      (c: { what: string }) => c.what === 'sparse members written out in full',
    ),
  );
  // The normalized sparse archive equals the normalized plain one, and extracts to the original bytes.
  const p = await vouch(['repro', 'normalize', 'plain.tar', '-o', 'plain.norm.tar'], {
    cwd: dir,
    env,
  });
  assert.equal(p.code, 0, show(p));
  assert.deepEqual(
    await readFile(join(dir, 'sparse.norm.tar')),
    await readFile(join(dir, 'plain.norm.tar')),
  );
  await mkdir(join(dir, 'out'));
  sh(dir, 'tar -xf sparse.norm.tar -C out');
  assert.equal(
    await sha256File(join(dir, 'out', 'tree', 'lastlog')),
    await sha256File(join(dir, 'tree', 'lastlog')),
  );
  // Over the limit (the library's maxBytes; the CLI's is 1 GiB): refused, naming the member.
  await assert.rejects(
    normalizeArchive(join(dir, 'sparse.tar'), { mtime: 1700000000, maxBytes: 4 * 1024 * 1024 }),
    (e: unknown) =>
      (e as { code?: string }).code === 'ARCHIVE_TOO_LARGE' && /lastlog/.test(String(e)),
  );
});
