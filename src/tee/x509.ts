/**
 * Certificate-chain helpers shared by the TEE verifiers: parse PEM/DER
 * bundles, build and verify a path from a leaf to a pinned anchor at an
 * explicit time, read extension values, and a tiny bounded DER reader for
 * the vendor extensions (AMD VCEK TCB, Intel SGX PCK). Extensions are read
 * with that reader rather than @peculiar/x509, whose import needs a global
 * reflect-metadata polyfill.
 *
 * Signature checks are pure functions of (child, issuer), so a `ChainCache`
 * may remember them; validity windows are always re-checked at `at`.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { VouchError } from '../core/errors.ts';

const MAX_CERT_BYTES = 64 * 1024;
const MAX_BUNDLE_BYTES = 1024 * 1024;

/** Parse every certificate in a PEM bundle, or one DER certificate. @throws VouchError TEE_MALFORMED */
export function parseCertificates(data: Buffer, what: string): X509Certificate[] {
  if (data.length > MAX_BUNDLE_BYTES) {
    throw new VouchError(
      'TEE_MALFORMED',
      `certificate bundle is ${data.length} bytes (limit ${MAX_BUNDLE_BYTES})`,
      {
        field: what,
      },
    );
  }
  const text = data.subarray(0, 64).toString('latin1');
  if (text.includes('-----BEGIN')) {
    const pem = data.toString('utf8');
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0)
      throw new VouchError('TEE_MALFORMED', 'no PEM CERTIFICATE block', { field: what });
    return blocks.map((b, i) => parseOne(Buffer.from(b), `${what}[${i}]`));
  }
  return [parseOne(data, what)];
}

/** Parse a PEM bundle that may also be empty or hold non-certificate blocks; returns [] for no certificates. */
export function parseCertificatesLoose(data: Buffer, what: string): X509Certificate[] {
  const text = data.toString('utf8');
  if (!text.includes('-----BEGIN CERTIFICATE-----')) return [];
  return parseCertificates(data, what);
}

function parseOne(data: Buffer, what: string): X509Certificate {
  if (data.length > MAX_CERT_BYTES) {
    throw new VouchError(
      'TEE_MALFORMED',
      `certificate is ${data.length} bytes (limit ${MAX_CERT_BYTES})`,
      {
        field: what,
      },
    );
  }
  try {
    return new X509Certificate(data);
  } catch (e) {
    throw new VouchError('TEE_MALFORMED', `not an X.509 certificate (${(e as Error).message})`, {
      field: what,
      cause: e,
    });
  }
}

export function sha256Hex(data: Buffer | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Remembers signature checks (child signed by issuer) across verifications. Per verifier instance, never global. */
export class ChainCache {
  private readonly signatures = new Map<string, boolean>();
  private readonly parsed = new Map<string, X509Certificate[]>();
  hits = 0;

  signedBy(child: X509Certificate, issuer: X509Certificate): boolean {
    const key = `${sha256Hex(child.raw)}:${sha256Hex(issuer.raw)}`;
    const seen = this.signatures.get(key);
    if (seen !== undefined) {
      this.hits++;
      return seen;
    }
    const ok = checkSignedBy(child, issuer);
    this.signatures.set(key, ok);
    return ok;
  }

  /** Parsed certificates of a bundle, by content digest. */
  certificates(data: Buffer, what: string): X509Certificate[] {
    const key = sha256Hex(data);
    const seen = this.parsed.get(key);
    if (seen) {
      this.hits++;
      return seen;
    }
    const certs = parseCertificates(data, what);
    this.parsed.set(key, certs);
    return certs;
  }
}

function checkSignedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return child.checkIssued(issuer) && child.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

export interface ChainResult {
  ok: boolean;
  detail: string;
  /** Leaf first, anchor last, when a path was found. */
  path: X509Certificate[];
  /** Every problem found on the path (validity, CA flags, signatures). */
  problems: string[];
}

/** Whether `cert` is valid at `at` (inclusive bounds). */
export function validAt(cert: X509Certificate, at: Date): boolean {
  const t = at.getTime();
  return t >= cert.validFromDate.getTime() && t <= cert.validToDate.getTime();
}

export function describe(cert: X509Certificate): string {
  // Node leaves `subject` undefined for a certificate with an empty subject (GCE AK certs).
  const subject = cert.subject ?? '';
  const cn = /CN=([^\n,]+)/.exec(subject)?.[1];
  return cn ?? (subject.replace(/\n/g, ', ') || `serial ${cert.serialNumber}`);
}

/**
 * Find a path leaf → intermediates… → anchor where each certificate is signed
 * by the next, every certificate is valid at `at`, every non-leaf is a CA,
 * and the last one is byte-identical to one of `anchors` (self-signature
 * checked too). Collects every problem instead of stopping at the first.
 */
export function verifyChain(
  leaf: X509Certificate,
  intermediates: readonly X509Certificate[],
  anchors: readonly X509Certificate[],
  at: Date,
  cache?: ChainCache,
): ChainResult {
  const signed = (c: X509Certificate, i: X509Certificate) =>
    cache ? cache.signedBy(c, i) : checkSignedBy(c, i);
  const isAnchor = (c: X509Certificate) => anchors.some((a) => a.raw.equals(c.raw));
  const path: X509Certificate[] = [leaf];
  const problems: string[] = [];
  let current = leaf;
  for (let depth = 0; depth < 8; depth++) {
    if (isAnchor(current)) break;
    const pool = [...anchors, ...intermediates.filter((c) => !path.includes(c))];
    const next = pool.find((c) => signed(current, c));
    if (!next) {
      const names = pool.filter((c) => current.checkIssued(c));
      problems.push(
        names.length > 0
          ? `signature of "${describe(current)}" does not verify with the key of "${describe(names[0] as X509Certificate)}"`
          : `no trusted issuer for "${describe(current)}" (issuer ${current.issuer.replace(/\n/g, ', ')})`,
      );
      return { ok: false, detail: problems.join('; '), path, problems };
    }
    path.push(next);
    current = next;
  }
  const anchor = path[path.length - 1] as X509Certificate;
  if (!isAnchor(anchor)) problems.push('path longer than 8 certificates');
  else if (!signed(anchor, anchor))
    problems.push(`anchor "${describe(anchor)}" is not validly self-signed`);
  for (const [i, c] of path.entries()) {
    if (!validAt(c, at)) {
      problems.push(
        `"${describe(c)}" is not valid at ${at.toISOString()} (valid ${c.validFromDate.toISOString()} to ${c.validToDate.toISOString()})`,
      );
    }
    if (i > 0 && !c.ca) problems.push(`"${describe(c)}" signs a certificate but is not a CA`);
  }
  const ok = problems.length === 0;
  return {
    ok,
    detail: ok ? path.map(describe).join(' → ') : problems.join('; '),
    path,
    problems,
  };
}

/** The raw value (inside the OCTET STRING) of an extension, or undefined. */
export function extensionValue(cert: X509Certificate, oid: string): Buffer | undefined {
  return extensionValues(cert).get(oid);
}

/** All extensions as oid → raw value (the content of extnValue). @throws VouchError TEE_MALFORMED */
export function extensionValues(cert: X509Certificate): Map<string, Buffer> {
  const der = cert.raw;
  const what = `certificate "${describe(cert)}"`;
  const out = new Map<string, Buffer>();
  const top = readTlv(der, 0, der.length, what);
  const tbs = tlvChildren(der, top, what)[0];
  if (!tbs) return out;
  const explicit3 = tlvChildren(der, tbs, what).find((t) => t.tag === 0xa3);
  if (!explicit3) return out;
  const seq = tlvChildren(der, explicit3, what)[0];
  if (!seq) return out;
  for (const ext of tlvChildren(der, seq, what)) {
    const parts = tlvChildren(der, ext, what);
    const oid = parts[0];
    const value = parts[parts.length - 1];
    if (oid?.tag !== 0x06 || value?.tag !== 0x04) continue;
    out.set(decodeOid(der, oid), der.subarray(value.start, value.end));
  }
  return out;
}

/** A DER TLV: tag byte, where it starts (the tag byte), where its content starts and ends. */
export interface Tlv {
  tag: number;
  offset: number;
  start: number;
  end: number;
}

/** Read one DER TLV at `offset`, never past `limit`. @throws VouchError TEE_MALFORMED */
export function readTlv(buf: Buffer, offset: number, limit: number, what: string): Tlv {
  if (offset + 2 > limit)
    throw new VouchError('TEE_MALFORMED', `DER truncated at offset ${offset}`, { field: what });
  const tag = buf[offset] as number;
  let len = buf[offset + 1] as number;
  let start = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > limit) {
      throw new VouchError('TEE_MALFORMED', `bad DER length at offset ${offset + 1}`, {
        field: what,
      });
    }
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[start + i] as number);
    start += n;
  }
  const end = start + len;
  if (end > limit)
    throw new VouchError('TEE_MALFORMED', `DER value at offset ${offset} runs past its container`, {
      field: what,
    });
  return { tag, offset, start, end };
}

/** The children of a constructed TLV. */
export function tlvChildren(buf: Buffer, parent: Tlv, what: string): Tlv[] {
  const out: Tlv[] = [];
  let off = parent.start;
  while (off < parent.end) {
    const t = readTlv(buf, off, parent.end, what);
    out.push(t);
    off = t.end;
    if (out.length > 4096)
      throw new VouchError('TEE_MALFORMED', 'too many DER elements', { field: what });
  }
  return out;
}

/** Decode a DER OBJECT IDENTIFIER's content. */
export function decodeOid(buf: Buffer, t: Tlv): string {
  const parts: number[] = [];
  let v = 0;
  for (let i = t.start; i < t.end; i++) {
    const b = buf[i] as number;
    v = v * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/** Decode a DER INTEGER content as a non-negative safe integer. @throws VouchError TEE_MALFORMED */
export function decodeUint(buf: Buffer, t: Tlv, what: string): number {
  if (t.tag !== 0x02 || t.end - t.start > 7 || t.end === t.start) {
    throw new VouchError('TEE_MALFORMED', `expected a small DER INTEGER at offset ${t.start}`, {
      field: what,
    });
  }
  let v = 0;
  for (let i = t.start; i < t.end; i++) v = v * 256 + (buf[i] as number);
  return v;
}
