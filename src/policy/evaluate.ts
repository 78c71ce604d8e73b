import { hash } from 'node:crypto';
import { PREDICATE_TYPES } from '../core/predicates.ts';
import type { Statement } from '../core/statement.ts';
import {
  type ArtifactInput,
  type BundleVerdict,
  publicGoodTrustedRoot,
  type Signer,
  type TrustAnchors,
  type VerificationKey,
  verifyBundleAgainst,
} from '../sign/index.ts';
import type { CandidateBundle } from '../verify/index.ts';
import type { EvidenceRule, Policy, PolicyException, Rule, SignerSpec } from './model.ts';
import { describeSelection, type NewestSelection, selectNewest } from './newest.ts';
import { predicateTime } from './time.ts';
import type { VerificationCache } from './verify-cache.ts';

export interface EvaluateOptions {
  /** `sha256:<hex>` (or bare hex) of the artifact the decision is about. */
  subjectDigest: string;
  bundles: readonly CandidateBundle[];
  /** The evaluation clock; default the current time. */
  now?: Date;
  /** Bytes of the artifact, needed only for message-signature bundles. */
  artifactBytes?: () => Buffer | undefined;
  /**
   * Reuse passed signature checks across evaluations (a long-lived process
   * evaluating the same bundles again). Only the clock-free verification is
   * cached; validity, revocation and every rule are judged again at `now`.
   */
  verificationCache?: VerificationCache;
}

/** A trusted signer, by its name in the policy, that verified a bundle. */
export interface SignerMatch {
  name: string;
  /** The distinct identity counted by minSigners: `key:<keyid>` or `keyless:<issuer>|<subject>`. */
  identity: string;
}

/** What became of one candidate bundle. */
export interface EvidenceRecord {
  source: string;
  /** `sha256:<hex>` of the bundle as given (its text, or its JSON serialization). */
  digest: string;
  /** Verified, about this subject, and signed by a signer the policy trusts at its signing time. */
  accepted: boolean;
  predicateType?: string;
  signers: SignerMatch[];
  /** The trusted signing time (RFC 3339), or absent when nothing trusted timestamps it. */
  signedAt?: string;
  /** Where signedAt comes from; `none` means the bundle was judged as signed now. */
  timeSource: 'transparency-log' | 'timestamp-authority' | 'none';
  /** Why it was dropped (or notes when accepted). */
  reasons: string[];
}

/** One use of a bundle by a rule. */
export interface EvidenceUse {
  source: string;
  digest: string;
  predicateType: string;
  signers: string[];
  /** The time maxAge was measured from, when one was. */
  time?: string;
}

export type RuleStatus = 'pass' | 'fail' | 'pass-with-exception';

export interface RuleResult {
  name: string;
  kind: Rule['kind'];
  status: RuleStatus;
  /** What the rule asked, for people: `slsaprovenance by [ci] ≥1 signer(s), maxAge 7d`. */
  summary: string;
  /** Every reason, failing or not, in order. */
  reasons: string[];
  evidence: EvidenceUse[];
  children?: RuleResult[];
  /** `select: newest`: the statement judged, its bundles and its time (absent when none could be chosen). */
  selected?: NewestSelection;
  exception?: { owner: string; reason: string; expires: string; active: boolean };
}

export interface PolicyVerdict {
  ok: boolean;
  decision: 'allow' | 'deny';
  /** `sha256:<hex>` */
  subject: string;
  /** `extends`: the files the policy extends, with their digests (absent when it extends none). */
  policy: {
    name: string;
    source: string;
    digest: string;
    extends?: Array<{ file: string; digest: string }>;
  };
  evaluatedAt: string;
  evidence: EvidenceRecord[];
  rules: RuleResult[];
}

const MESSAGE_SIGNATURE = 'message-signature';

/**
 * Evaluates a policy for one artifact. Every bundle is first verified against
 * ALL the policy's signers at once (keys and keyless identities), bound to the
 * artifact's digest, and kept only when a signer that matches it was valid at
 * its signing time; then every rule is evaluated over the kept ones, and every
 * reason is recorded. Never throws for bad evidence: that is a deny with reasons.
 */
export function evaluatePolicy(policy: Policy, options: EvaluateOptions): PolicyVerdict {
  const now = options.now ?? new Date();
  const hex = options.subjectDigest.replace(/^sha256:/, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex))
    throw new Error(`subjectDigest is not a sha256 digest: ${options.subjectDigest}`);
  const subject = `sha256:${hex}`;
  const nowIso = now.toISOString();
  const anchors = trustAnchors(policy);
  const digestInput: ArtifactInput = { digest: { algorithm: 'sha256', hex } };

  // Two steps per bundle, kept apart so the first may be cached: `verify`
  // reads no clock (signatures, certificate chain and SCT at the signed time,
  // log and TSA proofs, subject digest); `judgeBundle` and the rules are
  // everything that depends on `now` (signer validity and revocation, maxAge,
  // exceptions, CEL `now`) and always run.
  const verify =
    options.verificationCache?.forTrust(anchors) ??
    ((json: unknown, source: string, artifact: ArtifactInput) =>
      verifyBundleAgainst(json, source, artifact, anchors));
  const evidence: Array<{ record: EvidenceRecord; statement?: Statement }> = options.bundles.map(
    (b) => {
      // Only a message-signature bundle needs the bytes; without a source of
      // bytes there is nothing to look for.
      const bytes =
        options.artifactBytes !== undefined && isMessageSignature(b.json)
          ? options.artifactBytes()
          : undefined;
      const verdict = verify(b.json, b.source, bytes ? { bytes } : digestInput);
      return judgeBundle(policy, b, verdict, now, nowIso);
    },
  );
  const ctx: Ctx = { policy, now, nowIso, subject, hex, evidence };
  const rules = policy.require.map((r) => evaluateRule(r, ctx));
  const ok = rules.every((r) => r.status !== 'fail');
  return {
    ok,
    decision: ok ? 'allow' : 'deny',
    subject,
    policy: {
      name: policy.name,
      source: policy.source,
      digest: policy.digest,
      ...(policy.extends ? { extends: policy.extends } : {}),
    },
    evaluatedAt: ctx.nowIso,
    evidence: evidence.map((e) => e.record),
    rules,
  };
}

function trustAnchors(policy: Policy): TrustAnchors {
  const keys = new Map<string, VerificationKey>();
  const identities: TrustAnchors['identities'] = [];
  for (const s of policy.trust.signers) {
    if (s.kind === 'key') keys.set(s.key.keyid, s.key);
    else
      identities.push(
        s.subject !== undefined
          ? { issuer: s.issuer, subject: s.subject }
          : { issuer: s.issuer, subjectRegExp: s.subjectRegExp as string },
      );
  }
  const anchors: TrustAnchors = { keys: [...keys.values()], identities };
  const root =
    policy.trust.trustedRoot ?? (identities.length > 0 ? publicGoodTrustedRoot() : undefined);
  if (root !== undefined) anchors.trustedRoot = root;
  return anchors;
}

function bundleDigest(json: unknown): string {
  // One-shot hash of the text as UTF-8 (no Buffer copy, no Hash object): it
  // runs for every bundle of every evaluation.
  const data =
    typeof json === 'string' || Buffer.isBuffer(json)
      ? (json as string | Buffer)
      : JSON.stringify(json);
  return `sha256:${hash('sha256', data, 'hex')}`;
}

function judgeBundle(
  policy: Policy,
  candidate: CandidateBundle,
  verdict: BundleVerdict,
  now: Date,
  nowIso: string,
): { record: EvidenceRecord; statement?: Statement } {
  const record: EvidenceRecord = {
    source: candidate.source,
    digest: bundleDigest(candidate.json),
    accepted: false,
    signers: [],
    timeSource: 'none',
    reasons: [],
  };
  if (!verdict.ok) {
    for (const c of verdict.checks) if (!c.ok) record.reasons.push(`${c.name}: ${c.detail}`);
    if (record.reasons.length === 0) record.reasons.push('not verified');
    return { record };
  }
  record.predicateType = verdict.statement?.predicateType ?? MESSAGE_SIGNATURE;
  const earliest = verdict.timestamps?.[0];
  // No trusted time: judge as signed now, so a revoked or expired key's
  // untimestamped evidence is refused (it could have been signed yesterday).
  const signedAt = earliest ? Date.parse(earliest.time) : now.getTime();
  if (earliest) {
    record.signedAt = earliest.time;
    record.timeSource = earliest.kind;
  }
  const when = earliest
    ? `signed at ${earliest.time}`
    : `no trusted signing time, judged as signed now (${nowIso})`;
  for (const signer of verdict.signers) {
    const matches = policy.trust.signers.filter((spec) =>
      signerMatches(spec, signer, record.reasons),
    );
    if (matches.length === 0) {
      record.reasons.push(`${describeSigner(signer)} matches no signer in the policy`);
      continue;
    }
    for (const spec of matches) {
      const problem = validityProblem(spec, signedAt);
      if (problem) record.reasons.push(`signer ${spec.name}: ${problem} (${when})`);
      else record.signers.push({ name: spec.name, identity: identityOf(signer) });
    }
  }
  if (record.signers.length === 0) {
    record.reasons.push('no signer the policy trusts was valid for this bundle');
    return { record };
  }
  record.accepted = true;
  return verdict.statement ? { record, statement: verdict.statement } : { record };
}

function identityOf(s: Signer): string {
  return s.kind === 'key' ? `key:${s.keyid}` : `keyless:${s.issuer}|${s.subject}`;
}

function describeSigner(s: Signer): string {
  return s.kind === 'key'
    ? `key ${s.keyid.slice(0, 16)}…`
    : `certificate ${s.subject} (${s.issuer})`;
}

/** Fulcio OIDs for the GitHub workflow repository and ref: v1 raw, v2 DER (decoded by sign). */
const OID_REPOSITORY_V1 = '1.3.6.1.4.1.57264.1.5';
const OID_REF_V1 = '1.3.6.1.4.1.57264.1.6';
const OID_SOURCE_REPOSITORY_URI = '1.3.6.1.4.1.57264.1.12';
const OID_SOURCE_REPOSITORY_REF = '1.3.6.1.4.1.57264.1.14';

function signerMatches(spec: SignerSpec, signer: Signer, reasons: string[]): boolean {
  if (spec.kind === 'key') return signer.kind === 'key' && signer.keyid === spec.key.keyid;
  if (signer.kind !== 'certificate' || signer.issuer !== spec.issuer) return false;
  if (spec.subject !== undefined && signer.subject !== spec.subject) return false;
  if (
    spec.subjectRegExp !== undefined &&
    !new RegExp(`^(?:${spec.subjectRegExp})$`, 'u').test(signer.subject)
  )
    return false;
  const ext = signer.extensions ?? {};
  if (spec.repository !== undefined) {
    const v1 = ext[OID_REPOSITORY_V1];
    const v2 = ext[OID_SOURCE_REPOSITORY_URI]?.replace(/^https:\/\/github\.com\//, '');
    if (v1 !== spec.repository && v2 !== spec.repository) {
      reasons.push(
        `signer ${spec.name}: certificate repository ${JSON.stringify(v1 ?? v2 ?? null)} is not ${spec.repository}`,
      );
      return false;
    }
  }
  if (spec.ref !== undefined) {
    const v = ext[OID_REF_V1] ?? ext[OID_SOURCE_REPOSITORY_REF];
    if (v !== spec.ref && ext[OID_SOURCE_REPOSITORY_REF] !== spec.ref) {
      reasons.push(
        `signer ${spec.name}: certificate ref ${JSON.stringify(v ?? null)} is not ${spec.ref}`,
      );
      return false;
    }
  }
  return true;
}

function validityProblem(spec: SignerSpec, t: number): string | undefined {
  const iso = (ms: number) => new Date(ms).toISOString();
  if (spec.revokedAt !== undefined && t >= spec.revokedAt)
    return `revoked at ${iso(spec.revokedAt)}${spec.revokedReason ? ` (${spec.revokedReason})` : ''}`;
  if (spec.validFrom !== undefined && t < spec.validFrom)
    return `not valid before ${iso(spec.validFrom)}`;
  if (spec.validUntil !== undefined && t > spec.validUntil)
    return `expired at ${iso(spec.validUntil)}`;
  return undefined;
}

interface Ctx {
  policy: Policy;
  now: Date;
  /** `now` in RFC 3339, the `now` of every `where`. */
  nowIso: string;
  subject: string;
  hex: string;
  evidence: Array<{ record: EvidenceRecord; statement?: Statement }>;
}

function evaluateRule(rule: Rule, ctx: Ctx): RuleResult {
  let result: RuleResult;
  switch (rule.kind) {
    case 'evidence':
      result = evaluateEvidenceRule(rule, ctx);
      break;
    case 'anyOf':
    case 'allOf': {
      const children = rule.rules.map((r) => evaluateRule(r, ctx));
      const passed = children.filter((c) => c.status !== 'fail');
      const ok = rule.kind === 'anyOf' ? passed.length > 0 : passed.length === children.length;
      const reasons = [
        rule.kind === 'anyOf'
          ? `${passed.length} of ${children.length} alternative(s) passed; need 1`
          : `${passed.length} of ${children.length} rule(s) passed; need all`,
      ];
      for (const c of children) if (c.status === 'fail') reasons.push(`${c.name} failed`);
      result = {
        name: rule.name,
        kind: rule.kind,
        status: ok ? 'pass' : 'fail',
        summary: `${rule.kind} of ${children.map((c) => c.name).join(', ')}`,
        reasons,
        evidence: [],
        children,
      };
      break;
    }
    default:
      return assertNever(rule);
  }
  return applyException(result, ctx.policy.exceptions, ctx.now);
}

function applyException(
  result: RuleResult,
  exceptions: readonly PolicyException[],
  now: Date,
): RuleResult {
  const mine = exceptions.filter((e) => e.rule === result.name);
  if (mine.length === 0) return result;
  const active = mine.filter((e) => e.expires > now.getTime());
  for (const e of mine.filter((x) => x.expires <= now.getTime())) {
    result.reasons.push(`exception by ${e.owner} expired at ${e.expiresText}: no effect`);
  }
  const chosen = active.sort((a, b) => b.expires - a.expires)[0] ?? mine[0];
  if (!chosen) return result;
  const isActive = chosen.expires > now.getTime();
  result.exception = {
    owner: chosen.owner,
    reason: chosen.reason,
    expires: chosen.expiresText,
    active: isActive,
  };
  if (isActive && result.status === 'fail') {
    result.status = 'pass-with-exception';
    result.reasons.push(
      `failing, but excepted by ${chosen.owner} until ${chosen.expiresText}: ${chosen.reason}`,
    );
  } else if (isActive) {
    result.reasons.push(
      `exception by ${chosen.owner} (until ${chosen.expiresText}) not needed: the rule passes`,
    );
  }
  return result;
}

function typeName(uri: string): string {
  const entry = Object.entries(PREDICATE_TYPES).find(([, v]) => v === uri);
  return entry ? entry[0] : uri;
}

function evaluateEvidenceRule(rule: EvidenceRule, ctx: Ctx): RuleResult {
  const reasons: string[] = [];
  const used: EvidenceUse[] = [];
  const identities = new Map<string, string[]>();
  let hardFailure = false;
  const summary = [
    typeName(rule.predicateType),
    rule.signers
      ? `signed by ${rule.minSigners} of [${rule.signers.join(', ')}]`
      : `signed by ${rule.minSigners} trusted signer(s)`,
    rule.maxAgeText ? `maxAge ${rule.maxAgeText}` : undefined,
    rule.where ? `where ${rule.where.text}` : undefined,
    rule.select === 'newest' ? 'newest only' : undefined,
  ]
    .filter(Boolean)
    .join(', ');
  const candidates = ctx.evidence.filter(
    (e) => e.record.accepted && e.record.predicateType === rule.predicateType,
  );
  if (candidates.length === 0) reasons.push(`no verified evidence of type ${rule.predicateType}`);
  const eligible: Array<{ record: EvidenceRecord; statement?: Statement; allowed: SignerMatch[] }> =
    [];
  for (const { record, statement } of candidates) {
    const allowed = record.signers.filter((s) => !rule.signers || rule.signers.includes(s.name));
    if (allowed.length === 0) {
      reasons.push(
        `${record.source}: signed by ${record.signers.map((s) => s.name).join(', ')}, not by a signer this rule allows (${(rule.signers ?? []).join(', ')})`,
      );
      continue;
    }
    eligible.push(statement ? { record, statement, allowed } : { record, allowed });
  }
  // select newest: only the newest verified statement is judged; an older one
  // that would pass cannot outweigh it. No newest (a tie, or no usable time)
  // denies the rule.
  let judged = eligible;
  let selected: NewestSelection | undefined;
  if (rule.select === 'newest' && eligible.length > 0) {
    const newest = selectNewest(eligible, ctx.now);
    if (!newest.ok) {
      hardFailure = true;
      reasons.push(newest.reason);
      judged = [];
    } else {
      selected = newest.selection;
      judged = newest.chosen;
      reasons.push(describeSelection(selected));
      if (newest.older.length > 0)
        reasons.push(
          `not judged, older than the newest: ${newest.older.map((o) => o.record.source).join(', ')}`,
        );
    }
  }
  for (const { record, statement, allowed } of judged) {
    let time: string | undefined;
    if (rule.maxAge !== undefined) {
      const age = evidenceTime(record, statement);
      if (age.time === undefined) {
        reasons.push(
          `${record.source}: ${age.why}; cannot show it is younger than ${rule.maxAgeText}`,
        );
        continue;
      }
      const ms = ctx.now.getTime() - age.time;
      time = new Date(age.time).toISOString();
      if (ms < -5 * 60_000) {
        reasons.push(`${record.source}: dated in the future (${time}, ${age.why})`);
        continue;
      }
      if (ms > rule.maxAge) {
        reasons.push(
          `${record.source}: stale, ${formatAge(ms)} old (${age.why}), maxAge ${rule.maxAgeText}`,
        );
        continue;
      }
    }
    if (rule.where) {
      const r = rule.where.evaluate({
        predicate: statement?.predicate ?? {},
        statement: statement ?? {},
        subject: statement?.subject.find((s) => s.digest.sha256?.toLowerCase() === ctx.hex) ?? {},
        signers: allowed.map((s) => ({ name: s.name, identity: s.identity })),
        now: ctx.nowIso,
      });
      if (!r.ok) {
        hardFailure = true;
        reasons.push(`${record.source}: where expression failed (denies): ${r.error}`);
        continue;
      }
      if (!r.value) {
        reasons.push(`${record.source}: where expression is false: ${rule.where.text}`);
        continue;
      }
    }
    const use: EvidenceUse = {
      source: record.source,
      digest: record.digest,
      predicateType: rule.predicateType,
      signers: allowed.map((s) => s.name),
    };
    if (time !== undefined) use.time = time;
    else if (record.signedAt !== undefined) use.time = record.signedAt;
    used.push(use);
    for (const s of allowed) {
      const names = identities.get(s.identity) ?? [];
      if (!names.includes(s.name)) names.push(s.name);
      identities.set(s.identity, names);
    }
  }
  const count = identities.size;
  const countOk = count >= rule.minSigners;
  if (used.length > 0 || rule.minSigners > 1) {
    const who = [...identities.values()].map((n) => n.join('/')).join(', ');
    reasons.push(
      `${count} distinct signer identit${count === 1 ? 'y' : 'ies'}${who ? ` (${who})` : ''} over ${used.length} bundle(s); need ${rule.minSigners}`,
    );
  }
  const ok = countOk && !hardFailure;
  return {
    name: rule.name,
    kind: 'evidence',
    status: ok ? 'pass' : 'fail',
    summary,
    reasons,
    evidence: used,
    ...(selected ? { selected } : {}),
  };
}

/**
 * The time maxAge is measured from: the earlier of the trusted signing time
 * and the predicate's own time field (when its type defines one; the trusted
 * signer vouches for it). A key-signed bundle with neither has no time to
 * measure from and fails maxAge: treating it as "now" would make any old
 * evidence fresh forever.
 */
function evidenceTime(
  record: EvidenceRecord,
  statement: Statement | undefined,
): { time?: number; why: string } {
  const signed = record.signedAt !== undefined ? Date.parse(record.signedAt) : undefined;
  const field = statement ? predicateTime(statement) : undefined;
  const own = field ? Date.parse(field.value) : Number.NaN;
  if (!Number.isNaN(own) && field) {
    if (signed !== undefined && signed < own)
      return { time: signed, why: `signed at ${record.signedAt}` };
    return { time: own, why: `${field.path} ${field.value}` };
  }
  if (signed !== undefined) return { time: signed, why: `signed at ${record.signedAt}` };
  return { why: 'no trusted signing time and no predicate time field' };
}

function formatAge(ms: number): string {
  const h = ms / 3_600_000;
  return h >= 48
    ? `${(h / 24).toFixed(1)}d`
    : h >= 1
      ? `${h.toFixed(1)}h`
      : `${Math.round(ms / 60_000)}m`;
}

function isMessageSignature(json: unknown): boolean {
  if (typeof json === 'string') return json.includes('"messageSignature"');
  return typeof json === 'object' && json !== null && 'messageSignature' in json;
}

function assertNever(x: never): never {
  throw new Error(`unreachable: ${JSON.stringify(x)}`);
}
