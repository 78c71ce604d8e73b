import type { ScanResult } from '../engine/index.ts';
import { renderJson } from './json.ts';
import { renderSarif } from './sarif.ts';
import { renderTable } from './table.ts';

/** One output format of `vouch scan`. */
export interface ScanFormat {
  name: 'table' | 'json' | 'sarif';
  render(result: ScanResult): string;
}

/** Output formats, the default first. */
export const SCAN_FORMATS: readonly ScanFormat[] = [
  { name: 'table', render: renderTable },
  { name: 'json', render: renderJson },
  { name: 'sarif', render: renderSarif },
];

export { scanReport } from './json.ts';
export {
  SCAN_PREDICATE_TYPE,
  type ScannedTarget,
  type ScanPredicate,
  scanPredicate,
  scanStatement,
} from './predicate.ts';
export { SARIF_SCHEMA, toSarif } from './sarif.ts';
export { countBySeverity, failsAt, type SeverityCounts } from './summary.ts';
export { renderTable } from './table.ts';
