/** The compliance report: one row per framework task, each linked to verified evidence or to what is missing. */

export const REPORT_VERSION = 'vouch.dev/compliance-report/v1';
/** Predicate type of a signed compliance report (`vouch comply --attest`). */
export const SSDF_REPORT_PREDICATE_TYPE = 'https://vouch.dev/attestation/ssdf-report/v1';

export type TaskStatus = 'satisfied' | 'not-satisfied' | 'not-applicable';

/** Where a piece of evidence's time comes from. */
export type TimeSource =
  | 'transparency-log'
  | 'timestamp-authority'
  /** The predicate's own time field: claimed by the (verified, trusted) signer, not timestamped. */
  | 'predicate'
  | 'none';

/** One verified bundle a task's rules used. */
export interface EvidenceCell {
  /** The rule that used it. */
  rule: string;
  predicateType: string;
  /** Where the bundle was read (store path or file). */
  source: string;
  /** `sha256:<hex>` of the bundle. */
  bundleDigest: string;
  /** The policy's names for the signers, with the identities that verified. */
  signers: Array<{ name: string; identity: string }>;
  /** RFC 3339, when known. */
  time?: string;
  timeSource: TimeSource;
  /** Held in the evidence store (not only given as a file). */
  archived: boolean;
}

/** Why one of a task's rules is not met. */
export interface MissingCell {
  rule: string;
  /** What the rule asks, for people. */
  summary: string;
  /** Every reason the rule gave, children's included (prefixed with their names). */
  reasons: string[];
}

export interface TaskResult {
  id: string;
  text: string;
  /** What evidence shows this task, for people. */
  expects: string;
  rules: string[];
  status: TaskStatus;
  /** Present when status is not-applicable: the profile's reason for this artifact kind. */
  notApplicableReason?: string;
  evidence: EvidenceCell[];
  missing: MissingCell[];
}

/** A bundle that was found but not counted, with why. */
export interface DroppedEvidence {
  source: string;
  bundleDigest: string;
  reasons: string[];
}

export interface ComplianceReport {
  reportVersion: typeof REPORT_VERSION;
  framework: { name: string; version: string; href?: string };
  profile: { name: string; title: string; source: string; digest: string };
  /** Where trust (signers) came from. */
  trust: { source: string; digest: string; signers: string[] };
  subject: { digest: string; name?: string };
  artifactKind: string;
  /** The evaluation time (RFC 3339). */
  evaluatedAt: string;
  /** Every applicable task is satisfied. */
  ok: boolean;
  summary: { satisfied: number; notSatisfied: number; notApplicable: number; total: number };
  tasks: TaskResult[];
  dropped: DroppedEvidence[];
}

export const RELEASE_REPORT_VERSION = 'vouch.dev/release-compliance-report/v1';
/** Predicate type of a signed release compliance report (`vouch comply --release … --attest`). */
export const SSDF_RELEASE_REPORT_PREDICATE_TYPE =
  'https://vouch.dev/attestation/ssdf-release-report/v1';

/** One artifact's status for one task of a release. */
export interface ReleaseMemberStatus {
  digest: string;
  name?: string;
  status: TaskStatus;
}

/** An artifact that does not satisfy a task, and the rules it lacks. */
export interface ReleaseLack {
  digest: string;
  name?: string;
  /** The task's rules not met for this artifact (`archived` for PS.3.1's archive check). */
  rules: string[];
}

export interface ReleaseTaskResult {
  id: string;
  text: string;
  expects: string;
  rules: string[];
  /**
   * satisfied: satisfied for every artifact it applies to (and it applies to
   * one at least); not-applicable: not applicable to any artifact;
   * not-satisfied otherwise.
   */
  status: TaskStatus;
  /** Present when status is not-applicable: the artifacts' reasons. */
  notApplicableReason?: string;
  /** Every artifact's status for this task, in release order. */
  artifacts: ReleaseMemberStatus[];
  /** The artifacts that lack evidence for this task; empty unless not-satisfied. */
  lacking: ReleaseLack[];
}

/** Several artifacts judged together: per-artifact matrices and the release's. */
export interface ReleaseComplianceReport {
  reportVersion: typeof RELEASE_REPORT_VERSION;
  /** name and version from the manifest; manifest absent when artifacts were given as arguments. */
  release: { name?: string; version?: string; manifest?: { source: string; digest: string } };
  framework: ComplianceReport['framework'];
  profile: ComplianceReport['profile'];
  /** Where trust came from; signers: names that verified evidence about any artifact. */
  trust: ComplianceReport['trust'];
  evaluatedAt: string;
  /** Every task is satisfied or not applicable for the release. */
  ok: boolean;
  summary: ComplianceReport['summary'];
  tasks: ReleaseTaskResult[];
  /** One full report per artifact, in release order. */
  artifacts: ComplianceReport[];
}
