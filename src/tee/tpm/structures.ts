import { createPublicKey, type KeyObject } from 'node:crypto';
import { VouchError } from '../../core/errors.ts';

/**
 * TPM 2.0 structures (TCG TPM 2.0 Library Part 2), big-endian, every read
 * bounded by the buffer: TPMS_ATTEST of a quote, TPMT_SIGNATURE, TPMT_PUBLIC.
 */

export const TPM_GENERATED_VALUE = 0xff544347;
export const TPM_ST_ATTEST_QUOTE = 0x8018;

/** TPM_ALG_ID of hashes → node hash names and sizes. */
export const HASH_ALGS: Readonly<Record<number, { name: string; size: number }>> = {
  4: { name: 'sha1', size: 20 },
  11: { name: 'sha256', size: 32 },
  12: { name: 'sha384', size: 48 },
  13: { name: 'sha512', size: 64 },
};

export function hashAlgId(name: string): number | undefined {
  const e = Object.entries(HASH_ALGS).find(([, v]) => v.name === name.toLowerCase());
  return e ? Number(e[0]) : undefined;
}

export const TPM_ALG_RSASSA = 0x0014;
export const TPM_ALG_RSAPSS = 0x0016;
export const TPM_ALG_ECDSA = 0x0018;
const TPM_ALG_RSA = 0x0001;
const TPM_ALG_ECC = 0x0023;
const CURVES: Readonly<Record<number, { crv: string; size: number }>> = {
  3: { crv: 'P-256', size: 32 },
  4: { crv: 'P-384', size: 48 },
  5: { crv: 'P-521', size: 66 },
};

export interface PcrSelection {
  /** TPM_ALG_ID of the bank. */
  hash: number;
  hashName: string;
  /** Selected PCR indices, ascending. */
  pcrs: number[];
}

export interface TpmQuote {
  qualifiedSigner: Buffer;
  extraData: Buffer;
  clock: bigint;
  resetCount: number;
  restartCount: number;
  safe: boolean;
  firmwareVersion: bigint;
  selections: PcrSelection[];
  pcrDigest: Buffer;
}

export interface TpmSignature {
  alg: number;
  algName: 'rsassa' | 'rsapss' | 'ecdsa';
  hash: number;
  hashName: string;
  /** RSA: the signature; ECDSA: r||s each padded to the same width. */
  r?: Buffer;
  s?: Buffer;
  rsa?: Buffer;
}

class Reader {
  pos = 0;
  private readonly buf: Buffer;
  private readonly what: string;
  constructor(buf: Buffer, what: string) {
    this.buf = buf;
    this.what = what;
  }
  fail(message: string, at = this.pos): never {
    throw new VouchError('TEE_MALFORMED', `${this.what}: ${message}`, { field: `byte ${at}` });
  }
  need(n: number): void {
    if (n > this.buf.length - this.pos)
      this.fail(`truncated: needs ${n} byte(s), ${this.buf.length - this.pos} left`);
  }
  u8(): number {
    this.need(1);
    return this.buf.readUInt8(this.pos++);
  }
  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return Buffer.from(v);
  }
  /** A TPM2B_*: u16 size then that many bytes, size at most `max`. */
  tpm2b(field: string, max: number): Buffer {
    const at = this.pos;
    const n = this.u16();
    if (n > max) this.fail(`${field} is ${n} bytes (at most ${max})`, at);
    return this.bytes(n);
  }
  end(): void {
    if (this.pos !== this.buf.length) this.fail(`${this.buf.length - this.pos} trailing byte(s)`);
  }
}

/**
 * Parses a TPMS_ATTEST that must be a quote (what `tpm2_quote -m` writes).
 * A TPM2B_ATTEST (size-prefixed) is accepted too.
 *
 * @throws VouchError TEE_MALFORMED naming the byte offset
 */
export function parseQuote(input: Buffer): TpmQuote {
  let buf = input;
  if (
    buf.length >= 6 &&
    buf.readUInt16BE(0) === buf.length - 2 &&
    buf.readUInt32BE(2) === TPM_GENERATED_VALUE
  )
    buf = buf.subarray(2);
  const r: Reader = new Reader(buf, 'TPMS_ATTEST');
  const magic = r.u32();
  if (magic !== TPM_GENERATED_VALUE)
    r.fail(`magic 0x${magic.toString(16)}, expected TPM_GENERATED_VALUE 0xff544347`, 0);
  const type = r.u16();
  if (type !== TPM_ST_ATTEST_QUOTE)
    r.fail(`type 0x${type.toString(16)}, expected TPM_ST_ATTEST_QUOTE 0x8018`, 4);
  const qualifiedSigner = r.tpm2b('qualifiedSigner', 2 + 64);
  const extraData = r.tpm2b('extraData', 64);
  const clock = r.u64();
  const resetCount = r.u32();
  const restartCount = r.u32();
  const safeAt = r.pos;
  const safeByte = r.u8();
  if (safeByte > 1) r.fail(`clockInfo.safe is ${safeByte} (0 or 1)`, safeAt);
  const firmwareVersion = r.u64();
  const countAt = r.pos;
  const count = r.u32();
  if (count === 0 || count > 16) r.fail(`TPML_PCR_SELECTION count ${count} (1..16)`, countAt);
  const selections: PcrSelection[] = [];
  for (let i = 0; i < count; i++) {
    const hashAt = r.pos;
    const hash = r.u16();
    const alg = HASH_ALGS[hash];
    if (!alg) r.fail(`unknown PCR bank hash algorithm 0x${hash.toString(16)}`, hashAt);
    const sizeAt = r.pos;
    const size = r.u8();
    if (size < 3 || size > 4) r.fail(`sizeofSelect ${size} (3 or 4)`, sizeAt);
    const bits = r.bytes(size);
    const pcrs: number[] = [];
    for (let b = 0; b < size * 8; b++) if ((bits[b >> 3] as number) & (1 << (b & 7))) pcrs.push(b);
    selections.push({ hash, hashName: alg.name, pcrs });
  }
  const pcrDigest = r.tpm2b('pcrDigest', 64);
  r.end();
  return {
    qualifiedSigner,
    extraData,
    clock,
    resetCount,
    restartCount,
    safe: safeByte === 1,
    firmwareVersion,
    selections,
    pcrDigest,
  };
}

/**
 * Parses a TPMT_SIGNATURE (what `tpm2_quote -s` writes in its default "tss" format).
 *
 * @throws VouchError TEE_MALFORMED
 */
export function parseSignature(buf: Buffer): TpmSignature {
  const r: Reader = new Reader(buf, 'TPMT_SIGNATURE');
  const alg = r.u16();
  const hashAt = r.pos;
  const hash = r.u16();
  const h = HASH_ALGS[hash];
  if (!h) r.fail(`unknown signature hash 0x${hash.toString(16)}`, hashAt);
  let sig: TpmSignature;
  switch (alg) {
    case TPM_ALG_RSASSA:
    case TPM_ALG_RSAPSS:
      sig = {
        alg,
        algName: alg === TPM_ALG_RSASSA ? 'rsassa' : 'rsapss',
        hash,
        hashName: h.name,
        rsa: r.tpm2b('signature', 1024),
      };
      break;
    case TPM_ALG_ECDSA:
      sig = {
        alg,
        algName: 'ecdsa',
        hash,
        hashName: h.name,
        r: r.tpm2b('signatureR', 66),
        s: r.tpm2b('signatureS', 66),
      };
      break;
    default:
      r.fail(
        `signature algorithm 0x${alg.toString(16)} (RSASSA 0x14, RSAPSS 0x16, ECDSA 0x18 are supported)`,
        0,
      );
  }
  r.end();
  return sig;
}

/**
 * The public key of a TPMT_PUBLIC (RSA or ECC), as a Node key.
 * A TPM2B_PUBLIC (size-prefixed) is accepted too.
 *
 * @throws VouchError TEE_MALFORMED
 */
export function publicKeyFromTpmt(input: Buffer): KeyObject {
  let buf = input;
  if (buf.length >= 2 && buf.readUInt16BE(0) === buf.length - 2) buf = buf.subarray(2);
  const r: Reader = new Reader(buf, 'TPMT_PUBLIC');
  const type = r.u16();
  r.u16(); // nameAlg
  r.u32(); // objectAttributes
  r.tpm2b('authPolicy', 64);
  const b64u = (b: Buffer) => b.toString('base64url');
  if (type === TPM_ALG_RSA) {
    const sym = r.u16();
    if (sym !== 0x0010) r.fail('RSA signing keys have no symmetric algorithm');
    const scheme = r.u16();
    if (scheme !== 0x0010) r.u16(); // scheme's hash
    const bits = r.u16();
    const exponent = r.u32() || 65537;
    const n = r.tpm2b('unique.rsa', 512);
    if (n.length * 8 !== bits) r.fail(`modulus is ${n.length * 8} bits, keyBits says ${bits}`);
    const e = Buffer.alloc(4);
    e.writeUInt32BE(exponent);
    return createPublicKey({
      key: { kty: 'RSA', n: b64u(n), e: b64u(e.subarray(e.findIndex((x) => x !== 0))) },
      format: 'jwk',
    });
  }
  if (type === TPM_ALG_ECC) {
    const sym = r.u16();
    if (sym !== 0x0010) r.fail('ECC signing keys have no symmetric algorithm');
    const scheme = r.u16();
    if (scheme !== 0x0010) r.u16();
    const curveId = r.u16();
    const curve = CURVES[curveId];
    if (!curve) r.fail(`unsupported curve 0x${curveId.toString(16)}`);
    const kdf = r.u16();
    if (kdf !== 0x0010) r.u16();
    const x = r.tpm2b('unique.x', 66);
    const y = r.tpm2b('unique.y', 66);
    const pad = (b: Buffer) => Buffer.concat([Buffer.alloc(Math.max(0, curve.size - b.length)), b]);
    return createPublicKey({
      key: { kty: 'EC', crv: curve.crv, x: b64u(pad(x)), y: b64u(pad(y)) },
      format: 'jwk',
    });
  }
  return r.fail(`object type 0x${type.toString(16)} is neither RSA nor ECC`, 0);
}
