import { createPublicKey, type KeyObject } from 'node:crypto';
import { VouchError } from '../../core/errors.ts';
import { looksLikeGceAttestation, parseGceAttestation } from './gce.ts';
import { HASH_ALGS, hashAlgId, publicKeyFromTpmt } from './structures.ts';

/**
 * vouch's TPM evidence: one JSON document that carries everything a quote
 * needs to be checked (tpm2_quote writes three files), and the GCE
 * go-tpm-tools protobuf, both turned into one model here.
 */
export const TPM_EVIDENCE_FORMAT = 'https://vouch.dev/tee/tpm-quote/v1';

export interface TpmEvidenceQuote {
  /** TPMS_ATTEST bytes (tpm2_quote -m). */
  quote: Buffer;
  /** TPMT_SIGNATURE bytes (tpm2_quote -s). */
  signature: Buffer;
  /** PCR values by bank name ('sha256') and index, as reported next to the quote. */
  pcrs: Map<string, Map<number, Buffer>>;
}

export interface TpmEvidence {
  quotes: TpmEvidenceQuote[];
  /** The attestation key the evidence names (PEM SPKI or TPMT_PUBLIC). */
  ak?: KeyObject;
  /** AK certificate (DER or PEM) and intermediates, when the platform certifies its AK (GCE). */
  akCertificate?: Buffer;
  intermediates: Buffer[];
}

/** The JSON shape of TPM_EVIDENCE_FORMAT. */
export interface TpmEvidenceJson {
  format: typeof TPM_EVIDENCE_FORMAT;
  /** base64 TPMS_ATTEST */
  quote: string;
  /** base64 TPMT_SIGNATURE */
  signature: string;
  /** bank → index → lower-case hex value */
  pcrs: Record<string, Record<string, string>>;
  /** PEM SubjectPublicKeyInfo of the attestation key */
  akPublicKey?: string;
  /** PEM AK certificate and intermediates, when available */
  akCertificate?: string;
  intermediates?: string[];
}

const MAX_JSON = 1024 * 1024;

export function looksLikeTpmJson(buf: Buffer): boolean {
  return (
    buf.length < MAX_JSON && buf.subarray(0, 4096).toString('utf8').includes(TPM_EVIDENCE_FORMAT)
  );
}

export function looksLikeTpmEvidence(buf: Buffer): boolean {
  return looksLikeTpmJson(buf) || looksLikeGceAttestation(buf);
}

/** @throws VouchError TEE_MALFORMED */
export function parseTpmEvidence(buf: Buffer): TpmEvidence {
  if (looksLikeTpmJson(buf)) return fromJson(buf);
  if (looksLikeGceAttestation(buf)) {
    const g = parseGceAttestation(buf);
    const ev: TpmEvidence = {
      quotes: g.quotes.map((q) => {
        const bank = HASH_ALGS[q.hash]?.name;
        if (!bank) throw bad('quotes/pcrs/hash', `unknown PCR bank hash ${q.hash}`);
        return { quote: q.quote, signature: q.rawSig, pcrs: new Map([[bank, q.pcrs]]) };
      }),
      ak: publicKeyFromTpmt(g.akPub),
      intermediates: g.intermediates,
    };
    if (g.akCert) ev.akCertificate = g.akCert;
    return ev;
  }
  throw bad(
    'format',
    `neither ${TPM_EVIDENCE_FORMAT} JSON nor a go-tpm-tools Attestation protobuf`,
  );
}

function fromJson(buf: Buffer): TpmEvidence {
  let doc: unknown;
  try {
    doc = JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw bad('', `not JSON: ${(e as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw bad('', 'not a JSON object');
  const j = doc as Record<string, unknown>;
  if (j.format !== TPM_EVIDENCE_FORMAT) throw bad('/format', `expected ${TPM_EVIDENCE_FORMAT}`);
  const b64 = (k: string): Buffer => {
    const v = j[k];
    if (typeof v !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(v))
      throw bad(`/${k}`, 'not base64');
    return Buffer.from(v, 'base64');
  };
  const ev: TpmEvidence = {
    quotes: [{ quote: b64('quote'), signature: b64('signature'), pcrs: pcrMap(j.pcrs, '/pcrs') }],
    intermediates: [],
  };
  if (j.akPublicKey !== undefined) {
    if (typeof j.akPublicKey !== 'string') throw bad('/akPublicKey', 'not a PEM string');
    ev.ak = readPublicKey(Buffer.from(j.akPublicKey), '/akPublicKey');
  }
  if (j.akCertificate !== undefined) {
    if (typeof j.akCertificate !== 'string') throw bad('/akCertificate', 'not a PEM string');
    ev.akCertificate = Buffer.from(j.akCertificate);
  }
  if (j.intermediates !== undefined) {
    if (!Array.isArray(j.intermediates) || !j.intermediates.every((x) => typeof x === 'string'))
      throw bad('/intermediates', 'not an array of PEM strings');
    ev.intermediates = j.intermediates.map((x: string) => Buffer.from(x));
  }
  return ev;
}

/**
 * PCR values from JSON `{ "sha256": { "0": "hex", … } }` (hex may have a 0x prefix).
 *
 * @throws VouchError TEE_MALFORMED
 */
export function pcrMap(v: unknown, field: string): Map<string, Map<number, Buffer>> {
  const out = new Map<string, Map<number, Buffer>>();
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw bad(field, 'not an object of banks');
  for (const [bank, values] of Object.entries(v)) {
    const id = hashAlgId(bank);
    if (id === undefined)
      throw bad(`${field}/${bank}`, 'unknown bank (sha1, sha256, sha384, sha512)');
    const size = (HASH_ALGS[id] as { size: number }).size;
    if (typeof values !== 'object' || values === null || Array.isArray(values))
      throw bad(`${field}/${bank}`, 'not an object');
    const m = new Map<number, Buffer>();
    for (const [k, hex] of Object.entries(values as Record<string, unknown>)) {
      const i = Number(k);
      if (!/^\d{1,2}$/.test(k) || i > 23)
        throw bad(`${field}/${bank}/${k}`, 'PCR index outside 0..23');
      const clean = typeof hex === 'string' ? hex.replace(/^0x/i, '').toLowerCase() : '';
      if (!/^[0-9a-f]*$/.test(clean) || clean.length !== size * 2)
        throw bad(`${field}/${bank}/${k}`, `not ${size} bytes of hex`);
      m.set(i, Buffer.from(clean, 'hex'));
    }
    out.set(bank.toLowerCase(), m);
  }
  return out;
}

/**
 * PCR values as `tpm2_pcrread` / `tpm2_quote` print them (YAML-like
 * `sha256:` then `  0 : 0xABC…` lines) or as the JSON above.
 *
 * @throws VouchError TEE_MALFORMED
 */
export function parsePcrFile(text: string, source: string): Map<string, Map<number, Buffer>> {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      return pcrMap(JSON.parse(trimmed), source);
    } catch (e) {
      if (e instanceof VouchError) throw e;
      throw bad(source, `not JSON: ${(e as Error).message}`);
    }
  }
  const obj: Record<string, Record<string, string>> = {};
  let bank: string | undefined;
  for (const [n, line] of text.split('\n').entries()) {
    if (!line.trim() || /^\s*pcrs:\s*$/.test(line)) continue;
    const b = /^\s*(sha1|sha256|sha384|sha512)\s*:\s*$/i.exec(line);
    if (b) {
      bank = (b[1] as string).toLowerCase();
      obj[bank] = {};
      continue;
    }
    const v = /^\s*(\d+)\s*:\s*(0x[0-9a-fA-F]+)\s*$/.exec(line);
    if (v && bank) {
      (obj[bank] as Record<string, string>)[v[1] as string] = v[2] as string;
      continue;
    }
    if (/^\s*(selected|quoted|signature|calcDigest|pcr-digest|alg|sig)\b/i.test(line)) break;
    throw bad(`${source}:${n + 1}`, `unexpected line ${JSON.stringify(line.slice(0, 80))}`);
  }
  if (Object.keys(obj).length === 0) throw bad(source, 'no PCR banks found');
  return pcrMap(obj, source);
}

/** A public key from PEM (SPKI or certificate) or a TPMT_PUBLIC / TPM2B_PUBLIC. @throws VouchError TEE_MALFORMED */
export function readPublicKey(data: Buffer, field: string): KeyObject {
  try {
    if (data.toString('latin1').includes('-----BEGIN')) return createPublicKey(data);
    return publicKeyFromTpmt(data);
  } catch (e) {
    if (e instanceof VouchError) throw e;
    throw bad(field, `not a public key: ${(e as Error).message}`);
  }
}

function bad(field: string, message: string): VouchError {
  return new VouchError('TEE_MALFORMED', `TPM evidence: ${message}`, { field });
}
