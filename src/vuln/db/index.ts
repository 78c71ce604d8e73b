/**
 * The offline OSV database: import exports (zip, JSONL, record directories),
 * update them from URLs with conditional requests, look packages up by
 * (ecosystem, normalised name). Every write is one atomic swap.
 */
export {
  baseEcosystem,
  DB_FILE,
  type DbStatus,
  type SourceInfo,
  type StoredRecord,
  VulnDatabase,
} from './database.ts';
export { DEFAULT_LOCK_WAIT_MS, type LockOptions, withWriteLock } from './lock.ts';
export type { SkippedRecord } from './records.ts';
export {
  DEFAULT_ECOSYSTEMS,
  defaultDbDir,
  exportUrl,
  type ImportReport,
  importExports,
  isUrl,
  OSV_EXPORT_BASE,
  type SourceOutcome,
  updateDatabase,
} from './update.ts';
