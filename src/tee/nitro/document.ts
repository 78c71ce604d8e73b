import { VouchError } from '../../core/errors.ts';
import { type CborValue, decodeCbor } from '../cbor.ts';
import { type CoseSign1, parseCoseSign1 } from '../cose.ts';

/** An AWS Nitro Enclaves attestation document (the COSE_Sign1 payload), validated field by field. */
export interface NitroDocument {
  moduleId: string;
  digest: 'SHA384';
  /** Milliseconds since the Unix epoch, as the NSM wrote it. */
  timestamp: number;
  /** PCR index → value (48 bytes for SHA384). */
  pcrs: Map<number, Buffer>;
  certificate: Buffer;
  /** Root first, then intermediates (may be empty). */
  cabundle: Buffer[];
  publicKey?: Buffer;
  userData?: Buffer;
  nonce?: Buffer;
}

export interface ParsedNitro {
  cose: CoseSign1;
  document: NitroDocument;
}

/** The NSM allows at most 1024 bytes in each of user_data, nonce and public_key. */
const MAX_OPTIONAL = 1024;
const MAX_PCRS = 32;
const MAX_CERT = 16 * 1024;

/**
 * Raw CBOR or its base64 text (how documents are usually passed around).
 * Anything else is returned as is and fails to parse later with a reason.
 */
export function nitroBytes(evidence: Buffer): Buffer {
  if (evidence.length > 0 && (evidence[0] === 0x84 || evidence[0] === 0xd2)) return evidence;
  const text = evidence.toString('latin1').trim();
  if (/^[A-Za-z0-9+/=\s_-]+$/.test(text)) return Buffer.from(text.replace(/\s+/g, ''), 'base64');
  return evidence;
}

/**
 * Parses a Nitro attestation document strictly (AWS "Verifying the root of
 * trust", mandatory and optional fields, their types and sizes).
 *
 * @throws VouchError TEE_MALFORMED naming the field
 */
export function parseNitro(evidence: Buffer, source: string): ParsedNitro {
  const cose = parseCoseSign1(nitroBytes(evidence), source);
  if (cose.alg !== 'ES384')
    bad(source, 'alg', `${cose.alg}; Nitro documents are signed with ES384`);
  const payload = decodeCbor(cose.payload, `${source} (payload)`);
  if (!(payload instanceof Map)) bad(source, 'payload', 'not a map');
  const text = (k: string): string => {
    const v = payload.get(k);
    if (typeof v !== 'string' || v.length === 0)
      bad(source, k, 'missing or not a non-empty text string');
    return v;
  };
  const bytes = (k: string, v: CborValue, max: number, min = 1): Buffer => {
    if (!(v instanceof Uint8Array)) bad(source, k, 'not a byte string');
    if (v.length < min || v.length > max)
      bad(source, k, `${v.length} bytes (allowed ${min}..${max})`);
    return Buffer.from(v);
  };
  const optional = (k: string): Buffer | undefined => {
    const v = payload.get(k);
    if (v === undefined || v === null) return undefined;
    const b = bytes(k, v, MAX_OPTIONAL, 0);
    return b.length === 0 ? undefined : b;
  };

  const moduleId = text('module_id');
  const digest = text('digest');
  if (digest !== 'SHA384')
    bad(source, 'digest', `${JSON.stringify(digest)}; only SHA384 is defined`);
  const timestamp = payload.get('timestamp');
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp <= 0)
    bad(source, 'timestamp', 'not a positive integer (milliseconds)');

  const rawPcrs = payload.get('pcrs');
  if (!(rawPcrs instanceof Map) || rawPcrs.size === 0 || rawPcrs.size > MAX_PCRS)
    bad(source, 'pcrs', `not a map of 1..${MAX_PCRS} PCRs`);
  const pcrs = new Map<number, Buffer>();
  for (const [k, v] of rawPcrs) {
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k >= MAX_PCRS)
      bad(source, 'pcrs', `PCR index ${JSON.stringify(k)} outside 0..${MAX_PCRS - 1}`);
    const value = bytes(`pcrs/${k}`, v, 64, 32);
    if (![32, 48, 64].includes(value.length))
      bad(source, `pcrs/${k}`, `${value.length} bytes (32, 48 or 64)`);
    pcrs.set(k, value);
  }

  const certificate = bytes('certificate', payload.get('certificate'), MAX_CERT);
  const rawBundle = payload.get('cabundle');
  const cabundle: Buffer[] = [];
  // Self-signed test documents carry null; AWS documents always carry the bundle (root first).
  if (rawBundle !== null && rawBundle !== undefined) {
    if (!Array.isArray(rawBundle) || rawBundle.length > 8)
      bad(source, 'cabundle', 'not an array of at most 8 certificates');
    rawBundle.forEach((c, i) => {
      cabundle.push(bytes(`cabundle/${i}`, c, MAX_CERT));
    });
  }
  const document: NitroDocument = {
    moduleId,
    digest: 'SHA384',
    timestamp,
    pcrs,
    certificate,
    cabundle,
  };
  const publicKey = optional('public_key');
  const userData = optional('user_data');
  const nonce = optional('nonce');
  if (publicKey) document.publicKey = publicKey;
  if (userData) document.userData = userData;
  if (nonce) document.nonce = nonce;
  return { cose, document };
}

function bad(source: string, field: string, message: string): never {
  throw new VouchError('TEE_MALFORMED', `Nitro attestation document: ${field}: ${message}`, {
    file: source,
    field,
  });
}
