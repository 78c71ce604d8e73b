import { VouchError } from '../../core/errors.ts';

/**
 * Read-only reader of a Berkeley DB hash database, the format of the rpm
 * `Packages` file of rpm < 4.16 (CentOS/RHEL 7 and 8, Amazon Linux 2, SLES
 * 12/15 before 15 SP3). Only what rpm uses is understood: the hash access
 * method, no encryption, no page checksums, no duplicates. Anything else is
 * refused by name, never guessed at.
 *
 * Layout (Berkeley DB's db_page.h): page 0 is the hash meta page, every page
 * is `pagesize` bytes, all integers in the byte order of the machine that
 * wrote the file (told apart by the meta page's magic). A key is found through
 * its bucket: bucket b lives on page `b + spares[log2(b + 1)]`, and a bucket
 * that outgrew its page continues on the page's `next_pgno` chain. Each hash
 * page holds an index of item offsets, keys and values alternating; a value
 * too big for the page is an "off-page" reference to a chain of overflow
 * pages. Every page number read is checked against the file, every chain is
 * bounded by the number of pages and checked for cycles.
 */

export interface BdbRecord {
  key: Buffer;
  value: Buffer;
}

const HASH_MAGIC = 0x061561;
const BTREE_MAGIC = 0x053162;
const QUEUE_MAGIC = 0x042253;

const P_HASH_UNSORTED = 2;
const P_OVERFLOW = 7;
const P_HASHMETA = 8;
const P_HASH = 13;

const H_KEYDATA = 1;
const H_DUPLICATE = 2;
const H_OFFPAGE = 3;
const H_OFFDUP = 4;

/** Size of the generic page header (lsn, pgno, prev, next, entries, hf_offset, level, type). */
const PAGE_HEADER = 26;
/** HOFFPAGE: type, 3 unused bytes, pgno, tlen. */
const HOFFPAGE_SIZE = 12;
const DBMETA_CHKSUM = 0x01;
/** rpm refuses headers larger than this (lib/header.c); a value may not be larger either. */
const MAX_VALUE = 256 * 1024 * 1024;

interface Meta {
  le: boolean;
  pageSize: number;
  lastPgno: number;
  maxBucket: number;
  spares: number[];
}

/**
 * Every key/value pair of a Berkeley DB hash database, in bucket order.
 *
 * @param file the name errors carry
 * @throws VouchError LOCKFILE_MALFORMED (truncated, a page number past the end,
 *   a cycle, a wrong page type or magic) or LOCKFILE_UNSUPPORTED (another
 *   access method, encryption, checksums, duplicates)
 */
export function readBdbHash(buf: Buffer, file: string): BdbRecord[] {
  const meta = readMeta(buf, file);
  const { le, pageSize } = meta;
  const u32 = (at: number): number => (le ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
  const u16 = (at: number): number => (le ? buf.readUInt16LE(at) : buf.readUInt16BE(at));
  const fail = (pgno: number, msg: string): never => {
    throw new VouchError('LOCKFILE_MALFORMED', `Berkeley DB page ${pgno}: ${msg}`, { file });
  };
  const page = (pgno: number, from: number, expect: readonly number[]): number => {
    if (pgno === 0 || pgno > meta.lastPgno) {
      fail(from, `points to page ${pgno}, outside pages 1..${meta.lastPgno}`);
    }
    const start = pgno * pageSize;
    if (start + pageSize > buf.length) {
      fail(pgno, `is past the end of the file (${buf.length} bytes, page size ${pageSize})`);
    }
    const type = buf[start + 25] as number;
    if (!expect.includes(type))
      fail(pgno, `has page type ${type}, expected ${expect.join(' or ')}`);
    if (u32(start + 8) !== pgno) fail(pgno, `says it is page ${u32(start + 8)}`);
    return start;
  };

  const overflowOwner = new Map<number, number>();
  const overflow = (from: number, item: number): Buffer => {
    const first = u32(item + 4);
    const total = u32(item + 8);
    if (total > MAX_VALUE || total > buf.length) {
      fail(from, `off-page item of ${total} bytes is larger than the file allows`);
    }
    const parts: Buffer[] = [];
    let got = 0;
    const seen = new Set<number>();
    for (let pgno = first, prev = from; pgno !== 0; ) {
      if (seen.has(pgno)) fail(pgno, `overflow chain from page ${from} loops back to page ${pgno}`);
      // An overflow page belongs to one value: sharing would let a small file
      // make the work grow with values × chain length.
      if (overflowOwner.has(pgno)) {
        fail(
          pgno,
          `overflow page already holds another value (first reached from page ${overflowOwner.get(pgno)})`,
        );
      }
      seen.add(pgno);
      overflowOwner.set(pgno, from);
      const start = page(pgno, prev, [P_OVERFLOW]);
      const len = u16(start + 22);
      if (len > pageSize - PAGE_HEADER) fail(pgno, `overflow length ${len} exceeds the page`);
      if (got + len > total)
        fail(pgno, `overflow chain holds more than the ${total} bytes declared`);
      parts.push(buf.subarray(start + PAGE_HEADER, start + PAGE_HEADER + len));
      got += len;
      prev = pgno;
      pgno = u32(start + 16);
    }
    if (got !== total) fail(from, `overflow chain holds ${got} of the ${total} bytes declared`);
    return Buffer.concat(parts, total);
  };

  const item = (pgno: number, start: number, index: number, entries: number): Buffer => {
    const at = u16(start + PAGE_HEADER + index * 2);
    const end = index === 0 ? pageSize : u16(start + PAGE_HEADER + (index - 1) * 2);
    if (at < PAGE_HEADER + entries * 2 || end > pageSize || end <= at) {
      fail(pgno, `item ${index} at ${at}..${end} lies outside the page's data area`);
    }
    const type = buf[start + at] as number;
    switch (type) {
      case H_KEYDATA:
        return buf.subarray(start + at + 1, start + end);
      case H_OFFPAGE:
        if (end - at < HOFFPAGE_SIZE) fail(pgno, `off-page item ${index} is truncated`);
        return overflow(pgno, start + at);
      case H_DUPLICATE:
      case H_OFFDUP:
        throw new VouchError(
          'LOCKFILE_UNSUPPORTED',
          `Berkeley DB page ${pgno}: item ${index} is a duplicate set, which an rpm Packages database never has`,
          { file },
        );
      default:
        return fail(pgno, `item ${index} has unknown type ${type}`);
    }
  };

  const out: BdbRecord[] = [];
  const visited = new Set<number>();
  for (let bucket = 0; bucket <= meta.maxBucket; bucket++) {
    const spare = meta.spares[log2(bucket + 1)] ?? 0;
    let pgno = bucket + spare;
    let from = 0;
    while (pgno !== 0) {
      if (visited.has(pgno))
        fail(pgno, `reached twice (bucket ${bucket}'s chain loops or overlaps)`);
      visited.add(pgno);
      const start = page(pgno, from, [P_HASH, P_HASH_UNSORTED]);
      const entries = u16(start + 20);
      if (entries % 2 !== 0) fail(pgno, `has ${entries} items, not key/value pairs`);
      if (PAGE_HEADER + entries * 2 > pageSize)
        fail(pgno, `item count ${entries} overflows the page`);
      for (let i = 0; i < entries; i += 2) {
        out.push({
          key: item(pgno, start, i, entries),
          value: item(pgno, start, i + 1, entries),
        });
      }
      from = pgno;
      pgno = u32(start + 16);
    }
  }
  return out;
}

/** Reads a key written in the database's own byte order as an unsigned 32-bit integer. */
export function bdbKeyUint32(buf: Buffer, key: Buffer): number | undefined {
  if (key.length !== 4) return undefined;
  return isLittleEndian(buf) ? key.readUInt32LE(0) : key.readUInt32BE(0);
}

function isLittleEndian(buf: Buffer): boolean {
  return buf.length >= 16 && buf.readUInt32LE(12) === HASH_MAGIC;
}

function readMeta(buf: Buffer, file: string): Meta {
  const malformed = (msg: string): never => {
    throw new VouchError('LOCKFILE_MALFORMED', `Berkeley DB meta page (page 0): ${msg}`, { file });
  };
  // The fields read here end at byte 224 (spares[32]); the smallest page is 512.
  if (buf.length < 512) malformed(`file of ${buf.length} bytes is shorter than one page`);
  const le = isLittleEndian(buf);
  const magic = le ? HASH_MAGIC : buf.readUInt32BE(12);
  if (magic !== HASH_MAGIC) {
    const other = [buf.readUInt32LE(12), buf.readUInt32BE(12)];
    if (other.includes(BTREE_MAGIC) || other.includes(QUEUE_MAGIC)) {
      throw new VouchError(
        'LOCKFILE_UNSUPPORTED',
        'a Berkeley DB btree or queue database, not the hash database rpm keeps its Packages in',
        { file },
      );
    }
    malformed(`magic ${buf.readUInt32LE(12).toString(16)} is not Berkeley DB hash (61561)`);
  }
  const u32 = (at: number): number => (le ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
  const version = u32(16);
  // Hash versions 5..9 (Berkeley DB 3.0 to 6.x) share the page layout read here.
  if (version < 5 || version > 10) {
    throw new VouchError('LOCKFILE_UNSUPPORTED', `Berkeley DB hash version ${version}`, { file });
  }
  const pageSize = u32(20);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) {
    malformed(`page size ${pageSize} is not a power of two from 512 to 65536`);
  }
  if (buf.length < pageSize) malformed(`truncated: ${buf.length} bytes, page size ${pageSize}`);
  if (buf[24] !== 0) {
    throw new VouchError('LOCKFILE_UNSUPPORTED', 'an encrypted Berkeley DB database', { file });
  }
  if (buf[25] !== P_HASHMETA) malformed(`page type ${buf[25]} is not a hash meta page`);
  if (((buf[26] as number) & DBMETA_CHKSUM) !== 0) {
    throw new VouchError(
      'LOCKFILE_UNSUPPORTED',
      'a Berkeley DB database with page checksums, which rpm never writes',
      { file },
    );
  }
  const lastPgno = u32(32);
  // A page number past the end of the file is caught when that page is read;
  // the count itself may not claim more pages than the file could hold.
  if (lastPgno === 0 || lastPgno > Math.floor(buf.length / pageSize)) {
    malformed(`last page ${lastPgno} does not fit a file of ${buf.length} bytes`);
  }
  const maxBucket = u32(72);
  if (maxBucket >= lastPgno) malformed(`${maxBucket + 1} buckets cannot fit in ${lastPgno} pages`);
  const spares: number[] = [];
  for (let i = 0; i < 32; i++) spares.push(u32(96 + i * 4));
  return { le, pageSize, lastPgno, maxBucket, spares };
}

/** Berkeley DB's __db_log2: the smallest i with 2^i >= n. */
function log2(n: number): number {
  let i = 0;
  for (let limit = 1; limit < n; limit *= 2) i++;
  return i;
}
