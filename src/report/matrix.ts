import { createHash } from 'node:crypto';
import { isObject } from '../core/json.ts';
import { parseStatement, type Statement } from '../core/statement.ts';
import type { PolicyVerdict, RuleResult } from '../policy/index.ts';
import { predicateTime } from '../policy/index.ts';
import type { ComplianceProfile } from '../policy/profiles/index.ts';
import {
  type ComplianceReport,
  type DroppedEvidence,
  type EvidenceCell,
  type MissingCell,
  REPORT_VERSION,
  type TaskResult,
  type TaskStatus,
  type TimeSource,
} from './model.ts';

export interface BuildReportOptions {
  profile: ComplianceProfile;
  /** The profile's policy evaluated for the artifact. */
  verdict: PolicyVerdict;
  /** One of the profile's artifact kinds. */
  artifactKind: string;
  /** Digests (`sha256:<hex>`) of the bundles held in the evidence store. */
  archived: ReadonlySet<string>;
  /**
   * Statements of the *accepted* bundles by bundle digest (see
   * {@link acceptedStatements}), to date key-signed evidence by its
   * predicate's own time field. Optional.
   */
  statements?: ReadonlyMap<string, Statement>;
  trust: { source: string; digest: string };
  subjectName?: string;
}

/** The report's verdict over its tasks: ok when none is not satisfied, and how many are in each status. */
export function tally(
  tasks: readonly { status: TaskStatus }[],
): Pick<ComplianceReport, 'ok' | 'summary'> {
  const count = (s: TaskStatus) => tasks.filter((t) => t.status === s).length;
  return {
    ok: count('not-satisfied') === 0,
    summary: {
      satisfied: count('satisfied'),
      notSatisfied: count('not-satisfied'),
      notApplicable: count('not-applicable'),
      total: tasks.length,
    },
  };
}

/**
 * Turns a policy verdict into the profile's task matrix. A task is
 * not-applicable only when the profile says so for this artifact kind, never
 * because evidence is missing; it is satisfied only when every rule it maps to
 * passes outright (an exception is an accepted risk, not evidence), and, for
 * archive tasks, every bundle used is in the evidence store.
 *
 * @throws Error when the kind is not one of the profile's, or a task names a
 * rule the verdict does not have (the profile and verdict do not belong together).
 */
export function buildReport(o: BuildReportOptions): ComplianceReport {
  const { profile, verdict } = o;
  if (!(o.artifactKind in profile.artifactKinds))
    throw new Error(
      `artifact kind ${o.artifactKind} is not one of ${Object.keys(profile.artifactKinds).join(', ')}`,
    );
  const records = new Map(verdict.evidence.map((e) => [`${e.source}\n${e.digest}`, e]));
  const tasks: TaskResult[] = profile.tasks.map((task) => {
    const base = { id: task.id, text: task.text, expects: task.evidence, rules: [...task.rules] };
    const na = task.notApplicable[o.artifactKind];
    if (na !== undefined)
      return {
        ...base,
        status: 'not-applicable',
        notApplicableReason: na,
        evidence: [],
        missing: [],
      };
    const evidence: EvidenceCell[] = [];
    const missing: MissingCell[] = [];
    for (const name of task.rules) {
      const rule = findRule(verdict.rules, name);
      if (!rule) throw new Error(`task ${task.id}: the verdict has no rule ${name}`);
      if (rule.status === 'pass') {
        for (const use of usedEvidence(rule)) {
          const record = records.get(`${use.source}\n${use.digest}`);
          const cell: EvidenceCell = {
            rule: use.rule,
            predicateType: use.predicateType,
            source: use.source,
            bundleDigest: use.digest,
            signers: (record?.signers ?? [])
              .filter((s) => use.signers.includes(s.name))
              .map((s) => ({ name: s.name, identity: s.identity })),
            timeSource: 'none',
            archived: o.archived.has(use.digest),
          };
          Object.assign(cell, timeOf(record, o.statements?.get(use.digest)));
          if (!evidence.some((e) => e.rule === cell.rule && e.bundleDigest === cell.bundleDigest))
            evidence.push(cell);
        }
      } else {
        const reasons = flattenReasons(rule);
        if (rule.status === 'pass-with-exception' && rule.exception)
          reasons.push(
            `an exception by ${rule.exception.owner} (until ${rule.exception.expires}) lets deployments through, but it is not evidence`,
          );
        missing.push({ rule: name, summary: rule.summary, reasons });
      }
    }
    if (task.archived && missing.length === 0) {
      const loose = evidence.filter((e) => !e.archived);
      if (loose.length > 0)
        missing.push({
          rule: 'archived',
          summary: 'every bundle used is held in the evidence store',
          reasons: loose.map((e) => `${e.source} (${e.bundleDigest}) is not in the evidence store`),
        });
    }
    return {
      ...base,
      status: missing.length === 0 ? 'satisfied' : 'not-satisfied',
      evidence,
      missing,
    };
  });
  const dropped: DroppedEvidence[] = verdict.evidence
    .filter((e) => !e.accepted)
    .map((e) => ({ source: e.source, bundleDigest: e.digest, reasons: [...e.reasons] }));
  const signerNames = [...new Set(verdict.evidence.flatMap((e) => e.signers.map((s) => s.name)))];
  const report: ComplianceReport = {
    reportVersion: REPORT_VERSION,
    framework: { ...profile.framework },
    profile: {
      name: profile.name,
      title: profile.title,
      source: profile.source,
      digest: profile.digest,
    },
    trust: { ...o.trust, signers: signerNames.sort() },
    subject: { digest: verdict.subject, ...(o.subjectName ? { name: o.subjectName } : {}) },
    artifactKind: o.artifactKind,
    evaluatedAt: verdict.evaluatedAt,
    ...tally(tasks),
    tasks,
    dropped,
  };
  return report;
}

function findRule(rules: readonly RuleResult[], name: string): RuleResult | undefined {
  for (const r of rules) {
    if (r.name === name) return r;
    const inner = findRule(r.children ?? [], name);
    if (inner) return inner;
  }
  return undefined;
}

/** The evidence a passing rule stands on: its own, and its passing children's. */
function usedEvidence(rule: RuleResult): Array<{
  rule: string;
  source: string;
  digest: string;
  predicateType: string;
  signers: string[];
}> {
  const own = rule.evidence.map((e) => ({ rule: rule.name, ...e }));
  const children = (rule.children ?? [])
    .filter((c) => c.status === 'pass')
    .flatMap((c) => usedEvidence(c));
  return [...own, ...children];
}

function flattenReasons(rule: RuleResult, prefix = ''): string[] {
  const out = rule.reasons.map((r) => `${prefix}${r}`);
  for (const c of rule.children ?? [])
    if (c.status !== 'pass') out.push(...flattenReasons(c, `${prefix}${c.name}: `));
  return out;
}

function timeOf(
  record: PolicyVerdict['evidence'][number] | undefined,
  statement: Statement | undefined,
): { time?: string; timeSource: TimeSource } {
  if (record?.signedAt !== undefined && record.timeSource !== 'none')
    return { time: record.signedAt, timeSource: record.timeSource };
  const field = statement ? predicateTime(statement) : undefined;
  if (field && !Number.isNaN(Date.parse(field.value)))
    return { time: new Date(Date.parse(field.value)).toISOString(), timeSource: 'predicate' };
  return { timeSource: 'none' };
}

/**
 * The Statements of the bundles the verdict accepted, by bundle digest. Only
 * accepted bundles are read: their DSSE payload is exactly what was verified.
 * A bundle that cannot be read back is left out (its time stays unknown).
 */
export function acceptedStatements(
  verdict: PolicyVerdict,
  bundles: ReadonlyArray<{ source: string; json: unknown }>,
): Map<string, Statement> {
  const accepted = new Set(verdict.evidence.filter((e) => e.accepted).map((e) => e.digest));
  const out = new Map<string, Statement>();
  for (const b of bundles) {
    const text =
      typeof b.json === 'string' || Buffer.isBuffer(b.json)
        ? Buffer.from(b.json as string)
        : Buffer.from(JSON.stringify(b.json));
    const digest = `sha256:${createHash('sha256').update(text).digest('hex')}`;
    if (!accepted.has(digest) || out.has(digest)) continue;
    try {
      const bundle = JSON.parse(text.toString('utf8'));
      const payload =
        isObject(bundle) && isObject(bundle.dsseEnvelope) && bundle.dsseEnvelope.payload;
      if (typeof payload !== 'string') continue;
      out.set(digest, parseStatement(Buffer.from(payload, 'base64'), b.source));
    } catch {
      // Left out: the report then says the time is unknown.
    }
  }
  return out;
}
