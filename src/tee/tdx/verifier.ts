/**
 * Intel TDX quote verifier (quote v4 and v5, ECDSA P-256).
 *
 * Trust: the quote (header and TD report body) is signed by the attestation
 * key; the attestation key is bound to the Quoting Enclave by QE report data
 * = SHA-256(attestation key || QE auth data); the QE report is signed by the
 * PCK, whose chain (embedded, certification data type 5) ends at the pinned
 * Intel SGX Root CA. With collateral (`collateralDir`), the TCB info and QE
 * identity must be signed by the Intel SGX TCB Signing certificate (chained
 * to the same root), current at `at`, match the PCK's FMSPC/PCE-ID, and put
 * the platform at an accepted TCB status. CRLs in the collateral (Intel SGX
 * Root CA CRL, PCK Platform/Processor CA CRL) must verify with their issuer
 * in the PCK chain, be current at `at`, and not list the PCK or its CA.
 */
import {
  createHash,
  createPublicKey,
  verify as cryptoVerify,
  type KeyObject,
  type X509Certificate,
} from 'node:crypto';
import { checkRevocation, readCrlDir } from '../crl.ts';
import { intelSgxRootCa } from '../roots/index.ts';
import type {
  TeeCheck,
  TeeClaims,
  TeeVerdict,
  TeeVerifier,
  TeeVerifyOptions,
} from '../verifier.ts';
import { makeVerdict } from '../verifier.ts';
import { type ChainCache, describe, parseCertificates, verifyChain } from '../x509.ts';
import {
  type Collateral,
  collateralSignatureOk,
  type QeIdentity,
  readCollateralDir,
  type SignedJson,
} from './collateral.ts';
import { tdxExpectationChecks } from './expect.ts';
import { type PckExtensions, pckExtensions } from './pck.ts';
import { looksLikeTdxQuote, parseTdxQuote, type TdxQuote } from './quote.ts';

export interface TdxVerifierOptions {
  /** Remember signature checks, parsed chains and the root across calls. */
  cache?: ChainCache;
}

type Add = (name: string, ok: boolean, detail: string) => void;

export function tdxVerifier(opts: TdxVerifierOptions = {}): TeeVerifier {
  const cache = opts.cache;
  let root: X509Certificate | undefined;
  const rootCa = (): X509Certificate => {
    if (!cache) return intelSgxRootCa();
    root ??= intelSgxRootCa();
    return root;
  };
  return {
    platform: 'tdx',
    detect: looksLikeTdxQuote,
    verify: async (evidence, options) => verifyTdx(evidence, options, rootCa, cache),
  };
}

const hex = (b: Buffer) => b.toString('hex');

function p256Key(xy: Buffer): KeyObject | undefined {
  try {
    return createPublicKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: xy.subarray(0, 32).toString('base64url'),
        y: xy.subarray(32, 64).toString('base64url'),
      },
      format: 'jwk',
    });
  } catch {
    return undefined;
  }
}

function p256Verify(key: KeyObject, data: Buffer, sig: Buffer): boolean {
  try {
    return cryptoVerify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig);
  } catch {
    return false;
  }
}

async function verifyTdx(
  evidence: Buffer,
  options: TeeVerifyOptions,
  rootCa: () => X509Certificate,
  cache: ChainCache | undefined,
): Promise<TeeVerdict> {
  const quote = parseTdxQuote(evidence);
  const checks: TeeCheck[] = [];
  const add: Add = (name, ok, detail) => checks.push({ name, ok, detail });
  const policy = options.policy ?? {};
  const anchors = options.roots
    ? options.roots.flatMap((b, i) => parseCertificates(b, `roots[${i}]`))
    : [rootCa()];
  if (options.roots)
    add('root', true, `trust anchors replaced by the caller (${anchors.map(describe).join(', ')})`);

  // PCK chain, embedded in the quote.
  const pckCerts = cache
    ? cache.certificates(quote.pckChainPem, 'pck_cert_chain')
    : parseCertificates(quote.pckChainPem, 'pck_cert_chain');
  const extra = (options.certChain ?? []).flatMap((b, i) =>
    parseCertificates(b, `certChain[${i}]`),
  );
  const pck = pckCerts[0] as X509Certificate;
  const chain = verifyChain(pck, [...pckCerts.slice(1), ...extra], anchors, options.at, cache);
  add('pck-chain', chain.ok, chain.detail);
  // Revocation: the Root CA CRL covers the PCK Platform/Processor CA, that CA's CRL the PCK.
  const crls = options.collateralDir === undefined ? [] : readCrlDir(options.collateralDir);
  checks.push(
    checkRevocation(chain.path, crls, { at: options.at, require: policy.requireCrl === true }),
  );
  const ext: PckExtensions = pckExtensions(pck);

  // QE report signed by the PCK.
  const qeSigOk =
    pck.publicKey.asymmetricKeyDetails?.namedCurve === 'prime256v1' &&
    p256Verify(pck.publicKey, quote.qeReport.raw, quote.qeReportSignature);
  add(
    'qe-report-signature',
    qeSigOk,
    qeSigOk
      ? 'QE report signature verifies with the PCK key'
      : 'QE report signature does not verify with the PCK key',
  );

  // Attestation key bound to the QE.
  const bind = createHash('sha256').update(quote.attestationKey).update(quote.qeAuthData).digest();
  const rd = quote.qeReport.reportData;
  const bindOk = rd.subarray(0, 32).equals(bind) && rd.subarray(32).every((b) => b === 0);
  add(
    'qe-report-data',
    bindOk,
    bindOk
      ? 'QE report data = SHA-256(attestation key || QE auth data)'
      : `QE report data ${hex(rd.subarray(0, 32))} is not SHA-256(attestation key || QE auth data) ${hex(bind)}`,
  );

  // Quote signed by the attestation key.
  const ak = p256Key(quote.attestationKey);
  const sigOk = ak !== undefined && p256Verify(ak, quote.signed, quote.signature);
  add(
    'signature',
    sigOk,
    ak === undefined
      ? 'attestation key is not a P-256 point'
      : sigOk
        ? `ECDSA P-256 signature over the header and TD report body (${quote.signed.length} bytes) verifies with the attestation key`
        : 'quote signature does not verify with the attestation key',
  );

  // TD attributes: DEBUG is bit 0 of TDATTRIBUTES.
  const debug = ((quote.body.tdAttributes[0] as number) & 1) === 1;
  add(
    'debug',
    !debug || policy.insecureAllowDebug === true,
    debug
      ? policy.insecureAllowDebug
        ? 'TD is a debug TD (accepted: insecureAllowDebug)'
        : 'TD is a debug TD (TDATTRIBUTES.DEBUG): the host can read and change its state'
      : 'TD is not a debug TD',
  );
  if (policy.measurements && policy.measurements.length > 0) {
    const m = hex(quote.body.mrTd);
    const ok = policy.measurements.some((x) => x.toLowerCase() === m);
    add('measurement', ok, ok ? `MRTD ${m} is allowed` : `MRTD ${m} is not in the allowed list`);
  }
  if (options.expectReportData) {
    const want = Buffer.alloc(64);
    options.expectReportData.copy(want, 0, 0, 64);
    const ok = options.expectReportData.length <= 64 && want.equals(quote.body.reportData);
    add(
      'report-data',
      ok,
      ok
        ? 'REPORTDATA equals the expected value'
        : `REPORTDATA ${hex(quote.body.reportData)} is not the expected ${hex(options.expectReportData)}`,
    );
  }

  checks.push(...tdxExpectationChecks(quote, ext.pceSvn, policy));

  const claims: TeeClaims = {
    version: quote.version,
    measurement: hex(quote.body.mrTd),
    reportData: hex(quote.body.reportData),
    debug,
    tcb: { raw: hex(quote.body.teeTcbSvn), components: svnMap(quote.body.teeTcbSvn) },
    teeTcbSvns: [...quote.body.teeTcbSvn],
    pceSvn: ext.pceSvn,
    mrTd: hex(quote.body.mrTd),
    rtmrs: quote.body.rtmrs.map(hex),
    mrConfigId: hex(quote.body.mrConfigId),
    mrOwner: hex(quote.body.mrOwner),
    mrOwnerConfig: hex(quote.body.mrOwnerConfig),
    mrSeam: hex(quote.body.mrSeam),
    mrSignerSeam: hex(quote.body.mrSignerSeam),
    tdAttributes: hex(quote.body.tdAttributes),
    seamAttributes: hex(quote.body.seamAttributes),
    xfam: hex(quote.body.xfam),
    bodyType: quote.bodyType === 3 ? 'TDX 1.5' : 'TDX 1.0',
    fmspc: ext.fmspc,
    pceId: ext.pceId,
    qe: {
      isvSvn: quote.qeReport.isvSvn,
      isvProdId: quote.qeReport.isvProdId,
      mrSigner: hex(quote.qeReport.mrSigner),
    },
  };
  if (quote.body.teeTcbSvn2) claims.teeTcbSvn2 = hex(quote.body.teeTcbSvn2);
  if (quote.body.mrServiceTd) claims.mrServiceTd = hex(quote.body.mrServiceTd);
  if (quote.trailing > 0) claims.ignoredTrailingBytes = quote.trailing;

  // Collateral: TCB info and QE identity.
  if (options.collateralDir === undefined) {
    add(
      'collateral',
      policy.insecureSkipCollateral === true,
      policy.insecureSkipCollateral
        ? 'no collateral: TCB status and QE identity NOT checked (insecureSkipCollateral)'
        : 'no collateral (--collateral DIR with the TCB info, QE identity and their issuer chain): TCB status and QE identity cannot be checked',
    );
  } else {
    const col = readCollateralDir(options.collateralDir);
    col.certificates.push(...extra);
    const status = checkTcbInfo(col, quote, ext, anchors, options, add, cache);
    if (status) (claims.tcb as { status?: string }).status = status;
    const qeStatus = checkQeIdentity(col, quote, anchors, options, add, cache);
    if (qeStatus) claims.qeTcbStatus = qeStatus;
  }
  return makeVerdict('tdx', checks, claims);
}

function svnMap(svn: Buffer): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < svn.length; i++) if (svn[i] !== 0 || i < 3) out[`svn${i}`] = svn[i] as number;
  return out;
}

/** Signature by an Intel SGX TCB Signing certificate that chains to the root at `at`. */
function checkCollateralSignature(
  doc: SignedJson<unknown>,
  col: Collateral,
  anchors: X509Certificate[],
  at: Date,
  cache: ChainCache | undefined,
): { ok: boolean; detail: string } {
  const signers = col.certificates.filter((c) => collateralSignatureOk(doc, c));
  if (signers.length === 0) {
    return {
      ok: false,
      detail: `signature of ${doc.file} does not verify with any certificate in the collateral (the TCB signing chain PCS sends as TCB-Info-Issuer-Chain)`,
    };
  }
  const signer = signers[0] as X509Certificate;
  const chain = verifyChain(signer, col.certificates, anchors, at, cache);
  if (!chain.ok)
    return {
      ok: false,
      detail: `signature verifies, but its signer does not chain: ${chain.detail}`,
    };
  return { ok: true, detail: `signed by ${chain.detail}` };
}

function window(issueDate: string, nextUpdate: string, at: Date): string | undefined {
  const i = Date.parse(issueDate);
  const n = Date.parse(nextUpdate);
  if (Number.isNaN(i) || Number.isNaN(n))
    return `issueDate/nextUpdate are not dates (${issueDate}, ${nextUpdate})`;
  if (at.getTime() < i) return `not yet issued at ${at.toISOString()} (issued ${issueDate})`;
  if (at.getTime() > n) return `expired at ${at.toISOString()} (nextUpdate ${nextUpdate})`;
  return undefined;
}

function accepted(status: string, options: TeeVerifyOptions): boolean {
  return (options.policy?.acceptTcbStatus ?? ['UpToDate']).includes(status);
}

function maskedEqual(value: Buffer, maskHex: string, wantHex: string): boolean {
  const mask = Buffer.from(maskHex, 'hex');
  const want = Buffer.from(wantHex, 'hex');
  if (mask.length !== want.length || mask.length > value.length) return false;
  for (let i = 0; i < mask.length; i++)
    if (((value[i] as number) & (mask[i] as number)) !== want[i]) return false;
  return true;
}

function checkTcbInfo(
  col: Collateral,
  quote: TdxQuote,
  ext: PckExtensions,
  anchors: X509Certificate[],
  options: TeeVerifyOptions,
  add: Add,
  cache: ChainCache | undefined,
): string | undefined {
  const doc = col.tcbInfos.find((d) => String(d.value.fmspc).toLowerCase() === ext.fmspc);
  if (!doc) {
    const have = col.tcbInfos.map((d) => String(d.value.fmspc)).join(', ') || 'none';
    add(
      'tcb-info',
      false,
      `no TCB info for the PCK's FMSPC ${ext.fmspc} in the collateral (have: ${have})`,
    );
    return undefined;
  }
  const sig = checkCollateralSignature(doc, col, anchors, options.at, cache);
  add('tcb-info-signature', sig.ok, sig.detail);
  const t = doc.value;
  const problems: string[] = [];
  if (t.id !== 'TDX') problems.push(`id "${t.id}" is not "TDX"`);
  if (t.version !== 3) problems.push(`TCB info version ${t.version} is not supported (3)`);
  if (String(t.pceId).toLowerCase() !== ext.pceId)
    problems.push(`PCE-ID ${t.pceId} is not the PCK's ${ext.pceId}`);
  const w = window(t.issueDate, t.nextUpdate, options.at);
  if (w) problems.push(w);
  if (!Array.isArray(t.tcbLevels) || t.tcbLevels.length === 0) problems.push('no TCB levels');
  add(
    'tcb-info',
    problems.length === 0,
    problems.length === 0
      ? `${doc.file}: FMSPC ${ext.fmspc}, current at ${options.at.toISOString()}`
      : problems.join('; '),
  );
  if (problems.length > 0) return undefined;

  // TDX module identity: MRSIGNERSEAM and SEAMATTRIBUTES.
  const svn = quote.body.teeTcbSvn;
  const major = svn[1] as number;
  let moduleStatus: string | undefined;
  let module: { mrsigner: string; attributes: string; attributesMask: string } | undefined =
    t.tdxModule;
  let moduleName = 'tdxModule';
  if (major > 0 && Array.isArray(t.tdxModuleIdentities)) {
    const id = `TDX_${major.toString(16).toUpperCase().padStart(2, '0')}`;
    const found = t.tdxModuleIdentities.find((m) => m.id === id);
    if (!found) {
      add('tdx-module', false, `no TDX module identity ${id} in the TCB info`);
      module = undefined;
    } else {
      module = found;
      moduleName = id;
      const level = found.tcbLevels.find((l) => (svn[0] as number) >= l.tcb.isvsvn);
      moduleStatus = level?.tcbStatus ?? 'unsupported';
    }
  }
  if (module) {
    const mrOk = hex(quote.body.mrSignerSeam) === module.mrsigner.toLowerCase();
    const attrOk = maskedEqual(quote.body.seamAttributes, module.attributesMask, module.attributes);
    const ok = mrOk && attrOk && (moduleStatus === undefined || accepted(moduleStatus, options));
    add(
      'tdx-module',
      ok,
      ok
        ? `MRSIGNERSEAM and SEAMATTRIBUTES match ${moduleName}${moduleStatus ? ` (module TCB ${moduleStatus})` : ''}`
        : [
            mrOk ? '' : `MRSIGNERSEAM ${hex(quote.body.mrSignerSeam)} is not ${module.mrsigner}`,
            attrOk
              ? ''
              : `SEAMATTRIBUTES ${hex(quote.body.seamAttributes)} & ${module.attributesMask} is not ${module.attributes}`,
            moduleStatus && !accepted(moduleStatus, options)
              ? `module TCB status ${moduleStatus} is not accepted`
              : '',
          ]
            .filter(Boolean)
            .join('; '),
    );
  }

  // TCB level: first level the platform meets (SGX components, PCESVN, TDX components).
  const from = major > 0 && Array.isArray(t.tdxModuleIdentities) ? 2 : 0;
  const level = t.tcbLevels.find((l) => {
    const sgx = l.tcb.sgxtcbcomponents;
    const tdx = l.tcb.tdxtcbcomponents;
    if (!Array.isArray(sgx) || !Array.isArray(tdx) || sgx.length !== 16 || tdx.length !== 16)
      return false;
    if (!ext.sgxTcbComponents.every((v, i) => v >= (sgx[i] as TcbComponent).svn)) return false;
    if (ext.pceSvn < l.tcb.pcesvn) return false;
    for (let i = from; i < 16; i++)
      if ((svn[i] as number) < (tdx[i] as TcbComponent).svn) return false;
    return true;
  });
  const tee = [...svn].join(',');
  if (!level) {
    add(
      'tcb-status',
      false,
      `no TCB level in ${doc.file} is met by SGX TCB [${ext.sgxTcbComponents.join(',')}], PCESVN ${ext.pceSvn}, TEE TCB SVN [${tee}]: TCB not supported`,
    );
    return 'unsupported';
  }
  if (from === 0 && (level.tcb.tdxtcbcomponents[1] as TcbComponent).svn !== svn[1]) {
    add(
      'tcb-status',
      false,
      `TEE TCB SVN[1] ${svn[1]} differs from the matched level's ${(level.tcb.tdxtcbcomponents[1] as TcbComponent).svn}: TCB info does not apply`,
    );
    return 'unsupported';
  }
  const ok = accepted(level.tcbStatus, options);
  const adv = level.advisoryIDs?.length ? ` (advisories: ${level.advisoryIDs.join(', ')})` : '';
  add(
    'tcb-status',
    ok,
    `platform TCB is ${level.tcbStatus} (level of ${level.tcbDate})${adv}${ok ? '' : ', not accepted'}`,
  );
  return level.tcbStatus;
}

type TcbComponent = { svn: number };

function checkQeIdentity(
  col: Collateral,
  quote: TdxQuote,
  anchors: X509Certificate[],
  options: TeeVerifyOptions,
  add: Add,
  cache: ChainCache | undefined,
): string | undefined {
  const doc = col.qeIdentities.find((d) => d.value.id === 'TD_QE') ?? col.qeIdentities[0];
  if (!doc) {
    add('qe-identity', false, 'no QE identity in the collateral');
    return undefined;
  }
  const sig = checkCollateralSignature(doc, col, anchors, options.at, cache);
  add('qe-identity-signature', sig.ok, sig.detail);
  const q: QeIdentity = doc.value;
  const r = quote.qeReport;
  const problems: string[] = [];
  if (q.id !== 'TD_QE') problems.push(`id "${q.id}" is not "TD_QE"`);
  if (q.version !== 2) problems.push(`QE identity version ${q.version} is not supported (2)`);
  const w = window(q.issueDate, q.nextUpdate, options.at);
  if (w) problems.push(w);
  if (hex(r.mrSigner) !== String(q.mrsigner).toLowerCase())
    problems.push(`QE MRSIGNER ${hex(r.mrSigner)} is not ${q.mrsigner}`);
  if (r.isvProdId !== q.isvprodid)
    problems.push(`QE ISVPRODID ${r.isvProdId} is not ${q.isvprodid}`);
  const misc = Buffer.alloc(4);
  misc.writeUInt32BE(r.miscSelect);
  const miscMask = Buffer.from(q.miscselectMask, 'hex');
  const miscWant = Buffer.from(q.miscselect, 'hex');
  // MISCSELECT is a little-endian u32 in the report; the JSON holds it big-endian hex.
  if (
    miscMask.length !== 4 ||
    miscWant.length !== 4 ||
    (r.miscSelect & miscMask.readUInt32BE(0)) >>> 0 !== miscWant.readUInt32BE(0)
  ) {
    problems.push(
      `QE MISCSELECT ${r.miscSelect.toString(16)} & ${q.miscselectMask} is not ${q.miscselect}`,
    );
  }
  if (!maskedEqual(r.attributes, q.attributesMask, q.attributes)) {
    problems.push(
      `QE ATTRIBUTES ${hex(r.attributes)} & ${q.attributesMask} is not ${q.attributes}`,
    );
  }
  add(
    'qe-identity',
    problems.length === 0,
    problems.length === 0
      ? `QE matches ${doc.file} (TD_QE, MRSIGNER, ISVPRODID, MISCSELECT, ATTRIBUTES)`
      : problems.join('; '),
  );
  const level = Array.isArray(q.tcbLevels)
    ? q.tcbLevels.find((l) => r.isvSvn >= l.tcb.isvsvn)
    : undefined;
  if (!level) {
    add('qe-tcb-status', false, `QE ISVSVN ${r.isvSvn} is below every QE TCB level: not supported`);
    return 'unsupported';
  }
  const ok = accepted(level.tcbStatus, options);
  add(
    'qe-tcb-status',
    ok,
    `QE TCB (ISVSVN ${r.isvSvn}) is ${level.tcbStatus}${ok ? '' : ', not accepted'}`,
  );
  return level.tcbStatus;
}
