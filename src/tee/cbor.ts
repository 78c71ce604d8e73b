import { VouchError } from '../core/errors.ts';

/**
 * A small, strict CBOR (RFC 8949) decoder for attestation documents, plus the
 * few encoders COSE needs. Hand-written rather than a dependency because the
 * evidence is hostile: every length is checked against the bytes that remain
 * before anything is allocated, nesting depth and item counts are bounded,
 * indefinite lengths, duplicate map keys and trailing bytes are refused.
 */

/** A tagged item (e.g. tag 18, COSE_Sign1). */
export interface CborTagged {
  readonly tag: number;
  readonly value: CborValue;
}

export type CborValue =
  | number
  | bigint
  | string
  | boolean
  | null
  | undefined
  | Uint8Array
  | CborValue[]
  | Map<CborKey, CborValue>
  | CborTagged;

/** Map keys we accept: integers and text (what COSE and Nitro use). */
export type CborKey = number | string;

export interface CborLimits {
  /** Maximum nesting of arrays, maps and tags. Default 16. */
  maxDepth?: number;
  /** Maximum items in one array or entries in one map. Default 1024. */
  maxItems?: number;
}

const DEFAULTS: Required<CborLimits> = { maxDepth: 16, maxItems: 1024 };

/**
 * Decodes exactly one CBOR item filling `bytes`.
 *
 * @throws VouchError TEE_MALFORMED naming `source` and the byte offset
 */
export function decodeCbor(bytes: Uint8Array, source: string, limits: CborLimits = {}): CborValue {
  const d = new Decoder(bytes, source, { ...DEFAULTS, ...limits });
  const value = d.item(0);
  if (d.pos !== bytes.length) d.fail(`${bytes.length - d.pos} trailing byte(s) after the item`);
  return value;
}

export function isTagged(v: CborValue): v is CborTagged {
  return typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && 'tag' in v;
}

class Decoder {
  pos = 0;
  private readonly bytes: Uint8Array;
  private readonly source: string;
  private readonly limits: Required<CborLimits>;

  constructor(bytes: Uint8Array, source: string, limits: Required<CborLimits>) {
    this.bytes = bytes;
    this.source = source;
    this.limits = limits;
  }

  fail(message: string, at = this.pos): never {
    throw new VouchError('TEE_MALFORMED', `CBOR: ${message}`, {
      file: this.source,
      field: `byte ${at}`,
    });
  }

  private need(n: number): void {
    if (n > this.bytes.length - this.pos)
      this.fail(`truncated: needs ${n} byte(s), ${this.bytes.length - this.pos} left`);
  }

  private u8(): number {
    this.need(1);
    return this.bytes[this.pos++] as number;
  }

  /** The argument of a head; a number when it fits exactly, else a bigint. */
  private argument(info: number, start: number): number | bigint {
    if (info < 24) return info;
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    switch (info) {
      case 24:
        return this.u8();
      case 25: {
        this.need(2);
        const v = view.getUint16(this.pos);
        this.pos += 2;
        return v;
      }
      case 26: {
        this.need(4);
        const v = view.getUint32(this.pos);
        this.pos += 4;
        return v;
      }
      case 27: {
        this.need(8);
        const v = view.getBigUint64(this.pos);
        this.pos += 8;
        return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
      }
      case 31:
        return this.fail('indefinite-length items are not accepted', start);
      default:
        return this.fail(`reserved additional information ${info}`, start);
    }
  }

  /** A length or count: must be a number that fits in what remains. */
  private length(info: number, start: number, what: string, unit: number): number {
    const n = this.argument(info, start);
    if (typeof n === 'bigint' || n * unit > this.bytes.length - this.pos)
      this.fail(
        `${what} of length ${n} is longer than the ${this.bytes.length - this.pos} byte(s) left`,
        start,
      );
    return n;
  }

  item(depth: number): CborValue {
    if (depth > this.limits.maxDepth) this.fail(`nested deeper than ${this.limits.maxDepth}`);
    const start = this.pos;
    const head = this.u8();
    const major = head >> 5;
    const info = head & 0x1f;
    switch (major) {
      case 0:
        return this.argument(info, start);
      case 1: {
        const n = this.argument(info, start);
        return typeof n === 'bigint' ? -1n - n : -1 - n;
      }
      case 2: {
        const n = this.length(info, start, 'byte string', 1);
        const out = this.bytes.subarray(this.pos, this.pos + n);
        this.pos += n;
        return out;
      }
      case 3: {
        const n = this.length(info, start, 'text string', 1);
        const slice = this.bytes.subarray(this.pos, this.pos + n);
        this.pos += n;
        try {
          return new TextDecoder('utf-8', { fatal: true }).decode(slice);
        } catch {
          return this.fail('text string is not valid UTF-8', start);
        }
      }
      case 4: {
        // Every item takes at least one byte, so a count beyond what is left is a lie.
        const n = this.length(info, start, 'array', 1);
        if (n > this.limits.maxItems)
          this.fail(`array of ${n} items (limit ${this.limits.maxItems})`, start);
        const out: CborValue[] = [];
        for (let i = 0; i < n; i++) out.push(this.item(depth + 1));
        return out;
      }
      case 5: {
        const n = this.length(info, start, 'map', 2);
        if (n > this.limits.maxItems)
          this.fail(`map of ${n} entries (limit ${this.limits.maxItems})`, start);
        const out = new Map<CborKey, CborValue>();
        for (let i = 0; i < n; i++) {
          const keyAt = this.pos;
          const key = this.item(depth + 1);
          if (typeof key !== 'number' && typeof key !== 'string')
            this.fail('map key is neither an integer nor a text string', keyAt);
          if (out.has(key)) this.fail(`duplicate map key ${JSON.stringify(key)}`, keyAt);
          out.set(key, this.item(depth + 1));
        }
        return out;
      }
      case 6: {
        const tag = this.argument(info, start);
        if (typeof tag === 'bigint') return this.fail('tag number too large', start);
        return { tag, value: this.item(depth + 1) };
      }
      default:
        return this.simple(info, start);
    }
  }

  private simple(info: number, start: number): CborValue {
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    switch (info) {
      case 20:
        return false;
      case 21:
        return true;
      case 22:
        return null;
      case 23:
        return undefined;
      case 25: {
        this.need(2);
        const v = halfToNumber(view.getUint16(this.pos));
        this.pos += 2;
        return v;
      }
      case 26: {
        this.need(4);
        const v = view.getFloat32(this.pos);
        this.pos += 4;
        return v;
      }
      case 27: {
        this.need(8);
        const v = view.getFloat64(this.pos);
        this.pos += 8;
        return v;
      }
      case 31:
        return this.fail('unexpected "break"', start);
      default:
        return this.fail(`unsupported simple value ${info}`, start);
    }
  }
}

function halfToNumber(h: number): number {
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  const sign = h & 0x8000 ? -1 : 1;
  if (exp === 0) return sign * 2 ** -14 * (mant / 1024);
  if (exp === 31) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + mant / 1024);
}

// --- encoding (definite lengths, shortest heads: what COSE Sig_structure needs) ---

function head(major: number, n: number): Buffer {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
  if (n < 0x10000) {
    const b = Buffer.alloc(3);
    b[0] = (major << 5) | 25;
    b.writeUInt16BE(n, 1);
    return b;
  }
  if (n < 0x100000000) {
    const b = Buffer.alloc(5);
    b[0] = (major << 5) | 26;
    b.writeUInt32BE(n, 1);
    return b;
  }
  const b = Buffer.alloc(9);
  b[0] = (major << 5) | 27;
  b.writeBigUInt64BE(BigInt(n), 1);
  return b;
}

/**
 * Encodes integers, strings, byte strings, arrays, maps (insertion order),
 * tags, booleans and null. Enough to rebuild a COSE Sig_structure and to make
 * test documents.
 */
export function encodeCbor(v: CborValue): Buffer {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Error('encodeCbor: only safe integers');
    return v >= 0 ? head(0, v) : head(1, -1 - v);
  }
  if (typeof v === 'bigint') return encodeCbor(Number(v));
  if (typeof v === 'string') {
    const b = Buffer.from(v, 'utf8');
    return Buffer.concat([head(3, b.length), b]);
  }
  if (v === false) return Buffer.from([0xf4]);
  if (v === true) return Buffer.from([0xf5]);
  if (v === null) return Buffer.from([0xf6]);
  if (v === undefined) return Buffer.from([0xf7]);
  if (v instanceof Uint8Array) return Buffer.concat([head(2, v.length), v]);
  if (Array.isArray(v)) return Buffer.concat([head(4, v.length), ...v.map(encodeCbor)]);
  if (v instanceof Map) {
    const parts: Buffer[] = [head(5, v.size)];
    for (const [k, x] of v) parts.push(encodeCbor(k), encodeCbor(x));
    return Buffer.concat(parts);
  }
  return Buffer.concat([head(6, v.tag), encodeCbor(v.value)]);
}
