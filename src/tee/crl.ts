/**
 * Certificate revocation lists for the TEE chains (RFC 5280 §5): the Intel
 * SGX Root CA CRL and PCK Platform/Processor CA CRLs, AMD KDS's per-product
 * CRL (signed by the ARK, listing revoked ASKs/ASVKs).
 *
 * A CRL is parsed with the bounded DER reader in ./x509.ts rather than
 * @peculiar/x509's X509Crl, whose import needs a global reflect-metadata
 * polyfill (an import side effect this code base does not allow).
 *
 * Policy (fail closed): a CRL that names a certificate of the chain as its
 * issuer must be signed by that certificate, be current at `at`, and must
 * not list the certificate it covers. A CRL that cannot be parsed is an
 * error naming its file; a chain with no CRL is a warning, or a failure when
 * CRLs are required.
 */
import {
  constants,
  verify as cryptoVerify,
  type KeyObject,
  type X509Certificate,
} from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { VouchError } from '../core/errors.ts';
import { listCollateralDir } from './collateral-dir.ts';
import type { TeeCheck } from './verifier.ts';
import { decodeOid, describe, readTlv, type Tlv, tlvChildren } from './x509.ts';

/** Intel's PCK CRLs list thousands of serials; AMD's few. */
const MAX_CRL_BYTES = 4 * 1024 * 1024;

export type CrlSignatureAlgorithm =
  | { kind: 'ecdsa'; hash: 'sha256' | 'sha384' | 'sha512' }
  | { kind: 'rsa-pkcs1'; hash: 'sha256' | 'sha384' | 'sha512' }
  | { kind: 'rsa-pss'; hash: 'sha256' | 'sha384' | 'sha512'; saltLength: number }
  | { kind: 'ed25519' };

export interface Crl {
  /** Where it was read from; every message about it names this. */
  file: string;
  /** The exact signed bytes (TBSCertList). */
  tbs: Buffer;
  algorithm: CrlSignatureAlgorithm;
  /** Signature bytes (the BIT STRING's content without its unused-bits octet). */
  signature: Buffer;
  /** DER of the issuer Name, compared byte for byte with certificates' subject/issuer. */
  issuer: Buffer;
  thisUpdate: Date;
  nextUpdate?: Date;
  /** Revoked serial numbers (lower-case hex, no leading zero octets) → revocation date. */
  revoked: Map<string, Date>;
}

const HASH_OIDS: Readonly<Record<string, 'sha256' | 'sha384' | 'sha512'>> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
const SIG_OIDS: Readonly<Record<string, CrlSignatureAlgorithm>> = {
  '1.2.840.10045.4.3.2': { kind: 'ecdsa', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { kind: 'ecdsa', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { kind: 'ecdsa', hash: 'sha512' },
  '1.2.840.113549.1.1.11': { kind: 'rsa-pkcs1', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { kind: 'rsa-pkcs1', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { kind: 'rsa-pkcs1', hash: 'sha512' },
  '1.3.101.112': { kind: 'ed25519' },
};
const RSASSA_PSS = '1.2.840.113549.1.1.10';
const MGF1 = '1.2.840.113549.1.1.8';
/** CRL extensions whose meaning does not change which certificates are revoked. */
const KNOWN_CRL_EXTENSIONS = new Set(['2.5.29.20' /* CRL number */, '2.5.29.35' /* AKID */]);
/** CRL entry extensions that only annotate the entry. */
const KNOWN_ENTRY_EXTENSIONS = new Set([
  '2.5.29.21' /* reason code */,
  '2.5.29.24' /* invalidity date */,
]);

/**
 * Read the CRLs in one file: DER, PEM (one or more `X509 CRL` blocks), or the
 * hex text of DER that Intel PCS sends for some requests.
 *
 * @throws VouchError TEE_MALFORMED naming `file` when the bytes are not a CRL
 */
export function parseCrls(data: Buffer, file: string): Crl[] {
  if (data.length > MAX_CRL_BYTES)
    throw malformed(file, `is ${data.length} bytes (limit ${MAX_CRL_BYTES})`);
  if (data.length === 0) throw malformed(file, 'is empty');
  if (data[0] === 0x30) return [parseCrl(data, file)];
  const text = data.toString('latin1');
  if (text.includes('-----BEGIN')) {
    const blocks = [
      ...text.matchAll(/-----BEGIN X509 CRL-----([A-Za-z0-9+/=\s]*)-----END X509 CRL-----/g),
    ];
    if (blocks.length === 0) throw malformed(file, 'has no PEM "X509 CRL" block');
    return blocks.map((m, i) =>
      parseCrl(
        Buffer.from((m[1] as string).replace(/\s/g, ''), 'base64'),
        blocks.length > 1 ? `${file}[${i}]` : file,
      ),
    );
  }
  const hex = text.trim();
  if (hex.length > 0 && hex.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(hex))
    return [parseCrl(Buffer.from(hex, 'hex'), file)];
  throw malformed(file, 'is not a CRL (neither DER, PEM "X509 CRL" nor hex-encoded DER)');
}

function malformed(file: string, what: string, cause?: unknown): VouchError {
  return new VouchError('TEE_MALFORMED', `CRL ${what}`, { file, cause });
}

/** Parse one DER CertificateList. @throws VouchError TEE_MALFORMED naming `file` */
export function parseCrl(der: Buffer, file: string): Crl {
  try {
    return parseDer(der, file);
  } catch (e) {
    if (e instanceof VouchError && e.file === file) throw e;
    throw malformed(file, `is not a valid DER CRL (${(e as Error).message})`, e);
  }
}

function parseDer(der: Buffer, file: string): Crl {
  const what = 'structure';
  const fail = (msg: string) => malformed(file, msg);
  const top = readTlv(der, 0, der.length, what);
  if (top.tag !== 0x30) throw fail('does not start with a SEQUENCE');
  if (top.end !== der.length) throw fail(`has ${der.length - top.end} trailing byte(s)`);
  const [tbsT, algT, sigT, ...rest] = tlvChildren(der, top, what);
  if (!tbsT || !algT || !sigT || rest.length > 0 || tbsT.tag !== 0x30)
    throw fail('is not SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue }');
  const algorithm = signatureAlgorithm(der, algT, fail);
  if (sigT.tag !== 0x03 || sigT.end === sigT.start || der[sigT.start] !== 0)
    throw fail('signatureValue is not a BIT STRING of whole octets');

  const fields = tlvChildren(der, tbsT, what);
  let i = 0;
  if (fields[i]?.tag === 0x02) {
    const v = fields[i] as Tlv;
    if (v.end - v.start !== 1 || der[v.start] !== 1) throw fail('version is not v2 (1)');
    i++;
  }
  const innerAlg = fields[i++];
  if (
    !innerAlg ||
    !der.subarray(innerAlg.start, innerAlg.end).equals(der.subarray(algT.start, algT.end))
  )
    throw fail('tbsCertList.signature differs from signatureAlgorithm');
  const issuerT = fields[i++];
  if (issuerT?.tag !== 0x30) throw fail('issuer is not a Name');
  const thisT = fields[i++];
  if (!thisT) throw fail('has no thisUpdate');
  const thisUpdate = derTime(der, thisT, 'thisUpdate', fail);
  let nextUpdate: Date | undefined;
  if (fields[i]?.tag === 0x17 || fields[i]?.tag === 0x18)
    nextUpdate = derTime(der, fields[i++] as Tlv, 'nextUpdate', fail);
  const revoked = new Map<string, Date>();
  if (fields[i]?.tag === 0x30) {
    for (const entry of tlvChildren(der, fields[i++] as Tlv, what)) {
      const [serialT, dateT, extT, ...more] = tlvChildren(der, entry, what);
      if (entry.tag !== 0x30 || serialT?.tag !== 0x02 || !dateT || more.length > 0)
        throw fail(`revoked entry at offset ${entry.start} is malformed`);
      if (extT) checkExtensions(der, extT, KNOWN_ENTRY_EXTENSIONS, 'entry', fail);
      revoked.set(
        serialHex(der.subarray(serialT.start, serialT.end)),
        derTime(der, dateT, 'revocationDate', fail),
      );
    }
  }
  if (fields[i]?.tag === 0xa0) {
    const [exts, ...more] = tlvChildren(der, fields[i++] as Tlv, what);
    if (!exts || more.length > 0) throw fail('crlExtensions is malformed');
    checkExtensions(der, exts, KNOWN_CRL_EXTENSIONS, 'CRL', fail);
  }
  if (i !== fields.length) throw fail(`has an unexpected field at offset ${fields[i]?.start}`);
  return {
    file,
    tbs: der.subarray(tbsT.offset, tbsT.end),
    algorithm,
    signature: der.subarray(sigT.start + 1, sigT.end),
    issuer: der.subarray(issuerT.offset, issuerT.end),
    thisUpdate,
    ...(nextUpdate ? { nextUpdate } : {}),
    revoked,
  };
}

function checkExtensions(
  der: Buffer,
  seq: Tlv,
  known: ReadonlySet<string>,
  where: string,
  fail: (m: string) => VouchError,
): void {
  if (seq.tag !== 0x30) throw fail(`${where} extensions are not a SEQUENCE`);
  for (const ext of tlvChildren(der, seq, 'extensions')) {
    const parts = tlvChildren(der, ext, 'extension');
    const oidT = parts[0];
    if (ext.tag !== 0x30 || oidT?.tag !== 0x06 || parts.length < 2 || parts.length > 3)
      throw fail(`${where} extension at offset ${ext.start} is malformed`);
    const oid = decodeOid(der, oidT);
    const critical = parts.length === 3 && parts[1]?.tag === 0x01 && der[parts[1].start] !== 0;
    // RFC 5280 §5.2/5.3: a CRL with a critical extension we do not process
    // (delta CRL, issuing distribution point, indirect entries) cannot be
    // used to decide revocation.
    if (critical && !known.has(oid))
      throw fail(`has a critical ${where} extension ${oid} that vouch does not process`);
  }
}

function signatureAlgorithm(
  der: Buffer,
  t: Tlv,
  fail: (m: string) => VouchError,
): CrlSignatureAlgorithm {
  const [oidT, params] = tlvChildren(der, t, 'signatureAlgorithm');
  if (t.tag !== 0x30 || oidT?.tag !== 0x06) throw fail('signatureAlgorithm is malformed');
  const oid = decodeOid(der, oidT);
  const simple = SIG_OIDS[oid];
  if (simple) return simple;
  if (oid !== RSASSA_PSS) throw fail(`signature algorithm ${oid} is not supported`);
  if (params?.tag !== 0x30) throw fail('RSASSA-PSS without parameters is not supported');
  let hash: 'sha256' | 'sha384' | 'sha512' | undefined;
  let mgfHash: string | undefined;
  let saltLength = 20;
  for (const p of tlvChildren(der, params, 'RSASSA-PSS-params')) {
    const [inner] = tlvChildren(der, p, 'RSASSA-PSS-params');
    if (!inner) throw fail('RSASSA-PSS parameters are malformed');
    if (p.tag === 0xa0) {
      const [h] = tlvChildren(der, inner, 'hashAlgorithm');
      hash = h?.tag === 0x06 ? HASH_OIDS[decodeOid(der, h)] : undefined;
      if (!hash) throw fail('RSASSA-PSS hash is not SHA-256/384/512');
    } else if (p.tag === 0xa1) {
      const [m, mp] = tlvChildren(der, inner, 'maskGenAlgorithm');
      if (m?.tag !== 0x06 || decodeOid(der, m) !== MGF1 || mp?.tag !== 0x30)
        throw fail('RSASSA-PSS mask generation is not MGF1');
      const [h] = tlvChildren(der, mp, 'mgf1 hash');
      mgfHash = h?.tag === 0x06 ? HASH_OIDS[decodeOid(der, h)] : undefined;
    } else if (p.tag === 0xa2) {
      if (inner.tag !== 0x02 || inner.end - inner.start > 2)
        throw fail('RSASSA-PSS saltLength is malformed');
      saltLength = der.readUIntBE(inner.start, inner.end - inner.start);
    } else if (p.tag !== 0xa3) throw fail('RSASSA-PSS parameters are malformed');
  }
  // SHA-1 defaults are not accepted: the hash must be named, and MGF1 must use it.
  if (!hash || mgfHash !== hash)
    throw fail('RSASSA-PSS must name a SHA-2 hash and MGF1 with the same hash');
  return { kind: 'rsa-pss', hash, saltLength };
}

function derTime(der: Buffer, t: Tlv, name: string, fail: (m: string) => VouchError): Date {
  const s = der.subarray(t.start, t.end).toString('latin1');
  // UTCTime YYMMDDHHMMSSZ (years 1950-2049), GeneralizedTime YYYYMMDDHHMMSSZ; DER allows nothing else.
  const m =
    t.tag === 0x17
      ? /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s)
      : t.tag === 0x18
        ? /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s)
        : null;
  if (!m) throw fail(`${name} is not a UTCTime or GeneralizedTime in UTC`);
  const [y, mo, d, h, mi, se] = [1, 2, 3, 4, 5, 6].map((k) => Number(m[k])) as number[];
  const year = t.tag === 0x17 ? ((y as number) < 50 ? 2000 : 1900) + (y as number) : (y as number);
  const date = new Date(Date.UTC(year, (mo as number) - 1, d, h, mi, se));
  if (
    date.getUTCMonth() !== (mo as number) - 1 ||
    date.getUTCDate() !== d ||
    (h as number) > 23 ||
    (mi as number) > 59 ||
    (se as number) > 59
  )
    throw fail(`${name} ${JSON.stringify(s)} is not a valid date`);
  return date;
}

/** A DER INTEGER's content as lower-case hex without leading zero octets. */
function serialHex(content: Buffer): string {
  let i = 0;
  while (i < content.length - 1 && content[i] === 0) i++;
  return content.subarray(i).toString('hex');
}

/** Issuer Name, subject Name and serial of a certificate, as DER. */
export function certificateNames(cert: X509Certificate): {
  issuer: Buffer;
  subject: Buffer;
  serial: string;
} {
  const der = cert.raw;
  const what = `certificate "${describe(cert)}"`;
  const top = readTlv(der, 0, der.length, what);
  const tbs = tlvChildren(der, top, what)[0] as Tlv;
  const f = tlvChildren(der, tbs, what);
  const o = f[0]?.tag === 0xa0 ? 1 : 0;
  const serialT = f[o] as Tlv;
  const issuerT = f[o + 2] as Tlv;
  const subjectT = f[o + 4] as Tlv;
  return {
    serial: serialHex(der.subarray(serialT.start, serialT.end)),
    issuer: der.subarray(issuerT.offset, issuerT.end),
    subject: der.subarray(subjectT.offset, subjectT.end),
  };
}

/** Whether the CRL's signature verifies with `issuer`'s public key. Never throws. */
export function crlSignedBy(crl: Crl, issuer: X509Certificate): boolean {
  const key: KeyObject = issuer.publicKey;
  const a = crl.algorithm;
  try {
    switch (a.kind) {
      case 'ecdsa':
        return (
          key.asymmetricKeyType === 'ec' &&
          cryptoVerify(a.hash, crl.tbs, { key, dsaEncoding: 'der' }, crl.signature)
        );
      case 'rsa-pkcs1':
        return (
          key.asymmetricKeyType === 'rsa' &&
          cryptoVerify(
            a.hash,
            crl.tbs,
            { key, padding: constants.RSA_PKCS1_PADDING },
            crl.signature,
          )
        );
      case 'rsa-pss':
        return (
          (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') &&
          cryptoVerify(
            a.hash,
            crl.tbs,
            { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: a.saltLength },
            crl.signature,
          )
        );
      case 'ed25519':
        return (
          key.asymmetricKeyType === 'ed25519' && cryptoVerify(null, crl.tbs, key, crl.signature)
        );
    }
  } catch {
    return false;
  }
}

/** Whether a file name in a collateral directory names a CRL. */
export function isCrlFileName(name: string): boolean {
  return /crl/i.test(name);
}

/**
 * Every CRL in a collateral directory: each regular file whose name contains
 * "crl" (any case), e.g. `rootcrl.der`, `pckcrl`, `milan.crl`. Each must
 * parse; other files are left to the platform's collateral reader.
 *
 * @throws VouchError FILE_NOT_FOUND, FILE_READ; TEE_MALFORMED naming the file
 */
export function readCrlDir(dir: string): Crl[] {
  const names = listCollateralDir(dir);
  const out: Crl[] = [];
  for (const name of names) {
    if (!isCrlFileName(name)) continue;
    const file = join(dir, name);
    const st = statSync(file);
    if (!st.isFile()) continue;
    if (st.size > MAX_CRL_BYTES)
      throw malformed(file, `is ${st.size} bytes (limit ${MAX_CRL_BYTES})`);
    out.push(...parseCrls(readFileSync(file), file));
  }
  return out;
}

export interface RevocationOptions {
  /** The time the CRLs must be current at. */
  at: Date;
  /** A certificate without a covering CRL fails the check instead of warning. */
  require?: boolean;
  /**
   * Which certificates of the path must be covered by a CRL; default every
   * one but the anchor. (AMD publishes only the ARK's CRL of ASKs/ASVKs; a
   * VCEK is revoked by TCB version, not listed.)
   */
  subjects?: readonly X509Certificate[];
  /** Why the uncovered certificates have no CRL, for the message. */
  missingHint?: string;
}

/**
 * The `revocation` check of a verified chain: `path` is leaf first, anchor
 * last (as verifyChain returns it). Every CRL whose issuer is a certificate
 * of the path must verify with that certificate and be current at `at`;
 * every subject whose issuer has such a CRL must not be listed in it. A
 * subject with no covering CRL is a warning (`level: 'warning'`), or a
 * failure with `require`.
 */
export function checkRevocation(
  path: readonly X509Certificate[],
  crls: readonly Crl[],
  options: RevocationOptions,
): TeeCheck {
  const at = options.at;
  const names = path.map(certificateNames);
  const problems: string[] = [];
  const usable = new Map<number, Crl[]>(); // path index of the issuer → its good CRLs
  for (const crl of crls) {
    const idx = names.findIndex((n) => n.subject.equals(crl.issuer));
    if (idx < 0) continue; // another product's or CA's CRL
    const issuer = path[idx] as X509Certificate;
    const bad: string[] = [];
    if (!crlSignedBy(crl, issuer))
      bad.push(`its signature does not verify with the key of "${describe(issuer)}"`);
    if (at < crl.thisUpdate)
      bad.push(
        `it is not yet valid at ${at.toISOString()} (thisUpdate ${crl.thisUpdate.toISOString()})`,
      );
    if (!crl.nextUpdate) bad.push('it has no nextUpdate');
    else if (at > crl.nextUpdate)
      bad.push(`it is expired at ${at.toISOString()} (nextUpdate ${crl.nextUpdate.toISOString()})`);
    if (bad.length > 0)
      problems.push(`CRL ${crl.file} of "${describe(issuer)}": ${bad.join('; ')}`);
    else usable.set(idx, [...(usable.get(idx) ?? []), crl]);
  }
  const subjects = options.subjects ?? path.slice(0, -1);
  const checked: string[] = [];
  const missing: string[] = [];
  for (const cert of subjects) {
    const i = path.indexOf(cert);
    if (i < 0 || i + 1 >= path.length) continue;
    const n = names[i] as (typeof names)[number];
    if (!n.issuer.equals((names[i + 1] as (typeof names)[number]).subject)) continue;
    const lists = usable.get(i + 1);
    if (!lists) {
      missing.push(`"${describe(cert)}"`);
      continue;
    }
    for (const crl of lists) {
      // Listed is revoked, whatever the revocation date says (fail closed).
      const when = crl.revoked.get(n.serial);
      if (when)
        problems.push(
          `"${describe(cert)}" (serial ${n.serial}) is revoked: listed in CRL ${crl.file} (revoked ${when.toISOString()})`,
        );
      else checked.push(`"${describe(cert)}" not listed in ${crl.file}`);
    }
  }
  if (problems.length > 0) return { name: 'revocation', ok: false, detail: problems.join('; ') };
  const hint = options.missingHint ? ` ${options.missingHint}` : '';
  if (missing.length > 0 && options.require) {
    return {
      name: 'revocation',
      ok: false,
      detail: `no CRL in the collateral for ${missing.join(', ')} (CRLs are required)${hint}`,
    };
  }
  if (missing.length > 0) {
    return {
      name: 'revocation',
      ok: false,
      level: 'warning',
      detail:
        checked.length === 0
          ? `not checked (no CRL in collateral)${hint}`
          : `${checked.join('; ')}; not checked for ${missing.join(', ')} (no CRL in collateral)${hint}`,
    };
  }
  return {
    name: 'revocation',
    ok: true,
    detail: checked.length > 0 ? checked.join('; ') : 'no certificate to check',
  };
}
