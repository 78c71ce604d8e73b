import { cycloneDxOutput } from './cyclonedx.ts';
import { jsonOutput } from './json.ts';
import type { OutputFormat } from './report.ts';
import { sarifOutput } from './sarif.ts';
import { tableOutput } from './table.ts';

export { vdrOf } from './cyclonedx.ts';
export { VULNS_PREDICATE_TYPE, vulnsPredicate, vulnsStatement } from './intoto.ts';
export {
  findingJson,
  type OutputFormat,
  type ReportTotals,
  type ScanReport,
  totalsOf,
} from './report.ts';
export { sarifOf } from './sarif.ts';

/** Every `--format`, the default first. */
export const OUTPUTS: readonly OutputFormat[] = [
  tableOutput,
  jsonOutput,
  cycloneDxOutput,
  sarifOutput,
];

export function outputByName(name: string): OutputFormat | undefined {
  return OUTPUTS.find((o) => o.name === name);
}
