export type { RegistryAuth } from './auth.ts';
export { RegistryClient, type RegistryClientOptions } from './client.ts';
export { fetchEvidence, pushEvidence } from './evidence.ts';
export {
  type DigestReference,
  formatReference,
  isOciReference,
  type OciReference,
  parseReference,
  withDigest,
} from './reference.ts';
export {
  type Descriptor,
  type FetchedManifest,
  MEDIA_DSSE_ENVELOPE,
  MEDIA_OCI_INDEX,
  MEDIA_OCI_MANIFEST,
  MEDIA_SIGSTORE_BUNDLE,
  type ReferrersVia,
} from './types.ts';
