/**
 * Threat detection before deploy: misconfiguration rule sets, secrets and
 * dependency policy over a directory, a file or stdin, as findings in one
 * model; outputs as table, JSON, SARIF 2.1.0 and a findings predicate to sign.
 * Producers return results and Statements; signing and storing are the
 * caller's (see ARCHITECTURE.md).
 */
export {
  checkDependencies,
  DEP_RULES,
  DEPS_POLICY_FILE,
  type DepsPolicy,
  defaultDepsPolicy,
  parseDepsPolicy,
  readDepsPolicy,
} from './deps/index.ts';
export {
  DEFAULT_MAX_FILE_BYTES,
  DEFAULT_SKIP_DIRECTORIES,
  findingFingerprint,
  type ParseError,
  type RuleInfo,
  ruleCatalog,
  SCAN_KINDS,
  type ScanKind,
  type ScanOptions,
  type ScanResult,
  type ScanTotals,
  scanPath,
  scanStream,
} from './engine/index.ts';
export {
  atLeast,
  compareFindings,
  type Finding,
  type FindingCategory,
  isSeverity,
  SEVERITIES,
  type Severity,
} from './finding.ts';
export {
  countBySeverity,
  failsAt,
  SARIF_SCHEMA,
  SCAN_FORMATS,
  SCAN_PREDICATE_TYPE,
  type ScanFormat,
  type ScannedTarget,
  type ScanPredicate,
  scanPredicate,
  scanReport,
  scanStatement,
  toSarif,
} from './output/index.ts';
export type { Rule, RuleSet } from './rule.ts';
export { RULE_SETS } from './rules/index.ts';
export { DETECTORS, type Detector, redact } from './secrets/index.ts';
export {
  BASELINE_FILE,
  type Baseline,
  type BaselineEntry,
  parseBaseline,
  type ReportedFinding,
  readBaseline,
  type SuppressedFinding,
} from './suppress/index.ts';
