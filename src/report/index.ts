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
  RELEASE_REPORT_VERSION,
  REPORT_VERSION,
  type ReleaseComplianceReport,
  type ReleaseLack,
  type ReleaseMemberStatus,
  type ReleaseTaskResult,
  SSDF_RELEASE_REPORT_PREDICATE_TYPE,
  SSDF_REPORT_PREDICATE_TYPE,
  type TaskResult,
  type TaskStatus,
  type TimeSource,
} from './model.ts';
export {
  OSCAL_VERSION,
  oscalAssessmentResults,
  oscalReleaseAssessmentResults,
  uuidV5,
} from './oscal.ts';
export { type BuildReleaseReportOptions, buildReleaseReport, memberLabel } from './release.ts';
export {
  loadReleaseManifest,
  parseReleaseManifest,
  RELEASE_MANIFEST_VERSION,
  type ReleaseManifest,
  type ReleaseMemberSpec,
  resolveReleasePath,
} from './release-manifest.ts';
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
