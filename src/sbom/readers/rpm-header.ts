import { VouchError } from '../../core/errors.ts';

/**
 * RPM header structure (the "header" of rpm's file format, and each row of
 * the rpmdb): `il` index entries of 16 bytes (tag, type, offset, count) then
 * `dl` bytes of data the entries point into, all big-endian. Every offset and
 * count is checked against the data area before it is read.
 *
 * https://rpm-software-management.github.io/rpm/manual/format_v4.html
 */

export const TAG = {
  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  EPOCH: 1003,
  VENDOR: 1011,
  LICENSE: 1014,
  ARCH: 1022,
  OLDFILENAMES: 1027,
  SOURCERPM: 1044,
  PROVIDENAME: 1047,
  REQUIREFLAGS: 1048,
  REQUIRENAME: 1049,
  DIRINDEXES: 1116,
  BASENAMES: 1117,
  DIRNAMES: 1118,
  MODULARITYLABEL: 5096,
} as const;

const TYPE = {
  NULL: 0,
  CHAR: 1,
  INT8: 2,
  INT16: 3,
  INT32: 4,
  INT64: 5,
  STRING: 6,
  BIN: 7,
  STRING_ARRAY: 8,
  I18NSTRING: 9,
} as const;

/** rpm's own limits (lib/header.c hdrchkTags/hdrchkData). */
const MAX_TAGS = 0xffff;
const MAX_DATA = 256 * 1024 * 1024;
const MAGIC = Buffer.from([0x8e, 0xad, 0xe8, 0x01]);

interface Entry {
  type: number;
  offset: number;
  count: number;
}

export class RpmHeader {
  readonly #data: Buffer;
  readonly #entries = new Map<number, Entry>();
  readonly #where: string;

  /**
   * @param blob a header blob as stored in the rpmdb (no magic), or starting
   *   with the 8-byte header magic as in a .rpm file
   * @throws VouchError LOCKFILE_MALFORMED when any count or offset is out of bounds
   */
  constructor(blob: Uint8Array, where: string) {
    this.#where = where;
    let buf = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
    if (buf.length >= 8 && buf.subarray(0, 4).equals(MAGIC)) buf = buf.subarray(8);
    if (buf.length < 8)
      this.#fail(`header of ${buf.length} bytes is shorter than its 8-byte preamble`);
    const il = buf.readUInt32BE(0);
    const dl = buf.readUInt32BE(4);
    if (il === 0 || il > MAX_TAGS) this.#fail(`header index count ${il} out of range`);
    if (dl > MAX_DATA) this.#fail(`header data length ${dl} out of range`);
    const dataStart = 8 + il * 16;
    if (dataStart + dl > buf.length) {
      this.#fail(`header declares ${dataStart + dl} bytes but has ${buf.length} (truncated)`);
    }
    this.#data = buf.subarray(dataStart, dataStart + dl);
    for (let i = 0; i < il; i++) {
      const at = 8 + i * 16;
      const tag = buf.readUInt32BE(at);
      const type = buf.readUInt32BE(at + 4);
      const offset = buf.readInt32BE(at + 8);
      const count = buf.readUInt32BE(at + 12);
      if (type > TYPE.I18NSTRING) this.#fail(`tag ${tag} has unknown type ${type}`);
      if (offset < 0 || offset > dl) this.#fail(`tag ${tag} offset ${offset} outside data (${dl})`);
      if (!this.#entries.has(tag)) this.#entries.set(tag, { type, offset, count });
    }
    this.#size = this.#data.length;
  }

  readonly #size: number;

  #fail(msg: string): never {
    throw new VouchError('LOCKFILE_MALFORMED', `rpm header: ${msg}`, { file: this.#where });
  }

  has(tag: number): boolean {
    return this.#entries.has(tag);
  }

  string(tag: number): string | undefined {
    const e = this.#entries.get(tag);
    if (!e) return undefined;
    if (e.type !== TYPE.STRING && e.type !== TYPE.I18NSTRING && e.type !== TYPE.STRING_ARRAY) {
      this.#fail(`tag ${tag} is type ${e.type}, not a string`);
    }
    return this.#strings(tag, e, 1)[0];
  }

  strings(tag: number): string[] {
    const e = this.#entries.get(tag);
    if (!e) return [];
    if (e.type !== TYPE.STRING_ARRAY && e.type !== TYPE.STRING && e.type !== TYPE.I18NSTRING) {
      this.#fail(`tag ${tag} is type ${e.type}, not a string array`);
    }
    return this.#strings(tag, e, e.type === TYPE.STRING ? 1 : e.count);
  }

  int32s(tag: number): number[] {
    const e = this.#entries.get(tag);
    if (!e) return [];
    if (e.type !== TYPE.INT32) this.#fail(`tag ${tag} is type ${e.type}, not INT32`);
    if (e.count > (this.#size - e.offset) / 4) this.#fail(`tag ${tag} runs past the data`);
    const out: number[] = [];
    for (let i = 0; i < e.count; i++) out.push(this.#data.readUInt32BE(e.offset + i * 4));
    return out;
  }

  int32(tag: number): number | undefined {
    return this.int32s(tag)[0];
  }

  #strings(tag: number, e: Entry, count: number): string[] {
    if (count > this.#size) this.#fail(`tag ${tag} count ${count} exceeds the data`);
    const out: string[] = [];
    let at = e.offset;
    for (let i = 0; i < count; i++) {
      const end = this.#data.indexOf(0, at);
      if (end < 0) this.#fail(`tag ${tag} string is not NUL-terminated within the data`);
      out.push(this.#data.toString('utf8', at, end));
      at = end + 1;
    }
    return out;
  }

  /** Every file path the package owns (compressed BASENAMES/DIRNAMES, or OLDFILENAMES). */
  files(): string[] {
    const base = this.strings(TAG.BASENAMES);
    if (base.length === 0) return this.strings(TAG.OLDFILENAMES);
    const dirs = this.strings(TAG.DIRNAMES);
    const idx = this.int32s(TAG.DIRINDEXES);
    if (idx.length !== base.length) this.#fail('DIRINDEXES and BASENAMES differ in length');
    return base.map((b, i) => {
      const d = dirs[idx[i] as number];
      if (d === undefined) this.#fail(`DIRINDEXES[${i}] points past DIRNAMES`);
      return d + b;
    });
  }
}

/**
 * Splits a .rpm file into its signature and main headers (lead 96 bytes,
 * signature header padded to 8 bytes, then the main header). For tests and
 * for reading loose .rpm files.
 *
 * @throws VouchError LOCKFILE_MALFORMED
 */
export function rpmFileHeader(file: Uint8Array, where: string): RpmHeader {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  const bad = (m: string): never => {
    throw new VouchError('LOCKFILE_MALFORMED', `rpm file: ${m}`, { file: where });
  };
  if (buf.length < 96 + 16 || buf.readUInt32BE(0) !== 0xedabeedb) bad('no rpm lead');
  const sig = 96;
  if (!buf.subarray(sig, sig + 4).equals(MAGIC)) bad('no signature header magic');
  const sil = buf.readUInt32BE(sig + 8);
  const sdl = buf.readUInt32BE(sig + 12);
  if (sil > MAX_TAGS || sdl > MAX_DATA) bad('signature header out of range');
  let main = sig + 16 + sil * 16 + sdl;
  main += (8 - (main % 8)) % 8;
  if (main + 16 > buf.length || !buf.subarray(main, main + 4).equals(MAGIC)) bad('no main header');
  return new RpmHeader(buf.subarray(main), where);
}
