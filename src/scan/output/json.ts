import type { ScanResult } from '../engine/index.ts';
import { countBySeverity } from './summary.ts';
import { packageVersion } from './version.ts';

/** The JSON report: everything the scan found, deterministic (sorted, no timestamps). */
export function scanReport(result: ScanResult): Record<string, unknown> {
  return {
    version: 1,
    tool: { name: 'vouch', version: packageVersion() },
    target: { kind: result.target.kind, name: result.target.name },
    kinds: result.kinds,
    totals: {
      ...result.totals,
      findings: result.findings.length,
      suppressed: result.suppressed.length,
      bySeverity: countBySeverity(result.findings),
    },
    findings: result.findings,
    suppressed: result.suppressed,
    parseErrors: result.parseErrors,
    unusedBaseline: result.unusedBaseline,
    baselineFile: result.baselineFile,
    depsPolicyFile: result.depsPolicyFile,
  };
}

export function renderJson(result: ScanResult): string {
  return `${JSON.stringify(scanReport(result), null, 2)}\n`;
}
