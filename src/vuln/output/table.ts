import type { Finding } from '../match.ts';
import { type OutputFormat, open, suppressed, totalsOf } from './report.ts';

const MAX_SUMMARY = 60;

/** For people: one line per open finding, then the suppressed ones with their justification, then counts. */
export const tableOutput: OutputFormat = {
  name: 'table',
  render(r) {
    const lines: string[] = [];
    const rows = open(r).map(row);
    if (rows.length > 0)
      lines.push(
        ...grid([['SEVERITY', 'ID', 'PACKAGE', 'VERSION', 'FIXED IN', 'SUMMARY'], ...rows]),
      );
    else lines.push('no open vulnerabilities found');
    const sup = suppressed(r);
    if (sup.length > 0) {
      lines.push('', `suppressed by VEX (${sup.length}):`);
      for (const f of sup) {
        const s = f.suppressed as NonNullable<Finding['suppressed']>;
        const why = [s.status, s.justification, s.detail].filter((x) => x !== '').join(': ');
        lines.push(`  ${f.id} ${packageOf(f)}@${f.version}  ${why}  (${s.source})`);
      }
    }
    const t = totalsOf(r);
    const sev = Object.entries(t.bySeverity)
      .filter(([, n]) => n > 0)
      .reverse()
      .map(([s, n]) => `${n} ${s}`)
      .join(', ');
    lines.push(
      '',
      `${t.components} components: ${t.matched} matched against ${r.db.records} records, ${t.notMatchable} not matchable; ` +
        `${t.findings} open finding(s)${sev ? ` (${sev})` : ''}, ${t.suppressed} suppressed`,
    );
    return `${lines.join('\n')}\n`;
  },
};

function row(f: Finding): string[] {
  const summary =
    f.summary.length > MAX_SUMMARY ? `${f.summary.slice(0, MAX_SUMMARY - 1)}…` : f.summary;
  return [
    f.severity.toUpperCase(),
    f.id,
    packageOf(f),
    f.version,
    f.fixed.join(', ') || '-',
    summary,
  ];
}

/**
 * The package as installed, with the source package the advisory names when
 * that is another (`libc6 (glibc)`): one source builds many binaries, and a
 * table of seven `glibc` lines would not say which is which.
 */
function packageOf(f: Finding): string {
  const name = f.component.name;
  const os = /^pkg:(deb|apk)\//.test(f.component.purl ?? '');
  return os && name !== '' && name !== f.package ? `${name} (${f.package})` : f.package;
}

function grid(rows: string[][]): string[] {
  const widths = (rows[0] as string[]).map((_, i) =>
    Math.max(...rows.map((r) => (r[i] ?? '').length)),
  );
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd(),
  );
}
