/**
 * AMD SEV-SNP attestation report verifier.
 *
 * Trust: the report is signed (ECDSA P-384, SHA-384, over bytes [0, 0x2A0))
 * by the key SIGNER_INFO.SIGNING_KEY names: 0 = VCEK (per chip and TCB),
 * 1 = VLEK (per cloud provider). A VCEK chains VCEK → ASK → ARK, a VLEK
 * VLEK → ASVK → ARK, of the report's product (Milan, Genoa, Turin), the
 * ASK/ASVK and ARK shipped and pinned by digest in ../roots (./chain.ts);
 * mixing (a VLEK report with a VCEK, a VCEK through the ASVK) fails. The
 * VCEK/VLEK itself comes from `certChain` (AMD KDS serves it per chip/TCB or
 * per CSP). The product comes from the report's CPUID (version ≥ 3) and must
 * agree with the certificate's product name; a version 2 report has no CPUID
 * and takes the certificate's. Then the certificate's TCB extensions
 * (1.3.6.1.4.1.3704.1.3.x: blSPL, teeSPL, snpSPL, ucodeSPL, and Turin's
 * fmcSPL) must equal the report's REPORTED_TCB decoded for the product, a
 * VCEK's hwID must equal CHIP_ID (64 bytes on Milan/Genoa, 8 on Turin), and
 * the guest policy, measurement, host data and report data are checked. With
 * AMD KDS's CRL for the product in the collateral directory (signed by the
 * ARK), the ASK/ASVK must not be listed in it.
 *
 * `verifySnpReportWithKey` runs every check that needs only the parsed report
 * and the signing public key (no certificates): the building block of the
 * full verifier, and how synthetic reports are tested.
 */
import { verify as cryptoVerify, type KeyObject, type X509Certificate } from 'node:crypto';
import { checkRevocation, readCrlDir } from '../crl.ts';
import { AMD_PRODUCTS, type AmdRoots, type AmdSigningKey, amdRoots } from '../roots/index.ts';
import type {
  TeeCheck,
  TeeClaims,
  TeeVerdict,
  TeeVerifier,
  TeeVerifyOptions,
} from '../verifier.ts';
import { makeVerdict } from '../verifier.ts';
import {
  type ChainCache,
  decodeUint,
  describe,
  extensionValues,
  parseCertificates,
  readTlv,
} from '../x509.ts';
import { signerCommonName, verifyAmdChain } from './chain.ts';
import { snpExpectationChecks } from './expect.ts';
import {
  CHIP_ID_LENGTH,
  chipIdShape,
  decodePlatformInfo,
  decodeTcb,
  looksLikeSnpReport,
  parseSnpReport,
  productFromCpuid,
  type SnpProduct,
  type SnpReport,
  type TcbParts,
  tcbReservedNonZero,
} from './report.ts';

const AMD = '1.3.6.1.4.1.3704.1';
const OID_PRODUCT_NAME = `${AMD}.2`;
const OID_HWID = `${AMD}.4`;
const OID_CSP_ID = `${AMD}.5`;
/** KDS VCEK/VLEK TCB extensions: blSPL 3.1, teeSPL 3.2, snpSPL 3.3, ucodeSPL 3.8, fmcSPL 3.9 (Turin). */
export const TCB_OIDS: ReadonlyArray<[keyof TcbParts, string]> = [
  ['bootloader', `${AMD}.3.1`],
  ['tee', `${AMD}.3.2`],
  ['snp', `${AMD}.3.3`],
  ['microcode', `${AMD}.3.8`],
  ['fmc', `${AMD}.3.9`],
];

export interface SevSnpVerifierOptions {
  /** Remember signature checks and parsed roots across calls (benchmarks, servers). */
  cache?: ChainCache;
}

export function sevSnpVerifier(opts: SevSnpVerifierOptions = {}): TeeVerifier {
  const cache = opts.cache;
  const rootsMemo = new Map<string, AmdRoots>();
  const rootsFor = (product: SnpProduct, key: AmdSigningKey): AmdRoots => {
    if (!cache) return amdRoots(product, key);
    const k = `${product}/${key}`;
    let r = rootsMemo.get(k);
    if (!r) {
      r = amdRoots(product, key);
      rootsMemo.set(k, r);
    }
    return r;
  };
  return {
    platform: 'sev-snp',
    detect: looksLikeSnpReport,
    verify: async (evidence, options) => verifySnp(evidence, options, rootsFor, cache),
  };
}

interface Signer {
  cert: X509Certificate;
  ext: Map<string, Buffer>;
  kind: AmdSigningKey;
}

function ia5(value: Buffer | undefined): string | undefined {
  if (!value) return undefined;
  const t = readTlv(value, 0, value.length, 'productName');
  return value.subarray(t.start, t.end).toString('latin1');
}

function extUint(ext: Map<string, Buffer>, oid: string): number | undefined {
  const v = ext.get(oid);
  if (!v) return undefined;
  return decodeUint(v, readTlv(v, 0, v.length, oid), oid);
}

/** "Milan-B0" → Milan, stepping 0; "Turin" → Turin. */
function parseProductName(
  name: string | undefined,
): { product?: SnpProduct; stepping?: number } | undefined {
  if (name === undefined) return undefined;
  const m = /^([A-Za-z]+)(?:-B(\d))?$/.exec(name);
  const product = AMD_PRODUCTS.find((p) => p === m?.[1]);
  const out: { product?: SnpProduct; stepping?: number } = {};
  if (product) out.product = product;
  if (m?.[2] !== undefined) out.stepping = Number(m[2]);
  return out;
}

function certsWithCn(certs: X509Certificate[], cn: string): X509Certificate[] {
  return certs.filter((c) => c.subject.split('\n').includes(`CN=${cn}`));
}

function hex(b: Buffer): string {
  return b.toString('hex');
}

function hex64(v: bigint): string {
  return v.toString(16).padStart(16, '0');
}

function expected(buf: Buffer, size: number): Buffer {
  const out = Buffer.alloc(size);
  buf.copy(out, 0, 0, Math.min(size, buf.length));
  return out;
}

function fms(c: NonNullable<SnpReport['cpuid']>): string {
  return `family 0x${c.family.toString(16)} model 0x${c.model.toString(16)} stepping ${c.stepping}`;
}

// ---------------------------------------------------------------------------
// Checks that need only the report (and the signing key).

function signatureCheck(report: SnpReport, key: KeyObject, what: string): TeeCheck {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== 'ec' || curve !== 'secp384r1') {
    return {
      name: 'signature',
      ok: false,
      detail: `${what} key is not ECDSA P-384 (${key.asymmetricKeyType} ${curve ?? ''})`,
    };
  }
  const ok = cryptoVerify(
    'sha384',
    report.signed,
    { key, dsaEncoding: 'ieee-p1363' },
    Buffer.concat([report.signatureR, report.signatureS]),
  );
  return {
    name: 'signature',
    ok,
    detail: ok
      ? `ECDSA P-384 SHA-384 over bytes 0x0–0x2a0 verifies with the ${what}`
      : `report signature does not verify with the ${what}`,
  };
}

/**
 * CHIP_ID against the product's length rule and, for a VCEK, its hwID.
 * `hwId` undefined: no certificate to compare with (key-only or VLEK).
 */
function chipIdCheck(
  report: SnpReport,
  product: SnpProduct | undefined,
  signer: { kind: AmdSigningKey; hwId?: Buffer; haveCert: boolean },
): TeeCheck {
  const name = 'chip-id';
  const shape = chipIdShape(report.chipId);
  if (report.maskChipKey) {
    return shape === 'zero'
      ? { name, ok: true, detail: 'MASK_CHIP_KEY set: CHIP_ID is zero (masked), not compared' }
      : { name, ok: false, detail: 'MASK_CHIP_KEY set but CHIP_ID is not zero' };
  }
  if (shape === 'zero')
    return { name, ok: false, detail: 'CHIP_ID is zero but MASK_CHIP_KEY is not set' };
  const problems: string[] = [];
  if (product) {
    const want = CHIP_ID_LENGTH[product];
    const fits = want === 8 ? shape === 'turin' : shape === 'full';
    if (!fits)
      problems.push(
        want === 8
          ? `a ${product} CHIP_ID is 8 bytes followed by 56 zero bytes; this one fills ${shape === 'full' ? 'more than 8 bytes' : 'the field'}`
          : `a ${product} CHIP_ID is 64 bytes; this one is 8 bytes followed by zeros (a Turin chip ID)`,
      );
  }
  if (signer.kind === 'vcek' && signer.haveCert) {
    const hw = signer.hwId;
    if (!hw) problems.push('the VCEK has no hwID extension (1.3.6.1.4.1.3704.1.4)');
    else {
      if (product && hw.length !== CHIP_ID_LENGTH[product])
        problems.push(
          `a ${product} VCEK hwID is ${CHIP_ID_LENGTH[product]} bytes, this one ${hw.length}`,
        );
      const same =
        hw.length <= 64 &&
        report.chipId.subarray(0, hw.length).equals(hw) &&
        report.chipId.subarray(hw.length).every((b) => b === 0);
      if (!same) problems.push(`CHIP_ID ${hex(report.chipId)} is not the VCEK hwID ${hex(hw)}`);
    }
  }
  if (problems.length > 0) return { name, ok: false, detail: problems.join('; ') };
  const detail =
    signer.kind === 'vcek' && signer.haveCert
      ? 'CHIP_ID matches the VCEK hwID'
      : `CHIP_ID has the ${product ?? 'expected'} length${signer.kind === 'vlek' ? ' (a VLEK is not bound to a chip)' : ''}`;
  return { name, ok: true, detail };
}

/** REPORTED_TCB decoded for the product; with a certificate, every TCB extension must equal it. */
function tcbCheck(
  report: SnpReport,
  product: SnpProduct | undefined,
  cert: { ext: Map<string, Buffer>; kind: AmdSigningKey } | undefined,
  needCert: boolean,
): TeeCheck {
  const name = 'tcb';
  if (!product)
    return { name, ok: false, detail: 'unknown product: REPORTED_TCB cannot be decoded' };
  const reported = decodeTcb(report.reportedTcb, product);
  const reserved = tcbReservedNonZero(report.reportedTcb, product);
  const diffs: string[] = [];
  if (reserved.length > 0)
    diffs.push(
      `REPORTED_TCB 0x${hex64(report.reportedTcb)} has reserved ${product} TCB bytes set (${reserved.join(', ')}): unknown TCB layout`,
    );
  if (!cert) {
    if (needCert)
      return { name, ok: false, detail: 'no certificate TCB to compare REPORTED_TCB with' };
    return diffs.length > 0
      ? { name, ok: false, detail: diffs.join('; ') }
      : {
          name,
          ok: true,
          detail: `REPORTED_TCB ${fmtTcb(reported)} (${product} layout; no certificate compared)`,
        };
  }
  for (const [field, oid] of TCB_OIDS) {
    const want = reported[field];
    const got = extUint(cert.ext, oid);
    if (want === undefined) {
      if (got !== undefined && got !== 0)
        diffs.push(`${field}: certificate has ${got}, a ${product} TCB has no ${field}`);
      continue;
    }
    if (got === undefined) diffs.push(`${field}: certificate lacks ${oid}`);
    else if (got !== want) diffs.push(`${field}: report ${want}, certificate ${got}`);
  }
  const who = cert.kind.toUpperCase();
  return diffs.length === 0
    ? { name, ok: true, detail: `REPORTED_TCB ${fmtTcb(reported)} equals the ${who}'s TCB` }
    : { name, ok: false, detail: `REPORTED_TCB does not match the ${who}: ${diffs.join('; ')}` };
}

/** The guest policy checks, then the caller's expected values ({@link snpExpectationChecks}). */
function policyChecks(
  report: SnpReport,
  product: SnpProduct | undefined,
  options: TeeVerifyOptions,
): TeeCheck[] {
  const checks: TeeCheck[] = [];
  const add = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  const policy = options.policy ?? {};
  const p = report.policy;
  add(
    'debug',
    !p.debug || policy.insecureAllowDebug === true,
    p.debug
      ? policy.insecureAllowDebug
        ? 'guest policy allows debugging (accepted: insecureAllowDebug)'
        : 'guest policy allows debugging (DEBUG bit 19): the hypervisor can read guest memory'
      : 'guest policy disallows debugging',
  );
  const allowSmt = policy.allowSmt ?? true;
  add(
    'smt',
    !p.smt || allowSmt,
    p.smt
      ? `guest policy allows SMT${allowSmt ? '' : ', which the caller disallowed'}`
      : 'guest policy disallows SMT',
  );
  add(
    'migration-agent',
    !p.migrateMa || policy.allowMigrationAgent === true,
    p.migrateMa
      ? `guest may be associated with a migration agent (MIGRATE_MA)${policy.allowMigrationAgent ? ' (allowed)' : ''}`
      : 'no migration agent allowed',
  );
  if (policy.measurements && policy.measurements.length > 0) {
    const m = hex(report.measurement);
    const ok = policy.measurements.some((x) => x.toLowerCase() === m);
    add(
      'measurement',
      ok,
      ok ? `MEASUREMENT ${m} is allowed` : `MEASUREMENT ${m} is not in the allowed list`,
    );
  }
  if (policy.hostData !== undefined) {
    const want = hex(expected(Buffer.from(policy.hostData, 'hex'), 32));
    const ok = want === hex(report.hostData);
    add(
      'host-data',
      ok,
      ok ? 'HOST_DATA matches' : `HOST_DATA ${hex(report.hostData)}, expected ${want}`,
    );
  }
  if (options.expectReportData) {
    const want = expected(options.expectReportData, 64);
    const ok = options.expectReportData.length <= 64 && want.equals(report.reportData);
    add(
      'report-data',
      ok,
      ok
        ? 'REPORT_DATA equals the expected value'
        : `REPORT_DATA ${hex(report.reportData)} is not the expected ${hex(options.expectReportData)}`,
    );
  }
  checks.push(...snpExpectationChecks(report, product, policy));
  return checks;
}

function tcbClaim(tcb: bigint, product: SnpProduct | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { raw: hex64(tcb) };
  if (product) out.components = { ...decodeTcb(tcb, product) };
  return out;
}

/** Every field of the report, decoded for the product where the layout depends on it. */
export function snpClaims(report: SnpReport, product: SnpProduct | undefined): TeeClaims {
  const p = report.policy;
  const pi = decodePlatformInfo(report.platformInfo);
  const claims: TeeClaims = {
    version: report.version,
    measurement: hex(report.measurement),
    reportData: hex(report.reportData),
    hostData: hex(report.hostData),
    debug: p.debug,
    tcb: {
      ...(product
        ? { components: { ...decodeTcb(report.reportedTcb, product) } as Record<string, number> }
        : {}),
      raw: hex64(report.reportedTcb),
    },
    signingKey: report.signingKey,
    authorKeyEn: report.authorKeyEn,
    maskChipKey: report.maskChipKey,
    signatureAlgo: report.signatureAlgo,
    policy: {
      raw: hex64(p.raw),
      abi: `${p.abiMajor}.${p.abiMinor}`,
      smt: p.smt,
      migrateMa: p.migrateMa,
      debug: p.debug,
      singleSocket: p.singleSocket,
      cxlAllow: p.cxlAllow,
      memAes256Xts: p.memAes256Xts,
      raplDis: p.raplDis,
      ciphertextHiding: p.ciphertextHiding,
      pageSwapDisable: p.pageSwapDisable,
    },
    platformInfo: {
      raw: hex64(pi.raw),
      smtEnabled: pi.smtEnabled,
      tsmeEnabled: pi.tsmeEnabled,
      eccEnabled: pi.eccEnabled,
      raplDisabled: pi.raplDisabled,
      ciphertextHidingEnabled: pi.ciphertextHidingEnabled,
      aliasCheckComplete: pi.aliasCheckComplete,
      tioEnabled: pi.tioEnabled,
    },
    vmpl: report.vmpl,
    guestSvn: report.guestSvn,
    familyId: hex(report.familyId),
    imageId: hex(report.imageId),
    idKeyDigest: hex(report.idKeyDigest),
    authorKeyDigest: hex(report.authorKeyDigest),
    reportId: hex(report.reportId),
    reportIdMa: hex(report.reportIdMa),
    chipId: hex(report.chipId),
    currentTcb: hex64(report.currentTcb),
    committedTcb: hex64(report.committedTcb),
    launchTcb: hex64(report.launchTcb),
    tcbs: {
      current: tcbClaim(report.currentTcb, product),
      reported: tcbClaim(report.reportedTcb, product),
      committed: tcbClaim(report.committedTcb, product),
      launch: tcbClaim(report.launchTcb, product),
    },
    firmware: report.currentVersion,
    committedFirmware: report.committedVersion,
  };
  if (product) claims.product = product;
  if (report.cpuid) claims.cpuid = report.cpuid;
  if (report.launchMitVector !== undefined) claims.launchMitVector = hex64(report.launchMitVector);
  if (report.currentMitVector !== undefined)
    claims.currentMitVector = hex64(report.currentMitVector);
  return claims;
}

export interface KeyOnlyOptions extends TeeVerifyOptions {
  /** The product of a version 2 report (it carries no CPUID). Ignored for version ≥ 3. */
  product?: SnpProduct;
}

/**
 * Internal building block (and the test entry for synthetic reports): every
 * check that needs only the parsed report and the public key that signed it —
 * signing-key field, product from CPUID, signature, CHIP_ID length rule,
 * REPORTED_TCB layout, guest policy, measurement, host data, report data.
 * No certificate, chain, pinned root, hwID or certificate TCB is involved,
 * so this alone never proves a report came from AMD hardware.
 */
export function verifySnpReportWithKey(
  report: SnpReport,
  key: KeyObject,
  options: KeyOnlyOptions,
): TeeVerdict {
  const checks: TeeCheck[] = [];
  let product: SnpProduct | undefined;
  if (report.signingKey === 'none') {
    checks.push({
      name: 'signing-key',
      ok: false,
      detail: 'SIGNING_KEY is 7 (none): the report is not signed',
    });
  } else {
    checks.push({
      name: 'signing-key',
      ok: true,
      detail: `SIGNING_KEY ${report.signingKey.toUpperCase()}, checked with a caller-supplied key`,
    });
  }
  if (report.cpuid) {
    product = productFromCpuid(report.cpuid);
    checks.push(
      product
        ? { name: 'product', ok: true, detail: `${product} (${fms(report.cpuid)})` }
        : {
            name: 'product',
            ok: false,
            detail: `unknown CPU (${fms(report.cpuid)}): not Milan, Genoa or Turin`,
          },
    );
  } else {
    product = options.product;
    checks.push(
      product
        ? {
            name: 'product',
            ok: true,
            detail: `${product} (given; a version 2 report has no CPUID)`,
          }
        : {
            name: 'product',
            ok: false,
            detail: 'a version 2 report has no CPUID and no product was given',
          },
    );
  }
  const kind: AmdSigningKey = report.signingKey === 'vlek' ? 'vlek' : 'vcek';
  checks.push(signatureCheck(report, key, 'given key'));
  checks.push(chipIdCheck(report, product, { kind, haveCert: false }));
  checks.push(tcbCheck(report, product, undefined, false));
  checks.push(...policyChecks(report, product, options));
  return makeVerdict('sev-snp', checks, snpClaims(report, product));
}

// ---------------------------------------------------------------------------
// The full verifier: certificates, pinned roots, revocation.

async function verifySnp(
  evidence: Buffer,
  options: TeeVerifyOptions,
  rootsFor: (p: SnpProduct, k: AmdSigningKey) => AmdRoots,
  cache: ChainCache | undefined,
): Promise<TeeVerdict> {
  const report = parseSnpReport(evidence);
  const checks: TeeCheck[] = [];
  const add = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  const policy = options.policy ?? {};

  const extra: X509Certificate[] = [];
  for (const [i, b] of (options.certChain ?? []).entries()) {
    extra.push(
      ...(cache
        ? cache.certificates(b, `certChain[${i}]`)
        : parseCertificates(b, `certChain[${i}]`)),
    );
  }
  const anchorsOverride = options.roots?.flatMap((b, i) => parseCertificates(b, `roots[${i}]`));

  // Which key signed: SIGNING_KEY names it; only a certificate of that kind is used.
  let signer: Signer | undefined;
  if (report.signingKey === 'none') {
    add('signing-key', false, 'SIGNING_KEY is 7 (none): the report is not signed');
  } else {
    const kind = report.signingKey;
    const want = signerCommonName(kind);
    const other = signerCommonName(kind === 'vcek' ? 'vlek' : 'vcek');
    const found = certsWithCn(extra, want);
    const cert = found[0];
    if (found.length > 1) {
      const serials = new Set(found.map((c) => c.raw.toString('base64')));
      if (serials.size > 1)
        add(
          'signing-key',
          false,
          `more than one ${want} certificate given; give only the signer's`,
        );
    }
    if (cert) signer = { cert, ext: extensionValues(cert), kind };
    if (!checks.some((c) => c.name === 'signing-key'))
      add(
        'signing-key',
        cert !== undefined,
        cert
          ? `${kind.toUpperCase()} "${describe(cert)}" (serial ${cert.serialNumber})`
          : certsWithCn(extra, other).length > 0
            ? `report SIGNING_KEY is ${kind.toUpperCase()}, but the certificate given is a ${other}: a ${kind.toUpperCase()} report is signed only by a ${want}`
            : `report is signed by a ${kind.toUpperCase()}, but no ${want} certificate was given (--cert-chain)`,
      );
  }

  // Product: CPUID (version ≥ 3) and the certificate's product name must agree.
  const certName = signer ? ia5(signer.ext.get(OID_PRODUCT_NAME)) : undefined;
  const named = parseProductName(certName);
  const fromCpuid = report.cpuid ? productFromCpuid(report.cpuid) : undefined;
  let product: SnpProduct | undefined;
  if (report.cpuid) {
    const f = fms(report.cpuid);
    if (!fromCpuid) add('product', false, `unknown CPU (${f}): not Milan, Genoa or Turin`);
    else if (signer && certName !== undefined && named?.product === undefined)
      add('product', false, `unknown certificate product name "${certName}"`);
    else if (signer && named?.product !== undefined && named.product !== fromCpuid)
      add(
        'product',
        false,
        `report CPUID says ${fromCpuid} (${f}), certificate product name is "${certName}"`,
      );
    else if (signer && named?.stepping !== undefined && named.stepping !== report.cpuid.stepping)
      add(
        'product',
        false,
        `report CPUID stepping ${report.cpuid.stepping}, certificate product name is "${certName}" (stepping ${named.stepping})`,
      );
    else add('product', true, `${fromCpuid} (${f})`);
    product = fromCpuid;
  } else if (signer) {
    // Version 2 reports carry no CPUID: the certificate names the product.
    if (named?.product)
      add('product', true, `${named.product} (certificate product name "${certName}")`);
    else
      add(
        'product',
        false,
        `certificate product name ${certName ? `"${certName}" is unknown` : 'is missing'}`,
      );
    product = named?.product;
  }

  // Chain: VCEK → ASK → ARK or VLEK → ASVK → ARK of the product.
  if (signer && product) {
    const roots = rootsFor(product, signer.kind);
    const chain = verifyAmdChain(signer.cert, signer.kind, product, {
      at: options.at,
      roots,
      ...(cache ? { cache } : {}),
      ...(anchorsOverride ? { anchors: anchorsOverride, intermediates: extra } : {}),
    });
    add('chain', chain.ok, chain.detail);
    // AMD KDS's CRL is the ARK's and lists ASKs/ASVKs; a VCEK/VLEK is not listed in any CRL.
    const crls = options.collateralDir === undefined ? [] : readCrlDir(options.collateralDir);
    checks.push(
      checkRevocation(chain.path, crls, {
        at: options.at,
        require: policy.requireCrl === true,
        subjects: chain.path.slice(1, -1),
      }),
    );
    if (anchorsOverride)
      add(
        'root',
        true,
        `trust anchors replaced by the caller (${anchorsOverride.map(describe).join(', ')})`,
      );
  } else {
    add('chain', false, 'no signing certificate or product to build a chain for');
  }

  // Report signature with the certificate's key.
  if (signer) {
    checks.push(
      signatureCheck(
        report,
        signer.cert.publicKey,
        `${signer.kind.toUpperCase()} (serial ${signer.cert.serialNumber})`,
      ),
    );
  } else {
    add('signature', false, 'no signing certificate to verify the report signature with');
  }

  // Chip binding (VCEK hwID; a VLEK is per cloud provider, not per chip) and length rule.
  if (signer) {
    const hwId = signer.ext.get(OID_HWID);
    checks.push(
      chipIdCheck(report, product, {
        kind: signer.kind,
        haveCert: true,
        ...(hwId ? { hwId } : {}),
      }),
    );
  }

  // TCB: the certificate certifies exactly the REPORTED_TCB.
  checks.push(tcbCheck(report, product, signer, true));

  checks.push(...policyChecks(report, product, options));

  const claims = snpClaims(report, product);
  if (signer?.kind === 'vlek') {
    const csp = signer.ext.get(OID_CSP_ID);
    if (csp) claims.cspId = ia5(csp);
  }
  if (certName !== undefined) claims.certificateProductName = certName;
  return makeVerdict('sev-snp', checks, claims);
}

function fmtTcb(t: TcbParts): string {
  return Object.entries(t)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

export type { SnpReport };
