/**
 * AMD SEV-SNP attestation report verifier.
 *
 * Trust: report signed (ECDSA P-384, SHA-384, over bytes [0, 0x2A0)) by the
 * VCEK or VLEK named in SIGNER_INFO; VCEK → ASK (VLEK → ASVK) → ARK of the
 * product (Milan, Genoa, Turin), the ASK/ASVK and ARK shipped and pinned in
 * ../roots. The VCEK/VLEK itself comes from `certChain` (AMD KDS serves it per
 * chip and TCB). Then the certificate's TCB extensions must equal the
 * report's REPORTED_TCB, the VCEK's hwID must equal CHIP_ID, and the guest
 * policy, measurement, host data and report data are checked. With AMD
 * KDS's CRL for the product in the collateral directory (signed by the ARK),
 * the ASK/ASVK must not be listed in it.
 */
import { verify as cryptoVerify, type X509Certificate } from 'node:crypto';
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
  verifyChain,
} from '../x509.ts';
import {
  decodeTcb,
  looksLikeSnpReport,
  parseSnpReport,
  productFromCpuid,
  type SnpProduct,
  type SnpReport,
  type TcbParts,
} from './report.ts';

const AMD = '1.3.6.1.4.1.3704.1';
const OID_PRODUCT_NAME = `${AMD}.2`;
const OID_HWID = `${AMD}.4`;
const OID_CSP_ID = `${AMD}.5`;
const TCB_OIDS: ReadonlyArray<[keyof TcbParts, string]> = [
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

function productFromName(name: string | undefined): SnpProduct | undefined {
  const base = name?.split('-')[0];
  return AMD_PRODUCTS.find((p) => p === base);
}

function findSigner(certs: X509Certificate[], kind: AmdSigningKey): Signer | undefined {
  const cn = kind === 'vcek' ? 'CN=SEV-VCEK' : 'CN=SEV-VLEK';
  for (const cert of certs) {
    if (!cert.subject.split('\n').includes(cn)) continue;
    return { cert, ext: extensionValues(cert), kind };
  }
  return undefined;
}

function hex(b: Buffer): string {
  return b.toString('hex');
}

function expected(buf: Buffer, size: number): Buffer {
  const out = Buffer.alloc(size);
  buf.copy(out, 0, 0, Math.min(size, buf.length));
  return out;
}

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

  // Which key signed, and which product it is.
  let signer: Signer | undefined;
  if (report.signingKey === 'none') {
    add('signing-key', false, 'SIGNING_KEY is 7 (none): the report is not signed');
  } else {
    signer = findSigner(extra, report.signingKey);
    add(
      'signing-key',
      signer !== undefined,
      signer
        ? `${report.signingKey.toUpperCase()} "${describe(signer.cert)}" (serial ${signer.cert.serialNumber})`
        : `report is signed by a ${report.signingKey.toUpperCase()}, but no SEV-${report.signingKey.toUpperCase()} certificate was given (--cert-chain)`,
    );
  }
  const certName = signer ? ia5(signer.ext.get(OID_PRODUCT_NAME)) : undefined;
  const fromCert = productFromName(certName);
  const fromCpuid = report.cpuid ? productFromCpuid(report.cpuid) : undefined;
  let product: SnpProduct | undefined;
  if (report.cpuid) {
    const fms = `family 0x${report.cpuid.family.toString(16)} model 0x${report.cpuid.model.toString(16)} stepping ${report.cpuid.stepping}`;
    if (!fromCpuid) add('product', false, `unknown CPU (${fms}): not Milan, Genoa or Turin`);
    else if (signer && fromCert !== undefined && fromCert !== fromCpuid) {
      add(
        'product',
        false,
        `report CPUID says ${fromCpuid} (${fms}), certificate product name is "${certName}"`,
      );
    } else if (signer && certName !== undefined && fromCert === undefined) {
      add('product', false, `unknown certificate product name "${certName}"`);
    } else add('product', true, `${fromCpuid} (${fms})`);
    product = fromCpuid;
  } else if (signer) {
    // Version 2 reports carry no CPUID: the certificate names the product.
    if (fromCert) add('product', true, `${fromCert} (certificate product name "${certName}")`);
    else
      add(
        'product',
        false,
        `certificate product name ${certName ? `"${certName}" is unknown` : 'is missing'}`,
      );
    product = fromCert;
  }

  // Chain to the product's ARK.
  if (signer && product) {
    const roots = rootsFor(product, signer.kind);
    const anchors = anchorsOverride ?? [roots.ark];
    const inter = [roots.intermediate, ...extra.filter((c) => c !== signer.cert)];
    const chain = verifyChain(signer.cert, inter, anchors, options.at, cache);
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

  // Report signature.
  if (signer) {
    const key = signer.cert.publicKey;
    const curve = key.asymmetricKeyDetails?.namedCurve;
    let ok = false;
    if (key.asymmetricKeyType === 'ec' && curve === 'secp384r1') {
      ok = cryptoVerify(
        'sha384',
        report.signed,
        { key, dsaEncoding: 'ieee-p1363' },
        Buffer.concat([report.signatureR, report.signatureS]),
      );
    }
    add(
      'signature',
      ok,
      ok
        ? `ECDSA P-384 SHA-384 over bytes 0x0–0x2a0 verifies with the ${signer.kind.toUpperCase()}`
        : curve !== 'secp384r1'
          ? `${signer.kind.toUpperCase()} key is not ECDSA P-384 (${key.asymmetricKeyType} ${curve ?? ''})`
          : `report signature does not verify with the ${signer.kind.toUpperCase()} (serial ${signer.cert.serialNumber})`,
    );
  } else {
    add('signature', false, 'no signing certificate to verify the report signature with');
  }

  // Chip binding (VCEK only; a VLEK is per cloud provider, not per chip).
  if (signer?.kind === 'vcek') {
    const hw = signer.ext.get(OID_HWID);
    if (report.maskChipKey)
      add('chip-id', true, 'MASK_CHIP_KEY set: CHIP_ID is masked, not compared');
    else if (!hw) add('chip-id', false, 'VCEK has no hwID extension');
    else {
      const ok =
        report.chipId.subarray(0, hw.length).equals(hw) &&
        report.chipId.subarray(hw.length).every((b) => b === 0);
      add(
        'chip-id',
        ok,
        ok
          ? `CHIP_ID matches the VCEK hwID`
          : `CHIP_ID ${hex(report.chipId)} is not the VCEK hwID ${hex(hw)}`,
      );
    }
  }

  // TCB: the certificate certifies exactly the REPORTED_TCB.
  const tcbProduct = product ?? 'Milan';
  const reported = decodeTcb(report.reportedTcb, tcbProduct);
  if (signer && product) {
    const diffs: string[] = [];
    for (const [name, oid] of TCB_OIDS) {
      const want = reported[name];
      if (want === undefined) continue;
      const got = extUint(signer.ext, oid);
      if (got === undefined) diffs.push(`${name}: certificate lacks ${oid}`);
      else if (got !== want) diffs.push(`${name}: report ${want}, certificate ${got}`);
    }
    add(
      'tcb',
      diffs.length === 0,
      diffs.length === 0
        ? `REPORTED_TCB ${fmtTcb(reported)} equals the ${signer.kind.toUpperCase()}'s TCB`
        : `REPORTED_TCB does not match the certificate: ${diffs.join('; ')}`,
    );
  } else {
    add('tcb', false, 'no certificate TCB to compare REPORTED_TCB with');
  }

  // Guest policy.
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

  const claims: TeeClaims = {
    version: report.version,
    measurement: hex(report.measurement),
    reportData: hex(report.reportData),
    hostData: hex(report.hostData),
    debug: p.debug,
    tcb: {
      components: { ...reported } as Record<string, number>,
      raw: report.reportedTcb.toString(16).padStart(16, '0'),
    },
    signingKey: report.signingKey,
    policy: {
      raw: p.raw.toString(16).padStart(16, '0'),
      abi: `${p.abiMajor}.${p.abiMinor}`,
      smt: p.smt,
      migrateMa: p.migrateMa,
      debug: p.debug,
      singleSocket: p.singleSocket,
    },
    vmpl: report.vmpl,
    guestSvn: report.guestSvn,
    familyId: hex(report.familyId),
    imageId: hex(report.imageId),
    idKeyDigest: hex(report.idKeyDigest),
    authorKeyDigest: hex(report.authorKeyDigest),
    reportId: hex(report.reportId),
    chipId: hex(report.chipId),
    currentTcb: report.currentTcb.toString(16).padStart(16, '0'),
    committedTcb: report.committedTcb.toString(16).padStart(16, '0'),
    launchTcb: report.launchTcb.toString(16).padStart(16, '0'),
    firmware: report.currentVersion,
  };
  if (product) claims.product = product;
  if (report.cpuid) claims.cpuid = report.cpuid;
  if (report.launchMitVector !== undefined)
    claims.launchMitVector = report.launchMitVector.toString(16);
  if (report.currentMitVector !== undefined)
    claims.currentMitVector = report.currentMitVector.toString(16);
  if (signer?.kind === 'vlek') {
    const csp = signer.ext.get(OID_CSP_ID);
    if (csp) claims.cspId = ia5(csp);
  }
  return makeVerdict('sev-snp', checks, claims);
}

function fmtTcb(t: TcbParts): string {
  return Object.entries(t)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

export type { SnpReport };
