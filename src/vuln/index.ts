/**
 * Vulnerabilities: OSV records matched against SBOM components by purl with
 * each ecosystem's version semantics, VEX suppression, and reports (table,
 * JSON, CycloneDX VDR, SARIF, in-toto vulns predicate). Producers return
 * values; signing and storing are the caller's.
 */
export {
  type DbStatus,
  DEFAULT_ECOSYSTEMS,
  defaultDbDir,
  exportUrl,
  type ImportReport,
  importExports,
  OSV_EXPORT_BASE,
  updateDatabase,
  VulnDatabase,
} from './db/index.ts';
export {
  componentsOfSbom,
  type Finding,
  type MatchResult,
  matchComponents,
  type NotMatchable,
  packageKeyOf,
  type ScanComponent,
  type ScanInput,
  SEVERITIES,
  type Severity,
  type Suppression,
  severityOf,
  worst,
} from './match.ts';
export {
  OUTPUTS,
  type OutputFormat,
  outputByName,
  type ScanReport,
  sarifOf,
  totalsOf,
  VULNS_PREDICATE_TYPE,
  vdrOf,
  vulnsPredicate,
  vulnsStatement,
} from './output/index.ts';
export {
  type ArtifactRescan,
  RESCAN_STATE,
  type RescanResult,
  rescanStore,
  type VerifiedSbom,
  type VerifiedVex,
  verifiedEvidence,
  verifiedSboms,
} from './rescan.ts';
export { applyVex, readVex, VEX_READERS, type VexStatement } from './vex/index.ts';
