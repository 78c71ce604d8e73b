// The repro folder's public surface; everything else is internal.
export {
  type CheckOptions,
  type CheckResult,
  type Culprit,
  checkReproducible,
  type Product,
  type RunRecord,
} from './check.ts';
export { type DiffOptions, diffFiles } from './diff/diff.ts';
export { renderHtml, renderText } from './diff/render.ts';
export {
  DEFAULT_DIFF_LIMITS,
  type DiffClass,
  type Difference,
  type DifferenceKind,
  type DiffLimits,
  type DiffResult,
  HINTS,
} from './diff/types.ts';
export { probeMachine } from './machine.ts';
export { type NormalizeOptions, type NormalizeReport, normalizeArchive } from './normalize.ts';
export {
  matchOriginal,
  type OriginalMatch,
  REBUILD_PREDICATE_V1,
  type RebuildPredicate,
  rebuildStatement,
} from './predicate.ts';
export {
  VARIATION_NAMES,
  VARIATIONS,
  type Variation,
  type VariationName,
} from './variations/index.ts';
