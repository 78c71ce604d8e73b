import { PREDICATE_TYPES } from '../core/predicates.ts';
import { makeStatement, type Statement } from '../core/statement.ts';
import type { PolicyVerdict } from './evaluate.ts';

export const VERIFIER_ID = 'https://vouch.dev/verifier/v1';
/** Where vouch's own reasons go inside the VSA predicate (an extension field; VSA readers ignore it). */
export const VSA_EXTENSION = 'https://vouch.dev/vsa/v1/verdict';

export interface VsaOptions {
  /** What was verified, as a URI (e.g. `file:app.tar.gz`, `oci://host/repo@sha256:…`). */
  resourceUri: string;
  /**
   * The Statement subject's name (default: `resourceUri`). An image is named
   * `host/repo`, as cosign and `vouch attest oci://…` name it; the digest is
   * the subject's digest either way.
   */
  subjectName?: string;
  /** Where the policy lives, as a URI (e.g. `file:policy.yaml`). */
  policyUri: string;
  /** The verifier's version string. */
  verifierVersion?: string;
}

/**
 * The decision as a SLSA Verification Summary v1 Statement about the
 * artifact digest, bound to the policy by its digest (of the top-level file,
 * which pins every file it extends by sha256, so it covers the merged set). `verifiedLevels` is
 * empty: vouch policies do not (yet) map builders to SLSA levels, and a level
 * claimed without that mapping would be a guess. vouch's full rule tree goes
 * under {@link VSA_EXTENSION}.
 */
export function verificationSummary(verdict: PolicyVerdict, options: VsaOptions): Statement {
  const used = new Map<string, string>();
  const collect = (rules: PolicyVerdict['rules']) => {
    for (const r of rules) {
      for (const e of r.evidence) used.set(e.digest, e.source);
      if (r.children) collect(r.children);
    }
  };
  collect(verdict.rules);
  const inputAttestations = [...used.entries()]
    .map(([digest, uri]) => ({ uri, digest: { sha256: digest.replace(/^sha256:/, '') } }))
    .sort((a, b) => (a.digest.sha256 < b.digest.sha256 ? -1 : 1));
  const predicate = {
    verifier: {
      id: VERIFIER_ID,
      ...(options.verifierVersion ? { version: { vouch: options.verifierVersion } } : {}),
    },
    timeVerified: verdict.evaluatedAt,
    resourceUri: options.resourceUri,
    policy: {
      uri: options.policyUri,
      digest: { sha256: verdict.policy.digest.replace(/^sha256:/, '') },
    },
    inputAttestations,
    verificationResult: verdict.ok ? 'PASSED' : 'FAILED',
    verifiedLevels: [] as string[],
    [VSA_EXTENSION]: {
      decision: verdict.decision,
      policyName: verdict.policy.name,
      // policy.digest already commits to these (each is pinned inside the file that extends it).
      ...(verdict.policy.extends ? { policyExtends: verdict.policy.extends } : {}),
      rules: verdict.rules,
      dropped: verdict.evidence
        .filter((e) => !e.accepted)
        .map((e) => ({ source: e.source, digest: e.digest, reasons: e.reasons })),
    },
  };
  return makeStatement(
    [
      {
        name: options.subjectName ?? options.resourceUri,
        digest: { sha256: verdict.subject.replace(/^sha256:/, '') },
      },
    ],
    PREDICATE_TYPES.vsa,
    predicate,
  );
}
