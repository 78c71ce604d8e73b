import { crc32 } from 'node:zlib';
import {
  readCentralDirectory,
  readEntryBytes,
  type ZipDirectoryEntry,
  zipBombMessage,
  zipErrors,
} from '../../core/zip.ts';

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

export type ZipEntry = ZipDirectoryEntry;

/** An export is one trust boundary: every problem in it is VULN_DB_CORRUPT, climbing names PATH_ESCAPE. */
const ERRORS = zipErrors('VULN_DB_CORRUPT', 'VULN_DB_CORRUPT');

const fail = (file: string, message: string): never => ERRORS.malformed(message, file);

/**
 * Reads the central directory.
 *
 * @throws VouchError VULN_DB_CORRUPT (not a zip, truncated, lying sizes, too many entries) | PATH_ESCAPE
 */
export function zipEntries(d: Buffer, file: string, limits = DEFAULT_ZIP_LIMITS): ZipEntry[] {
  const out = readCentralDirectory(d, file, limits.maxEntries, ERRORS);
  const declaredTotal = out.reduce((sum, e) => sum + e.size, 0);
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
  const bomb = zipBombMessage(e, limits.maxRatio);
  if (bomb) fail(where, bomb);
  const out = readEntryBytes(d, e, where, ERRORS);
  if (crc32(out) >>> 0 !== e.crc >>> 0) fail(where, 'CRC-32 mismatch: the entry is corrupt');
  return out;
}
