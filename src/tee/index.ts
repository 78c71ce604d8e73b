// The tee folder's public surface: the verifier interface, the registry of
// every platform's verifier, platform detection, and the evidence predicate.
import { VouchError } from '../core/errors.ts';
import { nitroVerifier } from './nitro/verifier.ts';
import { sevSnpVerifier } from './sev-snp/verifier.ts';
import { tdxVerifier } from './tdx/verifier.ts';
import { tpmVerifier } from './tpm/verifier.ts';
import type { TeePlatform, TeeVerifier } from './verifier.ts';
import type { ChainCache } from './x509.ts';

export {
  type Crl,
  checkRevocation,
  crlSignedBy,
  parseCrls,
  type RevocationOptions,
  readCrlDir,
} from './crl.ts';
export { type NitroDocument, parseNitro } from './nitro/document.ts';
export { NITRO_ROOT_SHA256, verifyNitro } from './nitro/verifier.ts';
export {
  parsePcrFile,
  readPublicKey,
  TPM_EVIDENCE_FORMAT,
  type TpmEvidenceJson,
} from './tpm/evidence.ts';
export { parseQuote, parseSignature } from './tpm/structures.ts';
export { type TpmVerifyOptions, verifyTpm } from './tpm/verifier.ts';
export type {
  SnpMinimumTcb,
  SnpTcbComponent,
  TeeCheck,
  TeeClaims,
  TeeExpectedPcr,
  TeePlatform,
  TeePolicyOptions,
  TeeTcb,
  TeeVerdict,
  TeeVerifier,
  TeeVerifyOptions,
} from './verifier.ts';
export { makeVerdict, TEE_PLATFORMS } from './verifier.ts';
export { ChainCache, parseCertificates } from './x509.ts';

/**
 * Every TEE verifier, in detection order. Adding a platform is a file and a
 * line here; nothing registers itself on import. A cache, when given, is
 * shared by all of them (signature checks are pure, so sharing is safe).
 */
export function teeVerifiers(opts: { cache?: ChainCache } = {}): readonly TeeVerifier[] {
  return [sevSnpVerifier(opts), tdxVerifier(opts), nitroVerifier(opts), tpmVerifier(opts)];
}

/**
 * The platform whose verifier recognises the bytes.
 *
 * @throws VouchError TEE_MALFORMED when none or several do
 */
export function detectPlatform(
  evidence: Buffer,
  verifiers: readonly TeeVerifier[] = teeVerifiers(),
): TeePlatform {
  const hits = verifiers.filter((v) => v.detect(evidence)).map((v) => v.platform);
  if (hits.length === 1) return hits[0] as TeePlatform;
  throw new VouchError(
    'TEE_MALFORMED',
    hits.length === 0
      ? 'evidence is not recognised as SEV-SNP, TDX, Nitro or TPM evidence (give --platform to see why it does not parse)'
      : `evidence looks like several platforms (${hits.join(', ')}); give --platform`,
    { field: 'platform' },
  );
}

/** The verifier for a platform. @throws VouchError USAGE when the platform has none */
export function verifierFor(
  platform: TeePlatform,
  verifiers: readonly TeeVerifier[] = teeVerifiers(),
): TeeVerifier {
  const v = verifiers.find((x) => x.platform === platform);
  if (!v)
    throw new VouchError('USAGE', `no verifier for platform ${platform} in this build`, {
      field: 'platform',
    });
  return v;
}
export {
  type BindingInputs,
  bindingInputsOf,
  bindingShape,
  bindingValue,
  TEE_BINDING_V1,
  TEE_BYPRODUCT_URI,
  TEE_PREDICATE_V1,
  type TeeBinding,
  type TeeEvidence,
  type TeePredicate,
} from './predicate.ts';
