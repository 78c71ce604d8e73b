import type { CandidateBundle } from '../../verify/index.ts';
import type { ImageReference } from './image.ts';

/** What a source holds about one image digest. Unverified: the policy engine verifies. */
export interface FetchedEvidence {
  /** `sha256:<hex>` the candidates were looked up under. */
  digest: string;
  candidates: CandidateBundle[];
}

/**
 * Where the admission webhook gets evidence about an image. One interface,
 * one file per implementation (store-source.ts, registry-source.ts), listed
 * in EVIDENCE_SOURCES (index.ts).
 *
 * Both methods throw (VouchError) when the source cannot answer; the webhook
 * turns that into a denial, never an allow.
 */
export interface EvidenceSource {
  /** `store:DIR` or `registry`, for logs and metrics. */
  readonly description: string;
  /** The digest a tag names now. Called at most once per image per admission. */
  resolve(ref: ImageReference, signal: AbortSignal): Promise<string>;
  /** Candidate bundles about `digest` (`ref` says where the image lives). */
  fetch(ref: ImageReference, digest: string, signal: AbortSignal): Promise<FetchedEvidence>;
}

/** Most bundles read per image: a source flooded with referrers cannot exhaust memory. */
export const MAX_CANDIDATES = 256;
