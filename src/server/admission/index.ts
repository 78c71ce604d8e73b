export { type EvidenceSource, type FetchedEvidence, MAX_CANDIDATES } from './evidence.ts';
export { newerEvidenceCanDeny, trustVersion, verdictExpiry } from './expiry.ts';
export {
  type AdmissionDecision,
  AdmissionGate,
  type AdmissionMode,
  type DecisionReason,
  type GateAnswer,
  type GateOptions,
  type ImageDecision,
} from './gate.ts';
export { type ImageReference, imageMatcher, parseImage } from './image.ts';
export { ADMISSION_API_VERSION, GATED_KINDS, imagesOf, parseReview } from './review.ts';

import type { RegistryClientOptions } from '../../oci/index.ts';
import type { EvidenceSource } from './evidence.ts';
import { RegistryEvidenceSource } from './registry-source.ts';
import { StoreEvidenceSource } from './store-source.ts';

/** How `--evidence` is spelled for each source, and how to make one. */
export interface EvidenceSourceKind {
  /** `store` (`store:DIR`) or `registry`. */
  readonly kind: string;
  readonly usage: string;
  create(argument: string, registry: RegistryClientOptions): EvidenceSource;
}

/** Every evidence source, in the order `--help` lists them. */
export const EVIDENCE_SOURCES: readonly EvidenceSourceKind[] = [
  {
    kind: 'store',
    usage: 'store:DIR — a directory evidence store filled in CI (offline, digests only)',
    create: (dir) => new StoreEvidenceSource(dir),
  },
  {
    kind: 'registry',
    usage: "registry — each image's own registry (OCI referrers or cosign's tag schema)",
    create: (_arg, registry) => new RegistryEvidenceSource(registry),
  },
];

export { RegistryEvidenceSource, StoreEvidenceSource };
