import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openImage } from '../image/index.ts';
import { writeLayout } from '../image/testing.ts';
import type { Sbom } from '../model.ts';
import type { SourceFile } from '../reader.ts';
import { generateSbom } from '../sbom.ts';
import { scanDirectory, scanFile, scanSources } from '../scan.ts';
import { goBinaryReader, type ReadAt, readGoBuildInfo } from './go-binary.ts';
import { buildInfoBlob, END, elfWith, MODINFO, START } from './go-binary-testkit.ts';
import { goModReader } from './go-mod.ts';
import { byPurl, checkResult, fileAt, fileOf, rejectsWith, VECTORS } from './polyglot-testkit.ts';

const DIR = join(VECTORS, 'go_slsa-verifier');

test('go.mod + go.sum: real slsa-verifier module', async () => {
  const r = await goModReader.read(fileAt(join(DIR, 'go.mod')));
  checkResult(r);
  // Independent: requires from go.mod blocks, sets of module@version from go.sum by line kind.
  const mod = readFileSync(join(DIR, 'go.mod'), 'utf8');
  const requires = new Set<string>();
  for (const block of mod.matchAll(/^require \(\n([\s\S]*?)^\)/gm))
    for (const l of (block[1] as string).split('\n')) {
      const [p, v] = l.trim().split(/\s+/);
      if (p && v) requires.add(`${p}@${v}`);
    }
  const sum = readFileSync(join(DIR, 'go.sum'), 'utf8').trim().split('\n');
  const zip = new Set(
    sum.filter((l) => !l.includes('/go.mod ')).map((l) => l.split(' ').slice(0, 2).join('@')),
  );
  const modOnly = new Set(
    sum
      .filter((l) => l.includes('/go.mod '))
      .map((l) =>
        l
          .split(' ')
          .slice(0, 2)
          .join('@')
          .replace(/\/go\.mod$/, ''),
      )
      .filter((k) => !zip.has(k) && !requires.has(k)),
  );
  assert.equal(requires.size, 106);
  assert.equal(r.components.length, 1 + new Set([...requires, ...zip]).size);
  assert.equal(r.accounting.skipped.length, modOnly.size);
  assert.equal(r.components.filter((c) => c.scope === 'required').length, 1 + requires.size);
  assert.deepEqual(r.roots, ['pkg:golang/github.com/slsa-framework/slsa-verifier/v2']);
  const cmp = byPurl(r, 'pkg:golang/github.com/google/go-cmp@v0.6.0');
  assert.equal(cmp.properties?.['go:indirect'], 'false');
  const h1 = sum.find((l) => l.startsWith('github.com/google/go-cmp v0.6.0 '))?.split(' ')[2];
  assert.equal(cmp.properties?.['go:h1'], h1);
  assert.equal(
    byPurl(r, 'pkg:golang/github.com/google/trillian@v1.7.1').properties?.['go:indirect'],
    'true',
  );
  const direct = r.dependencies.find((d) => d.ref === r.roots[0])?.dependsOn ?? [];
  assert.equal(
    direct.length,
    r.components.filter((c) => c.properties?.['go:indirect'] === 'false').length,
  );
});

test('go.mod: replace (module and directory), exclude, go < 1.17, errors', async () => {
  const mod = [
    'module example.com/app',
    '',
    'go 1.16',
    '',
    'require (',
    '\texample.com/a v1.0.0',
    '\texample.com/b v1.2.0 // indirect',
    '\texample.com/c v0.1.0',
    '\texample.com/d v2.0.0',
    ')',
    'replace example.com/a => example.com/fork/a v1.0.1',
    'replace example.com/b v1.2.0 => ../b',
    'exclude example.com/c v0.1.0',
  ].join('\n');
  const sum = [
    'example.com/fork/a v1.0.1 h1:AAAA=',
    'example.com/fork/a v1.0.1/go.mod h1:BBBB=',
    'example.com/d v2.0.0 h1:DDDD=',
    'example.com/e v0.3.0 h1:EEEE=',
    'example.com/e v0.2.0/go.mod h1:FFFF=',
  ].join('\n');
  const r = await goModReader.read(fileOf('go.mod', mod, { 'go.sum': sum }));
  checkResult(r);
  const fork = byPurl(r, 'pkg:golang/example.com/fork/a@v1.0.1');
  assert.equal(fork.properties?.['go:replaces'], 'example.com/a@v1.0.0');
  assert.equal(fork.properties?.['go:h1'], 'h1:AAAA=');
  assert.equal(byPurl(r, 'pkg:golang/example.com/b').source?.url, '../b');
  assert.equal(byPurl(r, 'pkg:golang/example.com/e@v0.3.0').scope, 'required'); // go 1.16: no pruning
  assert.deepEqual(
    r.accounting.skipped.map((s) => s.reason),
    [
      'excluded by an exclude directive',
      'only the go.mod checksum: read for minimal version selection, code not in the build',
    ],
  );
  await rejectsWith(
    goModReader.read(fileOf('go.mod', 'module x\nfrobnicate y\n')),
    'LOCKFILE_UNSUPPORTED',
    'go.mod',
    /line 2/,
  );
  await rejectsWith(
    goModReader.read(fileOf('go.mod', 'module x\nrequire (\n a v1\n')),
    'LOCKFILE_MALFORMED',
    'go.mod',
  );
  await rejectsWith(
    goModReader.read(fileOf('go.mod', 'module x\n', { 'go.sum': 'a v1 h1:x=\ngarbage\n' })),
    'LOCKFILE_MALFORMED',
    'go.sum',
    /line 2/,
  );
});

test('Go binary: ELF .go.buildinfo section, inline format, replacements', async () => {
  const r = await goBinaryReader.read(
    fileOf('usr/local/bin/tool', elfWith(buildInfoBlob('go1.22.4', MODINFO))),
  );
  checkResult(r);
  assert.equal(r.accounting.format, 'Go build info (go1.22.4)');
  assert.deepEqual(r.roots, ['pkg:golang/example.com/cmd']);
  assert.equal(byPurl(r, 'pkg:golang/golang.org/x/sys@v0.20.0').properties?.['go:h1'], 'h1:SYS=');
  assert.equal(
    byPurl(r, 'pkg:golang/example.com/new@v1.1.0').properties?.['go:replaces'],
    'example.com/old@v1.0.0',
  );
  assert.equal(byPurl(r, 'pkg:golang/example.com/local').source?.url, '../local');
  assert.equal(r.components.length, 5);
  // The main module depends on its three modules and on the toolchain's standard library.
  assert.deepEqual(r.dependencies, [
    {
      ref: 'pkg:golang/example.com/cmd',
      dependsOn: [
        'pkg:golang/example.com/local',
        'pkg:golang/example.com/new@v1.1.0',
        'pkg:golang/golang.org/x/sys@v0.20.0',
        'pkg:golang/stdlib@1.22.4',
      ],
    },
  ]);
  assert.equal(r.accounting.declared, 5);
  // Build info bytes in a file that is not an executable are not looked for.
  const bare = Buffer.concat([Buffer.alloc(48), buildInfoBlob('go1.22.4', MODINFO)]);
  assert.equal(await readGoBuildInfo(bare, 'x'), undefined);
});

test('Go binary: not Go, unknown header flags, null pointers, truncated, garbage after the marker', async () => {
  const none = await goBinaryReader.read(fileOf('bin/sh', Buffer.from('\x7fELF not go at all')));
  assert.equal(none.accounting.declared, 0);
  assert.equal(none.accounting.format, 'not a Go binary (no build info)');
  // Flag bits no Go release has written: unsupported (fail closed), naming the flags byte.
  await rejectsWith(
    goBinaryReader.read(fileOf('bin/future', elfWith(buildInfoBlob('go1.99', MODINFO, 6)))),
    'LOCKFILE_UNSUPPORTED',
    'bin/future',
    /offset 143: Go build info header flags 0x06 are of no format/,
  );
  // Pointer format (flags 0) whose pointers are zero, in an ELF without program headers.
  await rejectsWith(
    goBinaryReader.read(fileOf('bin/old', elfWith(buildInfoBlob('go1.16', MODINFO, 0)))),
    'LOCKFILE_MALFORMED',
    'bin/old',
    /offset 144: Go build info Go version string header address 0x0 is outside every segment/,
  );
  // The header is there; the module info string's length runs past the end of the file.
  const cut = elfWith(buildInfoBlob('go1.22.4', MODINFO).subarray(0, 60));
  await rejectsWith(
    goBinaryReader.read(fileOf('opt/cut', cut)),
    'LOCKFILE_MALFORMED',
    'opt/cut',
    /runs past the end of the file/,
  );
  // Garbage after the marker: a length that says 2 GB, bytes that are not UTF-8, no Go version.
  const header = buildInfoBlob('go1.22.4', MODINFO).subarray(0, 32);
  const hostile: Array<[Buffer, RegExp]> = [
    [Buffer.from([0xff, 0xff, 0xff, 0xff, 0x07]), /over the limit/],
    [Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), /varint/],
    [Buffer.concat([Buffer.from([4]), Buffer.from([0xc3, 0x28, 0xa0, 0xa1])]), /not UTF-8/],
    [Buffer.concat([Buffer.from([3]), Buffer.from('abc')]), /no Go version/],
  ];
  for (const [tail, re] of hostile) {
    const f = elfWith(Buffer.concat([header, tail, Buffer.alloc(64)]));
    await rejectsWith(
      goBinaryReader.read(fileOf('opt/bad', f)),
      'LOCKFILE_MALFORMED',
      'opt/bad',
      re,
    );
  }
  // Names decide nothing: the reader is reached by content (Reader.content), not by path.
  assert.ok(!goBinaryReader.matches('usr/bin/kubectl'));
  assert.ok(!goBinaryReader.matches('tools/x.exe'));
  const content = goBinaryReader.content;
  assert.ok(content);
  assert.ok(content.head(Buffer.from('\x7fELF\x02\x01', 'latin1')));
  assert.ok(content.head(Buffer.from([0xcf, 0xfa, 0xed, 0xfe])));
  assert.ok(content.head(Buffer.from('MZ\x90\x00', 'latin1')));
  assert.ok(!content.head(Buffer.from([0xca, 0xfe, 0xba, 0xbe]))); // a Java class file
  assert.ok(!content.head(Buffer.from('#!/bin/sh\n')));
});

// Real Go binaries already on this machine (no Go toolchain is installed here; binaries are
// far over the 2 MB fixture limit, so they are read in place). terraform: Go 1.23, modules
// with replacements. The oracle counts `dep` lines in the raw bytes between the sentinels.
const MACHINE = ['/usr/local/bin/terraform', '/usr/lib/google-cloud-sdk/bin/kubectl'].filter((p) =>
  existsSync(p),
);
// Debian's own Go packages (skopeo and docker-registry are on .ci/run's PACKAGES line),
// built by dh-golang in GOPATH mode: build info with a `path` line and no modules.
const DEBIAN = ['/usr/bin/skopeo', '/usr/bin/docker-registry'].filter((p) => existsSync(p));

/** A SourceFile over a real file that counts what it reads and refuses to be read whole. */
export function countingFile(abs: string, name: string): { file: SourceFile; read: () => number } {
  let read = 0;
  const file: SourceFile = {
    path: name,
    bytes: () => Promise.reject(new Error(`${abs} was read whole`)),
    sibling: async () => undefined,
    readAt: async (offset, length) => {
      const fh = await open(abs, 'r');
      try {
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await fh.read({ buffer, position: offset, length });
        read += bytesRead;
        return buffer.subarray(0, bytesRead);
      } finally {
        await fh.close();
      }
    },
  };
  return { file, read: () => read };
}

/**
 * The upstream Go version a Debian package was built with, from its
 * `Built-Using: golang-1.19 (= 1.19.8-2)` (dpkg-query), for the binary at `abs`.
 */
function builtWithGo(abs: string): string | undefined {
  let out: string;
  try {
    const pkg = execFileSync('dpkg-query', ['-S', abs], { encoding: 'utf8' }).split(':')[0];
    // dpkg-query's own field syntax, not a template string.
    const field = '$' + '{Built-Using}';
    out = execFileSync('dpkg-query', ['-Wf', field, pkg as string], {
      encoding: 'utf8',
    });
  } catch {
    return undefined;
  }
  return /(?:^|, )golang-1\.\d+ \(= (\d+\.\d+(?:\.\d+)?)-[^)]*\)/.exec(out)?.[1];
}

/** The module info between the sentinels, found by a plain byte search (the oracle). */
function rawModinfo(raw: Buffer): string {
  const s = raw.indexOf(START);
  return raw.toString('utf8', s + 16, raw.indexOf(END, s));
}

test('Go binary: real module-mode binaries on this machine, read in bounded ranges', {
  skip: MACHINE.length === 0 && 'no Go binary with module info here',
}, async () => {
  for (const p of MACHINE) {
    const mi = rawModinfo(readFileSync(p));
    const deps = mi.split('\n').filter((l) => l.startsWith('dep\t')).length;
    const mods = mi.split('\n').filter((l) => l.startsWith('mod\t')).length;
    const { file, read } = countingFile(p, 'opt/app/server');
    assert.ok(await goBinaryReader.content?.matches({ ...file, readAt: file.readAt as ReadAt }));
    const r = await goBinaryReader.read(file);
    checkResult(r);
    // Every mod and dep line, and the standard library.
    assert.equal(r.accounting.declared, deps + mods + 1, p);
    assert.equal(r.components.length + r.accounting.merged, deps + mods + 1, p);
    const toolchain = /^Go build info \((go1\.\d+\.\d+)\)$/.exec(r.accounting.format)?.[1];
    assert.ok(toolchain, r.accounting.format);
    const stdlib = r.components.filter((c) => c.name === 'stdlib');
    assert.deepEqual(
      stdlib.map((c) => c.purl),
      [`pkg:golang/stdlib@${toolchain.slice(2)}`],
      p,
    );
    // Tables, the first 64 KiB of the section, the strings: a small part of the file.
    assert.ok(read() < 1024 * 1024, `${p}: read ${read()} bytes`);
    assert.ok(statSync(p).size > 10 * read());
  }
});

test('Go binary: Debian-built (GOPATH mode) binaries are counted and skipped with the reason', {
  skip: DEBIAN.length === 0 && 'skopeo / docker-registry not installed (apt-get install skopeo)',
}, async () => {
  for (const p of DEBIAN) {
    const raw = readFileSync(p);
    const path = /^path\t(.+)$/m.exec(rawModinfo(raw))?.[1];
    assert.ok(path, `${p} has a path line`);
    const { file, read } = countingFile(p, 'usr/bin/x');
    const r = await goBinaryReader.read(file);
    checkResult(r);
    assert.match(r.accounting.format, /^Go build info \(go1\.\d+/);
    // The standard library at the Go Debian built it with, from the package's Built-Using
    // field (golang-1.19 (= 1.19.8-2) → 1.19.8): an oracle apart from the binary.
    const go = builtWithGo(p);
    assert.ok(go, `${p}: no golang-1.N in its package's Built-Using`);
    assert.deepEqual(
      r.components.map((c) => c.purl),
      [`pkg:golang/stdlib@${go}`],
    );
    assert.equal(r.accounting.declared, 2);
    assert.deepEqual(
      r.accounting.skipped.map((x) => x.entry),
      [`path ${path}`],
    );
    assert.match(r.accounting.skipped[0]?.reason ?? '', /without module information/);
    assert.ok(read() < 1024 * 1024, `${p}: read ${read()} bytes`);
    // Section headers removed (as some strippers do): found through the program headers.
    const noSections = Buffer.from(raw);
    noSections.writeBigUInt64LE(0n, 0x28); // e_shoff
    noSections.writeUInt16LE(0, 0x3c); // e_shnum
    const again = await goBinaryReader.read(fileOf('x', noSections));
    assert.deepEqual(again.accounting, { ...r.accounting, file: 'x' });
  }
  // A non-Go ELF from Debian (coreutils) is an executable without Go build info.
  const { file } = countingFile('/usr/bin/true', 'usr/bin/true');
  assert.equal(
    await goBinaryReader.content?.matches({ ...file, readAt: file.readAt as ReadAt }),
    false,
  );
});

/** A tree with Go binaries where no path rule would look, no exec bit, among non-Go files. */
async function treeWithBinaries(dir: string): Promise<void> {
  await mkdir(join(dir, 'opt/app'), { recursive: true });
  await mkdir(join(dir, 'usr/local/bin'), { recursive: true });
  await mkdir(join(dir, 'srv/node_modules/tool/bin'), { recursive: true });
  const elf = elfWith(buildInfoBlob('go1.22.4', MODINFO));
  await writeFile(join(dir, 'opt/app/server'), elf, { mode: 0o644 });
  await writeFile(join(dir, 'usr/local/bin/anything.dat'), elf, { mode: 0o600 });
  // Under node_modules nothing but npm's hidden lockfile is offered, Go binaries included.
  await writeFile(join(dir, 'srv/node_modules/tool/bin/x'), elf);
  // Executables and look-alikes that are not Go: no component, no accounting entry.
  if (existsSync('/usr/bin/true')) await copyFile('/usr/bin/true', join(dir, 'opt/app/helper'));
  await writeFile(join(dir, 'opt/app/notes.txt'), 'MZ is how a DOS executable starts\n');
  await writeFile(join(dir, 'opt/app/empty'), '');
  await writeFile(join(dir, 'opt/app/data.bin'), Buffer.concat([Buffer.alloc(16), elf]));
}

function goAccounting(sbom: Sbom): string[] {
  return sbom.accounting.filter((a) => a.reader === 'go-binary').map((a) => a.file);
}

test('scanDirectory finds Go binaries by content, anywhere, without exec bit', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-gobin-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await treeWithBinaries(dir);
  const sbom = await scanDirectory(dir);
  assert.deepEqual(goAccounting(sbom), ['opt/app/server', 'usr/local/bin/anything.dat']);
  assert.deepEqual(
    sbom.accounting.map((a) => a.reader),
    ['go-binary', 'go-binary'],
  );
  const sys = sbom.components.find((c) => c.purl === 'pkg:golang/golang.org/x/sys@v0.20.0');
  assert.deepEqual(sys?.foundIn, ['opt/app/server', 'usr/local/bin/anything.dat']);
  // One file named on the command line is recognised the same way; a non-Go ELF is not.
  const one = await scanFile(join(dir, 'opt/app/server'));
  assert.equal(one.components.length, 5);
  if (existsSync('/usr/bin/true')) {
    await rejectsWith(scanFile(join(dir, 'opt/app/helper')), 'USAGE', 'helper', /no reader/);
  }
  // A hostile one fails the scan naming the file (exit 2), or is reported with allowPartial.
  const cut = elfWith(buildInfoBlob('go1.22.4', MODINFO).subarray(0, 60));
  await writeFile(join(dir, 'opt/app/cut'), cut);
  await rejectsWith(scanDirectory(dir), 'LOCKFILE_MALFORMED', 'opt/app/cut');
  const partial = await scanDirectory(dir, { allowPartial: true });
  const failed = partial.accounting.find((a) => a.file === 'opt/app/cut');
  assert.match(failed?.incompleteReason ?? '', /^failed: LOCKFILE_MALFORMED/);
});

test('scanDirectory: a real Debian Go binary copied to an unexpected path', {
  skip: !existsSync('/usr/bin/skopeo') && 'skopeo not installed (apt-get install skopeo)',
}, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-gobin-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'srv'));
  await copyFile('/usr/bin/skopeo', join(dir, 'srv/registry-tool'));
  await chmod(join(dir, 'srv/registry-tool'), 0o644);
  const sbom = await scanDirectory(dir);
  assert.deepEqual(goAccounting(sbom), ['srv/registry-tool']);
  assert.deepEqual(
    sbom.accounting[0]?.skipped.map((s) => s.entry),
    ['path github.com/containers/skopeo/cmd/skopeo'],
  );
});

test('images: Go binaries found by content in layers; whiteouts and the capture budget respected', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-gobin-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const elf = elfWith(buildInfoBlob('go1.22.4', MODINFO));
  const other = elfWith(
    buildInfoBlob(
      'go1.21.0',
      MODINFO.replace('golang.org/x/sys\tv0.20.0', 'golang.org/x/net\tv0.1.0'),
    ),
  );
  const layout = await writeLayout(join(dir, 'layout'), 'gobin', [
    {
      compression: 'none',
      build: async (d) => {
        await treeWithBinaries(d);
        await mkdir(join(d, 'var/tmp'), { recursive: true });
        await writeFile(join(d, 'var/tmp/gone'), other, { mode: 0o644 });
      },
    },
    {
      compression: 'none',
      build: async (d) => {
        await mkdir(join(d, 'var/tmp'), { recursive: true });
        await writeFile(join(d, 'var/tmp/.wh.gone'), '');
        await mkdir(join(d, 'home'), { recursive: true });
        await writeFile(join(d, 'home/server-copy'), elf, { mode: 0o400 });
      },
    },
  ]);
  const expected = ['home/server-copy', 'opt/app/server', 'usr/local/bin/anything.dat'];
  for (const maxCaptureBytes of [undefined, 0]) {
    const image = await openImage(
      layout.dir,
      maxCaptureBytes === undefined ? {} : { limits: { maxCaptureBytes } },
    );
    const sbom = await scanSources(image.files(), image.subject);
    assert.deepEqual(goAccounting(sbom), expected, `maxCaptureBytes ${maxCaptureBytes}`);
    assert.ok(sbom.components.some((c) => c.purl === 'pkg:golang/golang.org/x/sys@v0.20.0'));
    assert.ok(!sbom.components.some((c) => c.name.includes('x/net')), 'whited-out binary listed');
  }
  // The CLI's path: generateSbom on the layout directory.
  const viaCli = await generateSbom(layout.dir);
  assert.deepEqual(goAccounting(viaCli), expected);
});
