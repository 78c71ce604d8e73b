import type { DigestSet } from '../core/digest.ts';

/** One stored bundle, as the index knows it. */
export interface EvidenceEntry {
  /** sha256 hex of the bundle bytes: the content address. */
  id: string;
  predicateType: string;
  /** Subjects the bundle's Statement names (unverified until sign/verify says so). */
  subjects: Array<{ name: string; digest: DigestSet }>;
  /** When the entry was stored, RFC 3339. */
  storedAt: string;
}

/**
 * Where evidence lives. The directory store is the embedded default; OCI
 * and server stores implement the same interface.
 */
export interface EvidenceStore {
  /** Stores a serialized bundle and indexes it under every subject digest. Idempotent. */
  put(bundle: Uint8Array): Promise<EvidenceEntry>;
  /** Entries whose Statement names this digest (`sha256:<hex>`), oldest first. */
  find(digest: string): Promise<EvidenceEntry[]>;
  /** The bundle bytes of an entry. */
  read(id: string): Promise<Buffer>;
}
