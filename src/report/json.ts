import type { ReportRenderer } from './renderer.ts';

/** The report model itself (docs/ssdf.md describes every field). */
export const jsonRenderer: ReportRenderer = {
  format: 'json',
  mediaType: 'application/json',
  render: (report) => `${JSON.stringify(report, null, 2)}\n`,
  renderRelease: (report) => `${JSON.stringify(report, null, 2)}\n`,
};
