export { type RuleInfo, ruleCatalog } from './catalog.ts';
export {
  DEFAULT_MAX_FILE_BYTES,
  findingFingerprint,
  type ParseError,
  SCAN_KINDS,
  type ScanKind,
  type ScanOptions,
  type ScanResult,
  type ScanTotals,
  SNIFF_BYTES,
  scanPath,
  scanStream,
} from './engine.ts';
export { DEFAULT_SKIP_DIRECTORIES, walkFiles } from './walk.ts';
