import type { BundleVerdict } from '../sign/index.ts';

/** Evidence that passed signature, trust and subject checks. Nothing else reaches a policy. */
export interface VerifiedEvidence {
  source: string;
  predicateType: string;
  verdict: BundleVerdict;
}

export interface PolicyResult {
  ok: boolean;
  /** Every reason, passed or failed, in the order evaluated. */
  reasons: Array<{ ok: boolean; detail: string }>;
}

/**
 * The seam where the policy engine plugs in: it sees only verified evidence
 * about one subject and decides. The built-in one below is what `vouch verify`
 * uses without `--policy`.
 */
export interface Policy {
  readonly name: string;
  evaluate(subject: string, evidence: readonly VerifiedEvidence[]): PolicyResult;
}

/**
 * Passes when at least one verified bundle names the subject and, for each
 * required predicate type, at least one verified bundle has that type.
 */
export function requireEvidence(predicateTypes: readonly string[] = []): Policy {
  return {
    name: predicateTypes.length === 0 ? 'evidence-exists' : 'evidence-types',
    evaluate(subject, evidence) {
      const reasons: PolicyResult['reasons'] = [];
      reasons.push(
        evidence.length > 0
          ? { ok: true, detail: `${evidence.length} verified bundle(s) about ${subject}` }
          : { ok: false, detail: `no verified evidence about ${subject}` },
      );
      for (const type of predicateTypes) {
        const n = evidence.filter((e) => e.predicateType === type).length;
        reasons.push(
          n > 0
            ? { ok: true, detail: `${n} verified bundle(s) of type ${type}` }
            : { ok: false, detail: `no verified bundle of type ${type}` },
        );
      }
      return { ok: reasons.every((r) => r.ok), reasons };
    },
  };
}
