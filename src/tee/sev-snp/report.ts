/**
 * AMD SEV-SNP ATTESTATION_REPORT parser (SEV Secure Nested Paging Firmware
 * ABI Specification, AMD 56860, table "ATTESTATION_REPORT Structure").
 * Report versions 2 (firmware 1.51), 3 and 4 (CPUID family/model/stepping at
 * 0x188–0x18A; 4 has version 3's layout) and 5 (LAUNCH_MIT_VECTOR at 0x1F8,
 * CURRENT_MIT_VECTOR at 0x200) share one 0x4A0-byte layout; any other
 * version is an error, never a guess. (Reserved bytes a version does not
 * define must be zero: a v2 report with a CPUID, or a v3 report with a
 * mitigation vector, does not parse.)
 *
 * The three TCB_VERSION fields and CHIP_ID are product-dependent (Turin moved
 * the TCB fields and added FMC; its CHIP_ID is 8 bytes); they are kept raw
 * here and decoded with the product (decodeTcb, chipIdShape).
 *
 * Every read is bounds-checked against the fixed size first; reserved
 * (must-be-zero) ranges are checked as the reference implementations do.
 */
import { VouchError } from '../../core/errors.ts';

export const REPORT_SIZE = 0x4a0;
export const SIGNED_SIZE = 0x2a0;
export const SUPPORTED_VERSIONS: readonly number[] = [2, 3, 4, 5];
/** SIGNATURE_ALGO 1: ECDSA P-384 with SHA-384. */
export const SIG_ALGO_ECDSA_P384_SHA384 = 1;

export type SigningKeyKind = 'vcek' | 'vlek' | 'none';

export interface GuestPolicy {
  raw: bigint;
  abiMinor: number;
  abiMajor: number;
  smt: boolean;
  migrateMa: boolean;
  debug: boolean;
  singleSocket: boolean;
  cxlAllow: boolean;
  memAes256Xts: boolean;
  raplDis: boolean;
  ciphertextHiding: boolean;
  pageSwapDisable: boolean;
}

export interface SnpReport {
  version: number;
  guestSvn: number;
  policy: GuestPolicy;
  familyId: Buffer;
  imageId: Buffer;
  vmpl: number;
  signatureAlgo: number;
  currentTcb: bigint;
  platformInfo: bigint;
  authorKeyEn: boolean;
  maskChipKey: boolean;
  signingKey: SigningKeyKind;
  reportData: Buffer;
  measurement: Buffer;
  hostData: Buffer;
  idKeyDigest: Buffer;
  authorKeyDigest: Buffer;
  reportId: Buffer;
  reportIdMa: Buffer;
  reportedTcb: bigint;
  /** CPUID family/model/stepping (version ≥ 3). */
  cpuid?: { family: number; model: number; stepping: number };
  chipId: Buffer;
  committedTcb: bigint;
  currentVersion: string;
  committedVersion: string;
  launchTcb: bigint;
  /** Version ≥ 5. */
  launchMitVector?: bigint;
  currentMitVector?: bigint;
  /** The bytes the signature covers: [0, 0x2A0). */
  signed: Buffer;
  /** r and s, big-endian, 48 bytes each. */
  signatureR: Buffer;
  signatureS: Buffer;
}

function malformed(message: string, offset: number, field: string, file?: string): VouchError {
  return new VouchError(
    'TEE_MALFORMED',
    `SEV-SNP report: ${message} (offset 0x${offset.toString(16)})`,
    {
      file,
      field,
    },
  );
}

function mbz(buf: Buffer, lo: number, hi: number, field: string, file?: string): void {
  for (let i = lo; i < hi; i++) {
    if (buf[i] !== 0)
      throw malformed(
        `reserved bytes 0x${lo.toString(16)}–0x${hi.toString(16)} must be zero`,
        i,
        field,
        file,
      );
  }
}

/** Whether the bytes look like an SEV-SNP report (size, version, signature algorithm). Never throws. */
export function looksLikeSnpReport(buf: Buffer): boolean {
  if (buf.length !== REPORT_SIZE) return false;
  return (
    SUPPORTED_VERSIONS.includes(buf.readUInt32LE(0)) &&
    buf.readUInt32LE(0x34) === SIG_ALGO_ECDSA_P384_SHA384
  );
}

/** The 72-byte little-endian ECDSA component → 48-byte big-endian; the high 24 bytes must be zero. */
function component(buf: Buffer, off: number, field: string, file?: string): Buffer {
  const le = buf.subarray(off, off + 72);
  for (let i = 48; i < 72; i++) {
    if (le[i] !== 0)
      throw malformed('signature component wider than 384 bits', off + i, field, file);
  }
  return Buffer.from(le.subarray(0, 48)).reverse();
}

/** @throws VouchError TEE_MALFORMED naming the field and offset. */
export function parseSnpReport(buf: Buffer, file?: string): SnpReport {
  if (buf.length < REPORT_SIZE) {
    throw malformed(
      `truncated: ${buf.length} bytes, a report is ${REPORT_SIZE}`,
      buf.length,
      'length',
      file,
    );
  }
  if (buf.length > REPORT_SIZE) {
    throw malformed(
      `oversized: ${buf.length} bytes, a report is ${REPORT_SIZE}`,
      REPORT_SIZE,
      'length',
      file,
    );
  }
  const version = buf.readUInt32LE(0);
  if (!SUPPORTED_VERSIONS.includes(version)) {
    throw malformed(
      `unknown report version ${version} (supported: ${SUPPORTED_VERSIONS.join(', ')})`,
      0,
      'version',
      file,
    );
  }
  const policyRaw = buf.readBigUInt64LE(0x08);
  if (!(policyRaw & (1n << 17n)))
    throw malformed('guest policy bit 17 is reserved and must be 1', 0x08, 'policy', file);
  if (policyRaw >> 26n !== 0n)
    throw malformed('guest policy bits 26–63 are reserved and must be 0', 0x08, 'policy', file);
  const bit = (n: bigint) => (policyRaw & (1n << n)) !== 0n;
  const signatureAlgo = buf.readUInt32LE(0x34);
  if (signatureAlgo !== SIG_ALGO_ECDSA_P384_SHA384) {
    throw malformed(
      `unknown signature algorithm ${signatureAlgo} (1 = ECDSA P-384 SHA-384)`,
      0x34,
      'signature_algo',
      file,
    );
  }
  const signerInfo = buf.readUInt32LE(0x48);
  if (signerInfo >>> 5 !== 0)
    throw malformed('signer info bits 5–31 are reserved', 0x48, 'signer_info', file);
  const keySel = (signerInfo >>> 2) & 7;
  let signingKey: SigningKeyKind;
  if (keySel === 0) signingKey = 'vcek';
  else if (keySel === 1) signingKey = 'vlek';
  else if (keySel === 7) signingKey = 'none';
  else throw malformed(`SIGNING_KEY ${keySel} is reserved`, 0x48, 'signer_info.signing_key', file);
  mbz(buf, 0x4c, 0x50, 'reserved', file);
  let cpuid: SnpReport['cpuid'];
  if (version >= 3) {
    cpuid = {
      family: buf[0x188] as number,
      model: buf[0x189] as number,
      stepping: buf[0x18a] as number,
    };
    mbz(buf, 0x18b, 0x1a0, 'reserved', file);
  } else {
    mbz(buf, 0x188, 0x1a0, 'reserved', file);
  }
  mbz(buf, 0x1eb, 0x1ec, 'reserved', file);
  mbz(buf, 0x1ef, 0x1f0, 'reserved', file);
  mbz(buf, version >= 5 ? 0x208 : 0x1f8, SIGNED_SIZE, 'reserved', file);
  mbz(buf, SIGNED_SIZE + 144, REPORT_SIZE, 'signature.reserved', file);
  const ver = (o: number) => `${buf[o + 2]}.${buf[o + 1]}.${buf[o]}`;
  const report: SnpReport = {
    version,
    guestSvn: buf.readUInt32LE(0x04),
    policy: {
      raw: policyRaw,
      abiMinor: Number(policyRaw & 0xffn),
      abiMajor: Number((policyRaw >> 8n) & 0xffn),
      smt: bit(16n),
      migrateMa: bit(18n),
      debug: bit(19n),
      singleSocket: bit(20n),
      cxlAllow: bit(21n),
      memAes256Xts: bit(22n),
      raplDis: bit(23n),
      ciphertextHiding: bit(24n),
      pageSwapDisable: bit(25n),
    },
    familyId: buf.subarray(0x10, 0x20),
    imageId: buf.subarray(0x20, 0x30),
    vmpl: buf.readUInt32LE(0x30),
    signatureAlgo,
    currentTcb: buf.readBigUInt64LE(0x38),
    platformInfo: buf.readBigUInt64LE(0x40),
    authorKeyEn: (signerInfo & 1) !== 0,
    maskChipKey: (signerInfo & 2) !== 0,
    signingKey,
    reportData: buf.subarray(0x50, 0x90),
    measurement: buf.subarray(0x90, 0xc0),
    hostData: buf.subarray(0xc0, 0xe0),
    idKeyDigest: buf.subarray(0xe0, 0x110),
    authorKeyDigest: buf.subarray(0x110, 0x140),
    reportId: buf.subarray(0x140, 0x160),
    reportIdMa: buf.subarray(0x160, 0x180),
    reportedTcb: buf.readBigUInt64LE(0x180),
    chipId: buf.subarray(0x1a0, 0x1e0),
    committedTcb: buf.readBigUInt64LE(0x1e0),
    currentVersion: ver(0x1e8),
    committedVersion: ver(0x1ec),
    launchTcb: buf.readBigUInt64LE(0x1f0),
    signed: buf.subarray(0, SIGNED_SIZE),
    signatureR: component(buf, SIGNED_SIZE, 'signature.r', file),
    signatureS: component(buf, SIGNED_SIZE + 72, 'signature.s', file),
  };
  if (cpuid) report.cpuid = cpuid;
  if (version >= 5) {
    report.launchMitVector = buf.readBigUInt64LE(0x1f8);
    report.currentMitVector = buf.readBigUInt64LE(0x200);
  }
  return report;
}

export type SnpProduct = 'Milan' | 'Genoa' | 'Turin';

/**
 * Product from the report's CPUID_FAM_ID / CPUID_MOD_ID (version ≥ 3): the
 * combined (base + extended) family and model. Family 19h: models 00h–0Fh
 * Milan, 10h–1Fh and A0h–AFh Genoa (Genoa, Bergamo, Siena: one ARK-Genoa).
 * Family 1Ah: models 00h–1Fh Turin (Turin, Turin dense). Anything else
 * (Venice, client parts, a zeroed CPUID) is undefined: an unknown product is
 * never guessed.
 */
export function productFromCpuid(cpuid: { family: number; model: number }): SnpProduct | undefined {
  const { family, model } = cpuid;
  if (family === 0x19 && model <= 0x0f) return 'Milan';
  if (family === 0x19 && ((model >= 0x10 && model <= 0x1f) || (model >= 0xa0 && model <= 0xaf)))
    return 'Genoa';
  if (family === 0x1a && model <= 0x1f) return 'Turin';
  return undefined;
}

export interface TcbParts {
  /** Turin only: FMC (first mutable code) SVN. */
  fmc?: number;
  bootloader: number;
  tee: number;
  snp: number;
  microcode: number;
}

/**
 * Decode a 64-bit TCB_VERSION (little-endian bytes 0..7).
 * Milan, Genoa: BOOT_LOADER 0, TEE 1, reserved 2–5, SNP 6, MICROCODE 7.
 * Turin: FMC 0, BOOT_LOADER 1, TEE 2, SNP 3, reserved 4–6, MICROCODE 7.
 */
export function decodeTcb(tcb: bigint, product: SnpProduct): TcbParts {
  const byte = (i: number) => Number((tcb >> BigInt(8 * i)) & 0xffn);
  if (product === 'Turin') {
    return { fmc: byte(0), bootloader: byte(1), tee: byte(2), snp: byte(3), microcode: byte(7) };
  }
  return { bootloader: byte(0), tee: byte(1), snp: byte(6), microcode: byte(7) };
}

/** Byte positions of a TCB_VERSION that are reserved for the product (must be zero). */
export function tcbReservedBytes(product: SnpProduct): readonly number[] {
  return product === 'Turin' ? [4, 5, 6] : [2, 3, 4, 5];
}

/** The reserved TCB_VERSION bytes that are not zero, as "byte N = 0xXX" strings. */
export function tcbReservedNonZero(tcb: bigint, product: SnpProduct): string[] {
  const out: string[] = [];
  for (const i of tcbReservedBytes(product)) {
    const b = Number((tcb >> BigInt(8 * i)) & 0xffn);
    if (b !== 0) out.push(`byte ${i} = 0x${b.toString(16).padStart(2, '0')}`);
  }
  return out;
}

/**
 * CHIP_ID length rules. The field is 64 bytes. Milan and Genoa fill all 64
 * bytes (and the VCEK hwID extension is those 64 bytes); Turin's chip ID is 8
 * bytes, the other 56 are zero (and the Turin VCEK hwID is 8 bytes). With
 * MASK_CHIP_KEY set, all 64 bytes are zero.
 */
export const CHIP_ID_LENGTH: Readonly<Record<SnpProduct, number>> = {
  Milan: 64,
  Genoa: 64,
  Turin: 8,
};

export type ChipIdShape = 'zero' | 'turin' | 'full';

/** 'zero' (masked), 'turin' (8 bytes then 56 zero bytes) or 'full'. */
export function chipIdShape(chipId: Buffer): ChipIdShape {
  if (chipId.every((b) => b === 0)) return 'zero';
  if (chipId.subarray(8).every((b) => b === 0)) return 'turin';
  return 'full';
}

export interface PlatformInfo {
  raw: bigint;
  smtEnabled: boolean;
  tsmeEnabled: boolean;
  eccEnabled: boolean;
  raplDisabled: boolean;
  ciphertextHidingEnabled: boolean;
  aliasCheckComplete: boolean;
  tioEnabled: boolean;
}

/** PLATFORM_INFO (offset 0x40) bits 0–5 and 7. */
export function decodePlatformInfo(raw: bigint): PlatformInfo {
  const bit = (n: bigint) => (raw & (1n << n)) !== 0n;
  return {
    raw,
    smtEnabled: bit(0n),
    tsmeEnabled: bit(1n),
    eccEnabled: bit(2n),
    raplDisabled: bit(3n),
    ciphertextHidingEnabled: bit(4n),
    aliasCheckComplete: bit(5n),
    tioEnabled: bit(7n),
  };
}
