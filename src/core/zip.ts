import { inflateRawSync } from 'node:zlib';
import { type ErrorCode, VouchError } from './errors.ts';

/**
 * The zip format itself, shared by every bounded zip reader (JAR/WAR/EAR in
 * src/sbom, OSV exports in src/vuln, archive diffs in src/repro): the central
 * directory (ZIP64 too) and one entry's stored or deflated bytes, in memory
 * only. Callers bring their own limits and error codes through `ZipErrors`;
 * nothing here is written to disk, and entry names that climb out (`../`,
 * absolute, drive letters, NUL) are refused for everyone.
 */
export interface ZipDirectoryEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
  /** MS-DOS date (high 16 bits) and time (low 16 bits) from the central directory. */
  dosDateTime: number;
  /** External attributes: Unix mode in the high 16 bits when made on Unix. */
  externalAttributes: number;
  /** The central directory's extra field (extended timestamps, Unix uid/gid…), raw. */
  extra: Buffer;
  /** Byte offset of this entry's central directory record: its order in the archive. */
  centralOffset: number;
}

/** How a caller reports problems: each throws its own VouchError code. */
export interface ZipErrors {
  /** Not a zip, truncated, lying sizes, unsupported method. */
  malformed(message: string, file: string): never;
  /** More entries than the caller allows. */
  tooManyEntries(message: string, file: string): never;
  /** An entry name that climbs out of the archive. */
  pathEscape(message: string, file: string): never;
}

/**
 * The ZipErrors of a reader that throws VouchErrors: `malformed` and
 * `tooManyEntries` with the reader's codes, a climbing name always PATH_ESCAPE.
 */
export function zipErrors(malformed: ErrorCode, tooManyEntries: ErrorCode): ZipErrors {
  return {
    malformed(message, file) {
      throw new VouchError(malformed, message, { file });
    },
    tooManyEntries(message, file) {
      throw new VouchError(tooManyEntries, message, { file });
    },
    pathEscape(message, file) {
      throw new VouchError('PATH_ESCAPE', message, { file });
    },
  };
}

/** Reads the central directory of `d`, refusing more than `maxEntries` entries. */
export function readCentralDirectory(
  d: Buffer,
  file: string,
  maxEntries: number,
  errors: ZipErrors,
): ZipDirectoryEntry[] {
  const fail = (message: string): never => errors.malformed(message, file);
  let eocd = -1;
  for (let p = d.length - 22; p >= Math.max(0, d.length - 22 - 0xffff); p--) {
    if (d.readUInt32LE(p) === 0x06054b50) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) fail('not a zip archive, or truncated (no end of central directory record)');
  let count = d.readUInt16LE(eocd + 10);
  let cdSize = d.readUInt32LE(eocd + 12);
  let cdOffset = d.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || d.readUInt32LE(loc) !== 0x07064b50) fail('ZIP64 sizes without a ZIP64 locator');
    const z = Number(d.readBigUInt64LE(loc + 8));
    if (z + 56 > d.length || d.readUInt32LE(z) !== 0x06064b50) fail('bad ZIP64 end record');
    count = Number(d.readBigUInt64LE(z + 32));
    cdSize = Number(d.readBigUInt64LE(z + 40));
    cdOffset = Number(d.readBigUInt64LE(z + 48));
  }
  if (count > maxEntries) {
    errors.tooManyEntries(`${count} entries, more than the limit of ${maxEntries}`, file);
  }
  if (cdOffset + cdSize > d.length) fail('central directory runs past the end (truncated?)');
  const out: ZipDirectoryEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > d.length || d.readUInt32LE(p) !== 0x02014b50) {
      fail(`bad central directory entry ${i}`);
    }
    const flags = d.readUInt16LE(p + 8);
    const method = d.readUInt16LE(p + 10);
    const crc = d.readUInt32LE(p + 16);
    let compressedSize = d.readUInt32LE(p + 20);
    let size = d.readUInt32LE(p + 24);
    const nameLen = d.readUInt16LE(p + 28);
    const extraLen = d.readUInt16LE(p + 30);
    const commentLen = d.readUInt16LE(p + 32);
    let localOffset = d.readUInt32LE(p + 42);
    if (p + 46 + nameLen + extraLen + commentLen > d.length) fail(`entry ${i} runs past the end`);
    const name = d.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen);
    // ZIP64 extra field: the 0xffffffff fields, in order size, compressed size, offset.
    for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen; ) {
      const id = d.readUInt16LE(e);
      const len = d.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        const next = () => {
          if (q + 8 > e + 4 + len) fail(`entry ${i}: short ZIP64 extra field`);
          const v = Number(d.readBigUInt64LE(q));
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = next();
        if (compressedSize === 0xffffffff) compressedSize = next();
        if (localOffset === 0xffffffff) localOffset = next();
      }
      e += 4 + len;
    }
    if (
      name.startsWith('/') ||
      name.startsWith('\\') ||
      /^[A-Za-z]:/.test(name) ||
      name.split(/[/\\]/).includes('..') ||
      name.includes('\0')
    ) {
      errors.pathEscape(`zip entry name ${JSON.stringify(name)} climbs out of the archive`, file);
    }
    out.push({
      name,
      method,
      flags,
      crc,
      compressedSize,
      size,
      localOffset,
      dosDateTime: d.readUInt32LE(p + 12),
      externalAttributes: d.readUInt32LE(p + 38),
      extra: d.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen),
      centralOffset: p,
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/**
 * One entry's bytes: finds its local header, bounds-checks it, inflates with
 * an output cap of the declared size (a directory that lies cannot make it
 * grow), and checks the result has exactly the declared size. Encryption,
 * size budgets, ratios and CRCs are the caller's policy.
 */
export function readEntryBytes(
  d: Buffer,
  e: ZipDirectoryEntry,
  where: string,
  errors: ZipErrors,
): Buffer {
  const fail = (message: string): never => errors.malformed(message, where);
  const h = e.localOffset;
  if (h + 30 > d.length || d.readUInt32LE(h) !== 0x04034b50) fail('bad local header');
  const start = h + 30 + d.readUInt16LE(h + 26) + d.readUInt16LE(h + 28);
  if (start + e.compressedSize > d.length) fail('entry runs past the end (truncated?)');
  const raw = d.subarray(start, start + e.compressedSize);
  let out: Buffer = Buffer.alloc(0);
  if (e.method === 0) out = Buffer.from(raw);
  else if (e.method === 8) {
    try {
      out = inflateRawSync(raw, { maxOutputLength: Math.max(e.size, 1) });
    } catch (err) {
      fail(`cannot inflate: ${(err as Error).message}`);
    }
  } else fail(`unsupported compression method ${e.method}`);
  if (out.length !== e.size) fail(`inflated to ${out.length} bytes, directory says ${e.size}`);
  return out;
}

/**
 * The zip-bomb rule every bounded reader applies before inflating an entry:
 * one over 1 MiB that claims more than `maxRatio` times its compressed size.
 * Returns the message to report (each caller throws its own code), or
 * undefined when the entry passes.
 */
export function zipBombMessage(e: ZipDirectoryEntry, maxRatio: number): string | undefined {
  if (e.size > 1024 * 1024 && e.size > e.compressedSize * maxRatio) {
    return `compression ratio ${Math.round(e.size / Math.max(1, e.compressedSize))}:1 looks like a zip bomb`;
  }
  return undefined;
}
