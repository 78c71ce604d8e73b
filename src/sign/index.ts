export { BUNDLE_MEDIA_TYPE, signStatement } from './bundle.ts';
export {
  type GeneratedKeyAlgorithm,
  type GeneratedKeyPair,
  generateKeyPair,
  keyidOf,
  loadSigningKey,
  loadVerificationKey,
  type SigningKeyOptions,
  verificationKeyFromKeyObject,
} from './keys.ts';
export {
  loadTrustedRoot,
  publicGoodTrustedRoot,
  type TrustedRootJson,
  trustedRootFromJson,
} from './trusted-root.ts';
export type {
  BundleVerdict,
  Check,
  KeyAlgorithm,
  KeylessIdentity,
  Signer,
  SigningKey,
  SigningMode,
  TrustAnchors,
  TrustPolicy,
  VerificationKey,
  VerifiedTimestamp,
} from './types.ts';
export { DEFAULT_FULCIO_URL, DEFAULT_REKOR_URL } from './types.ts';
export {
  type ArtifactInput,
  parseBundle,
  type VerifyOptions,
  verifyBundle,
  verifyBundleAgainst,
} from './verify.ts';
