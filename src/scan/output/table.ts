import type { ScanResult } from '../engine/index.ts';
import { SEVERITIES } from '../finding.ts';
import { countBySeverity } from './summary.ts';

function where(f: { file: string; line: number; column?: number }): string {
  return `${f.file}:${f.line}${f.column !== undefined ? `:${f.column}` : ''}`;
}

/** The human report: one line per finding, then suppressed findings, parse errors and counts. */
export function renderTable(result: ScanResult): string {
  const lines: string[] = [];
  if (result.findings.length > 0) {
    const rows = result.findings.map((f) => [f.severity, f.ruleId, where(f), f.message]);
    const w = [0, 1, 2].map((i) =>
      Math.max(
        ...rows.map((r) => (r[i] as string).length),
        ['SEVERITY', 'RULE', 'LOCATION'][i]?.length ?? 0,
      ),
    );
    const fmt = (r: string[]) =>
      `${r
        .slice(0, 3)
        .map((c, i) => c.padEnd(w[i] ?? 0))
        .join('  ')}  ${r[3]}`.trimEnd();
    lines.push(fmt(['SEVERITY', 'RULE', 'LOCATION', 'MESSAGE']));
    for (const [i, r] of rows.entries()) {
      lines.push(fmt(r));
      const f = result.findings[i];
      if (f?.snippet) lines.push(`${' '.repeat((w[0] ?? 0) + 2)}  | ${f.snippet}`);
    }
  } else {
    lines.push('no findings');
  }
  if (result.suppressed.length > 0) {
    lines.push('', `suppressed (${result.suppressed.length}):`);
    for (const s of result.suppressed) {
      lines.push(
        `  ${s.severity}  ${s.ruleId}  ${where(s)}  ${s.suppression.kind}: ${s.suppression.justification}`,
      );
    }
  }
  if (result.parseErrors.length > 0) {
    lines.push('', `not checked, could not be parsed (${result.parseErrors.length}):`);
    for (const e of result.parseErrors) {
      lines.push(
        `  ${e.file}${e.line !== undefined ? `:${e.line}` : ''}  ${e.parser}: ${e.message}`,
      );
    }
  }
  if (result.unusedBaseline.length > 0) {
    lines.push('', `baseline entries that matched nothing (${result.unusedBaseline.length}):`);
    for (const e of result.unusedBaseline) lines.push(`  ${e.ruleId}  ${e.file}  ${e.fingerprint}`);
  }
  const t = result.totals;
  const counts = countBySeverity(result.findings);
  const bySev = SEVERITIES.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`);
  lines.push(
    '',
    `files: ${t.filesSeen} seen, ${t.scanned} scanned, ${t.skippedBinary} binary, ${t.skippedSize} over the size limit (secrets only), ${t.parseErrors} not parsed`,
    `findings: ${result.findings.length}${bySev.length > 0 ? ` (${bySev.join(', ')})` : ''}, suppressed: ${result.suppressed.length}`,
  );
  for (const n of t.notChecked ?? []) lines.push(`not checked: ${n.ruleId} (${n.reason})`);
  return `${lines.join('\n')}\n`;
}
