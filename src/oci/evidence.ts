import { VouchError } from '../core/errors.ts';
import type { CandidateBundle } from '../verify/index.ts';
import type { RegistryClient } from './client.ts';
import type { DigestReference } from './reference.ts';
import type { ReferrersVia } from './types.ts';

/**
 * Every Sigstore bundle attached to the image digest: vouch's and cosign's
 * bundle referrers, and cosign's legacy `sha256-<hex>.att` DSSE layers
 * (wrapped into v0.3 bundles, see docs/oci.md). Unverified: pass them to
 * verifyArtifact / evaluatePolicy.
 *
 * @throws VouchError OCI_* when the registry cannot be read (fail closed)
 */
export async function fetchEvidence(
  _ref: DigestReference,
  _client: RegistryClient,
): Promise<CandidateBundle[]> {
  throw new VouchError('OCI_REGISTRY_ERROR', 'not implemented yet');
}

/** Pushes a bundle as an OCI 1.1 referrer of the image digest (cosign's layout). */
export async function pushEvidence(
  _ref: DigestReference,
  _bundle: Uint8Array,
  _client: RegistryClient,
): Promise<{ manifest: string; via: ReferrersVia }> {
  throw new VouchError('OCI_REGISTRY_ERROR', 'not implemented yet');
}
