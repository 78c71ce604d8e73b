import { VouchError } from '../core/errors.ts';

/**
 * A small streaming tar reader: ustar, pax extended headers (`x`; `g` is
 * read and ignored) and GNU long names (`L`, `K`), base-256 sizes, and
 * sparse members (`tar -S`: old GNU type `S`, pax formats 0.0, 0.1 and 1.0),
 * whose body is their logical content — zeros in the holes. It never
 * writes anything anywhere; paths are normalised and any entry that would
 * land outside the archive's root (`..` components, absolute paths, NUL
 * bytes) is refused with ARCHIVE_UNSAFE. Memory stays bounded: only headers
 * (capped) are buffered, file bodies stream unless the caller reads them.
 */

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

export interface TarEntry {
  /** Normalised `/`-separated path inside the archive, no leading `./` or trailing `/`; '' is the root. */
  path: string;
  type: TarEntryType;
  /**
   * Bytes of the body (0 for anything but files). For a sparse member, its
   * logical size, holes included — what `read` and `body` give.
   */
  size: number;
  /** Symlink target as written (resolved later, against the image root); hardlink target normalised like `path`. */
  linkname: string;
  mode: number;
  /** 0-based ordinal of this entry in the archive (metadata entries not counted). */
  index: number;
  /** Offset of the entry's data in the (uncompressed) archive stream. */
  dataOffset: number;
  /** Modification time, seconds since the epoch (pax `mtime` wins, fractions kept). */
  mtime?: number;
  uid?: number;
  gid?: number;
  /** Owner and group names (ustar `uname`/`gname`, pax overrides), '' when absent. */
  uname?: string;
  gname?: string;
  /**
   * Set for a sparse member: the archive stores only the runs of `map`, back
   * to back from `dataOffset` (`storedSize` bytes); the rest of the body is
   * zeros. Readers that seek to `dataOffset` themselves must expand it.
   */
  sparse?: TarSparse;
}

export interface TarSparse {
  format: 'gnu' | 'pax-0.0' | 'pax-0.1' | 'pax-1.0';
  /** Data runs, sorted, not overlapping, inside `size`. */
  map: readonly { offset: number; length: number }[];
  /** Bytes of data stored in the archive (the sum of the run lengths). */
  storedSize: number;
}

export interface TarItem {
  entry: TarEntry;
  /**
   * The entry's whole body. Throws ARCHIVE_TOO_LARGE when it is larger than
   * `maxBytes`. Call at most once, before asking for the next entry; a body
   * not read is skipped.
   */
  read(maxBytes: number): Promise<Buffer>;
  /** The body as a stream of chunks (same rules as `read`). */
  body(): AsyncIterable<Buffer>;
}

export interface TarLimits {
  /** Most entries accepted in one archive. */
  maxEntries: number;
  /** Longest path (bytes) accepted. */
  maxPathLength: number;
  /** Largest pax / GNU long-name header, or sparse map, accepted, in bytes. */
  maxHeaderBytes: number;
  /**
   * Most bytes that sparse members may expand to (holes included), summed
   * over the sparse bodies read or streamed from one archive. Listing a
   * sparse member, or skipping its body, costs nothing.
   */
  maxSparseBytes: number;
}

export const DEFAULT_TAR_LIMITS: TarLimits = {
  maxEntries: 1_000_000,
  maxPathLength: 4096,
  maxHeaderBytes: 1024 * 1024,
  maxSparseBytes: 4 * 1024 ** 3,
};

const BLOCK = 512;

/**
 * Reads a tar stream entry by entry. After the end-of-archive marker, the
 * rest of `source` is drained (so a caller hashing the stream sees all of
 * it). A stream that ends cleanly at a header boundary without the marker is
 * accepted; one that ends inside a header or a body is ARCHIVE_MALFORMED.
 * Errors name the member (in `field`) once its name is known. A sparse
 * member's map is checked before the entry is yielded; its body is expanded
 * only when read, within `maxSparseBytes`.
 *
 * @param name what the archive is called in error messages
 * @throws VouchError ARCHIVE_MALFORMED | ARCHIVE_UNSAFE | ARCHIVE_TOO_LARGE
 */
export async function* readTar(
  source: AsyncIterable<Uint8Array>,
  options: { name: string; limits?: Partial<TarLimits> },
): AsyncGenerator<TarItem, void, undefined> {
  const limits = { ...DEFAULT_TAR_LIMITS, ...options.limits };
  const name = options.name;
  const input = new ByteQueue(source[Symbol.asyncIterator](), name);
  let index = 0;
  let pax: Pax | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  let sparseLeft = limits.maxSparseBytes;
  try {
    for (;;) {
      input.member = undefined;
      const headerAt = input.position;
      const block = await input.take(BLOCK, true);
      if (block === undefined) return; // clean end of stream at a header boundary
      if (isZero(block)) {
        await input.drain();
        return;
      }
      // The member's name from a preceding pax or GNU long-name header, if any.
      const pending = pax?.values.get('GNU.sparse.name') ?? pax?.values.get('path') ?? longName;
      const h = parseHeader(block, name, headerAt, pending);
      const padded = Math.ceil(h.size / BLOCK) * BLOCK;
      switch (h.typeflag) {
        case 'x':
        case 'g':
        case 'L':
        case 'K': {
          const where = {
            file: name,
            field: `${headerKind(h.typeflag, h.name)} at offset ${headerAt}`,
          };
          if (h.size > limits.maxHeaderBytes) {
            throw new VouchError(
              'ARCHIVE_TOO_LARGE',
              `extended header of ${h.size} bytes exceeds ${limits.maxHeaderBytes}`,
              where,
            );
          }
          input.member = where.field;
          const data = (await input.take(padded)).subarray(0, h.size);
          if (h.typeflag === 'x') pax = parsePax(data, where);
          else if (h.typeflag === 'L') longName = cString(data);
          else if (h.typeflag === 'K') longLink = cString(data);
          continue;
        }
        default:
          break;
      }
      const paxMeta = pax;
      const rawPath = pending ?? h.name;
      const rawLink = paxMeta?.values.get('linkpath') ?? longLink ?? h.linkname;
      pax = undefined;
      longName = undefined;
      longLink = undefined;
      const where = { file: name, field: memberField(rawPath, headerAt) };
      input.member = where.field;
      if (h.typeflag === 'M') {
        throw new VouchError('ARCHIVE_MALFORMED', 'multi-volume entries are not supported', where);
      }
      const paxSize = paxMeta?.values.get('size');
      let size = h.size;
      if (paxSize !== undefined) {
        if (!/^\d{1,16}$/.test(paxSize) || !Number.isSafeInteger(Number(paxSize))) {
          throw new VouchError(
            'ARCHIVE_MALFORMED',
            `pax size ${JSON.stringify(paxSize)} is not a number`,
            where,
          );
        }
        size = Number(paxSize);
      }

      if (rawPath.length > limits.maxPathLength || rawLink.length > limits.maxPathLength) {
        throw new VouchError('ARCHIVE_UNSAFE', `path longer than ${limits.maxPathLength} bytes`, {
          file: name,
          field: memberField(`${rawPath.slice(0, 100)}…`, headerAt),
        });
      }
      if (index >= limits.maxEntries) {
        throw new VouchError('ARCHIVE_TOO_LARGE', `more than ${limits.maxEntries} entries`, where);
      }
      const type = entryType(h.typeflag);
      const path = normaliseTarPath(rawPath, name);
      const linkname = type === 'hardlink' ? normaliseTarPath(rawLink, name) : rawLink;
      // The map comes first (old GNU extension blocks, pax 1.0 map blocks): `size` is then what is left.
      const sparse = await readSparse(h, block, paxMeta, size, input, where, limits.maxHeaderBytes);
      if (sparse && type !== 'file') {
        throw new VouchError(
          'ARCHIVE_MALFORMED',
          'sparse map on a member that is not a regular file',
          where,
        );
      }
      const stored = sparse ? sparse.sparse.storedSize : size;
      const logical = sparse ? sparse.size : size;
      // Only regular files carry data in a layer; anything else with a size is skipped over.
      const bodySize = type === 'file' ? logical : 0;
      const skipSize = Math.ceil(stored / BLOCK) * BLOCK;
      const entry: TarEntry = {
        path,
        type,
        size: bodySize,
        linkname,
        mode: h.mode,
        index: index++,
        dataOffset: input.position,
        mtime: paxNumber(paxMeta?.values.get('mtime')) ?? h.mtime,
        uid: paxNumber(paxMeta?.values.get('uid')) ?? h.uid,
        gid: paxNumber(paxMeta?.values.get('gid')) ?? h.gid,
        uname: paxMeta?.values.get('uname') ?? h.uname,
        gname: paxMeta?.values.get('gname') ?? h.gname,
      };
      if (sparse) entry.sparse = sparse.sparse;
      let consumed = false;
      const start = (): void => {
        if (consumed) throw new Error('tar entry body already read');
        consumed = true;
        if (!sparse) return;
        if (logical > sparseLeft) {
          throw new VouchError(
            'ARCHIVE_TOO_LARGE',
            `sparse member ${path} expands to ${logical} bytes (${stored} stored), over the limit of ${limits.maxSparseBytes} expanded bytes per archive${sparseLeft < limits.maxSparseBytes ? ` (${sparseLeft} left)` : ''}`,
            where,
          );
        }
        sparseLeft -= logical;
      };
      const item: TarItem = {
        entry,
        read: async (maxBytes) => {
          if (!consumed && bodySize > maxBytes) {
            consumed = true;
            throw new VouchError(
              'ARCHIVE_TOO_LARGE',
              `${path} is ${bodySize} bytes${sparse ? ` (sparse, ${stored} stored)` : ''}, over the limit of ${maxBytes}`,
              where,
            );
          }
          start();
          if (!sparse) {
            const data = await input.take(skipSize);
            return data.subarray(0, size);
          }
          const out = Buffer.alloc(logical);
          for (const run of sparse.sparse.map) {
            let at = run.offset;
            for await (const c of input.stream(run.length, 0)) {
              c.copy(out, at);
              at += c.length;
            }
          }
          await input.skip(skipSize - stored);
          return out;
        },
        body: () => {
          start();
          if (!sparse) return input.stream(size, skipSize - size);
          return expand(input, sparse.sparse.map, logical, skipSize - stored);
        },
      };
      yield item;
      // Whatever of the body the caller did not read (all, or the rest of a stream) is skipped.
      const next = entry.dataOffset + skipSize;
      if (input.position < next) await input.skip(next - input.position);
    }
  } finally {
    await input.close();
  }
}

function memberField(rawPath: string, at: number): string {
  return `member ${JSON.stringify(rawPath)} at offset ${at}`;
}

function headerKind(flag: string, headerName: string): string {
  const kind =
    flag === 'x' ? 'pax header' : flag === 'g' ? 'pax global header' : 'GNU long-name header';
  return `${kind} ${JSON.stringify(headerName)}`;
}

const ZERO_CHUNK = 1 << 20;

/** A sparse body: the stored runs at their offsets, holes streamed as fresh zero chunks. */
async function* expand(
  input: ByteQueue,
  map: TarSparse['map'],
  size: number,
  pad: number,
): AsyncGenerator<Buffer> {
  let pos = 0;
  for (const run of map) {
    yield* zeros(run.offset - pos);
    yield* input.stream(run.length, 0);
    pos = run.offset + run.length;
  }
  yield* zeros(size - pos);
  await input.skip(pad);
}

function* zeros(n: number): Generator<Buffer> {
  for (let left = n; left > 0; left -= ZERO_CHUNK) yield Buffer.alloc(Math.min(left, ZERO_CHUNK));
}

/**
 * The sparse map of a member, if it has one, checked against its sizes.
 * Consumes the map's blocks (old GNU extension headers, the pax 1.0 map at
 * the head of the data), so that the stream is then at the stored runs.
 */
async function readSparse(
  h: RawHeader,
  block: Buffer,
  pax: Pax | undefined,
  size: number,
  input: ByteQueue,
  where: { file: string; field: string },
  maxMapBytes: number,
): Promise<{ sparse: TarSparse; size: number } | undefined> {
  const bad = (why: string) => new VouchError('ARCHIVE_MALFORMED', `sparse map: ${why}`, where);
  if (h.typeflag === 'S') {
    // oldgnu_header: 4 entries of offset[12] numbytes[12] at 386, isextended at 482, realsize at 483.
    const nums: number[] = [];
    const entries = (b: Buffer, at: number, count: number) => {
      for (let i = 0; i < count; i++) {
        const e = at + i * 24;
        if (b[e + 12] === 0) break; // an unused slot: GNU tar tests numbytes[0]
        nums.push(sparseNumber(b, e, where), sparseNumber(b, e + 12, where));
      }
    };
    entries(block, 386, 4);
    const real = sparseNumber(block, 483, where);
    let more = block[482] !== 0;
    let mapBytes = 0;
    while (more) {
      mapBytes += BLOCK;
      if (mapBytes > maxMapBytes) throw bad(`extension headers pass ${maxMapBytes} bytes`);
      const ext = await input.take(BLOCK);
      entries(ext, 0, 21);
      more = ext[504] !== 0;
    }
    return { sparse: checkMap('gnu', nums, real, size, bad), size: real };
  }
  if (!pax) return undefined;
  const v = pax.values;
  if (![...v.keys()].some((k) => k.startsWith('GNU.sparse.'))) return undefined;
  const realText = v.get('GNU.sparse.realsize') ?? v.get('GNU.sparse.size');
  if (realText === undefined)
    throw bad('GNU.sparse.* without GNU.sparse.realsize or GNU.sparse.size');
  const real = decimal(realText, 'the real size', bad);
  const major = v.get('GNU.sparse.major');
  const minor = v.get('GNU.sparse.minor');
  if (major !== undefined || minor !== undefined) {
    if (major !== '1' || minor !== '0') {
      throw bad(
        `sparse format ${major ?? '?'}.${minor ?? '?'} is not supported (0.0, 0.1 and 1.0 are)`,
      );
    }
    // 1.0: decimal numbers, each ended by a newline — the count, then offset/size pairs — padded to a block.
    const nums: number[] = [];
    let want = -1;
    let text = '';
    let mapBytes = 0;
    while (want < 0 || nums.length < want) {
      if (mapBytes + BLOCK > size)
        throw bad(`the map runs past the member's ${size} bytes of data`);
      if (mapBytes + BLOCK > maxMapBytes) throw bad(`the map passes ${maxMapBytes} bytes`);
      text += (await input.take(BLOCK)).toString('latin1');
      mapBytes += BLOCK;
      let nl = text.indexOf('\n');
      while (nl >= 0 && (want < 0 || nums.length < want)) {
        const n = decimal(text.slice(0, nl), 'a map number', bad);
        text = text.slice(nl + 1);
        if (want < 0) want = 2 * n;
        else nums.push(n);
        nl = text.indexOf('\n');
      }
      const done = want >= 0 && nums.length >= want;
      if (!done && text.length > 20) throw bad('a map number is longer than 20 characters');
    }
    return { sparse: checkMap('pax-1.0', nums, real, size - mapBytes, bad), size: real };
  }
  let format: TarSparse['format'];
  let nums: number[];
  const mapText = v.get('GNU.sparse.map');
  if (mapText !== undefined) {
    format = 'pax-0.1';
    nums = mapText === '' ? [] : mapText.split(',').map((n) => decimal(n, 'a map number', bad));
    if (nums.length % 2) throw bad('GNU.sparse.map has an odd count of numbers');
  } else {
    format = 'pax-0.0';
    nums = [];
    for (const [k, val] of pax.sparsePairs) {
      const wantKey = nums.length % 2 ? 'GNU.sparse.numbytes' : 'GNU.sparse.offset';
      if (k !== wantKey) throw bad(`${k} where ${wantKey} was expected`);
      nums.push(decimal(val, k, bad));
    }
    if (nums.length % 2) throw bad('GNU.sparse.offset without its GNU.sparse.numbytes');
  }
  const blocks = v.get('GNU.sparse.numblocks');
  if (blocks !== undefined && decimal(blocks, 'GNU.sparse.numblocks', bad) !== nums.length / 2) {
    throw bad(`GNU.sparse.numblocks is ${blocks} but the map has ${nums.length / 2} entries`);
  }
  return { sparse: checkMap(format, nums, real, size, bad), size: real };
}

/** Runs from offset/length pairs: sorted, not overlapping, inside `real`, and exactly `stored` bytes. */
function checkMap(
  format: TarSparse['format'],
  nums: number[],
  real: number,
  stored: number,
  bad: (why: string) => VouchError,
): TarSparse {
  const map: { offset: number; length: number }[] = [];
  let end = 0;
  let total = 0;
  for (let i = 0; i + 1 < nums.length; i += 2) {
    const offset = nums[i] as number;
    const length = nums[i + 1] as number;
    const n = i / 2;
    if (offset < end) {
      throw bad(
        `entry ${n} (offset ${offset}) overlaps or precedes the entry before it (ending at ${end})`,
      );
    }
    if (offset + length > real) {
      throw bad(`entry ${n} (offset ${offset}, ${length} bytes) ends past the real size ${real}`);
    }
    end = offset + length;
    total += length;
    if (length > 0) map.push({ offset, length });
  }
  if (total !== stored) {
    throw bad(`the map's entries hold ${total} bytes but the member stores ${stored}`);
  }
  return { format, map, storedSize: stored };
}

function sparseNumber(b: Buffer, at: number, where: { file: string; field: string }): number {
  return parseNumber(b.subarray(at, at + 12), where);
}

function decimal(text: string, what: string, bad: (why: string) => VouchError): number {
  const t = text.trim();
  if (!/^\d{1,16}$/.test(t) || !Number.isSafeInteger(Number(t))) {
    throw bad(`${what} ${JSON.stringify(text.slice(0, 40))} is not a number`);
  }
  return Number(t);
}

/**
 * Normalises an archive member path: drops `.` components, empty components
 * and a leading `./`. Refuses absolute paths and any `..` component — a
 * member that names a parent directory has no business in an image layer.
 *
 * @throws VouchError ARCHIVE_UNSAFE
 */
export function normaliseTarPath(raw: string, archive: string): string {
  if (raw.includes('\0')) {
    throw new VouchError(
      'ARCHIVE_UNSAFE',
      `member path contains a NUL byte: ${JSON.stringify(raw)}`,
      {
        file: archive,
      },
    );
  }
  if (raw.startsWith('/')) {
    throw new VouchError('ARCHIVE_UNSAFE', `absolute member path ${JSON.stringify(raw)}`, {
      file: archive,
    });
  }
  const parts: string[] = [];
  for (const p of raw.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      throw new VouchError(
        'ARCHIVE_UNSAFE',
        `member path escapes the archive root: ${JSON.stringify(raw)}`,
        {
          file: archive,
        },
      );
    }
    parts.push(p);
  }
  return parts.join('/');
}

interface RawHeader {
  name: string;
  linkname: string;
  typeflag: string;
  size: number;
  mode: number;
  mtime: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
}

/** A pax numeric record (`mtime` may carry a fraction); undefined when absent or not a number. */
function paxNumber(v: string | undefined): number | undefined {
  if (v === undefined || !/^-?\d{1,16}(\.\d{1,9})?$/.test(v)) return undefined;
  return Number(v);
}

type Where = { file: string; field: string };

/**
 * @param pending the member's name from a preceding pax or GNU long-name
 *   header, for error messages (the header's own name is used otherwise)
 */
function parseHeader(
  b: Buffer,
  archive: string,
  at: number,
  pending: string | undefined,
): RawHeader {
  const stored = parseNumber(b.subarray(148, 156), { file: archive, field: `offset ${at}` });
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const v = i >= 148 && i < 156 ? 0x20 : (b[i] as number);
    unsigned += v;
    signed += v > 127 ? v - 256 : v;
  }
  if (stored !== unsigned && stored !== signed) {
    throw new VouchError(
      'ARCHIVE_MALFORMED',
      'tar header checksum mismatch (not a tar archive, or corrupt)',
      { file: archive, field: `offset ${at}` },
    );
  }
  const magic = b.toString('latin1', 257, 263);
  const ustar = magic === 'ustar\0';
  let name = cString(b.subarray(0, 100));
  if (ustar) {
    const prefix = cString(b.subarray(345, 500));
    if (prefix) name = `${prefix}/${name}`;
  }
  // The checksum holds: the block is a header, and its name (or the pending one) says whose.
  const where = { file: archive, field: memberField(pending ?? name, at) };
  const size = parseNumber(b.subarray(124, 136), where);
  const mode = parseNumber(b.subarray(100, 108), where);
  const flag = b[156] === 0 ? '0' : String.fromCharCode(b[156] as number);
  return {
    name,
    linkname: cString(b.subarray(157, 257)),
    typeflag: flag,
    size,
    mode,
    mtime: lenientNumber(b.subarray(136, 148), where),
    uid: lenientNumber(b.subarray(108, 116), where),
    gid: lenientNumber(b.subarray(116, 124), where),
    uname: ustar || magic === 'ustar ' ? cString(b.subarray(265, 297)) : '',
    gname: ustar || magic === 'ustar ' ? cString(b.subarray(297, 329)) : '',
  };
}

/** Metadata numbers never made an archive unreadable before they were read: a bad one is 0. */
function lenientNumber(field: Buffer, where: Where): number {
  try {
    return parseNumber(field, where);
  } catch {
    return 0;
  }
}

function parseNumber(field: Buffer, where: Where): number {
  const first = field[0] as number;
  if (first & 0x80) {
    // GNU base-256: big-endian two's complement; negative values are refused.
    if (first === 0xff) {
      throw new VouchError('ARCHIVE_MALFORMED', 'negative number in tar header', where);
    }
    let v = first & 0x7f;
    for (let i = 1; i < field.length; i++) {
      v = v * 256 + (field[i] as number);
      if (v > Number.MAX_SAFE_INTEGER) {
        throw new VouchError('ARCHIVE_MALFORMED', 'number in tar header too large', where);
      }
    }
    return v;
  }
  const text = field
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .replace(/^ +/, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) {
    throw new VouchError(
      'ARCHIVE_MALFORMED',
      `bad octal number ${JSON.stringify(text)} in tar header`,
      where,
    );
  }
  return Number.parseInt(text, 8);
}

/** A pax header: the last value of each keyword, and the 0.0 sparse map's records in order. */
interface Pax {
  values: Map<string, string>;
  sparsePairs: [string, string][];
}

function parsePax(data: Buffer, where: Where): Pax {
  const out: Pax = { values: new Map(), sparsePairs: [] };
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) break;
    const space = data.indexOf(0x20, pos);
    const len = space > pos ? Number(data.toString('latin1', pos, space)) : Number.NaN;
    if (!Number.isInteger(len) || len <= space - pos || pos + len > data.length) {
      throw new VouchError('ARCHIVE_MALFORMED', 'malformed pax extended header record', where);
    }
    const record = data.toString('utf8', space + 1, pos + len - 1);
    const eq = record.indexOf('=');
    if (eq > 0) {
      const key = record.slice(0, eq);
      const value = record.slice(eq + 1);
      out.values.set(key, value);
      // Sparse format 0.0 repeats these two keywords, one pair per run.
      if (key === 'GNU.sparse.offset' || key === 'GNU.sparse.numbytes') {
        out.sparsePairs.push([key, value]);
      }
    }
    pos += len;
  }
  return out;
}

function entryType(flag: string): TarEntryType {
  switch (flag) {
    case '0':
    case '7':
    case 'S': // old GNU sparse
      return 'file';
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '5':
      return 'directory';
    default:
      return 'other';
  }
}

function cString(b: Buffer): string {
  const end = b.indexOf(0);
  return b.toString('utf8', 0, end < 0 ? b.length : end);
}

function isZero(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** A pull-based byte queue over an async iterator of chunks. */
class ByteQueue {
  readonly #it: AsyncIterator<Uint8Array>;
  readonly #name: string;
  #chunks: Buffer[] = [];
  #have = 0;
  #done = false;
  position = 0;
  /** Whose bytes are being read, for truncation errors (`field`). */
  member: string | undefined;

  constructor(it: AsyncIterator<Uint8Array>, name: string) {
    this.#it = it;
    this.#name = name;
  }

  async #pull(): Promise<boolean> {
    if (this.#done) return false;
    const r = await this.#it.next();
    if (r.done) {
      this.#done = true;
      return false;
    }
    const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    if (b.length > 0) {
      this.#chunks.push(b);
      this.#have += b.length;
    }
    return true;
  }

  /** Exactly `n` bytes; undefined when `eofOk` and the stream ended before any of them. */
  async take(n: number, eofOk: true): Promise<Buffer | undefined>;
  async take(n: number): Promise<Buffer>;
  async take(n: number, eofOk = false): Promise<Buffer | undefined> {
    // Nothing to take (an empty pax or long-name body) even when no chunk is left.
    if (n === 0) return Buffer.alloc(0);
    while (this.#have < n) {
      if (!(await this.#pull())) {
        if (eofOk && this.#have === 0) return undefined;
        throw new VouchError(
          'ARCHIVE_MALFORMED',
          `truncated: stream ends at byte ${this.position + this.#have}`,
          { file: this.#name, field: this.member },
        );
      }
    }
    const first = this.#chunks[0] as Buffer;
    const out = first.length === n ? (this.#chunks.shift() as Buffer) : this.#splice(n);
    this.#have -= n;
    this.position += n;
    return out;
  }

  #splice(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.#chunks[0] as Buffer;
      const want = n - filled;
      if (c.length <= want) {
        c.copy(out, filled);
        filled += c.length;
        this.#chunks.shift();
      } else {
        c.copy(out, filled, 0, want);
        this.#chunks[0] = c.subarray(want);
        filled += want;
      }
    }
    return out;
  }

  /**
   * The next piece of the stream, at most `max` (> 0) bytes, consumed: the rest
   * of the first chunk, or its head.
   */
  async #piece(max: number): Promise<Buffer> {
    for (;;) {
      if (this.#have === 0 && !(await this.#pull())) {
        throw new VouchError(
          'ARCHIVE_MALFORMED',
          `truncated: stream ends at byte ${this.position}`,
          { file: this.#name, field: this.member },
        );
      }
      const c = this.#chunks[0];
      if (!c) continue;
      const k = Math.min(c.length, max);
      const out = k === c.length ? (this.#chunks.shift() as Buffer) : c.subarray(0, k);
      if (k < c.length) this.#chunks[0] = c.subarray(k);
      this.#have -= k;
      this.position += k;
      return out;
    }
  }

  async skip(n: number): Promise<void> {
    for (let left = n; left > 0; ) left -= (await this.#piece(left)).length;
  }

  /** Yields `n` bytes as they arrive, then skips `pad` more. */
  async *stream(n: number, pad: number): AsyncGenerator<Buffer> {
    for (let left = n; left > 0; ) {
      const out = await this.#piece(left);
      left -= out.length;
      yield out;
    }
    await this.skip(pad);
  }

  async drain(): Promise<void> {
    this.position += this.#have;
    this.#chunks = [];
    this.#have = 0;
    while (await this.#pull()) {
      this.position += this.#have;
      this.#chunks = [];
      this.#have = 0;
    }
  }

  async close(): Promise<void> {
    if (!this.#done) await this.#it.return?.();
  }
}
