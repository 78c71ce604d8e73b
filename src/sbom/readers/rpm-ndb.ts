import { VouchError } from '../../core/errors.ts';

/**
 * Read-only reader of rpm's "ndb" package database, `Packages.db` (SUSE:
 * SLES 15 SP3+, openSUSE Leap 15.3+ before Tumbleweed moved to SQLite).
 * The format is rpm's own (lib/backend/ndb/rpmpkg.c), all integers
 * little-endian:
 *
 * - a 32-byte file header: magic 'RpmP', version 0, generation, the number
 *   of 4096-byte slot pages, the next package index;
 * - the slot pages (starting right after the header on page 0): 16-byte slots
 *   'Slot', pkgidx, blkoff, blkcnt; a slot with blkoff 0 is free;
 * - blobs at blkoff × 16 spanning blkcnt 16-byte blocks: a head ('BlbS',
 *   pkgidx, timestamp, length), the blob (an rpm header), zero padding and a
 *   tail (Adler-32 of head, blob and padding; length; 'BlbE').
 *
 * Every slot and blob is checked the way rpm checks it before trusting it.
 */

export interface NdbBlob {
  pkgidx: number;
  blob: Buffer;
}

const MAGIC = fourcc('RpmP');
const SLOT_MAGIC = fourcc('Slot');
const BLOB_HEAD = fourcc('BlbS');
const BLOB_TAIL = fourcc('BlbE');
const PAGE = 4096;
const SLOT = 16;
const BLK = 16;
const HEADER = 32;
const HEAD_SIZE = 16;
const TAIL_SIZE = 12;

/**
 * Every package blob of an ndb `Packages.db`, in slot order.
 *
 * @param file the name errors carry
 * @throws VouchError LOCKFILE_MALFORMED for a wrong magic, a truncated file, a
 *   slot pointing outside the file, a blob whose frame or checksum is wrong;
 *   LOCKFILE_UNSUPPORTED for another format version
 */
export function readNdb(buf: Buffer, file: string): NdbBlob[] {
  const fail = (msg: string): never => {
    throw new VouchError('LOCKFILE_MALFORMED', `ndb: ${msg}`, { file });
  };
  if (buf.length < HEADER) fail(`file of ${buf.length} bytes is shorter than its 32-byte header`);
  if (buf.readUInt32LE(0) !== MAGIC) fail(`magic ${hex(buf, 0)} is not 'RpmP'`);
  const version = buf.readUInt32LE(4);
  if (version !== 0) {
    throw new VouchError('LOCKFILE_UNSUPPORTED', `ndb format version ${version} (known: 0)`, {
      file,
    });
  }
  const slotPages = buf.readUInt32LE(12);
  if (slotPages === 0 || slotPages > Math.floor(buf.length / PAGE)) {
    fail(`${slotPages} slot pages do not fit a file of ${buf.length} bytes`);
  }
  const fileBlks = Math.floor(buf.length / BLK);
  const firstBlob = slotPages * (PAGE / BLK);
  const used: Used[] = [];
  const seen = new Set<number>();
  for (let at = HEADER; at < slotPages * PAGE; at += SLOT) {
    const slot = at / SLOT;
    if (buf.readUInt32LE(at) !== SLOT_MAGIC)
      fail(`slot ${slot}: magic ${hex(buf, at)} is not 'Slot'`);
    const pkgidx = buf.readUInt32LE(at + 4);
    const blkoff = buf.readUInt32LE(at + 8);
    const blkcnt = buf.readUInt32LE(at + 12);
    if (blkoff === 0) continue; // a free slot
    const where = `slot ${slot} (package ${pkgidx})`;
    if (pkgidx === 0 || blkcnt === 0) fail(`${where}: used slot without package index or blocks`);
    if (blkoff < firstBlob) fail(`${where}: blob at block ${blkoff} overlaps the slot pages`);
    if (blkoff + blkcnt > fileBlks) {
      fail(
        `${where}: blob at blocks ${blkoff}+${blkcnt} runs past the end of the file (truncated)`,
      );
    }
    if (seen.has(pkgidx)) fail(`${where}: package index ${pkgidx} has two slots`);
    seen.add(pkgidx);
    used.push({ slot, pkgidx, blkoff, blkcnt, where });
  }
  // Blobs may not overlap (rpm refuses to write over one): each byte of the
  // file is then checksummed at most once, whatever the slots say.
  const byOffset = [...used].sort((a, b) => a.blkoff - b.blkoff);
  for (let i = 1; i < byOffset.length; i++) {
    const prev = byOffset[i - 1] as Used;
    const cur = byOffset[i] as Used;
    if (cur.blkoff < prev.blkoff + prev.blkcnt) {
      fail(`${cur.where}: blob overlaps the blob of slot ${prev.slot} (package ${prev.pkgidx})`);
    }
  }
  return used.map(({ pkgidx, blkoff, blkcnt, where }) => ({
    pkgidx,
    blob: readBlob(buf, blkoff, blkcnt, pkgidx, (m) => fail(`${where}: ${m}`)),
  }));
}

interface Used {
  slot: number;
  pkgidx: number;
  blkoff: number;
  blkcnt: number;
  where: string;
}

function readBlob(
  buf: Buffer,
  blkoff: number,
  blkcnt: number,
  pkgidx: number,
  fail: (msg: string) => never,
): Buffer {
  const start = blkoff * BLK;
  const end = start + blkcnt * BLK;
  if (blkcnt * BLK < HEAD_SIZE + TAIL_SIZE) fail(`${blkcnt} blocks cannot hold a blob`);
  if (buf.readUInt32LE(start) !== BLOB_HEAD) fail(`blob magic ${hex(buf, start)} is not 'BlbS'`);
  if (buf.readUInt32LE(start + 4) !== pkgidx) {
    fail(`blob belongs to package ${buf.readUInt32LE(start + 4)}`);
  }
  const len = buf.readUInt32LE(start + 12);
  if (blkcnt !== Math.ceil((HEAD_SIZE + len + TAIL_SIZE) / BLK)) {
    fail(`blob length ${len} does not match its ${blkcnt} blocks`);
  }
  const tail = end - TAIL_SIZE;
  if (buf.readUInt32LE(tail + 8) !== BLOB_TAIL)
    fail(`blob tail magic ${hex(buf, tail + 8)} is not 'BlbE'`);
  if (buf.readUInt32LE(tail + 4) !== len)
    fail(`blob tail length ${buf.readUInt32LE(tail + 4)} ≠ ${len}`);
  const sum = adler32(buf.subarray(start, tail));
  if (buf.readUInt32LE(tail) !== sum) {
    fail(`blob checksum ${buf.readUInt32LE(tail).toString(16)} ≠ computed ${sum.toString(16)}`);
  }
  return buf.subarray(start + HEAD_SIZE, start + HEAD_SIZE + len);
}

/** Adler-32 (RFC 1950), as rpm computes it over a blob's head, data and padding. */
export function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  // 5552 is the most bytes that can be summed before b overflows 2^32 - 1.
  for (let i = 0; i < data.length; ) {
    const stop = Math.min(i + 5552, data.length);
    for (; i < stop; i++) {
      a += data[i] as number;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

function fourcc(s: string): number {
  return Buffer.from(s, 'latin1').readUInt32LE(0);
}

function hex(buf: Buffer, at: number): string {
  return buf.subarray(at, at + 4).toString('hex');
}
