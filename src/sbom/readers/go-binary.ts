import { VouchError } from '../../core/errors.ts';
import { ResultBuilder } from '../builder.ts';
import type { ReaderResult } from '../model.ts';
import type { ContentMatch, Reader, SourceFile } from '../reader.ts';
import {
  elfSegments,
  fixedName,
  MAX_TABLE,
  machoLoadSegments,
  machoSegments,
  peSections,
  peSegments,
  type ReadAt,
  resolveAddress,
  type Segment,
} from './go-binary-segments.ts';
import { checkGoModule, goPurlParts, isLocalPath } from './go-mod.ts';
import { stdlibVersion } from './go-stdlib.ts';

/**
 * Build information the Go linker embeds in every module-mode binary
 * (`go version -m`): the `.go.buildinfo` section of ELF, `__go_buildinfo` of
 * Mach-O, the start of the writable data in PE. Both formats are read: the
 * Go 1.18+ inline one (flag bit 2: varint-prefixed strings after the header)
 * and the Go 1.13–1.17 pointer one (two virtual addresses of Go string
 * headers, resolved to file offsets through the program's segments, see
 * go-binary-segments.ts). A header with flag bits no Go release has used is
 * reported as unsupported rather than guessed at.
 *
 * A binary's name and place say nothing about its language, so files are
 * recognised by content (Reader.content), wherever they are: an executable
 * magic number (ELF, Mach-O, PE) in the first bytes, then the build info
 * header found the way Go's debug/buildinfo finds it — through the section
 * or segment tables, searching only the data section or segment —
 * so a large file is never read whole. Executables without Go build info
 * are not offered to `read` at all.
 */
export const goBinaryReader: Reader = {
  name: 'go-binary',
  matches: () => false,
  read,
  content: {
    headBytes: 64,
    head: (bytes) => executableFormat(bytes) !== undefined,
    matches: async (file) => (await locate(ranged(file.readAt.bind(file)))) !== undefined,
  } satisfies ContentMatch,
};

export type { ReadAt } from './go-binary-segments.ts';

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const HEADER_SIZE = 32;
const ALIGN = 16;
/** The data section or segment is searched in chunks of this size (a multiple of ALIGN)… */
const SEARCH_CHUNK = 64 * 1024;
/** …up to this far: with an external (cgo) linker the header sits after `.data`, not at the start. */
const MAX_SEARCH = 32 * 1024 * 1024;
/** Max modinfo size we accept (real ones are a few KB to ~100 KB). */
const MAX_STRING = 4 * 1024 * 1024;

export interface GoBuildInfo {
  goVersion: string;
  /** Raw modinfo text (`path`, `mod`, `dep`, `=>`, `build` lines), sentinels removed. */
  modinfo: string;
}

export type ExecutableFormat = 'elf' | 'macho' | 'pe';

/** The executable format named by a file's first bytes (Java's 0xcafebabe is not taken for fat Mach-O). */
export function executableFormat(head: Buffer): ExecutableFormat | undefined {
  if (head.length >= 4 && head.readUInt32BE(0) === 0x7f454c46) return 'elf';
  if (head.length >= 4 && [0xfeedfacf, 0xfeedface].includes(head.readUInt32LE(0))) return 'macho';
  if (head.length >= 2 && head[0] === 0x4d && head[1] === 0x5a) return 'pe';
  return undefined;
}

/** A ReadAt that never asks for an impossible range (hostile tables hold any number). */
function ranged(readAt: ReadAt): ReadAt {
  return (offset, length) =>
    Number.isSafeInteger(offset) && offset >= 0 && Number.isSafeInteger(length) && length > 0
      ? readAt(offset, length)
      : Promise.resolve(Buffer.alloc(0));
}

function bufferReadAt(d: Buffer): ReadAt {
  return async (offset, length) => d.subarray(offset, offset + length);
}

/** Where the data holding the build info header starts, and how long it is. */
type Range = [start: number, size: number];

async function elfRange(h: Buffer, readAt: ReadAt): Promise<Range | undefined> {
  const is64 = h[4] === 2;
  if ((h[4] !== 1 && !is64) || h.length < (is64 ? 64 : 52)) return undefined;
  const le = h[5] !== 2;
  const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const u64 = (b: Buffer, o: number) => Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
  const word = (b: Buffer, o: number) => (is64 ? u64(b, o) : u32(b, o));

  const shoff = word(h, is64 ? 0x28 : 0x20);
  const shentsize = u16(h, is64 ? 0x3a : 0x2e);
  const shnum = u16(h, is64 ? 0x3c : 0x30);
  const shstrndx = u16(h, is64 ? 0x3e : 0x32);
  const shmin = is64 ? 64 : 40;
  if (shoff > 0 && shnum > 0 && shentsize >= shmin && shstrndx < shnum) {
    const table = await readAt(shoff, Math.min(shnum * shentsize, MAX_TABLE));
    const sec = (i: number) => {
      const o = i * shentsize;
      if (o + shmin > table.length) return undefined;
      return is64
        ? {
            name: u32(table, o),
            type: u32(table, o + 4),
            offset: u64(table, o + 24),
            size: u64(table, o + 32),
          }
        : {
            name: u32(table, o),
            type: u32(table, o + 4),
            offset: u32(table, o + 16),
            size: u32(table, o + 20),
          };
    };
    const strtab = sec(shstrndx);
    if (strtab) {
      const names = await readAt(strtab.offset, Math.min(strtab.size, MAX_TABLE));
      for (let i = 0; i < shnum; i++) {
        const s = sec(i);
        if (!s) break;
        // SHT_NOBITS (8) has no bytes in the file.
        if (s.type !== 8 && fixedName(names, s.name, 256) === '.go.buildinfo')
          return [s.offset, s.size];
      }
    }
  }
  // No section table, or no .go.buildinfo in it: the first writable, non-executable PT_LOAD.
  const data = (await elfSegments(h, readAt)).find((seg) => ((seg.flags ?? 0) & 3) === 2);
  return data ? [Number(data.offset), Number(data.size)] : undefined;
}

/** The first __go_buildinfo section, else the first __DATA segment. */
async function machoRange(h: Buffer, readAt: ReadAt): Promise<Range | undefined> {
  let data: Range | undefined;
  for (const seg of await machoLoadSegments(h, readAt)) {
    for (const s of seg.sections()) {
      if (s.name === '__go_buildinfo') return [Number(s.offset), Number(s.size)];
    }
    if (!data && seg.name === '__DATA') data = [Number(seg.offset), Number(seg.size)];
  }
  return data;
}

/** The first initialised, readable, writable data section (alignment bits aside), as Go does. */
async function peRange(h: Buffer, readAt: ReadAt): Promise<Range | undefined> {
  const data = (await peSections(h, readAt))?.sections.find(
    (s) => s.name === '.data' || (s.characteristics & ~0x00f00000) >>> 0 === 0xc0000040,
  );
  return data ? [Number(data.offset), Number(data.size)] : undefined;
}

/** Where the build info header is, in a file of which format (with its first bytes). */
interface Located {
  at: number;
  format: ExecutableFormat;
  head: Buffer;
}

/**
 * The file offset of the build info header, or undefined when the file is
 * not an executable with one. Reads the first bytes, the format's tables and
 * at most MAX_SEARCH bytes of data, in chunks.
 */
async function locate(readAt: ReadAt): Promise<Located | undefined> {
  const h = await readAt(0, 64);
  const format = executableFormat(h);
  let range: Range | undefined;
  try {
    switch (format) {
      case 'elf':
        range = await elfRange(h, readAt);
        break;
      case 'macho':
        range = await machoRange(h, readAt);
        break;
      case 'pe':
        range = await peRange(h, readAt);
        break;
      default:
        return undefined;
    }
  } catch (e) {
    // Tables pointing past what they span: not an executable we can find build info in.
    if (e instanceof RangeError) return undefined;
    throw e;
  }
  if (!range) return undefined;
  const [start, size] = range;
  // Searched in aligned chunks, as debug/buildinfo does: the header is
  // 16-byte aligned in the file, so an aligned chunk never splits it.
  const end = start + Math.min(size, MAX_SEARCH);
  for (let pos = start - (start % ALIGN); pos < end; pos += SEARCH_CHUNK) {
    const chunk = await readAt(pos, Math.min(SEARCH_CHUNK, end - pos));
    for (let i = chunk.indexOf(MAGIC); i >= 0; i = chunk.indexOf(MAGIC, i + 1)) {
      if (i % ALIGN === 0 && pos + i >= start) return { at: pos + i, format, head: h };
    }
    if (chunk.length < SEARCH_CHUNK) break;
  }
  return undefined;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Finds and decodes the build info of an executable (ELF, Mach-O, PE), with
 * bounded ranged reads. Undefined when the file has none (not an
 * executable, not Go).
 *
 * @throws VouchError LOCKFILE_UNSUPPORTED (header flags of no known format) | LOCKFILE_MALFORMED
 *   (strings cut short, too long, not UTF-8; pointers outside every segment)
 */
export async function readGoBuildInfo(
  data: Buffer | ReadAt,
  file: string,
): Promise<GoBuildInfo | undefined> {
  const readAt = ranged(typeof data === 'function' ? data : bufferReadAt(data));
  const found = await locate(readAt);
  if (found === undefined) return undefined;
  const { at } = found;
  const bad: Bad = (message, offset) => {
    throw new VouchError('LOCKFILE_MALFORMED', message, { file, field: `offset ${offset}` });
  };
  const header = await readAt(at, HEADER_SIZE);
  if (header.length < HEADER_SIZE) bad('Go build info header is cut short (truncated file?)', at);
  const ptrSize = header[14] as number;
  const flags = header[15] as number;
  if ((flags & ~(FLAG_BIG_ENDIAN | FLAG_INLINE)) !== 0) {
    // Fail closed: a layout no Go release has written is not guessed at.
    throw new VouchError(
      'LOCKFILE_UNSUPPORTED',
      `Go build info header flags 0x${flags.toString(16).padStart(2, '0')} are of no format this reader knows (a newer Go release?)`,
      { file, field: `offset ${at + 15}` },
    );
  }
  if (ptrSize !== 4 && ptrSize !== 8) bad(`Go build info header has pointer size ${ptrSize}`, at);
  const strings =
    (flags & FLAG_INLINE) !== 0
      ? await inlineStrings(readAt, at, bad, file)
      : await pointerStrings(readAt, found, header, (flags & FLAG_BIG_ENDIAN) !== 0, bad);
  const text = (bytes: Buffer, what: string, offset: number): string => {
    try {
      return UTF8.decode(bytes);
    } catch {
      return bad(`Go build info ${what} is not UTF-8 text`, offset);
    }
  };
  const [version, mod] = strings;
  const goVersion = text(version.bytes, 'Go version', version.at);
  if (!/^[\x20-\x7e]{1,256}$/.test(goVersion) || !goVersion.includes('go')) {
    bad(`Go build info has no Go version (${JSON.stringify(goVersion.slice(0, 40))})`, version.at);
  }
  const raw = mod.bytes;
  // Binary sentinels, 16 bytes each side, the closing one preceded by a
  // newline; without them there is no module info (as debug/buildinfo).
  const modinfo =
    raw.length >= 33 && raw[raw.length - 17] === 0x0a
      ? text(raw.subarray(16, -16), 'module info', mod.at)
      : '';
  return { goVersion, modinfo };
}

/** Header flag bits: byte order of the pointer format, and the 1.18+ inline format. */
const FLAG_BIG_ENDIAN = 1;
const FLAG_INLINE = 2;

type Bad = (message: string, offset: number) => never;

/** A string of the build info: its bytes and the file offset it was read from (for errors). */
interface FoundString {
  bytes: Buffer;
  at: number;
}

/** Go 1.18+: the version and module info, varint-length-prefixed, right after the header. */
async function inlineStrings(
  readAt: ReadAt,
  at: number,
  bad: Bad,
  file: string,
): Promise<[FoundString, FoundString]> {
  let q = at + HEADER_SIZE;
  const str = async (what: string): Promise<FoundString> => {
    const [len, n] = uvarint(await readAt(q, 10), q, file);
    q += n;
    if (len > MAX_STRING)
      bad(`Go build info ${what} is ${len} bytes, over the limit of ${MAX_STRING}`, q);
    const bytes = await readAt(q, len);
    if (bytes.length < len) bad(`Go build info ${what} runs past the end of the file`, q);
    const found = { bytes, at: q };
    q += len;
    return found;
  };
  const version = await str('Go version');
  return [version, await str('module info')];
}

/**
 * Go 1.13–1.17: after the 16-byte magic, flags and pointer size, two
 * pointers (`ptrSize` bytes each, in the binary's byte order) to the Go
 * string headers `{data *byte; len int}` of runtime.buildVersion and
 * runtime.modinfo. Each address goes through the segment map: the pointer
 * to a header, then the header's data pointer. Anything that does not land
 * inside a file-backed segment, or would run past its segment or the end of
 * the file, or is over MAX_STRING, is malformed — read no further.
 */
async function pointerStrings(
  readAt: ReadAt,
  found: Located,
  header: Buffer,
  bigEndian: boolean,
  bad: Bad,
): Promise<[FoundString, FoundString]> {
  const { at, format, head } = found;
  const ptrSize = header[14] === 4 ? 4 : 8;
  let segments: Segment[];
  try {
    segments =
      format === 'elf'
        ? await elfSegments(head, readAt)
        : format === 'macho'
          ? await machoSegments(head, readAt)
          : await peSegments(head, readAt);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    segments = [];
  }
  const ptr = (b: Buffer, o: number): bigint =>
    ptrSize === 8
      ? bigEndian
        ? b.readBigUInt64BE(o)
        : b.readBigUInt64LE(o)
      : BigInt(bigEndian ? b.readUInt32BE(o) : b.readUInt32LE(o));
  const hex = (n: bigint) => `0x${n.toString(16)}`;
  /** `len` bytes at virtual address `addr`; `from`: the file offset of the pointer that named it. */
  const bytesAt = async (what: string, addr: bigint, len: bigint, from: number) => {
    const r = resolveAddress(segments, addr);
    if (r.kind === 'unmapped') {
      return bad(`Go build info ${what} address ${hex(addr)} is outside every segment`, from);
    }
    if (len > r.room) {
      return bad(
        `Go build info ${what} (${len} bytes at ${hex(addr)}) runs past the end of its segment`,
        from,
      );
    }
    const n = Number(len);
    const bytes = await readAt(r.offset, n);
    if (bytes.length < n) {
      bad(`Go build info ${what} at offset ${r.offset} runs past the end of the file`, from);
    }
    return { bytes, at: r.offset };
  };
  const str = async (what: string, slot: number): Promise<FoundString> => {
    const slotAt = 16 + slot * ptrSize;
    const sh = await bytesAt(
      `${what} string header`,
      ptr(header, slotAt),
      BigInt(2 * ptrSize),
      at + slotAt,
    );
    const len = ptr(sh.bytes, ptrSize);
    if (len > BigInt(MAX_STRING)) {
      bad(
        `Go build info ${what} is ${len} bytes, over the limit of ${MAX_STRING}`,
        sh.at + ptrSize,
      );
    }
    // An empty string (runtime.modinfo outside module mode) may have a nil data pointer.
    if (len === 0n) return { bytes: Buffer.alloc(0), at: sh.at };
    return bytesAt(what, ptr(sh.bytes, 0), len, sh.at);
  };
  const version = await str('Go version', 0);
  return [version, await str('module info', 1)];
}

function uvarint(d: Buffer, at: number, file: string): [number, number] {
  let x = 0;
  let shift = 0;
  for (let i = 0; i < 5; i++) {
    const c = d[i];
    if (c === undefined) break;
    x += (c & 0x7f) * 2 ** shift;
    if (c < 0x80) return [x, i + 1];
    shift += 7;
  }
  throw new VouchError('LOCKFILE_MALFORMED', 'bad or cut-short varint in Go build info', {
    file,
    field: `offset ${at}`,
  });
}

async function read(file: SourceFile): Promise<ReaderResult> {
  // Errors name the path only: inside an image the scanner adds the layer (scan.ts withOrigin).
  const info = await readGoBuildInfo(
    file.readAt ? file.readAt.bind(file) : await file.bytes(),
    file.path,
  );
  if (!info)
    return new ResultBuilder(file.path, 'go-binary', 'not a Go binary (no build info)').build();
  const b = new ResultBuilder(file.path, 'go-binary', `Go build info (${info.goVersion})`);
  const stdlib = addStdlib(b, info.goVersion);
  let main: string | undefined;
  // `=>` lines replace the module on the line before them.
  const lines = info.modinfo.split('\n').filter((l) => l !== '');
  if (!lines.some((l) => l.startsWith('mod\t'))) {
    // Built with modules off (GOPATH mode, as Debian's dh-golang does): the
    // binary is Go, but no module or version of what is compiled in is
    // recorded. Counted and skipped, so the SBOM says what it cannot list;
    // the standard library, whose version the toolchain gives, is listed.
    const path = lines.find((l) => l.startsWith('path\t'))?.slice(5);
    b.declare();
    b.skip(
      path ? `path ${path}` : file.path,
      'Go binary built without module information (GOPATH mode): no module versions recorded',
    );
    return b.build();
  }
  for (let i = 0; i < lines.length; i++) {
    const f = (lines[i] as string).split('\t');
    const kind = f[0];
    if (kind === 'path' || kind === 'build') continue;
    if (kind !== 'mod' && kind !== 'dep') {
      if (kind === '=>') continue;
      throw new VouchError('LOCKFILE_UNSUPPORTED', `unknown build info line ${kind}`, {
        file: file.path,
        field: `modinfo line ${i + 1}`,
      });
    }
    b.declare();
    const [, path, version = '', sum] = f;
    if (!path) {
      throw new VouchError('LOCKFILE_MALFORMED', `${kind} line without a module path`, {
        file: file.path,
        field: `modinfo line ${i + 1}`,
      });
    }
    const next = lines[i + 1]?.split('\t');
    const rep = next?.[0] === '=>' ? next : undefined;
    const properties: Record<string, string> = {};
    let ref: string;
    const clean = (v: string) => (v === '(devel)' ? '' : v);
    const fail = (msg: string): never => {
      throw new VouchError('LOCKFILE_MALFORMED', msg, {
        file: file.path,
        field: `modinfo line ${i + 1}`,
      });
    };
    checkGoModule(path, clean(version), fail);
    if (rep && !isLocalPath(rep[1] ?? '')) checkGoModule(rep[1] ?? '', clean(rep[2] ?? ''), fail);
    if (version === '(devel)') properties['go:version'] = '(devel)';
    if (rep && isLocalPath(rep[1] ?? '')) {
      properties['go:replacedBy'] = rep[1] as string;
      ref = b.add({
        ecosystem: 'golang',
        ...goPurlParts(path),
        version: '',
        source: { kind: 'file', url: rep[1] as string },
        properties,
      });
    } else if (rep) {
      properties['go:replaces'] = `${path}@${version}`;
      if (rep[3]) properties['go:h1'] = rep[3];
      ref = b.add({
        ecosystem: 'golang',
        ...goPurlParts(rep[1] as string),
        version: clean(rep[2] ?? ''),
        properties,
      });
    } else {
      if (sum) properties['go:h1'] = sum;
      ref = b.add({
        ecosystem: 'golang',
        ...goPurlParts(path),
        version: clean(version),
        properties,
      });
    }
    if (kind === 'mod') {
      main = ref;
      b.root(ref);
      b.depend(ref, stdlib);
    } else if (main) b.depend(main, ref);
  }
  return b.build();
}

/**
 * The standard library every Go binary links, as Syft and Trivy list it:
 * `pkg:golang/stdlib@1.22.8`, the version in the SemVer form OSV's Go data
 * uses (go-stdlib.ts), the toolchain string as `go:toolchain`. One entry of
 * the source like any module (declared, then added). A toolchain of no
 * release form gives the component without a version and
 * `go:stdlibVersionUnknown` saying why.
 */
function addStdlib(b: ResultBuilder, toolchain: string): string {
  b.declare();
  const v = stdlibVersion(toolchain);
  const properties: Record<string, string> = { 'go:toolchain': toolchain };
  if (!v.ok) properties['go:stdlibVersionUnknown'] = v.reason;
  return b.add({ ecosystem: 'golang', name: 'stdlib', version: v.ok ? v.version : '', properties });
}
