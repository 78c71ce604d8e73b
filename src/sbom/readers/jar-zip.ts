import { VouchError } from '../../core/errors.ts';
import {
  readCentralDirectory,
  readEntryBytes,
  type ZipDirectoryEntry,
  zipBombMessage,
  zipErrors,
} from '../../core/zip.ts';

/**
 * A bounded, read-only zip reader for JAR/WAR/EAR: central directory
 * (ZIP64 too), stored and deflated entries, in memory only — nothing is
 * ever written to disk. Limits stop zip bombs: the entry count, the total
 * bytes inflated across one archive tree, and the compression ratio of any
 * one entry. Entry names that climb out (`../`, absolute) are refused.
 */
export interface ZipLimits {
  maxEntries: number;
  /** Budget of inflated bytes, shared by an archive and everything nested in it. */
  budget: { remaining: number };
  /** Largest uncompressed/compressed ratio accepted for an entry above 1 MiB. */
  maxRatio: number;
}

export const DEFAULT_MAX_ENTRIES = 100_000;
export const DEFAULT_MAX_TOTAL = 1024 * 1024 * 1024;
export const DEFAULT_MAX_RATIO = 200;

export function defaultLimits(): ZipLimits {
  return {
    maxEntries: DEFAULT_MAX_ENTRIES,
    budget: { remaining: DEFAULT_MAX_TOTAL },
    maxRatio: DEFAULT_MAX_RATIO,
  };
}

export type ZipEntry = ZipDirectoryEntry;

/** How this reader reports zip problems: ARCHIVE_* codes, PATH_ESCAPE for climbing names. */
const ERRORS = zipErrors('ARCHIVE_MALFORMED', 'ARCHIVE_TOO_LARGE');

export class ZipArchive {
  readonly entries: ZipEntry[];
  readonly #d: Buffer;
  readonly #file: string;
  readonly #limits: ZipLimits;

  /** @throws VouchError ARCHIVE_MALFORMED | ARCHIVE_TOO_LARGE | PATH_ESCAPE */
  constructor(d: Buffer, file: string, limits: ZipLimits) {
    this.#d = d;
    this.#file = file;
    this.#limits = limits;
    this.entries = readCentralDirectory(d, file, limits.maxEntries, ERRORS);
  }

  /**
   * Inflates one entry within the limits.
   *
   * @throws VouchError ARCHIVE_MALFORMED | ARCHIVE_TOO_LARGE
   */
  read(e: ZipEntry): Buffer {
    const where = `${this.#file}!/${e.name}`;
    if (e.flags & 1) throw new VouchError('ARCHIVE_MALFORMED', 'encrypted entry', { file: where });
    if (e.size > this.#limits.budget.remaining) {
      throw new VouchError(
        'ARCHIVE_TOO_LARGE',
        'inflating this entry would pass the archive size limit',
        {
          file: where,
        },
      );
    }
    const bomb = zipBombMessage(e, this.#limits.maxRatio);
    if (bomb) throw new VouchError('ARCHIVE_TOO_LARGE', bomb, { file: where });
    const out = readEntryBytes(this.#d, e, where, ERRORS);
    this.#limits.budget.remaining -= out.length;
    return out;
  }
}
