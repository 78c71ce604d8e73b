import type { ComplianceReport, ReleaseComplianceReport } from './model.ts';

/** One output format of the compliance report. Adding a format is a file and a line in index.ts. */
export interface ReportRenderer {
  /** The `--format` name. */
  readonly format: string;
  readonly mediaType: string;
  /** Renders deterministically: the same report gives the same bytes. */
  render(report: ComplianceReport): string;
  /** The release matrix and every artifact's, in one document; as deterministic. */
  renderRelease(report: ReleaseComplianceReport): string;
}
