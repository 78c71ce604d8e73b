/**
 * SBOMs: read lockfiles and package databases into one model, merge, write
 * CycloneDX 1.6 / SPDX 2.3, diff. Producers return documents and Statements;
 * signing and storing are the caller's (see ARCHITECTURE.md).
 */
export { hashesFromIntegrity, purlOf, ResultBuilder } from './builder.ts';
export {
  type ComponentChange,
  type DiffComponent,
  diffSboms,
  readSbomDocument,
  type SbomDiff,
  type SbomDocument,
} from './diff.ts';
export {
  isComplete,
  isFailed,
  mergeResults,
  sbomCreated,
  type Totals,
  totalsOf,
} from './merge.ts';
export type {
  Accounting,
  Component,
  Dependency,
  Ecosystem,
  Hash,
  ReaderResult,
  Sbom,
  Scope,
  Skipped,
} from './model.ts';
export type { Reader, SourceFile } from './reader.ts';
export { READERS } from './readers/index.ts';
export {
  detectTarget,
  formatByName,
  generateSbom,
  type RenderedSbom,
  renderSbom,
  type SbomTarget,
  sbomStatement,
} from './sbom.ts';
export {
  NODE_MODULES_FILES,
  type ScanOptions,
  SKIPPED_DIRECTORIES,
  scanDirectory,
  scanFile,
  scanSources,
} from './scan.ts';
export { CYCLONEDX_SCOPE, toCycloneDx, writeCycloneDx } from './writers/cyclonedx.ts';
export { FORMATS, type FormatName, type SbomFormat } from './writers/index.ts';
export { toSpdx, writeSpdx } from './writers/spdx.ts';
