// Go 1.13–1.17 build info (the pointer format) in SYNTHETIC executables written by
// go-binary-testkit.ts — there is no old Go toolchain on this machine. binutils
// (readelf, objdump) and file(1) check that the fixtures are well-formed executables,
// and objdump, which maps virtual addresses to file bytes by itself, is the oracle
// for what the pointers lead to.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { vouch } from '../../../test/cli/helpers.ts';
import { isVouchError } from '../../core/errors.ts';
import { openImage } from '../image/index.ts';
import { writeLayout } from '../image/testing.ts';
import { totalsOf } from '../merge.ts';
import type { ReaderResult } from '../model.ts';
import type { SourceFile } from '../reader.ts';
import { scanSources } from '../scan.ts';
import { goBinaryReader, type ReadAt, readGoBuildInfo } from './go-binary.ts';
import {
  buildInfoBlob,
  END,
  elfWith,
  framed,
  MODINFO,
  START,
  type SyntheticOptions,
  syntheticGoBinary,
} from './go-binary-testkit.ts';
import { checkResult, fileOf, rejectsWith } from './polyglot-testkit.ts';

/** Every layout the pointer format is read from. */
const LAYOUTS: Array<
  { name: string } & Pick<SyntheticOptions, 'format' | 'bits' | 'bigEndian' | 'sections'>
> = [
  { name: 'ELF64 LE', format: 'elf', bits: 64 },
  { name: 'ELF64 LE without sections', format: 'elf', bits: 64, sections: false },
  { name: 'ELF32 BE', format: 'elf', bits: 32, bigEndian: true },
  { name: 'ELF32 BE without sections', format: 'elf', bits: 32, bigEndian: true, sections: false },
  { name: 'ELF64 BE', format: 'elf', bits: 64, bigEndian: true },
  { name: 'ELF32 LE', format: 'elf', bits: 32 },
  { name: 'PE32+', format: 'pe', bits: 64 },
  { name: 'PE32', format: 'pe', bits: 32 },
  { name: 'Mach-O 64', format: 'macho', bits: 64 },
  { name: 'Mach-O 32', format: 'macho', bits: 32 },
];

/** A SourceFile over bytes with ranged reads that records the largest read asked for. */
function ranged(name: string, bytes: Buffer): { file: SourceFile; largest: () => number } {
  let largest = 0;
  return {
    file: {
      ...fileOf(name, bytes),
      bytes: () => Promise.reject(new Error(`${name} was read whole`)),
      readAt: async (offset, length) => {
        largest = Math.max(largest, length);
        return bytes.subarray(offset, offset + length);
      },
    },
    largest: () => largest,
  };
}

/** The result with the file name taken out, to compare results of different files. */
function anonymous(r: ReaderResult): unknown {
  return JSON.parse(JSON.stringify(r).replaceAll(JSON.stringify(r.accounting.file), '"F"'));
}

test('pointer format: every layout reads as the same build info in the 1.18+ inline format does', async () => {
  const inline = await goBinaryReader.read(
    fileOf('inline', elfWith(buildInfoBlob('go1.16.15', MODINFO))),
  );
  checkResult(inline);
  // Three modules, the main module and the standard library of the toolchain.
  assert.equal(inline.components.length, 5);
  assert.deepEqual(inline.components.find((c) => c.name === 'stdlib')?.properties, {
    'go:toolchain': 'go1.16.15',
  });
  assert.ok(inline.components.some((c) => c.purl === 'pkg:golang/stdlib@1.16.15'));
  for (const l of LAYOUTS) {
    const b = syntheticGoBinary({ ...l, goVersion: 'go1.16.15', modinfo: framed(MODINFO) });
    const { file, largest } = ranged('bin/old', b.bytes);
    assert.ok(await goBinaryReader.content?.matches({ ...file, readAt: file.readAt as ReadAt }));
    const r = await goBinaryReader.read(file);
    checkResult(r);
    assert.deepEqual(anonymous(r), anonymous(inline), l.name);
    assert.ok(largest() <= 64 * 1024, `${l.name}: largest read ${largest()}`);
    // Outside module mode runtime.modinfo is empty (nil data pointer): counted and skipped.
    const gopath = syntheticGoBinary({ ...l, goVersion: 'go1.13', modinfo: '' });
    const g = await goBinaryReader.read(fileOf('bin/gopath', gopath.bytes));
    checkResult(g);
    assert.equal(g.accounting.format, 'Go build info (go1.13)', l.name);
    assert.deepEqual(
      g.accounting.skipped.map((s) => s.entry),
      ['bin/gopath'],
    );
    // The toolchain is known all the same: its standard library is listed (go1.13 = 1.13.0).
    assert.deepEqual(
      g.components.map((c) => c.purl),
      ['pkg:golang/stdlib@1.13.0'],
      l.name,
    );
  }
});

/** `objdump -s` of [start, stop) of virtual memory: binutils' own address → file mapping. */
function objdumpBytes(path: string, start: bigint, length: number): Buffer {
  const out = execFileSync(
    'objdump',
    [
      '-s',
      `--start-address=0x${start.toString(16)}`,
      `--stop-address=0x${(start + BigInt(length)).toString(16)}`,
      path,
    ],
    { encoding: 'utf8' },
  );
  // Lines are ` ADDR hex-words  ascii`, 16 bytes a line (fewer on the last): hex
  // words are taken until the line's byte count is reached, the ASCII column left alone.
  const bytes: number[] = [];
  for (const line of out.split('\n')) {
    const m = /^ ([0-9a-f]+) (.*)$/.exec(line);
    if (!m) continue;
    const want = Math.min(16, length - bytes.length);
    let got = 0;
    for (const word of (m[2] as string).split(' ')) {
      if (got >= want || !/^([0-9a-f]{2})+$/.test(word)) break;
      for (let i = 0; i < word.length && got < want; i += 2, got++) {
        bytes.push(Number.parseInt(word.slice(i, i + 2), 16));
      }
    }
  }
  return Buffer.from(bytes);
}

test('pointer format fixtures: file(1), readelf and objdump take them for real executables', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-gobin-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const goVersion = 'go1.17.13';
  const modinfo = framed(MODINFO);
  const expectFile: Record<string, RegExp> = {
    'ELF64 LE': /^ELF 64-bit LSB executable, x86-64,/,
    'ELF64 LE without sections': /^ELF 64-bit LSB executable, x86-64,.*no section header/,
    'ELF32 BE': /^ELF 32-bit MSB executable, MIPS,/,
    'ELF32 BE without sections': /^ELF 32-bit MSB executable, MIPS,.*no section header/,
    'ELF64 BE': /^ELF 64-bit MSB executable, IBM S\/390,/,
    'ELF32 LE': /^ELF 32-bit LSB executable, Intel 80386,/,
    'PE32+': /^PE32\+ executable \(console\) x86-64, for MS Windows/,
    PE32: /^PE32 executable \(console\) Intel 80386, for MS Windows/,
    'Mach-O 64': /^Mach-O 64-bit x86_64 executable/,
    'Mach-O 32': /^Mach-O i386 executable/,
  };
  for (const l of LAYOUTS) {
    const b = syntheticGoBinary({ ...l, goVersion, modinfo });
    const path = join(dir, l.name.replaceAll(' ', '_'));
    await writeFile(path, b.bytes);
    const kind = execFileSync('file', ['-b', path], { encoding: 'utf8' });
    assert.match(kind, expectFile[l.name] as RegExp, l.name);
    assert.doesNotMatch(kind, /corrupt|invalid|bad|missing/i, l.name);
    if (l.format === 'elf') {
      // readelf says nothing on stderr about a well-formed file and lists our three PT_LOADs.
      const r = execFileSync('readelf', ['-lW', path], { encoding: 'utf8', stdio: 'pipe' });
      assert.equal((r.match(/^\s+LOAD\s/gm) ?? []).length, 3, l.name);
      execFileSync('readelf', ['-aW', path], { stdio: ['ignore', 'ignore', 'pipe'] });
      const warn = execFileSync('sh', ['-c', 'readelf -aW "$1" 2>&1 >/dev/null', 'sh', path], {
        encoding: 'utf8',
      });
      assert.equal(warn, '', `${l.name}: readelf warns: ${warn}`);
      if (l.sections !== false) {
        const secs = execFileSync('readelf', ['-SW', path], { encoding: 'utf8' });
        assert.match(secs, /\.go\.buildinfo\s+PROGBITS/, l.name);
      }
    }
    // objdump resolves virtual addresses through sections (ELF with a section table, PE):
    // follow the header's pointers with it alone and compare with what the reader decoded.
    if (l.sections !== false && l.format !== 'macho') {
      const p = b.ptrSize;
      const word = (buf: Buffer, o: number): bigint =>
        p === 8
          ? b.bigEndian
            ? buf.readBigUInt64BE(o)
            : buf.readBigUInt64LE(o)
          : BigInt(b.bigEndian ? buf.readUInt32BE(o) : buf.readUInt32LE(o));
      const header = objdumpBytes(path, b.dataVaddr, 32);
      assert.equal(header.subarray(0, 14).toString('latin1'), '\xff Go buildinf:', l.name);
      const strings: string[] = [];
      for (const slot of [0, 1]) {
        const sh = objdumpBytes(path, word(header, 16 + slot * p), 2 * p);
        assert.equal(sh.length, 2 * p, l.name);
        strings.push(objdumpBytes(path, word(sh, 0), Number(word(sh, p))).toString('utf8'));
      }
      assert.equal(strings[0], goVersion, l.name);
      const info = await readGoBuildInfo(b.bytes, path);
      assert.deepEqual(info, {
        goVersion: strings[0],
        modinfo: (strings[1] as string).slice(16, -16),
      });
    }
  }
});

test('the build info is looked for where Go looks: Mach-O __go_buildinfo, else __DATA; PE .data or the first writable data section', async () => {
  const opts = { goVersion: 'go1.16', modinfo: framed(MODINFO) };
  const read = async (name: string, bytes: Buffer) => {
    const r = await goBinaryReader.read(fileOf(name, bytes));
    checkResult(r);
    return anonymous(r);
  };
  for (const bits of [64, 32] as const) {
    const macho = syntheticGoBinary({ format: 'macho', bits, ...opts }).bytes;
    const want = await read('bin/app', macho);
    assert.equal((want as ReaderResult).components.length, 5);
    // No __go_buildinfo section: the __DATA segment, which starts with the header, is searched.
    const noSection = Buffer.from(macho);
    noSection.write('__no', noSection.indexOf('__go_buildinfo'), 'latin1');
    assert.deepEqual(await read('bin/app', noSection), want, `Mach-O ${bits}: __DATA`);
    // Nor a __DATA segment: nothing is guessed at.
    const neither = Buffer.from(noSection);
    for (let at = neither.indexOf('__DATA'); at >= 0; at = neither.indexOf('__DATA', at + 1)) {
      neither.write('__DAT0', at, 'latin1');
    }
    assert.equal(await readGoBuildInfo(neither, 'bin/app'), undefined, `Mach-O ${bits}`);

    const pe = syntheticGoBinary({ format: 'pe', bits, ...opts }).bytes;
    const peWant = await read('app.exe', pe);
    assert.deepEqual(peWant, want, `PE ${bits}`);
    const data = pe.indexOf('.data\0');
    // Another name, still initialised + readable + writable data (alignment bits aside).
    const byFlags = Buffer.from(pe);
    byFlags.write('.godat', data, 'latin1');
    byFlags.writeUInt32LE(0xc0300040, data + 36);
    assert.deepEqual(await read('app.exe', byFlags), want, `PE ${bits}: by characteristics`);
    // Named .data, read-only like .rdata before it: found by its name.
    const byName = Buffer.from(pe);
    byName.writeUInt32LE(0x40000040, data + 36);
    assert.deepEqual(await read('app.exe', byName), want, `PE ${bits}: by name`);
    // Neither: .rdata is not searched.
    const none = Buffer.from(byName);
    none.write('.godat', data, 'latin1');
    assert.equal(await readGoBuildInfo(none, 'app.exe'), undefined, `PE ${bits}`);
  }
});

test('pointer format: hostile pointers and lengths are LOCKFILE_MALFORMED at the right offset, with bounded reads', async () => {
  const MAX_STRING = 4 * 1024 * 1024;
  for (const l of LAYOUTS) {
    const fresh = (o: Partial<SyntheticOptions> = {}) =>
      syntheticGoBinary({ ...l, goVersion: 'go1.16', modinfo: framed(MODINFO), ...o });
    const b0 = fresh();
    const o = b0.offsets;
    const p = b0.ptrSize;
    const top = p === 8 ? 2n ** 64n - 1n : 2n ** 32n - 1n;
    const cases: Array<{
      what: string;
      patch: (b: typeof b0) => void;
      /** File length to cut the binary to. */
      cut?: number;
      re: RegExp;
      at: number;
    }> = [
      {
        what: 'version pointer outside every segment',
        patch: (b) => b.put(o.versionPtr, 0xdead0000n),
        re: /Go version string header address 0xdead0000 is outside every segment/,
        at: o.versionPtr,
      },
      {
        what: 'module info pointer at the top of the address space',
        patch: (b) => b.put(o.modinfoPtr, top),
        re: /module info string header address 0xf+ is outside every segment/,
        at: o.modinfoPtr,
      },
      {
        what: 'null version data pointer with a length',
        patch: (b) => b.put(o.versionHeader, 0n),
        re: /Go version address 0x0 is outside every segment/,
        at: o.versionHeader,
      },
      {
        what: 'huge module info length',
        patch: (b) => b.put(o.modinfoHeader + p, top),
        re: /module info is \d+ bytes, over the limit of 4194304/,
        at: o.modinfoHeader + p,
      },
      {
        what: 'length just under the limit, past its segment',
        patch: (b) => b.put(o.modinfoHeader + p, BigInt(MAX_STRING - 1)),
        re: /module info \(4194303 bytes at 0x[0-9a-f]+\) runs past the end of its segment/,
        at: o.modinfoHeader,
      },
      {
        what: 'string header straddling the end of the data segment',
        patch: (b) => b.put(o.versionPtr, b.dataVaddr + BigInt(o.dataEnd - o.data - p)),
        re: /Go version string header \(\d+ bytes at 0x[0-9a-f]+\) runs past the end of its segment/,
        at: o.versionPtr,
      },
      {
        what: 'version pointing at bytes that are not text (the header itself)',
        patch: (b) => {
          b.put(o.versionHeader, b.dataVaddr);
          b.put(o.versionHeader + p, 14n);
        },
        re: /Go version is not UTF-8 text/,
        at: o.data,
      },
    ];
    // Only where the data page is the end of the file can the file end inside it.
    if (l.format === 'elf' && l.sections === false) {
      cases.push({
        what: 'segment cut short by the end of the file',
        patch: (b) => {
          b.put(o.modinfoHeader, b.dataVaddr + 0x800n);
          b.put(o.modinfoHeader + p, 0x100n);
        },
        cut: o.data + 0x880,
        re: /module info at offset \d+ runs past the end of the file/,
        at: o.modinfoHeader,
      });
    }
    for (const c of cases) {
      const b = fresh();
      c.patch(b);
      const bytes = b.bytes.subarray(0, c.cut ?? b.bytes.length);
      const { file, largest } = ranged('srv/old', bytes);
      await rejectsWith(goBinaryReader.read(file), 'LOCKFILE_MALFORMED', 'srv/old', c.re).catch(
        (e: unknown) => {
          throw new Error(`${l.name}: ${c.what}: ${e}`);
        },
      );
      const err = await goBinaryReader.read(file).catch((e: unknown) => e);
      assert.ok(isVouchError(err));
      assert.equal(err.field, `offset ${c.at}`, `${l.name}: ${c.what}: ${err.message}`);
      assert.ok(largest() <= MAX_STRING, `${l.name}: ${c.what}: read ${largest()} at once`);
    }
    // Flag bits of no known format: unsupported, not guessed; a pointer size that is not 4 or 8.
    await rejectsWith(
      goBinaryReader.read(fileOf('srv/new', fresh({ flags: 0x04 }).bytes)),
      'LOCKFILE_UNSUPPORTED',
      'srv/new',
      new RegExp(`offset ${o.header + 15}: Go build info header flags 0x04 are of no format`),
    );
    const odd = fresh();
    odd.bytes[o.header + 14] = 5;
    await rejectsWith(
      goBinaryReader.read(fileOf('srv/odd', odd.bytes)),
      'LOCKFILE_MALFORMED',
      'srv/odd',
      /pointer size 5/,
    );
  }
});

test('pointer format: random corruption of header, pointers and string headers never crashes', async () => {
  // Deterministic xorshift: the same 600 variants every run.
  let s = 0x9e3779b9;
  const rnd = (n: number) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
  let failed = 0;
  let read = 0;
  for (let i = 0; i < 600; i++) {
    const l = LAYOUTS[i % LAYOUTS.length] as (typeof LAYOUTS)[number];
    const b = syntheticGoBinary({ ...l, goVersion: 'go1.15', modinfo: framed(MODINFO) });
    const o = b.offsets;
    const region = o.versionHeader + 4 * b.ptrSize - o.header;
    for (let k = 1 + rnd(3); k > 0; k--) {
      if (rnd(2) === 0) b.bytes[o.header + 14 + rnd(region - 14)] = rnd(256);
      else {
        // Anywhere, or near the data segment (so some land inside it), cut to pointer width.
        const v =
          rnd(2) === 0
            ? BigInt(rnd(2 ** 31)) * BigInt(1 + rnd(2 ** 20))
            : b.dataVaddr + BigInt(rnd(0x2000)) - 0x800n;
        b.put(o.header + 16 + b.ptrSize * rnd(6), BigInt.asUintN(8 * b.ptrSize, v));
      }
    }
    const { file, largest } = ranged('x', b.bytes);
    try {
      await goBinaryReader.read(file);
      read++;
    } catch (e) {
      assert.ok(isVouchError(e), `variant ${i}: ${e}`);
      assert.match(e.code, /^LOCKFILE_(MALFORMED|UNSUPPORTED)$/);
      assert.match(e.message, /^x: /);
      failed++;
    }
    assert.ok(largest() <= 4 * 1024 * 1024);
  }
  assert.equal(read + failed, 600);
  assert.ok(failed > 300, `${failed} of 600 corrupted variants rejected`);
});

// Real Go binaries on this machine (new format): their version and module info, moved
// into the pointer format, read back as the identical result. Counts against the raw
// bytes are checked in go-readers.test.ts.
const REAL = [
  '/usr/local/bin/terraform',
  '/usr/lib/google-cloud-sdk/bin/kubectl',
  '/usr/bin/skopeo',
  '/usr/bin/docker-registry',
].filter((p) => existsSync(p));

test('real new-format binaries and the same build info in the pointer format give identical results', {
  skip: REAL.length === 0 && 'no Go binary here',
}, async () => {
  for (const p of REAL) {
    const raw = readFileSync(p);
    const info = await readGoBuildInfo(raw, p);
    assert.ok(info, p);
    const s = raw.indexOf(START);
    assert.equal(info.modinfo, raw.toString('utf8', s + 16, raw.indexOf(END, s)), p);
    const real = await goBinaryReader.read({
      ...fileOf('usr/bin/x', raw),
      readAt: async (o, n) => raw.subarray(o, o + n),
    });
    for (const l of [LAYOUTS[0], LAYOUTS[2], LAYOUTS[6], LAYOUTS[8]]) {
      if (!l) continue;
      const old = syntheticGoBinary({
        ...l,
        goVersion: info.goVersion,
        modinfo: framed(info.modinfo),
      });
      const r = await goBinaryReader.read(fileOf('usr/bin/x', old.bytes));
      assert.deepEqual(r, real, `${p} as ${l.name}`);
    }
  }
});

/** An image: layer 0 has an old-format Go binary, layer 1 one whose build info no Go wrote. */
async function layoutWithFutureBinary(dir: string) {
  const old = syntheticGoBinary({
    format: 'elf',
    bits: 64,
    goVersion: 'go1.16.15',
    modinfo: framed(MODINFO),
  });
  const future = syntheticGoBinary({
    format: 'elf',
    bits: 64,
    goVersion: 'go1.16.15',
    modinfo: framed(MODINFO),
    flags: 0x84,
  });
  return writeLayout(join(dir, 'layout'), 'gofuture', [
    {
      compression: 'none',
      build: async (d) => {
        await mkdir(join(d, 'opt/old'), { recursive: true });
        await writeFile(join(d, 'opt/old/server'), old.bytes, { mode: 0o755 });
      },
    },
    {
      compression: 'gzip',
      build: async (d) => {
        await mkdir(join(d, 'usr/local/bin'), { recursive: true });
        await writeFile(join(d, 'usr/local/bin/future'), future.bytes, { mode: 0o755 });
      },
    },
  ]);
}

test('images: an unreadable Go binary fails the scan naming layer and path; --allow-partial counts it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-gobin-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const layout = await layoutWithFutureBinary(dir);
  const image = await openImage(layout.dir);
  const diffId = image.layers[1]?.diffId as string;
  assert.match(diffId, /^sha256:[0-9a-f]{64}$/);
  await rejectsWith(
    scanSources(image.files(), image.subject),
    'LOCKFILE_UNSUPPORTED',
    `usr/local/bin/future in layer 1 (${diffId})`,
    /header flags 0x84 are of no format this reader knows/,
  );
  const partial = await scanSources(image.files(), image.subject, { allowPartial: true });
  assert.deepEqual(
    partial.accounting.map((a) => [a.file, a.incomplete ?? false]),
    [
      ['opt/old/server', false],
      ['usr/local/bin/future', true],
    ],
  );
  const failed = partial.accounting[1];
  assert.match(
    failed?.incompleteReason ?? '',
    /^failed: LOCKFILE_UNSUPPORTED: usr\/local\/bin\/future in layer 1 \(sha256:/,
  );
  assert.equal(totalsOf(partial).failed, 1);
  assert.ok(partial.components.some((c) => c.purl === 'pkg:golang/golang.org/x/sys@v0.20.0'));

  // The CLI: exit 2 naming layer and path; with --allow-partial exit 0, counted and warned.
  const cwd = join(dir, 'cwd');
  await mkdir(cwd);
  const strict = await vouch(['sbom', layout.dir], { cwd });
  assert.equal(strict.code, 2, strict.stderr);
  assert.ok(strict.stderr.includes(`usr/local/bin/future in layer 1 (${diffId})`), strict.stderr);
  assert.equal(strict.stdout, '');
  const loose = await vouch(['sbom', layout.dir, '--allow-partial', '--json'], { cwd });
  assert.equal(loose.code, 0, loose.stderr);
  const summary = JSON.parse(loose.stdout);
  assert.equal(summary.totals.failed, 1);
  assert.equal(summary.complete, false);
  assert.match(
    loose.stderr,
    /warning: usr\/local\/bin\/future: go-binary: failed: LOCKFILE_UNSUPPORTED: .*layer 1/,
  );
  assert.match(loose.stderr, /warning: 1 file\(s\) could not be read \(--allow-partial\)/);
});
