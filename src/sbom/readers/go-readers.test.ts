import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { goBinaryReader, readGoBuildInfo } from './go-binary.ts';
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

const START = Buffer.from('3077af0c9274080241e1c107e6d618e6', 'hex');
const END = Buffer.from('f932433186182072008242104116d8f2', 'hex');

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

/** The Go 1.18+ inline build info blob, as the linker writes it. */
function buildInfoBlob(goVersion: string, modinfo: string, flags = 2): Buffer {
  const header = Buffer.alloc(32);
  Buffer.from('\xff Go buildinf:', 'latin1').copy(header);
  header[14] = 8;
  header[15] = flags;
  const mi = Buffer.concat([START, Buffer.from(modinfo), END]);
  const v = Buffer.from(goVersion);
  return Buffer.concat([header, varint(v.length), v, varint(mi.length), mi]);
}

/** A minimal ELF64 with a .shstrtab and a .go.buildinfo section. */
function elfWith(blob: Buffer): Buffer {
  const shstr = Buffer.from('\0.shstrtab\0.go.buildinfo\0');
  const blobAt = 128;
  const shoff = blobAt + Math.ceil(blob.length / 16) * 16;
  const out = Buffer.alloc(shoff + 3 * 64);
  out.write('\x7fELF', 0, 'latin1');
  out[4] = 2;
  out[5] = 1;
  out[6] = 1;
  out.writeBigUInt64LE(BigInt(shoff), 0x28);
  out.writeUInt16LE(64, 0x3a);
  out.writeUInt16LE(3, 0x3c);
  out.writeUInt16LE(1, 0x3e);
  shstr.copy(out, 64);
  blob.copy(out, blobAt);
  const sh = (i: number, name: number, off: number, size: number) => {
    const o = shoff + i * 64;
    out.writeUInt32LE(name, o);
    out.writeBigUInt64LE(BigInt(off), o + 24);
    out.writeBigUInt64LE(BigInt(size), o + 32);
  };
  sh(1, 1, 64, shstr.length);
  sh(2, 11, blobAt, blob.length);
  return out;
}

const MODINFO = [
  'path\texample.com/cmd/tool',
  'mod\texample.com/cmd\t(devel)\t',
  'dep\tgolang.org/x/sys\tv0.20.0\th1:SYS=',
  'dep\texample.com/old\tv1.0.0\t',
  '=>\texample.com/new\tv1.1.0\th1:NEW=',
  'dep\texample.com/local\tv0.0.0\t',
  '=>\t../local\t\t',
  'build\t-compiler=gc',
  '',
].join('\n');

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
  assert.equal(r.components.length, 4);
  assert.equal(r.dependencies[0]?.dependsOn.length, 3);
  // Without section headers the whole file is searched.
  const bare = Buffer.concat([Buffer.alloc(48), buildInfoBlob('go1.22.4', MODINFO)]);
  assert.equal(readGoBuildInfo(bare, 'x')?.goVersion, 'go1.22.4');
});

test('Go binary: not Go, pre-1.18 pointer format, truncated', async () => {
  const none = await goBinaryReader.read(fileOf('bin/sh', Buffer.from('\x7fELF not go at all')));
  assert.equal(none.accounting.declared, 0);
  assert.equal(none.accounting.format, 'not a Go binary (no build info)');
  await rejectsWith(
    goBinaryReader.read(fileOf('bin/old', elfWith(buildInfoBlob('go1.16', MODINFO, 0)))),
    'LOCKFILE_UNSUPPORTED',
    'bin/old',
    /pre-1\.18/,
  );
  const blob = buildInfoBlob('go1.22.4', MODINFO);
  await rejectsWith(
    goBinaryReader.read(fileOf('bin/cut', blob.subarray(0, 60))),
    'LOCKFILE_MALFORMED',
    'bin/cut',
  );
  assert.ok(goBinaryReader.matches('usr/bin/kubectl'));
  assert.ok(goBinaryReader.matches('tools/x.exe'));
  assert.ok(!goBinaryReader.matches('src/main.go'));
});

// A real Go binary already on this machine (no Go toolchain is installed here; binaries are
// far over the 2 MB fixture limit, so they are read in place). terraform: Go 1.23, modules
// with replacements. The oracle counts `dep` lines in the raw bytes between the sentinels.
const MACHINE = ['/usr/local/bin/terraform', '/usr/lib/google-cloud-sdk/bin/kubectl'].filter((p) =>
  existsSync(p),
);
test('Go binary: real binaries on this machine', {
  skip: MACHINE.length === 0 && 'no Go binary with module info here',
}, async () => {
  for (const p of MACHINE) {
    const raw = readFileSync(p);
    const s = raw.indexOf(START);
    const mi = raw.toString('utf8', s + 16, raw.indexOf(END, s));
    const deps = mi.split('\n').filter((l) => l.startsWith('dep\t')).length;
    const mods = mi.split('\n').filter((l) => l.startsWith('mod\t')).length;
    const r = await goBinaryReader.read(fileAt(p));
    checkResult(r);
    assert.equal(r.accounting.declared, deps + mods, p);
    assert.equal(r.components.length + r.accounting.merged, deps + mods, p);
    assert.match(r.accounting.format, /^Go build info \(go1\.\d+/);
  }
});
