/**
 * The one interface every TEE evidence verifier implements (SEV-SNP, TDX,
 * Nitro, TPM). One file per platform; the registry in ./index.ts lists them.
 *
 * Contract:
 * - `detect` is cheap and never throws: it says whether the bytes look like
 *   this platform's evidence (magic numbers, versions, framing).
 * - `verify` throws a VouchError (code TEE_MALFORMED, exit 2) only when the
 *   evidence cannot be parsed; the message names the field and byte offset.
 *   Every *verification* failure (bad signature, untrusted chain, expired
 *   certificate, TCB mismatch, debug guest, report data mismatch) is a check
 *   with ok:false in the verdict. All checks run; every reason is collected.
 * - Certificate validity is judged at `options.at`, never at the wall clock,
 *   so that published samples with expired chains can be verified at their
 *   pinned time.
 */

export type TeePlatform = 'sev-snp' | 'tdx' | 'nitro' | 'tpm';

export const TEE_PLATFORMS: readonly TeePlatform[] = ['sev-snp', 'tdx', 'nitro', 'tpm'];

/** A PCR bank value the caller expects (TPM, Nitro). */
export interface TeeExpectedPcr {
  /** PCR index. */
  index: number;
  /** Hash algorithm of the bank, e.g. 'sha256' (TPM) or 'sha384' (Nitro). */
  alg?: string;
  /** Expected value, lower-case hex. */
  value: string;
}

/** Guest policy knobs; anything insecure is opt-in and named so. */
export interface TeePolicyOptions {
  /** Accept a debug guest / debug TD / debug enclave. Default false. */
  insecureAllowDebug?: boolean;
  /** SEV-SNP: accept a guest that allows SMT. Default true (most clouds run SMT). */
  allowSmt?: boolean;
  /** SEV-SNP: accept a guest that may be bound to a migration agent. Default false. */
  allowMigrationAgent?: boolean;
  /** Measurements (MRTD, SEV-SNP MEASUREMENT, Nitro PCR0…) allowed, lower-case hex; empty/undefined = any. */
  measurements?: readonly string[];
  /** SEV-SNP HOST_DATA the caller expects, lower-case hex. */
  hostData?: string;
  /** TDX: TCB statuses (from the TCB info / QE identity collateral) accepted. Default ['UpToDate']. */
  acceptTcbStatus?: readonly string[];
  /** TDX: verify without TCB info / QE identity collateral (TCB status and QE identity are then unchecked). Default false. */
  insecureSkipCollateral?: boolean;
  /** SEV-SNP / TDX: a chain certificate with no CRL in the collateral fails the verdict instead of warning. Default false. */
  requireCrl?: boolean;

  // Expected values and minimums (go-sev-guest / go-tdx-guest `check` policy). Unset = not checked.
  /**
   * SEV-SNP: minimum REPORTED_TCB, compared component by component (never as
   * one integer): SVNs by name (a missing name has no minimum), or a 64-bit
   * TCB_VERSION decoded with the report's product layout.
   */
  minimumTcb?: SnpMinimumTcb;
  /** SEV-SNP: the VMPL the report must have been requested at (0–3). */
  vmpl?: number;
  /** SEV-SNP: minimum GUEST_SVN. */
  minimumGuestSvn?: number;
  /** SEV-SNP: expected FAMILY_ID (16 bytes, lower-case hex). */
  familyId?: string;
  /** SEV-SNP: expected IMAGE_ID (16 bytes, lower-case hex). */
  imageId?: string;
  /** SEV-SNP: ID_KEY_DIGEST must be one of these (SHA-384, lower-case hex). */
  trustedIdKeyDigests?: readonly string[];
  /** SEV-SNP: AUTHOR_KEY_EN must be set and AUTHOR_KEY_DIGEST one of these (SHA-384, lower-case hex). */
  trustedAuthorKeyDigests?: readonly string[];
  /** TDX: minimum TEE_TCB_SVN (16 bytes, lower-case hex), compared byte by byte. */
  minimumTeeTcbSvn?: string;
  /** TDX: minimum QE SVN: the QE report's ISVSVN (the quote header's field is reserved in v4). */
  minimumQeSvn?: number;
  /** TDX: minimum PCE SVN: the PCK certificate's PCESVN. */
  minimumPceSvn?: number;
  /** TDX: expected MRCONFIGID (48 bytes, lower-case hex). */
  mrConfigId?: string;
  /** TDX: expected MROWNER (48 bytes, lower-case hex). */
  mrOwner?: string;
  /** TDX: expected MROWNERCONFIG (48 bytes, lower-case hex). */
  mrOwnerConfig?: string;
  /** TDX: expected RTMR0–3 by index (48 bytes each, lower-case hex); an undefined entry is not checked. */
  rtmrs?: readonly (string | undefined)[];
  /** TDX: expected TDATTRIBUTES (8 bytes as in the quote, lower-case hex), all bits. */
  tdAttributes?: string;
}

/** SEV-SNP TCB component names (Turin adds fmc). */
export type SnpTcbComponent = 'bootloader' | 'tee' | 'snp' | 'microcode' | 'fmc';

/** A minimum SEV-SNP TCB: SVNs by component, or a raw 64-bit TCB_VERSION. */
export type SnpMinimumTcb = Partial<Record<SnpTcbComponent, number>> | bigint;

export interface TeeVerifyOptions {
  /** The time at which certificates, CRLs and collateral must be valid. */
  at: Date;
  /** Extra certificates (PEM or DER; a PEM buffer may hold several) — e.g. a VCEK/VLEK/ASK, a PCK chain, an AK certificate. */
  certChain?: Buffer[];
  /** Directory of collateral files (TDX TCB info, QE identity, CRLs; AMD CRLs): files whose name contains "crl" are CRLs (see ./crl.ts). */
  collateralDir?: string;
  /** The report data the evidence must carry (SEV-SNP REPORT_DATA / TDX REPORTDATA, 64 bytes; shorter is zero-padded on the right). */
  expectReportData?: Buffer;
  /** The nonce the evidence must carry (Nitro nonce, TPM extraData). */
  expectNonce?: Buffer;
  /** PCR values the evidence must attest (TPM, Nitro). */
  pcrs?: readonly TeeExpectedPcr[];
  /** Guest policy. */
  policy?: TeePolicyOptions;
  /**
   * Trust anchors replacing the built-in, digest-pinned vendor roots (PEM or
   * DER). For tests and private deployments; using it is reported in the
   * verdict as a check named 'root'.
   */
  roots?: Buffer[];
}

export interface TeeCheck {
  /** Stable, kebab-case name ('signature', 'chain', 'tcb', 'debug', 'report-data', …). */
  name: string;
  ok: boolean;
  /** Human-readable reason; names what was compared. */
  detail: string;
  /**
   * 'warning': the check could not be made (e.g. revocation with no CRL in
   * the collateral). It has ok:false, so it never reads as a pass, but it
   * does not fail the verdict.
   */
  level?: 'warning';
}

/** Platform TCB (trusted computing base) as reported and as certified. */
export interface TeeTcb {
  /** Component SVNs, e.g. { bootloader: 3, tee: 0, snp: 8, microcode: 115 } (SEV-SNP) or { tdxModule: 3, … } (TDX). */
  components?: Record<string, number>;
  /** TCB status from collateral (TDX: 'UpToDate', 'OutOfDate', …). */
  status?: string;
  /** Raw TCB value, hex (SEV-SNP 64-bit TCB_VERSION, TDX TEE_TCB_SVN). */
  raw?: string;
}

export interface TeeClaims {
  /** The launch measurement: SEV-SNP MEASUREMENT, TDX MRTD, Nitro PCR0, TPM PCR digest. Lower-case hex. */
  measurement?: string;
  /** SEV-SNP REPORT_DATA / TDX REPORTDATA / Nitro user_data. Lower-case hex. */
  reportData?: string;
  /** Nitro nonce / TPM extraData, hex. */
  nonce?: string;
  tcb?: TeeTcb;
  debug?: boolean;
  /** Product / CPU generation where known ('Milan', 'Genoa', 'Turin', 'SPR', …). */
  product?: string;
  /** Report / quote / document format version. */
  version?: number;
  /** Platform-specific claims (RTMRs, host data, policy bits, PCR map, …); values are JSON-serialisable. */
  [key: string]: unknown;
}

export interface TeeVerdict {
  /** True only when every check passed. */
  ok: boolean;
  platform: TeePlatform;
  /** Every check that ran, in the order it ran, passed or not. */
  checks: TeeCheck[];
  /** What the evidence says; trustworthy only when ok is true. */
  claims: TeeClaims;
}

export interface TeeVerifier {
  readonly platform: TeePlatform;
  /** Whether these bytes look like this platform's evidence. Never throws. */
  detect(evidence: Buffer): boolean;
  /** @throws VouchError TEE_MALFORMED when the evidence cannot be parsed. */
  verify(evidence: Buffer, options: TeeVerifyOptions): Promise<TeeVerdict>;
}

/** Build a verdict: ok only when at least one check passed and every check passed or is a warning. */
export function makeVerdict(
  platform: TeePlatform,
  checks: TeeCheck[],
  claims: TeeClaims,
): TeeVerdict {
  const ok = checks.some((c) => c.ok) && checks.every((c) => c.ok || c.level === 'warning');
  return { ok, platform, checks, claims };
}
