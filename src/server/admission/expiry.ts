import { createHash } from 'node:crypto';
import { canonicalize } from '../../core/canonical.ts';
import type { Policy, PolicyVerdict, Rule, RuleResult } from '../../policy/index.ts';

/**
 * The version of everything a verdict trusted besides the policy file's
 * bytes: the signer keys and identities with their validity windows, and the
 * Sigstore trusted root. Keys live in their own files, so the policy digest
 * alone would not change when one is replaced.
 */
export function trustVersion(policy: Policy): string {
  const signers = policy.trust.signers.map((s) => {
    const { kind, name, validFrom, validUntil, revokedAt } = s;
    const who = s.kind === 'key' ? { keyid: s.key.keyid } : { ...s };
    return { ...who, kind, name, validFrom, validUntil, revokedAt };
  });
  const text = canonicalize(
    JSON.parse(JSON.stringify({ signers, root: policy.trust.trustedRoot ?? null })),
  );
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** Reads `now` in a CEL `where`: its value can change at any instant. */
const USES_NOW = /\bnow\b/;

/**
 * The earliest instant at which evaluating the same evidence again could give
 * another result: a used bundle passing its rule's maxAge, an exception
 * expiring (or a signer's validity window opening, closing or being revoked),
 * capped by `maxTtlMs`. A `where` that reads `now` caps it at `nowTtlMs`.
 * The cache must not serve a verdict at or after this time.
 */
export function verdictExpiry(
  policy: Policy,
  verdict: PolicyVerdict,
  now: number,
  maxTtlMs: number,
  nowTtlMs = 30_000,
): number {
  let expires = now + maxTtlMs;
  const at = (t: number | undefined) => {
    if (t !== undefined && Number.isFinite(t) && t > now && t < expires) expires = t;
  };
  const results = new Map<string, RuleResult>();
  const index = (rs: RuleResult[]) => {
    for (const r of rs) {
      results.set(r.name, r);
      if (r.children) index(r.children);
    }
  };
  index(verdict.rules);
  const walk = (rules: Rule[]) => {
    for (const rule of rules) {
      if (rule.kind !== 'evidence') {
        walk(rule.rules);
        continue;
      }
      if (rule.where && USES_NOW.test(rule.where.text)) at(now + nowTtlMs);
      if (rule.maxAge === undefined) continue;
      for (const use of results.get(rule.name)?.evidence ?? []) {
        if (use.time !== undefined) at(Date.parse(use.time) + rule.maxAge);
      }
    }
  };
  walk(policy.require);
  for (const e of policy.exceptions) at(e.expires);
  for (const s of policy.trust.signers) {
    at(s.validFrom);
    // validUntil is compared with `>`: the verdict changes just after it.
    at(s.validUntil === undefined ? undefined : s.validUntil + 1);
    at(s.revokedAt);
  }
  return expires;
}

/**
 * Whether evidence pushed later can turn this policy's allow into a deny.
 * By default more evidence can only help (a rule passes when any verified
 * bundle passes), so an allow stands until something in the verdict
 * expires; a `select: newest` rule judges only the newest statement, and a
 * newer failing one replaces the passing one.
 */
export function newerEvidenceCanDeny(policy: Policy): boolean {
  const any = (rules: Rule[]): boolean =>
    rules.some((r) => (r.kind === 'evidence' ? r.select === 'newest' : any(r.rules)));
  return any(policy.require);
}
