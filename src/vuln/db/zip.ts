import { crc32, inflateRawSync } from 'node:zlib';
import { VouchError } from '../../core/errors.ts';

/**
 * A bounded, in-memory, read-only zip reader for OSV exports (`all.zip`).
 * Unlike a JAR, an export is a trust boundary for a whole database, so every
 * entry's CRC-32 is checked, and the limits stop zip bombs: entry count,
 * total inflated bytes, and the ratio of any large entry. Entry names that
 * climb out (`../`, absolute, drive letters) are refused; nothing is ever
 * written to disk by name.
 */
export interface ZipLimits {
  maxEntries: number;
  maxTotalBytes: number;
  /** Largest inflated size of one entry. */
  maxEntryBytes: number;
  /** Largest uncompressed/compressed ratio accepted for an entry above 1 MiB. */
  maxRatio: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxEntries: 2_000_000,
  maxTotalBytes: 8 * 1024 * 1024 * 1024,
  maxEntryBytes: 64 * 1024 * 1024,
  maxRatio: 200,
};

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

const fail = (file: string, message: string): never => {
  throw new VouchError('VULN_DB_CORRUPT', message, { file });
};

/**
 * Reads the central directory.
 *
 * @throws VouchError VULN_DB_CORRUPT (not a zip, truncated, lying sizes, too many entries) | PATH_ESCAPE
 */
export function zipEntries(d: Buffer, file: string, limits = DEFAULT_ZIP_LIMITS): ZipEntry[] {
  let eocd = -1;
  for (let p = d.length - 22; p >= Math.max(0, d.length - 22 - 0xffff); p--) {
    if (d.readUInt32LE(p) === 0x06054b50) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) fail(file, 'not a zip archive, or truncated (no end of central directory record)');
  let count = d.readUInt16LE(eocd + 10);
  let cdSize = d.readUInt32LE(eocd + 12);
  let cdOffset = d.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || d.readUInt32LE(loc) !== 0x07064b50) fail(file, 'ZIP64 sizes without a locator');
    const z = Number(d.readBigUInt64LE(loc + 8));
    if (z + 56 > d.length || d.readUInt32LE(z) !== 0x06064b50) fail(file, 'bad ZIP64 end record');
    count = Number(d.readBigUInt64LE(z + 32));
    cdSize = Number(d.readBigUInt64LE(z + 40));
    cdOffset = Number(d.readBigUInt64LE(z + 48));
  }
  if (count > limits.maxEntries) {
    fail(file, `${count} entries, more than the limit of ${limits.maxEntries}`);
  }
  if (cdOffset + cdSize > d.length) fail(file, 'central directory runs past the end (truncated?)');
  const out: ZipEntry[] = [];
  let declaredTotal = 0;
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > d.length || d.readUInt32LE(p) !== 0x02014b50) {
      fail(file, `bad central directory entry ${i}`);
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
    if (p + 46 + nameLen + extraLen + commentLen > d.length)
      fail(file, `entry ${i} runs past the end`);
    const name = d.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen);
    for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen; ) {
      const id = d.readUInt16LE(e);
      const len = d.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        const next = () => {
          if (q + 8 > e + 4 + len) fail(file, `entry ${i}: short ZIP64 extra field`);
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
      throw new VouchError('PATH_ESCAPE', `zip entry name ${JSON.stringify(name)} climbs out`, {
        file,
      });
    }
    declaredTotal += size;
    out.push({ name, method, flags, crc, compressedSize, size, localOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  if (declaredTotal > limits.maxTotalBytes) {
    fail(
      file,
      `inflates to ${declaredTotal} bytes, more than the limit of ${limits.maxTotalBytes}`,
    );
  }
  return out;
}

/**
 * Inflates one entry and checks its size and CRC-32 against the directory.
 *
 * @throws VouchError VULN_DB_CORRUPT
 */
export function readZipEntry(
  d: Buffer,
  e: ZipEntry,
  file: string,
  limits = DEFAULT_ZIP_LIMITS,
): Buffer {
  const where = `${file}!/${e.name}`;
  if (e.flags & 1) fail(where, 'encrypted entry');
  if (e.size > limits.maxEntryBytes) {
    fail(where, `entry of ${e.size} bytes, more than the limit of ${limits.maxEntryBytes}`);
  }
  if (e.size > 1024 * 1024 && e.size > e.compressedSize * limits.maxRatio) {
    fail(
      where,
      `compression ratio ${Math.round(e.size / Math.max(1, e.compressedSize))}:1 looks like a zip bomb`,
    );
  }
  const h = e.localOffset;
  if (h + 30 > d.length || d.readUInt32LE(h) !== 0x04034b50) fail(where, 'bad local header');
  const start = h + 30 + d.readUInt16LE(h + 26) + d.readUInt16LE(h + 28);
  if (start + e.compressedSize > d.length) fail(where, 'entry runs past the end (truncated?)');
  const raw = d.subarray(start, start + e.compressedSize);
  let out: Buffer = Buffer.alloc(0);
  if (e.method === 0) out = Buffer.from(raw);
  else if (e.method === 8) {
    try {
      // maxOutputLength stops a directory that lies about the size.
      out = inflateRawSync(raw, { maxOutputLength: Math.max(e.size, 1) });
    } catch (err) {
      fail(where, `cannot inflate: ${(err as Error).message}`);
    }
  } else fail(where, `unsupported compression method ${e.method}`);
  if (out.length !== e.size)
    fail(where, `inflated to ${out.length} bytes, directory says ${e.size}`);
  if (crc32(out) >>> 0 !== e.crc >>> 0) fail(where, 'CRC-32 mismatch: the entry is corrupt');
  return out;
}
