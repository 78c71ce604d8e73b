import { inflateRawSync } from 'node:zlib';
import { VouchError } from '../../core/errors.ts';

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

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  compressedSize: number;
  size: number;
  localOffset: number;
  /** MS-DOS date (high 16 bits) and time (low 16 bits) from the central directory. */
  dosDateTime?: number;
  /** External attributes: Unix mode in the high 16 bits when made on Unix. */
  externalAttributes?: number;
  /** The central directory's extra field (extended timestamps, Unix uid/gid…), raw. */
  extra?: Buffer;
  /** Byte offset of this entry's central directory record: its order in the archive. */
  centralOffset?: number;
}

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
    this.entries = this.#centralDirectory();
  }

  #fail(msg: string): never {
    throw new VouchError('ARCHIVE_MALFORMED', msg, { file: this.#file });
  }

  #centralDirectory(): ZipEntry[] {
    const d = this.#d;
    let eocd = -1;
    for (let p = d.length - 22; p >= Math.max(0, d.length - 22 - 0xffff); p--) {
      if (d.readUInt32LE(p) === 0x06054b50) {
        eocd = p;
        break;
      }
    }
    if (eocd < 0) this.#fail('not a zip archive (no end of central directory record)');
    let count = d.readUInt16LE(eocd + 10);
    let cdSize = d.readUInt32LE(eocd + 12);
    let cdOffset = d.readUInt32LE(eocd + 16);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const loc = eocd - 20;
      if (loc < 0 || d.readUInt32LE(loc) !== 0x07064b50)
        this.#fail('ZIP64 sizes without a ZIP64 locator');
      const z = Number(d.readBigUInt64LE(loc + 8));
      if (z + 56 > d.length || d.readUInt32LE(z) !== 0x06064b50) this.#fail('bad ZIP64 end record');
      count = Number(d.readBigUInt64LE(z + 32));
      cdSize = Number(d.readBigUInt64LE(z + 40));
      cdOffset = Number(d.readBigUInt64LE(z + 48));
    }
    if (count > this.#limits.maxEntries) {
      throw new VouchError(
        'ARCHIVE_TOO_LARGE',
        `${count} entries, more than the limit of ${this.#limits.maxEntries}`,
        {
          file: this.#file,
        },
      );
    }
    if (cdOffset + cdSize > d.length) this.#fail('central directory runs past the end of the file');
    const out: ZipEntry[] = [];
    let p = cdOffset;
    for (let i = 0; i < count; i++) {
      if (p + 46 > d.length || d.readUInt32LE(p) !== 0x02014b50)
        this.#fail(`bad central directory entry ${i}`);
      const flags = d.readUInt16LE(p + 8);
      const method = d.readUInt16LE(p + 10);
      let compressedSize = d.readUInt32LE(p + 20);
      let size = d.readUInt32LE(p + 24);
      const nameLen = d.readUInt16LE(p + 28);
      const extraLen = d.readUInt16LE(p + 30);
      const commentLen = d.readUInt16LE(p + 32);
      let localOffset = d.readUInt32LE(p + 42);
      if (p + 46 + nameLen + extraLen + commentLen > d.length)
        this.#fail(`entry ${i} runs past the end`);
      const name = d.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen);
      // ZIP64 extra field: the 0xffffffff fields, in order size, compressed size, offset.
      for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen; ) {
        const id = d.readUInt16LE(e);
        const len = d.readUInt16LE(e + 2);
        if (id === 0x0001) {
          let q = e + 4;
          const next = () => {
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
      if (name.startsWith('/') || /^[A-Za-z]:/.test(name) || name.split(/[/\\]/).includes('..')) {
        throw new VouchError(
          'PATH_ESCAPE',
          `zip entry name ${JSON.stringify(name)} climbs out of the archive`,
          {
            file: this.#file,
          },
        );
      }
      out.push({
        name,
        method,
        flags,
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
   * Inflates one entry within the limits.
   *
   * @throws VouchError ARCHIVE_MALFORMED | ARCHIVE_TOO_LARGE
   */
  read(e: ZipEntry): Buffer {
    const d = this.#d;
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
    if (e.size > 1024 * 1024 && e.size > e.compressedSize * this.#limits.maxRatio) {
      throw new VouchError(
        'ARCHIVE_TOO_LARGE',
        `compression ratio ${Math.round(e.size / Math.max(1, e.compressedSize))}:1 looks like a zip bomb`,
        { file: where },
      );
    }
    const h = e.localOffset;
    if (h + 30 > d.length || d.readUInt32LE(h) !== 0x04034b50)
      this.#fail(`bad local header for ${e.name}`);
    const start = h + 30 + d.readUInt16LE(h + 26) + d.readUInt16LE(h + 28);
    if (start + e.compressedSize > d.length) this.#fail(`${e.name} runs past the end of the file`);
    const raw = d.subarray(start, start + e.compressedSize);
    let out: Buffer;
    if (e.method === 0) out = Buffer.from(raw);
    else if (e.method === 8) {
      try {
        // maxOutputLength guards against a central directory that lies about the size.
        out = inflateRawSync(raw, { maxOutputLength: Math.max(e.size, 1) });
      } catch (err) {
        throw new VouchError('ARCHIVE_MALFORMED', `cannot inflate: ${(err as Error).message}`, {
          file: where,
          cause: err,
        });
      }
    } else
      throw new VouchError('ARCHIVE_MALFORMED', `compression method ${e.method}`, { file: where });
    if (out.length !== e.size) {
      throw new VouchError(
        'ARCHIVE_MALFORMED',
        `inflated to ${out.length} bytes, directory says ${e.size}`,
        {
          file: where,
        },
      );
    }
    this.#limits.budget.remaining -= out.length;
    return out;
  }
}
