/**
 * The segment and section tables of executables, walked once per format:
 * Mach-O segment load commands with their sections and the PE section table
 * serve both go-binary.ts, finding the section or segment that holds the
 * build info, and the virtual address → file offset maps here, for the
 * pre-1.18 Go build info format, whose header holds pointers (virtual
 * addresses) instead of the strings themselves. The maps are read through the
 * tables the loader uses: ELF PT_LOAD program headers, Mach-O segment load
 * commands, PE section headers (plus the image base). Every number in those tables is
 * hostile input: addresses are kept as bigint (64-bit values past 2^53 stay
 * exact), tables are read with a size bound, and a range that does not fit
 * is simply not resolved.
 */

/** Ranged reads over one file: fewer bytes than asked at its end. */
export type ReadAt = (offset: number, length: number) => Promise<Buffer>;

/** A run of file bytes the program sees at `vaddr` (file-backed part only). */
export interface Segment {
  vaddr: bigint;
  offset: bigint;
  /** Bytes present in the file (ELF p_filesz, Mach-O filesize, PE SizeOfRawData). */
  size: bigint;
  /** ELF only: p_flags (1 execute, 2 write, 4 read). */
  flags?: number;
}

/** Largest table read (program headers, load commands, section headers, section names). */
export const MAX_TABLE = 1024 * 1024;

/** A name in a fixed-width field at `at`: up to its first NUL (or the buffer's end). */
export function fixedName(b: Buffer, at: number, width: number): string {
  let end = at;
  while (end < at + width && b[end] !== 0) end++;
  return b.toString('latin1', at, end);
}

/**
 * The file-backed segments of an ELF file whose first 64 bytes are `h`, in
 * table order. Only PT_LOAD: those are the bytes mapped at those addresses.
 */
export async function elfSegments(h: Buffer, readAt: ReadAt): Promise<Segment[]> {
  const is64 = h[4] === 2;
  if ((h[4] !== 1 && !is64) || h.length < (is64 ? 64 : 52)) return [];
  const le = h[5] !== 2;
  const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const word = (b: Buffer, o: number): bigint =>
    is64 ? (le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o)) : BigInt(u32(b, o));
  const phoff = word(h, is64 ? 0x20 : 0x1c);
  const phentsize = u16(h, is64 ? 0x36 : 0x2a);
  const phnum = u16(h, is64 ? 0x38 : 0x2c);
  if (phoff === 0n || phoff > BigInt(Number.MAX_SAFE_INTEGER) || phentsize < (is64 ? 56 : 32)) {
    return [];
  }
  const t = await readAt(Number(phoff), Math.min(phnum * phentsize, MAX_TABLE));
  const out: Segment[] = [];
  for (let o = 0; o + phentsize <= t.length; o += phentsize) {
    if (u32(t, o) !== 1) continue; // PT_LOAD
    out.push(
      is64
        ? {
            offset: word(t, o + 8),
            vaddr: word(t, o + 16),
            size: word(t, o + 32),
            flags: u32(t, o + 4),
          }
        : {
            offset: word(t, o + 4),
            vaddr: word(t, o + 8),
            size: word(t, o + 16),
            flags: u32(t, o + 24),
          },
    );
  }
  return out;
}

/** A Mach-O section header: its name and the file bytes it spans. */
export interface MachoSection {
  name: string;
  offset: bigint;
  size: bigint;
}

/** A Mach-O segment load command: its name, its file-backed bytes and its sections. */
export interface MachoSegment extends Segment {
  name: string;
  /**
   * Its section headers (at most 256), read from the load commands on demand:
   * a hostile table can name a million of them, and a caller stops at the first it wants.
   */
  sections(): Generator<MachoSection>;
}

/**
 * The segment load commands (LC_SEGMENT_64 / LC_SEGMENT) of a little-endian
 * Mach-O file whose first bytes are `h`, in table order, __PAGEZERO included.
 * At most 4096 load commands in at most MAX_TABLE bytes are read.
 */
export async function machoLoadSegments(h: Buffer, readAt: ReadAt): Promise<MachoSegment[]> {
  if (h.length < 28) return [];
  const is64 = h.readUInt32LE(0) === 0xfeedfacf;
  const ncmds = h.readUInt32LE(16);
  const cmds = await readAt(is64 ? 32 : 28, Math.min(h.readUInt32LE(20), MAX_TABLE));
  const segSize = is64 ? 72 : 56;
  const sectSize = is64 ? 80 : 68;
  const out: MachoSegment[] = [];
  let o = 0;
  for (let c = 0; c < Math.min(ncmds, 4096) && o + 8 <= cmds.length; c++) {
    const cmd = cmds.readUInt32LE(o);
    const size = cmds.readUInt32LE(o + 4);
    if (size < 8) break;
    if (((is64 && cmd === 0x19) || (!is64 && cmd === 0x1)) && o + segSize <= cmds.length) {
      const first = o + segSize;
      const nsects = Math.min(cmds.readUInt32LE(o + (is64 ? 64 : 48)), 256);
      out.push({
        name: fixedName(cmds, o + 8, 16),
        ...(is64
          ? {
              vaddr: cmds.readBigUInt64LE(o + 24),
              offset: cmds.readBigUInt64LE(o + 40),
              size: cmds.readBigUInt64LE(o + 48),
            }
          : {
              vaddr: BigInt(cmds.readUInt32LE(o + 24)),
              offset: BigInt(cmds.readUInt32LE(o + 32)),
              size: BigInt(cmds.readUInt32LE(o + 36)),
            }),
        // Section headers follow their segment command; read while the table holds them.
        *sections() {
          for (
            let s = 0, so = first;
            s < nsects && so + sectSize <= cmds.length;
            s++, so += sectSize
          ) {
            yield {
              name: fixedName(cmds, so, 16),
              offset: BigInt(cmds.readUInt32LE(so + (is64 ? 48 : 40))),
              size: is64 ? cmds.readBigUInt64LE(so + 40) : BigInt(cmds.readUInt32LE(so + 36)),
            };
          }
        },
      });
    }
    o += size;
  }
  return out;
}

/** The segments of a little-endian Mach-O file (LC_SEGMENT_64 / LC_SEGMENT), __PAGEZERO left out. */
export async function machoSegments(h: Buffer, readAt: ReadAt): Promise<Segment[]> {
  return (await machoLoadSegments(h, readAt))
    .filter((s) => s.name !== '__PAGEZERO')
    .map(({ vaddr, offset, size }) => ({ vaddr, offset, size }));
}

/** A PE section header: its name, characteristics, address relative to the image base and file bytes. */
export interface PeSection {
  name: string;
  characteristics: number;
  rva: number;
  /** PointerToRawData. */
  offset: bigint;
  /** SizeOfRawData. */
  size: bigint;
}

/** A PE file's section table, and the image base when its optional header has a known magic. */
export interface PeSections {
  imageBase: bigint | undefined;
  sections: PeSection[];
}

/**
 * The section table of a PE file whose first bytes are `h` (at most 96
 * sections), or undefined when there is no `PE\0\0` header. The image base
 * is the optional header's ImageBase: 32-bit in PE32, 64-bit in PE32+.
 */
export async function peSections(h: Buffer, readAt: ReadAt): Promise<PeSections | undefined> {
  if (h.length < 0x40) return undefined;
  const pe = h.readUInt32LE(0x3c);
  const hdr = await readAt(pe, 24 + 32);
  if (hdr.length < 24 || hdr.readUInt32BE(0) !== 0x50450000) return undefined;
  const magic = hdr.length < 24 + 32 ? undefined : hdr.readUInt16LE(24);
  const imageBase =
    magic === 0x10b
      ? BigInt(hdr.readUInt32LE(24 + 28))
      : magic === 0x20b
        ? hdr.readBigUInt64LE(24 + 24)
        : undefined;
  const nsec = Math.min(hdr.readUInt16LE(6), 96);
  const secs = await readAt(pe + 24 + hdr.readUInt16LE(20), nsec * 40);
  const sections: PeSection[] = [];
  for (let o = 0; o + 40 <= secs.length; o += 40) {
    sections.push({
      name: fixedName(secs, o, 8),
      rva: secs.readUInt32LE(o + 12),
      size: BigInt(secs.readUInt32LE(o + 16)),
      offset: BigInt(secs.readUInt32LE(o + 20)),
      characteristics: secs.readUInt32LE(o + 36),
    });
  }
  return { imageBase, sections };
}

/**
 * The sections of a PE file at their run-time addresses: the image base plus
 * each section's VirtualAddress; SizeOfRawData bytes from PointerToRawData in
 * the file. None without a known optional header magic (no image base).
 */
export async function peSegments(h: Buffer, readAt: ReadAt): Promise<Segment[]> {
  const t = await peSections(h, readAt);
  const base = t?.imageBase;
  if (t === undefined || base === undefined) return [];
  return t.sections.map((s) => ({ vaddr: base + BigInt(s.rva), size: s.size, offset: s.offset }));
}

/** Where a virtual address is in the file. */
export type Resolved =
  /** `room`: file-backed bytes of its segment from there on. */
  { kind: 'mapped'; offset: number; room: bigint } | { kind: 'unmapped' };

/**
 * The file offset of virtual address `addr`: the first segment holding it
 * (as Go's debug/buildinfo picks). An address whose file offset would not be
 * a safe integer is unmapped: no real file is that large.
 */
export function resolveAddress(segments: readonly Segment[], addr: bigint): Resolved {
  for (const s of segments) {
    if (s.size > 0n && s.vaddr <= addr && addr < s.vaddr + s.size) {
      const offset = s.offset + (addr - s.vaddr);
      if (offset > BigInt(Number.MAX_SAFE_INTEGER)) return { kind: 'unmapped' };
      return { kind: 'mapped', offset: Number(offset), room: s.vaddr + s.size - addr };
    }
  }
  return { kind: 'unmapped' };
}
