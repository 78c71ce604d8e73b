/**
 * SYNTHETIC executables for the Go build info tests (not a test file itself).
 *
 * No Go toolchain older than 1.18 is on this machine, so binaries carrying the
 * Go 1.13–1.17 pointer-format build info are written here from the published
 * layouts (ELF, PE/COFF, Mach-O), not taken from a Go build: a build info
 * header in the writable data segment whose two pointers lead to Go string
 * headers `{data, len}`, whose data pointers lead to the version and module
 * info strings in a read-only segment. Segments sit at virtual addresses that
 * differ from their file offsets (by a different amount per segment), so a
 * reader that confuses the two fails. The tests check the ELF ones with
 * `readelf` and `file(1)` and the PE ones with `objdump`, so they are
 * well-formed executables, not just what the reader under test accepts.
 */

export type SyntheticFormat = 'elf' | 'pe' | 'macho';

export interface SyntheticOptions {
  format: SyntheticFormat;
  bits: 32 | 64;
  /** ELF only (PE and Mach-O as written here are little-endian). */
  bigEndian?: boolean;
  /** ELF: write a section table (.rodata, .go.buildinfo, .data, .shstrtab). Default true. */
  sections?: boolean;
  goVersion: string;
  /** runtime.modinfo as the linker stores it (sentinels included when built in module mode). */
  modinfo: string | Buffer;
  /** Header flags byte (default: 1 for big-endian, 0 for little: the pointer format). */
  flags?: number;
}

export interface SyntheticBinary {
  bytes: Buffer;
  ptrSize: 4 | 8;
  bigEndian: boolean;
  /** File offsets of the parts a hostile test patches. */
  offsets: {
    header: number;
    /** The header's pointer to the version's string header, and to the module info's. */
    versionPtr: number;
    modinfoPtr: number;
    /** The string headers `{data, len}`. */
    versionHeader: number;
    modinfoHeader: number;
    /** Start and end (exclusive) of the data segment in the file. */
    data: number;
    dataEnd: number;
  };
  /** Virtual address of the data segment's first byte. */
  dataVaddr: bigint;
  /** Writes a pointer-sized value at a file offset, in the binary's byte order. */
  put(offset: number, value: bigint): void;
}

const PAGE = 0x1000;
const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const align = (n: number, a: number) => Math.ceil(n / a) * a;

/** Writes fixed-width little- or big-endian integers into a buffer. */
function writer(b: Buffer, bigEndian: boolean) {
  return {
    u8: (o: number, v: number) => b.writeUInt8(v, o),
    u16: (o: number, v: number) => (bigEndian ? b.writeUInt16BE(v, o) : b.writeUInt16LE(v, o)),
    u32: (o: number, v: number) => (bigEndian ? b.writeUInt32BE(v, o) : b.writeUInt32LE(v, o)),
    u64: (o: number, v: bigint | number) =>
      bigEndian ? b.writeBigUInt64BE(BigInt(v), o) : b.writeBigUInt64LE(BigInt(v), o),
  };
}

/** The parts every format shares: strings (read-only) and the data holding the header. */
function contents(o: SyntheticOptions, ptrSize: 4 | 8) {
  const version = Buffer.from(o.goVersion);
  const modinfo = Buffer.from(o.modinfo);
  const rodata = Buffer.concat([version, modinfo]);
  // Header (32), then the two string headers, as .go.buildinfo then .data.
  const dataLen = 32 + 4 * ptrSize;
  return { version, modinfo, rodata, dataLen };
}

/** A synthetic pointer-format Go binary (see the file comment). */
export function syntheticGoBinary(o: SyntheticOptions): SyntheticBinary {
  const ptrSize: 4 | 8 = o.bits === 64 ? 8 : 4;
  const bigEndian = o.format === 'elf' && o.bigEndian === true;
  const { version, modinfo, rodata, dataLen } = contents(o, ptrSize);
  // File: page 0 headers, then the read-only strings, then the data page(s).
  const roOff = PAGE;
  const dataOff = roOff + align(Math.max(rodata.length, 1), PAGE);
  const dataEnd = dataOff + PAGE;
  let roVaddr: bigint;
  let dataVaddr: bigint;
  let bytes: Buffer;
  switch (o.format) {
    case 'elf': {
      const base = o.bits === 64 ? 0x400000n : 0x10000n;
      roVaddr = base + BigInt(roOff);
      dataVaddr = base + 0x10000n + BigInt(dataOff);
      bytes = elf(o, bigEndian, { roOff, rodata, dataOff, dataLen, roVaddr, dataVaddr, base });
      break;
    }
    case 'pe': {
      const base = o.bits === 64 ? 0x140000000n : 0x400000n;
      const roRva = PAGE;
      const dataRva = roRva + align(Math.max(rodata.length, 1), PAGE) + 2 * PAGE;
      roVaddr = base + BigInt(roRva);
      dataVaddr = base + BigInt(dataRva);
      bytes = pe(o, { roOff, rodata, dataOff, roRva, dataRva, base });
      break;
    }
    case 'macho': {
      const base = o.bits === 64 ? 0x100000000n : 0x1000n;
      roVaddr = base + BigInt(roOff);
      dataVaddr = base + 0x100000n + BigInt(dataOff);
      bytes = macho({ roOff, rodata, dataOff, dataLen, dataVaddr, base, is64: o.bits === 64 });
      break;
    }
  }
  const w = writer(bytes, bigEndian);
  const put = (offset: number, value: bigint) =>
    ptrSize === 8 ? w.u64(offset, value) : w.u32(offset, Number(value));
  const header = dataOff;
  MAGIC.copy(bytes, header);
  bytes[header + 14] = ptrSize;
  bytes[header + 15] = o.flags ?? (bigEndian ? 1 : 0);
  const versionHeader = header + 32;
  const modinfoHeader = versionHeader + 2 * ptrSize;
  const vaddrOf = (fileOffset: number) => dataVaddr + BigInt(fileOffset - dataOff);
  put(header + 16, vaddrOf(versionHeader));
  put(header + 16 + ptrSize, vaddrOf(modinfoHeader));
  put(versionHeader, roVaddr);
  put(versionHeader + ptrSize, BigInt(version.length));
  // An empty runtime.modinfo has a nil data pointer, as the Go linker leaves it.
  put(modinfoHeader, modinfo.length > 0 ? roVaddr + BigInt(version.length) : 0n);
  put(modinfoHeader + ptrSize, BigInt(modinfo.length));
  return {
    bytes,
    ptrSize,
    bigEndian,
    offsets: {
      header,
      versionPtr: header + 16,
      modinfoPtr: header + 16 + ptrSize,
      versionHeader,
      modinfoHeader,
      data: dataOff,
      dataEnd,
    },
    dataVaddr,
    put,
  };
}

interface ElfLayout {
  roOff: number;
  rodata: Buffer;
  dataOff: number;
  dataLen: number;
  roVaddr: bigint;
  dataVaddr: bigint;
  base: bigint;
}

function elf(o: SyntheticOptions, bigEndian: boolean, l: ElfLayout): Buffer {
  const is64 = o.bits === 64;
  const ehsize = is64 ? 64 : 52;
  const phentsize = is64 ? 56 : 32;
  const shentsize = is64 ? 64 : 40;
  const phnum = 3;
  const withSections = o.sections !== false;
  const shstr = Buffer.from('\0.rodata\0.go.buildinfo\0.data\0.shstrtab\0');
  const names = { rodata: 1, buildinfo: 9, data: 23, shstrtab: 29 };
  const shstrOff = l.dataOff + PAGE;
  const shoff = align(shstrOff + shstr.length, 8);
  const shnum = 5;
  const size = withSections ? shoff + shnum * shentsize : l.dataOff + PAGE;
  const b = Buffer.alloc(size);
  const w = writer(b, bigEndian);
  b.write('\x7fELF', 0, 'latin1');
  b[4] = is64 ? 2 : 1; // EI_CLASS
  b[5] = bigEndian ? 2 : 1; // EI_DATA
  b[6] = 1; // EI_VERSION
  w.u16(16, 2); // ET_EXEC
  // x86-64 and i386 (little-endian), s390x and MIPS (big-endian): all GOARCHes.
  w.u16(18, is64 ? (bigEndian ? 22 : 62) : bigEndian ? 8 : 3);
  w.u32(20, 1); // e_version
  const entry = l.base + 0x100n;
  if (is64) {
    w.u64(24, entry);
    w.u64(32, ehsize); // e_phoff
    w.u64(40, withSections ? shoff : 0);
    w.u32(48, 0); // e_flags
    w.u16(52, ehsize);
    w.u16(54, phentsize);
    w.u16(56, phnum);
    w.u16(58, shentsize);
    w.u16(60, withSections ? shnum : 0);
    w.u16(62, withSections ? 4 : 0);
  } else {
    w.u32(24, Number(entry));
    w.u32(28, ehsize);
    w.u32(32, withSections ? shoff : 0);
    w.u32(36, bigEndian ? 0x1000 : 0); // MIPS: EF_MIPS_ABI_O32
    w.u16(40, ehsize);
    w.u16(42, phentsize);
    w.u16(44, phnum);
    w.u16(46, shentsize);
    w.u16(48, withSections ? shnum : 0);
    w.u16(50, withSections ? 4 : 0);
  }
  // Program headers: text (the headers page, R+X), rodata (R), data (R+W).
  const ph = (i: number, flags: number, off: number, vaddr: bigint, filesz: number) => {
    const p = ehsize + i * phentsize;
    w.u32(p, 1); // PT_LOAD
    if (is64) {
      w.u32(p + 4, flags);
      w.u64(p + 8, off);
      w.u64(p + 16, vaddr);
      w.u64(p + 24, vaddr);
      w.u64(p + 32, filesz);
      w.u64(p + 40, filesz);
      w.u64(p + 48, PAGE);
    } else {
      w.u32(p + 4, off);
      w.u32(p + 8, Number(vaddr));
      w.u32(p + 12, Number(vaddr));
      w.u32(p + 16, filesz);
      w.u32(p + 20, filesz);
      w.u32(p + 24, flags);
      w.u32(p + 28, PAGE);
    }
  };
  ph(0, 5, 0, l.base, PAGE);
  ph(1, 4, l.roOff, l.roVaddr, l.rodata.length);
  ph(2, 6, l.dataOff, l.dataVaddr, PAGE);
  l.rodata.copy(b, l.roOff);
  if (withSections) {
    shstr.copy(b, shstrOff);
    const sh = (
      i: number,
      name: number,
      type: number,
      flags: number,
      addr: bigint,
      off: number,
      sz: number,
      al: number,
    ) => {
      const s = shoff + i * shentsize;
      w.u32(s, name);
      w.u32(s + 4, type);
      if (is64) {
        w.u64(s + 8, flags);
        w.u64(s + 16, addr);
        w.u64(s + 24, off);
        w.u64(s + 32, sz);
        w.u64(s + 48, al);
      } else {
        w.u32(s + 8, flags);
        w.u32(s + 12, Number(addr));
        w.u32(s + 16, off);
        w.u32(s + 20, sz);
        w.u32(s + 32, al);
      }
    };
    // SHT_PROGBITS 1, SHT_STRTAB 3; SHF_WRITE 1, SHF_ALLOC 2.
    sh(1, names.rodata, 1, 2, l.roVaddr, l.roOff, l.rodata.length, 1);
    sh(2, names.buildinfo, 1, 3, l.dataVaddr, l.dataOff, 32, 16);
    sh(3, names.data, 1, 3, l.dataVaddr + 32n, l.dataOff + 32, l.dataLen - 32, 8);
    sh(4, names.shstrtab, 3, 0, 0n, shstrOff, shstr.length, 1);
  }
  return b;
}

interface PeLayout {
  roOff: number;
  rodata: Buffer;
  dataOff: number;
  roRva: number;
  dataRva: number;
  base: bigint;
}

function pe(o: SyntheticOptions, l: PeLayout): Buffer {
  const is64 = o.bits === 64;
  const size = l.dataOff + PAGE;
  const b = Buffer.alloc(size);
  const w = writer(b, false);
  b.write('MZ', 0, 'latin1');
  const peAt = 0x80;
  w.u32(0x3c, peAt);
  b.write('PE\0\0', peAt, 'latin1');
  const coff = peAt + 4;
  const optSize = is64 ? 240 : 224;
  w.u16(coff, is64 ? 0x8664 : 0x14c); // Machine
  w.u16(coff + 2, 2); // NumberOfSections
  w.u16(coff + 16, optSize);
  w.u16(coff + 18, is64 ? 0x22 : 0x102); // EXECUTABLE_IMAGE | LARGE_ADDRESS_AWARE / 32BIT_MACHINE
  const opt = coff + 20;
  const roSize = align(l.rodata.length, PAGE);
  w.u16(opt, is64 ? 0x20b : 0x10b);
  w.u32(opt + 8, PAGE * 2); // SizeOfInitializedData
  w.u32(opt + 16, l.roRva); // AddressOfEntryPoint (no code: points into .rdata)
  w.u32(opt + 20, l.roRva); // BaseOfCode
  if (is64) w.u64(opt + 24, l.base);
  else {
    w.u32(opt + 24, l.dataRva); // BaseOfData
    w.u32(opt + 28, Number(l.base));
  }
  w.u32(opt + 32, PAGE); // SectionAlignment
  w.u32(opt + 36, 0x200); // FileAlignment
  w.u16(opt + 40, 6); // OS version 6.1
  w.u16(opt + 42, 1);
  w.u16(opt + 48, 6); // subsystem version 6.1
  w.u16(opt + 50, 1);
  w.u32(opt + 56, l.dataRva + PAGE); // SizeOfImage
  w.u32(opt + 60, 0x200); // SizeOfHeaders
  w.u16(opt + 68, 3); // IMAGE_SUBSYSTEM_WINDOWS_CUI
  if (is64) {
    w.u64(opt + 72, 0x100000); // stack reserve, commit, heap reserve, commit
    w.u64(opt + 80, 0x1000);
    w.u64(opt + 88, 0x100000);
    w.u64(opt + 96, 0x1000);
    w.u32(opt + 108, 16); // NumberOfRvaAndSizes
  } else {
    w.u32(opt + 72, 0x100000);
    w.u32(opt + 76, 0x1000);
    w.u32(opt + 80, 0x100000);
    w.u32(opt + 84, 0x1000);
    w.u32(opt + 92, 16);
  }
  const sec = (i: number, name: string, rva: number, vsize: number, off: number, chars: number) => {
    const s = opt + optSize + i * 40;
    b.write(name, s, 'latin1');
    w.u32(s + 8, vsize); // VirtualSize
    w.u32(s + 12, rva);
    w.u32(s + 16, vsize); // SizeOfRawData (a multiple of FileAlignment)
    w.u32(s + 20, off); // PointerToRawData
    w.u32(s + 36, chars);
  };
  sec(0, '.rdata', l.roRva, roSize, l.roOff, 0x40000040); // INITIALIZED_DATA | READ
  sec(1, '.data', l.dataRva, PAGE, l.dataOff, 0xc0000040); // … | WRITE
  l.rodata.copy(b, l.roOff);
  return b;
}

interface MachoLayout {
  roOff: number;
  rodata: Buffer;
  dataOff: number;
  dataLen: number;
  dataVaddr: bigint;
  base: bigint;
  /** LC_SEGMENT_64 (x86-64) or LC_SEGMENT (i386, 32-bit fields). */
  is64: boolean;
}

function macho(l: MachoLayout): Buffer {
  const size = l.dataOff + PAGE;
  const b = Buffer.alloc(size);
  const w = writer(b, false);
  const is64 = l.is64;
  const seg = is64 ? 72 : 56;
  const sect = is64 ? 80 : 68;
  const word = (o: number, v: bigint | number) => (is64 ? w.u64(o, v) : w.u32(o, Number(v)));
  const cmds: Array<{
    name: string;
    vmaddr: bigint;
    vmsize: bigint;
    off: number;
    filesz: number;
    prot: number;
    sects: Array<{ name: string; addr: bigint; size: number; off: number; align: number }>;
  }> = [
    { name: '__PAGEZERO', vmaddr: 0n, vmsize: l.base, off: 0, filesz: 0, prot: 0, sects: [] },
    {
      name: '__TEXT',
      vmaddr: l.base,
      vmsize: BigInt(l.dataOff),
      off: 0,
      filesz: l.dataOff,
      prot: 5,
      sects: [
        {
          name: '__rodata',
          addr: l.base + BigInt(l.roOff),
          size: l.rodata.length,
          off: l.roOff,
          align: 0,
        },
      ],
    },
    {
      name: '__DATA',
      vmaddr: l.dataVaddr,
      vmsize: BigInt(PAGE),
      off: l.dataOff,
      filesz: PAGE,
      prot: 3,
      sects: [
        { name: '__go_buildinfo', addr: l.dataVaddr, size: 32, off: l.dataOff, align: 4 },
        {
          name: '__data',
          addr: l.dataVaddr + 32n,
          size: l.dataLen - 32,
          off: l.dataOff + 32,
          align: 3,
        },
      ],
    },
  ];
  const sizeofcmds = cmds.reduce((n, c) => n + seg + c.sects.length * sect, 0);
  w.u32(0, is64 ? 0xfeedfacf : 0xfeedface);
  w.u32(4, is64 ? 0x01000007 : 7); // CPU_TYPE_X86_64 / CPU_TYPE_I386
  w.u32(8, 3); // CPU_SUBTYPE_X86_64_ALL / CPU_SUBTYPE_I386_ALL
  w.u32(12, 2); // MH_EXECUTE
  w.u32(16, cmds.length);
  w.u32(20, sizeofcmds);
  // Segment and section fields past the names: 64-bit words, or 32-bit ones 4 bytes apart.
  const n = is64 ? 8 : 4;
  let p = is64 ? 32 : 28;
  for (const c of cmds) {
    w.u32(p, is64 ? 0x19 : 0x1); // LC_SEGMENT_64 / LC_SEGMENT
    w.u32(p + 4, seg + c.sects.length * sect);
    b.write(c.name, p + 8, 'latin1');
    word(p + 24, c.vmaddr);
    word(p + 24 + n, c.vmsize);
    word(p + 24 + 2 * n, c.off);
    word(p + 24 + 3 * n, c.filesz);
    w.u32(p + 24 + 4 * n, c.prot); // maxprot
    w.u32(p + 28 + 4 * n, c.prot); // initprot
    w.u32(p + 32 + 4 * n, c.sects.length);
    let s = p + seg;
    for (const x of c.sects) {
      b.write(x.name, s, 'latin1');
      b.write(c.name, s + 16, 'latin1');
      word(s + 32, x.addr);
      word(s + 32 + n, x.size);
      w.u32(s + 32 + 2 * n, x.off);
      w.u32(s + 36 + 2 * n, x.align);
      s += sect;
    }
    p = s;
  }
  l.rodata.copy(b, l.roOff);
  return b;
}

// Go 1.18+ inline format fixtures (synthetic too), shared by the reader tests.

/** cmd/go's module info sentinels (runtime.modinfo starts and ends with them). */
export const START = Buffer.from('3077af0c9274080241e1c107e6d618e6', 'hex');
export const END = Buffer.from('f932433186182072008242104116d8f2', 'hex');

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
export function buildInfoBlob(goVersion: string, modinfo: string, flags = 2): Buffer {
  const header = Buffer.alloc(32);
  Buffer.from('\xff Go buildinf:', 'latin1').copy(header);
  header[14] = 8;
  header[15] = flags;
  const mi = Buffer.concat([START, Buffer.from(modinfo), END]);
  const v = Buffer.from(goVersion);
  return Buffer.concat([header, varint(v.length), v, varint(mi.length), mi]);
}

/** A minimal ELF64 with a .shstrtab and a .go.buildinfo section (no program headers). */
export function elfWith(blob: Buffer): Buffer {
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

export const MODINFO = [
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

/** runtime.modinfo as stored: the module info between its sentinels. */
export function framed(modinfo: string | Buffer): Buffer {
  return Buffer.concat([START, Buffer.from(modinfo), END]);
}
