import { fetchEvidence, RegistryClient, type RegistryClientOptions } from '../../oci/index.ts';
import { type EvidenceSource, type FetchedEvidence, MAX_CANDIDATES } from './evidence.ts';
import { type ImageReference, ociReference } from './image.ts';

/**
 * Online evidence: the image's own registry, where CI attached bundles as
 * OCI 1.1 referrers (or cosign's tag schema). Each call is bounded by the
 * client's per-request timeout; the webhook's budget bounds the whole.
 */
export class RegistryEvidenceSource implements EvidenceSource {
  readonly description = 'registry';
  readonly #client: RegistryClient;

  constructor(options: RegistryClientOptions = {}) {
    this.#client = new RegistryClient(options);
  }

  async resolve(ref: ImageReference, signal: AbortSignal): Promise<string> {
    signal.throwIfAborted();
    return this.#client.resolve(ociReference(ref));
  }

  async fetch(ref: ImageReference, digest: string, signal: AbortSignal): Promise<FetchedEvidence> {
    signal.throwIfAborted();
    const oci = ociReference(ref, digest);
    const candidates = await fetchEvidence({ ...oci, digest }, this.#client);
    return { digest, candidates: candidates.slice(0, MAX_CANDIDATES) };
  }
}
