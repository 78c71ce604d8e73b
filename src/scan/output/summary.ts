import type { ScanResult } from '../engine/index.ts';
import type { Severity } from '../finding.ts';
import { atLeast, SEVERITIES } from '../finding.ts';

export type SeverityCounts = Record<Severity, number>;

export function countBySeverity(findings: readonly { severity: Severity }[]): SeverityCounts {
  const out = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as SeverityCounts;
  for (const f of findings) out[f.severity]++;
  return out;
}

/**
 * Whether `--fail-on <threshold>` fails: an unsuppressed finding at or above
 * it, or a file that could not be parsed (it was not checked, so the scan
 * cannot vouch for it).
 */
export function failsAt(result: ScanResult, threshold: Severity): boolean {
  return (
    result.parseErrors.length > 0 || result.findings.some((f) => atLeast(f.severity, threshold))
  );
}
