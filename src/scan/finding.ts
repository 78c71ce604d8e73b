/**
 * A finding: one risk found at one place in one file. Every producer in
 * `scan/` (misconfiguration rule sets, secret rules, dependency policy)
 * returns findings of this one shape, so outputs (table, JSON, SARIF, the
 * signed findings predicate), suppressions and `--fail-on` see one model.
 */

/** Most to least severe; `--fail-on <severity>` fails on that level and above. */
export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export type FindingCategory = 'misconfiguration' | 'secret' | 'dependency';

export interface Finding {
  /** The rule that produced it, `<set>/<name>` (see rule.ts). */
  ruleId: string;
  severity: Severity;
  /** What is wrong here, one sentence naming the offending value. */
  message: string;
  /** Path relative to the scan root, `/`-separated; `-` for stdin. */
  file: string;
  /** 1-based line of the offending construct. */
  line: number;
  /** 1-based column, when known. */
  column?: number;
  /** Last line (1-based, inclusive) when the construct spans several. */
  endLine?: number;
  /** The offending source line, trimmed (secrets: redacted by the producer). */
  snippet?: string;
  /** How to fix this occurrence, when it differs from the rule's description. */
  fix?: string;
  category: FindingCategory;
  /** Secrets found in git history (`--git-history`): the commit whose diff added the line. */
  commit?: string;
}

/** 0 for critical … 4 for info: smaller is more severe. */
export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** True when `s` is at least as severe as `threshold`. */
export function atLeast(s: Severity, threshold: Severity): boolean {
  return severityRank(s) <= severityRank(threshold);
}

export function isSeverity(s: unknown): s is Severity {
  return typeof s === 'string' && (SEVERITIES as readonly string[]).includes(s);
}

/** Deterministic order: file, line, column, rule id, message. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    cmp(a.file, b.file) ||
    a.line - b.line ||
    (a.column ?? 0) - (b.column ?? 0) ||
    cmp(a.ruleId, b.ruleId) ||
    cmp(a.message, b.message)
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
