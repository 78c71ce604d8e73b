import type { ComplianceReport } from './model.ts';

/** One output format of the compliance report. Adding a format is a file and a line in index.ts. */
export interface ReportRenderer {
  /** The `--format` name. */
  readonly format: string;
  readonly mediaType: string;
  /** Renders deterministically: the same report gives the same bytes. */
  render(report: ComplianceReport): string;
}
