export {
  applyDirectives,
  type ReportedFinding,
  SUPPRESSION_RULE,
  type SuppressedFinding,
  type Suppression,
} from './apply.ts';
export {
  applyBaseline,
  BASELINE_FILE,
  type Baseline,
  type BaselineEntry,
  parseBaseline,
  readBaseline,
} from './baseline.ts';
export { type Directive, parseDirectives } from './directive.ts';
