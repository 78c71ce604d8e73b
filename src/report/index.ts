import { htmlRenderer } from './html.ts';
import { jsonRenderer } from './json.ts';
import { markdownRenderer } from './markdown.ts';
import { oscalRenderer } from './oscal.ts';
import type { ReportRenderer } from './renderer.ts';

export { escapeHtml } from './html.ts';
export { mdText } from './markdown.ts';
export { acceptedStatements, type BuildReportOptions, buildReport } from './matrix.ts';
export {
  type ComplianceReport,
  type DroppedEvidence,
  type EvidenceCell,
  type MissingCell,
  REPORT_VERSION,
  SSDF_REPORT_PREDICATE_TYPE,
  type TaskResult,
  type TaskStatus,
  type TimeSource,
} from './model.ts';
export { OSCAL_VERSION, oscalAssessmentResults, uuidV5 } from './oscal.ts';
export type { ReportRenderer } from './renderer.ts';

/** Every output format, in the order `--help` lists them; the first is the default. */
export const RENDERERS: readonly ReportRenderer[] = [
  markdownRenderer,
  htmlRenderer,
  jsonRenderer,
  oscalRenderer,
];

/** The renderer for a `--format` name, or undefined. */
export function rendererFor(format: string): ReportRenderer | undefined {
  return RENDERERS.find((r) => r.format === format);
}
