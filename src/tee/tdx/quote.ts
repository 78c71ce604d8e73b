/**
 * Intel TDX quote parser: quote format v4 (TDX 1.0) and v5 (TDX 1.0/1.5 body
 * descriptor), ECDSA-256-with-P-256 attestation key, QE report certification
 * data (type 6) wrapping the PCK certificate chain (type 5). Layouts from
 * Intel's "TDX DCAP Quote Generation Library and Quote Verification Library"
 * (A.3 "Version 4 Quote Format", A.4 "Version 5").
 *
 * A cursor reads every field; it never reads past the buffer and names the
 * field and offset of the first thing that does not fit.
 */
import { VouchError } from '../../core/errors.ts';

export const MAX_QUOTE_BYTES = 64 * 1024;
const HEADER_SIZE = 48;
const TD10_BODY_SIZE = 584;
const TD15_BODY_SIZE = 648;
const TEE_TYPE_TDX = 0x81;
const ATT_KEY_ECDSA_P256 = 2;
const QE_REPORT_SIZE = 384;
export const CERT_TYPE_PCK_CHAIN = 5;
export const CERT_TYPE_QE_REPORT = 6;

export interface TdReportBody {
  teeTcbSvn: Buffer;
  mrSeam: Buffer;
  mrSignerSeam: Buffer;
  seamAttributes: Buffer;
  tdAttributes: Buffer;
  xfam: Buffer;
  mrTd: Buffer;
  mrConfigId: Buffer;
  mrOwner: Buffer;
  mrOwnerConfig: Buffer;
  rtmrs: Buffer[];
  reportData: Buffer;
  /** TDX 1.5 bodies only. */
  teeTcbSvn2?: Buffer;
  mrServiceTd?: Buffer;
}

export interface QeReport {
  raw: Buffer;
  cpuSvn: Buffer;
  miscSelect: number;
  attributes: Buffer;
  mrEnclave: Buffer;
  mrSigner: Buffer;
  isvProdId: number;
  isvSvn: number;
  reportData: Buffer;
}

export interface TdxQuote {
  version: 4 | 5;
  /** v5 body type: 2 = TDX 1.0, 3 = TDX 1.5; v4 quotes are 2. */
  bodyType: number;
  qeSvn: number;
  pceSvn: number;
  qeVendorId: Buffer;
  userData: Buffer;
  body: TdReportBody;
  /** Header and body: what the attestation key signs. */
  signed: Buffer;
  /** r || s, 64 bytes. */
  signature: Buffer;
  /** x || y of the P-256 attestation key, 64 bytes. */
  attestationKey: Buffer;
  qeReport: QeReport;
  qeReportSignature: Buffer;
  qeAuthData: Buffer;
  /** The PEM certificate chain (leaf first) from certification data type 5. */
  pckChainPem: Buffer;
  /** Bytes after the signature data, covered by no signature (ignored). */
  trailing: number;
}

class Cursor {
  off = 0;
  readonly buf: Buffer;
  readonly file: string | undefined;
  constructor(buf: Buffer, file: string | undefined) {
    this.buf = buf;
    this.file = file;
  }
  need(n: number, field: string, end = this.buf.length): void {
    if (n < 0 || this.off + n > end) {
      throw malformed(
        `truncated: ${field} needs ${n} bytes, ${Math.max(0, end - this.off)} left`,
        this.off,
        field,
        this.file,
      );
    }
  }
  bytes(n: number, field: string, end?: number): Buffer {
    this.need(n, field, end);
    const b = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return b;
  }
  u16(field: string, end?: number): number {
    this.need(2, field, end);
    const v = this.buf.readUInt16LE(this.off);
    this.off += 2;
    return v;
  }
  u32(field: string, end?: number): number {
    this.need(4, field, end);
    const v = this.buf.readUInt32LE(this.off);
    this.off += 4;
    return v;
  }
}

function malformed(message: string, offset: number, field: string, file?: string): VouchError {
  return new VouchError('TEE_MALFORMED', `TDX quote: ${message} (offset ${offset})`, {
    file,
    field,
  });
}

/** Whether the bytes look like a TDX quote (version, key type, TEE type). Never throws. */
export function looksLikeTdxQuote(buf: Buffer): boolean {
  if (buf.length < HEADER_SIZE + TD10_BODY_SIZE) return false;
  const v = buf.readUInt16LE(0);
  return (
    (v === 4 || v === 5) &&
    buf.readUInt16LE(2) === ATT_KEY_ECDSA_P256 &&
    buf.readUInt32LE(4) === TEE_TYPE_TDX
  );
}

function parseBody(c: Cursor, type: number): TdReportBody {
  const b = (n: number, f: string) => c.bytes(n, `body.${f}`);
  const body: TdReportBody = {
    teeTcbSvn: b(16, 'tee_tcb_svn'),
    mrSeam: b(48, 'mrseam'),
    mrSignerSeam: b(48, 'mrsignerseam'),
    seamAttributes: b(8, 'seam_attributes'),
    tdAttributes: b(8, 'td_attributes'),
    xfam: b(8, 'xfam'),
    mrTd: b(48, 'mrtd'),
    mrConfigId: b(48, 'mrconfigid'),
    mrOwner: b(48, 'mrowner'),
    mrOwnerConfig: b(48, 'mrownerconfig'),
    rtmrs: [b(48, 'rtmr0'), b(48, 'rtmr1'), b(48, 'rtmr2'), b(48, 'rtmr3')],
    reportData: b(64, 'report_data'),
  };
  if (type === 3) {
    body.teeTcbSvn2 = b(16, 'tee_tcb_svn2');
    body.mrServiceTd = b(48, 'mrservicetd');
  }
  return body;
}

function parseQeReport(raw: Buffer): QeReport {
  return {
    raw,
    cpuSvn: raw.subarray(0, 16),
    miscSelect: raw.readUInt32LE(16),
    attributes: raw.subarray(48, 64),
    mrEnclave: raw.subarray(64, 96),
    mrSigner: raw.subarray(128, 160),
    isvProdId: raw.readUInt16LE(256),
    isvSvn: raw.readUInt16LE(258),
    reportData: raw.subarray(320, 384),
  };
}

/** @throws VouchError TEE_MALFORMED naming the field and offset. */
export function parseTdxQuote(buf: Buffer, file?: string): TdxQuote {
  if (buf.length > MAX_QUOTE_BYTES) {
    throw malformed(
      `oversized: ${buf.length} bytes (limit ${MAX_QUOTE_BYTES})`,
      MAX_QUOTE_BYTES,
      'length',
      file,
    );
  }
  const c = new Cursor(buf, file);
  const version = c.u16('header.version');
  if (version !== 4 && version !== 5)
    throw malformed(
      `unknown quote version ${version} (supported: 4, 5)`,
      0,
      'header.version',
      file,
    );
  const keyType = c.u16('header.att_key_type');
  if (keyType !== ATT_KEY_ECDSA_P256) {
    throw malformed(
      `unsupported attestation key type ${keyType} (2 = ECDSA-256-with-P-256)`,
      2,
      'header.att_key_type',
      file,
    );
  }
  const teeType = c.u32('header.tee_type');
  if (teeType !== TEE_TYPE_TDX) {
    throw malformed(
      `TEE type 0x${teeType.toString(16)} is not TDX (0x81)`,
      4,
      'header.tee_type',
      file,
    );
  }
  const qeSvn = c.u16('header.qe_svn');
  const pceSvn = c.u16('header.pce_svn');
  const qeVendorId = c.bytes(16, 'header.qe_vendor_id');
  const userData = c.bytes(20, 'header.user_data');
  let bodyType = 2;
  if (version === 5) {
    const typeOff = c.off;
    bodyType = c.u16('body_descriptor.type');
    const size = c.u32('body_descriptor.size');
    const want = bodyType === 2 ? TD10_BODY_SIZE : bodyType === 3 ? TD15_BODY_SIZE : -1;
    if (want < 0) {
      throw malformed(
        `unknown v5 body type ${bodyType} (2 = TDX 1.0, 3 = TDX 1.5; SGX bodies are not TDX)`,
        typeOff,
        'body_descriptor.type',
        file,
      );
    }
    if (size !== want)
      throw malformed(
        `body size ${size}, type ${bodyType} needs ${want}`,
        typeOff + 2,
        'body_descriptor.size',
        file,
      );
  }
  const body = parseBody(c, bodyType);
  const signed = buf.subarray(0, c.off);
  const sigLenOff = c.off;
  const sigLen = c.u32('signature_data_len');
  const sigEnd = c.off + sigLen;
  if (sigEnd > buf.length) {
    throw malformed(
      `signature data length ${sigLen} runs past the end (${buf.length - c.off} bytes left)`,
      sigLenOff,
      'signature_data_len',
      file,
    );
  }
  const signature = c.bytes(64, 'signature_data.signature', sigEnd);
  const attestationKey = c.bytes(64, 'signature_data.attestation_key', sigEnd);
  const outerTypeOff = c.off;
  const outerType = c.u16('certification_data.type', sigEnd);
  if (outerType !== CERT_TYPE_QE_REPORT) {
    throw malformed(
      `certification data type ${outerType}, expected 6 (QE report certification data)`,
      outerTypeOff,
      'certification_data.type',
      file,
    );
  }
  const outerSizeOff = c.off;
  const outerSize = c.u32('certification_data.size', sigEnd);
  const outerEnd = c.off + outerSize;
  if (outerEnd > sigEnd)
    throw malformed(
      `certification data size ${outerSize} runs past the signature data`,
      outerSizeOff,
      'certification_data.size',
      file,
    );
  const qeReport = parseQeReport(c.bytes(QE_REPORT_SIZE, 'qe_report', outerEnd));
  const qeReportSignature = c.bytes(64, 'qe_report_signature', outerEnd);
  const authLen = c.u16('qe_auth_data.size', outerEnd);
  const qeAuthData = c.bytes(authLen, 'qe_auth_data', outerEnd);
  const innerTypeOff = c.off;
  const innerType = c.u16('pck_cert_chain.type', outerEnd);
  if (innerType !== CERT_TYPE_PCK_CHAIN) {
    throw malformed(
      `QE certification data type ${innerType}, expected 5 (PCK certificate chain)`,
      innerTypeOff,
      'pck_cert_chain.type',
      file,
    );
  }
  const innerSize = c.u32('pck_cert_chain.size', outerEnd);
  const pckChainPem = c.bytes(innerSize, 'pck_cert_chain.data', outerEnd);
  return {
    version,
    bodyType,
    qeSvn,
    pceSvn,
    qeVendorId,
    userData,
    body,
    signed,
    signature,
    attestationKey,
    qeReport,
    qeReportSignature,
    qeAuthData,
    pckChainPem,
    trailing: buf.length - sigEnd,
  };
}
