import type { Finding, MatchResult, ScanInput, Severity } from '../match.ts';
import { SEVERITIES } from '../match.ts';
import type { RejectedBundle } from '../rescan.ts';

/** Everything an output format renders: what was scanned, against what, and what was found. */
export interface ScanReport {
  target: {
    kind: 'sbom' | 'directory' | 'attestation';
    /** The SBOM file, directory or `sha256:…` as given. */
    name: string;
    /** `sha256:<hex>` of the artifact when known (attestation input, --subject). */
    digest?: string;
  };
  input: ScanInput;
  result: MatchResult;
  db: { path: string; updatedAt: string | null; records: number; sources: string[] };
  vex: string[];
  scanner: { name: string; version: string; uri: string };
  /** RFC 3339; from SOURCE_DATE_EPOCH when set, so outputs are reproducible. */
  time: string;
  /**
   * Attestation input only: the bundles about the artifact (SBOM or VEX) that
   * did not verify and were never read, as rescan lists them.
   */
  rejected?: RejectedBundle[];
}

export interface ReportTotals {
  components: number;
  matched: number;
  notMatchable: number;
  findings: number;
  suppressed: number;
  /** Open findings per severity. */
  bySeverity: Record<Severity, number>;
}

export const open = (r: ScanReport): Finding[] => r.result.findings.filter((f) => !f.suppressed);
export const suppressed = (r: ScanReport): Finding[] =>
  r.result.findings.filter((f) => f.suppressed);

export function totalsOf(r: ScanReport): ReportTotals {
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of open(r)) bySeverity[f.severity]++;
  return {
    components: r.result.components,
    matched: r.result.matched,
    notMatchable: r.result.notMatchable.length,
    findings: open(r).length,
    suppressed: suppressed(r).length,
    bySeverity,
  };
}

/** A finding as the JSON output and the in-toto predicate show it. */
export function findingJson(f: Finding): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: f.id,
    aliases: f.aliases,
    severity: f.severity,
    ratings: f.ratings,
    package: {
      ecosystem: f.ecosystem,
      name: f.package,
      version: f.version,
      purl: f.component.purl ?? null,
      ref: f.component.ref,
    },
    summary: f.summary,
    fixed: f.fixed,
    reason: f.reason,
    records: f.records,
    published: f.published ?? null,
    modified: f.modified,
    references: f.references,
  };
  if (f.suppressed) out.suppressed = f.suppressed;
  return out;
}

/** An output format: one file per format, listed in index.ts. */
export interface OutputFormat {
  readonly name: string;
  render(report: ScanReport): string;
}
