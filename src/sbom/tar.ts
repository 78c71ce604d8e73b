import { VouchError } from '../core/errors.ts';

/**
 * A small streaming tar reader: ustar, pax extended headers (`x`; `g` is
 * read and ignored) and GNU long names (`L`, `K`), base-256 sizes. It never
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
  /** Bytes of data that follow the header (0 for anything but files). */
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
  /** Largest pax / GNU long-name header accepted, in bytes. */
  maxHeaderBytes: number;
}

export const DEFAULT_TAR_LIMITS: TarLimits = {
  maxEntries: 1_000_000,
  maxPathLength: 4096,
  maxHeaderBytes: 1024 * 1024,
};

const BLOCK = 512;

/**
 * Reads a tar stream entry by entry. After the end-of-archive marker, the
 * rest of `source` is drained (so a caller hashing the stream sees all of
 * it). A stream that ends cleanly at a header boundary without the marker is
 * accepted; one that ends inside a header or a body is ARCHIVE_MALFORMED.
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
  let pax: Map<string, string> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  try {
    for (;;) {
      const headerAt = input.position;
      const block = await input.take(BLOCK, true);
      if (block === undefined) return; // clean end of stream at a header boundary
      if (isZero(block)) {
        await input.drain();
        return;
      }
      const h = parseHeader(block, name, headerAt);
      const padded = Math.ceil(h.size / BLOCK) * BLOCK;
      switch (h.typeflag) {
        case 'x':
        case 'g':
        case 'L':
        case 'K': {
          if (h.size > limits.maxHeaderBytes) {
            throw new VouchError(
              'ARCHIVE_TOO_LARGE',
              `extended header of ${h.size} bytes exceeds ${limits.maxHeaderBytes}`,
              { file: name, field: `offset ${headerAt}` },
            );
          }
          const data = (await input.take(padded)).subarray(0, h.size);
          if (h.typeflag === 'x') pax = parsePax(data, name, headerAt);
          else if (h.typeflag === 'L') longName = cString(data);
          else if (h.typeflag === 'K') longLink = cString(data);
          continue;
        }
        default:
          break;
      }
      if (
        h.typeflag === 'S' ||
        h.typeflag === 'M' ||
        [...(pax?.keys() ?? [])].some((k) => k.startsWith('GNU.sparse'))
      ) {
        throw new VouchError(
          'ARCHIVE_MALFORMED',
          'sparse and multi-volume entries are not supported',
          {
            file: name,
            field: `offset ${headerAt}`,
          },
        );
      }
      const rawPath = pax?.get('path') ?? longName ?? h.name;
      const rawLink = pax?.get('linkpath') ?? longLink ?? h.linkname;
      const paxSize = pax?.get('size');
      let size = h.size;
      if (paxSize !== undefined) {
        if (!/^\d{1,16}$/.test(paxSize) || !Number.isSafeInteger(Number(paxSize))) {
          throw new VouchError(
            'ARCHIVE_MALFORMED',
            `pax size ${JSON.stringify(paxSize)} is not a number`,
            {
              file: name,
              field: `offset ${headerAt}`,
            },
          );
        }
        size = Number(paxSize);
      }
      const paxMeta = pax;
      pax = undefined;
      longName = undefined;
      longLink = undefined;

      if (rawPath.length > limits.maxPathLength || rawLink.length > limits.maxPathLength) {
        throw new VouchError('ARCHIVE_UNSAFE', `path longer than ${limits.maxPathLength} bytes`, {
          file: name,
          field: `offset ${headerAt}`,
        });
      }
      if (index >= limits.maxEntries) {
        throw new VouchError('ARCHIVE_TOO_LARGE', `more than ${limits.maxEntries} entries`, {
          file: name,
        });
      }
      const type = entryType(h.typeflag);
      const path = normaliseTarPath(rawPath, name);
      const linkname = type === 'hardlink' ? normaliseTarPath(rawLink, name) : rawLink;
      // Only regular files carry data in a layer; anything else with a size is skipped over.
      const bodySize = type === 'file' ? size : 0;
      const skipSize = Math.ceil(size / BLOCK) * BLOCK;
      const entry: TarEntry = {
        path,
        type,
        size: bodySize,
        linkname,
        mode: h.mode,
        index: index++,
        dataOffset: input.position,
        mtime: paxNumber(paxMeta?.get('mtime')) ?? h.mtime,
        uid: paxNumber(paxMeta?.get('uid')) ?? h.uid,
        gid: paxNumber(paxMeta?.get('gid')) ?? h.gid,
        uname: paxMeta?.get('uname') ?? h.uname,
        gname: paxMeta?.get('gname') ?? h.gname,
      };
      let consumed = false;
      const item: TarItem = {
        entry,
        read: async (maxBytes) => {
          if (consumed) throw new Error('tar entry body already read');
          consumed = true;
          if (size > maxBytes) {
            throw new VouchError(
              'ARCHIVE_TOO_LARGE',
              `${path} is ${size} bytes, over the limit of ${maxBytes}`,
              {
                file: name,
              },
            );
          }
          const data = await input.take(skipSize);
          return data.subarray(0, size);
        },
        body: () => {
          if (consumed) throw new Error('tar entry body already read');
          consumed = true;
          return input.stream(size, skipSize - size);
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

function parseHeader(b: Buffer, archive: string, at: number): RawHeader {
  const where = { file: archive, field: `offset ${at}` };
  const stored = parseNumber(b.subarray(148, 156), archive, at);
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
      where,
    );
  }
  const magic = b.toString('latin1', 257, 263);
  const ustar = magic === 'ustar\0';
  let name = cString(b.subarray(0, 100));
  if (ustar) {
    const prefix = cString(b.subarray(345, 500));
    if (prefix) name = `${prefix}/${name}`;
  }
  const size = parseNumber(b.subarray(124, 136), archive, at);
  const mode = parseNumber(b.subarray(100, 108), archive, at);
  const flag = b[156] === 0 ? '0' : String.fromCharCode(b[156] as number);
  return {
    name,
    linkname: cString(b.subarray(157, 257)),
    typeflag: flag,
    size,
    mode,
    mtime: lenientNumber(b.subarray(136, 148), archive, at),
    uid: lenientNumber(b.subarray(108, 116), archive, at),
    gid: lenientNumber(b.subarray(116, 124), archive, at),
    uname: ustar || magic === 'ustar ' ? cString(b.subarray(265, 297)) : '',
    gname: ustar || magic === 'ustar ' ? cString(b.subarray(297, 329)) : '',
  };
}

/** Metadata numbers never made an archive unreadable before they were read: a bad one is 0. */
function lenientNumber(field: Buffer, archive: string, at: number): number {
  try {
    return parseNumber(field, archive, at);
  } catch {
    return 0;
  }
}

function parseNumber(field: Buffer, archive: string, at: number): number {
  const first = field[0] as number;
  if (first & 0x80) {
    // GNU base-256: big-endian two's complement; negative values are refused.
    if (first === 0xff) {
      throw new VouchError('ARCHIVE_MALFORMED', 'negative number in tar header', {
        file: archive,
        field: `offset ${at}`,
      });
    }
    let v = first & 0x7f;
    for (let i = 1; i < field.length; i++) {
      v = v * 256 + (field[i] as number);
      if (v > Number.MAX_SAFE_INTEGER) {
        throw new VouchError('ARCHIVE_MALFORMED', 'number in tar header too large', {
          file: archive,
          field: `offset ${at}`,
        });
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
      {
        file: archive,
        field: `offset ${at}`,
      },
    );
  }
  return Number.parseInt(text, 8);
}

function parsePax(data: Buffer, archive: string, at: number): Map<string, string> {
  const out = new Map<string, string>();
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) break;
    const space = data.indexOf(0x20, pos);
    const len = space > pos ? Number(data.toString('latin1', pos, space)) : Number.NaN;
    if (!Number.isInteger(len) || len <= space - pos || pos + len > data.length) {
      throw new VouchError('ARCHIVE_MALFORMED', 'malformed pax extended header record', {
        file: archive,
        field: `offset ${at}`,
      });
    }
    const record = data.toString('utf8', space + 1, pos + len - 1);
    const eq = record.indexOf('=');
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    pos += len;
  }
  return out;
}

function entryType(flag: string): TarEntryType {
  switch (flag) {
    case '0':
    case '7':
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
          {
            file: this.#name,
          },
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
          {
            file: this.#name,
          },
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
