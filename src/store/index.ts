export {
  DIRECTORY_STORE_FORMAT,
  DIRECTORY_STORE_VERSION,
  DirectoryStore,
  type DirectoryStoreOptions,
  type StoreProblem,
} from './directory.ts';
export type { EvidenceEntry, EvidenceStore } from './store.ts';
