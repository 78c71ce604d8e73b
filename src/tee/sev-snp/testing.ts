// Test fixtures (not a test file). SYNTHETIC SEV-SNP material: reports
// written field by field at the ABI offsets and signed with a key generated in
// the test, and an openssl-made stand-in for AMD's PKI (ARK → ASK/ASVK →
// VCEK/VLEK with the KDS extensions) used only through the verifier's
// replaceable trust anchors. Nothing here is AMD's; keys are generated per
// run and never committed.
import { execFileSync } from 'node:child_process';
import { createPrivateKey, type KeyObject, sign } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPORT_SIZE, SIGNED_SIZE } from './report.ts';

export interface SyntheticReport {
  version: number;
  guestSvn?: number;
  /** Guest policy; bit 17 (reserved, must be one) is set for you. */
  policy?: bigint;
  familyId?: Buffer;
  imageId?: Buffer;
  vmpl?: number;
  currentTcb?: bigint;
  platformInfo?: bigint;
  /** SIGNER_INFO bits 0 (AUTHOR_KEY_EN), 1 (MASK_CHIP_KEY), 4:2 (SIGNING_KEY). */
  signerInfo?: number;
  reportData?: Buffer;
  measurement?: Buffer;
  hostData?: Buffer;
  idKeyDigest?: Buffer;
  authorKeyDigest?: Buffer;
  reportId?: Buffer;
  reportIdMa?: Buffer;
  reportedTcb?: bigint;
  cpuid?: { family: number; model: number; stepping: number };
  chipId?: Buffer;
  committedTcb?: bigint;
  /** [major, minor, build] */
  current?: [number, number, number];
  committed?: [number, number, number];
  launchTcb?: bigint;
  launchMitVector?: bigint;
  currentMitVector?: bigint;
}

function put(buf: Buffer, off: number, len: number, v: Buffer | undefined): void {
  if (!v) return;
  if (v.length > len) throw new Error(`field at 0x${off.toString(16)} is ${len} bytes`);
  v.copy(buf, off);
}

/** The 0x4A0-byte report, unsigned (signature area zero). */
export function buildReport(r: SyntheticReport): Buffer {
  const b = Buffer.alloc(REPORT_SIZE);
  b.writeUInt32LE(r.version, 0x00);
  b.writeUInt32LE(r.guestSvn ?? 0, 0x04);
  b.writeBigUInt64LE((r.policy ?? 0n) | (1n << 17n), 0x08);
  put(b, 0x10, 16, r.familyId);
  put(b, 0x20, 16, r.imageId);
  b.writeUInt32LE(r.vmpl ?? 0, 0x30);
  b.writeUInt32LE(1, 0x34);
  b.writeBigUInt64LE(r.currentTcb ?? 0n, 0x38);
  b.writeBigUInt64LE(r.platformInfo ?? 0n, 0x40);
  b.writeUInt32LE(r.signerInfo ?? 0, 0x48);
  put(b, 0x50, 64, r.reportData);
  put(b, 0x90, 48, r.measurement);
  put(b, 0xc0, 32, r.hostData);
  put(b, 0xe0, 48, r.idKeyDigest);
  put(b, 0x110, 48, r.authorKeyDigest);
  put(b, 0x140, 32, r.reportId);
  put(b, 0x160, 32, r.reportIdMa);
  b.writeBigUInt64LE(r.reportedTcb ?? 0n, 0x180);
  if (r.cpuid) {
    b[0x188] = r.cpuid.family;
    b[0x189] = r.cpuid.model;
    b[0x18a] = r.cpuid.stepping;
  }
  put(b, 0x1a0, 64, r.chipId);
  b.writeBigUInt64LE(r.committedTcb ?? 0n, 0x1e0);
  const [cM, cm, cb] = r.current ?? [0, 0, 0];
  b[0x1e8] = cb;
  b[0x1e9] = cm;
  b[0x1ea] = cM;
  const [kM, km, kb] = r.committed ?? [0, 0, 0];
  b[0x1ec] = kb;
  b[0x1ed] = km;
  b[0x1ee] = kM;
  b.writeBigUInt64LE(r.launchTcb ?? 0n, 0x1f0);
  if (r.launchMitVector !== undefined) b.writeBigUInt64LE(r.launchMitVector, 0x1f8);
  if (r.currentMitVector !== undefined) b.writeBigUInt64LE(r.currentMitVector, 0x200);
  return b;
}

/** Sign bytes [0, 0x2A0) with an ECDSA P-384 key; r and s little-endian in 72-byte slots. */
export function signReport(report: Buffer, key: KeyObject): Buffer {
  const out = Buffer.from(report);
  out.fill(0, SIGNED_SIZE);
  const sig = sign('sha384', out.subarray(0, SIGNED_SIZE), { key, dsaEncoding: 'ieee-p1363' });
  Buffer.from(sig.subarray(0, 48)).reverse().copy(out, SIGNED_SIZE);
  Buffer.from(sig.subarray(48, 96))
    .reverse()
    .copy(out, SIGNED_SIZE + 72);
  return out;
}

/** TCB_VERSION from bytes 0..7 (little-endian). */
export function tcbFromBytes(bytes: readonly number[]): bigint {
  let v = 0n;
  for (const [i, x] of bytes.entries()) v |= BigInt(x) << BigInt(8 * i);
  return v;
}

// --- a synthetic AMD-shaped PKI made with the openssl command line --------

const SUBJ = '/OU=Engineering/C=US/L=Santa Clara/ST=CA/O=Synthetic Test/CN=';

function openssl(cwd: string, args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function newKey(cwd: string, name: string): void {
  openssl(cwd, ['ecparam', '-name', 'secp384r1', '-genkey', '-noout', '-out', `${name}.key`]);
}

let serial = 1;

/** Issue `cn` (key `name`.key) by `issuer` with the given extension lines; writes `name`.pem. */
function issue(
  cwd: string,
  name: string,
  cn: string,
  issuer: string | undefined,
  ext: string[],
): Buffer {
  newKey(cwd, name);
  writeFileSync(join(cwd, `${name}.ext`), `[e]\n${ext.join('\n')}\n`);
  if (!issuer) {
    openssl(cwd, [
      'req',
      '-x509',
      '-new',
      '-key',
      `${name}.key`,
      '-subj',
      `${SUBJ}${cn}`,
      '-sha384',
      '-days',
      '3650',
      '-set_serial',
      String(serial++),
      '-addext',
      'basicConstraints=critical,CA:true',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-out',
      `${name}.pem`,
    ]);
  } else {
    openssl(cwd, [
      'req',
      '-new',
      '-key',
      `${name}.key`,
      '-subj',
      `${SUBJ}${cn}`,
      '-out',
      `${name}.csr`,
    ]);
    openssl(cwd, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${issuer}.pem`,
      '-CAkey',
      `${issuer}.key`,
      '-set_serial',
      String(serial++),
      '-days',
      '3650',
      '-sha384',
      '-extfile',
      `${name}.ext`,
      '-extensions',
      'e',
      '-out',
      `${name}.pem`,
    ]);
  }
  return readFileSync(join(cwd, `${name}.pem`));
}

export interface LeafSpec {
  /** 'vcek' → CN=SEV-VCEK, 'vlek' → CN=SEV-VLEK. */
  kind: 'vcek' | 'vlek';
  /** Product name extension, e.g. "Turin" or "Milan-B0". */
  productName: string;
  tcb: { bootloader: number; tee: number; snp: number; microcode: number; fmc?: number };
  /** VCEK hwID (raw bytes). */
  hwId?: Buffer;
  /** VLEK CSP id. */
  cspId?: string;
}

function derInt(n: number): string {
  if (n < 0 || n > 255) throw new Error('SPL out of range');
  return n >= 0x80
    ? `DER:02:02:00:${n.toString(16).padStart(2, '0')}`
    : `DER:02:01:${n.toString(16).padStart(2, '0')}`;
}

function derIa5(s: string): string {
  const bytes = Buffer.concat([Buffer.from([0x16, s.length]), Buffer.from(s, 'latin1')]);
  return `DER:${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
}

export interface TestPki {
  dir: string;
  /** The synthetic ARK-<product> (PEM), to pass as `roots`. */
  ark: Buffer;
  /** The synthetic SEV-<product> (ASK) and SEV-VLEK-<product> (ASVK), PEM. */
  ask: Buffer;
  asvk: Buffer;
  /** Issue a leaf under the ASK ('ask') or ASVK ('asvk'): its PEM and private key. */
  leaf(name: string, spec: LeafSpec, issuer: 'ask' | 'asvk'): { cert: Buffer; key: KeyObject };
}

/** A synthetic ARK/ASK/ASVK for `product`, all ECDSA P-384 (AMD's are RSA-4096 PSS; the chain logic is the same). */
export function makeTestPki(dir: string, product: string): TestPki {
  mkdirSync(dir, { recursive: true });
  const ca = ['basicConstraints=critical,CA:true', 'keyUsage=critical,keyCertSign,cRLSign'];
  const ark = issue(dir, 'ark', `ARK-${product}`, undefined, ca);
  const ask = issue(dir, 'ask', `SEV-${product}`, 'ark', ca);
  const asvk = issue(dir, 'asvk', `SEV-VLEK-${product}`, 'ark', ca);
  return {
    dir,
    ark,
    ask,
    asvk,
    leaf(name, spec, issuer) {
      const a = '1.3.6.1.4.1.3704.1';
      const ext = [
        'basicConstraints=critical,CA:false',
        `${a}.1=DER:02:01:01`,
        `${a}.2=${derIa5(spec.productName)}`,
        `${a}.3.1=${derInt(spec.tcb.bootloader)}`,
        `${a}.3.2=${derInt(spec.tcb.tee)}`,
        `${a}.3.3=${derInt(spec.tcb.snp)}`,
        `${a}.3.8=${derInt(spec.tcb.microcode)}`,
      ];
      if (spec.tcb.fmc !== undefined) ext.push(`${a}.3.9=${derInt(spec.tcb.fmc)}`);
      if (spec.hwId)
        ext.push(
          `${a}.4=DER:${[...spec.hwId].map((b) => b.toString(16).padStart(2, '0')).join(':')}`,
        );
      if (spec.cspId) ext.push(`${a}.5=${derIa5(spec.cspId)}`);
      const cert = issue(dir, name, spec.kind === 'vcek' ? 'SEV-VCEK' : 'SEV-VLEK', issuer, ext);
      const key = createPrivateKey(readFileSync(join(dir, `${name}.key`)));
      return { cert, key };
    },
  };
}
