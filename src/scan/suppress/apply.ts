import type { Finding } from '../finding.ts';
import type { Directive } from './directive.ts';

/** A finding with a fingerprint: the unit outputs, baselines and suppressions work on. */
export interface ReportedFinding extends Finding {
  /** 16 hex characters, stable across line moves (secrets: from the secret; else from rule, file and snippet). */
  fingerprint: string;
}

export interface Suppression {
  kind: 'inline' | 'baseline';
  justification: string;
  /** Line of the inline directive. */
  line?: number;
}

export interface SuppressedFinding extends ReportedFinding {
  suppression: Suppression;
}

export const SUPPRESSION_RULE = {
  id: 'scan/suppression-without-justification',
  severity: 'medium',
  title: 'Suppression without a justification',
  description:
    'A `vouch:ignore` comment that does not say why (`# vouch:ignore <rule-id> -- <why>`) or names no rule. It suppresses nothing: an accepted risk must name the rule it accepts and carry its reason, which the scan output and the signed findings list beside the suppressed finding.',
} as const;

/**
 * Splits one file's findings into kept and suppressed by its directives, and
 * turns every directive without a rule id or justification into a finding.
 */
export function applyDirectives(
  findings: readonly ReportedFinding[],
  directives: readonly Directive[],
  file: string,
  fingerprint: (f: Finding) => string,
): { kept: ReportedFinding[]; suppressed: SuppressedFinding[] } {
  const kept: ReportedFinding[] = [];
  const suppressed: SuppressedFinding[] = [];
  const valid = directives.filter((d) => d.justification !== '' && d.ruleIds.length > 0);
  for (const f of findings) {
    const d = valid.find(
      (v) => (v.line === f.line || v.line === f.line - 1) && v.ruleIds.includes(f.ruleId),
    );
    if (d) {
      suppressed.push({
        ...f,
        suppression: { kind: 'inline', justification: d.justification, line: d.line },
      });
    } else kept.push(f);
  }
  for (const d of directives) {
    if (d.justification !== '' && d.ruleIds.length > 0) continue;
    const missing = d.ruleIds.length === 0 ? 'a rule id' : 'a justification after --';
    const f: Finding = {
      ruleId: SUPPRESSION_RULE.id,
      severity: SUPPRESSION_RULE.severity,
      message: `vouch:ignore without ${missing}: it suppresses nothing`,
      file,
      line: d.line,
      column: d.column,
      fix: 'write `# vouch:ignore <rule-id> -- <why this is accepted>`',
      category: 'misconfiguration',
    };
    kept.push({ ...f, fingerprint: fingerprint(f) });
  }
  return { kept, suppressed };
}
