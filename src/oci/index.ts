export { type Credentials, credentialsFor, dockerConfigPath, type RegistryAuth } from './auth.ts';
export { type PushedManifest, RegistryClient, type RegistryClientOptions } from './client.ts';
export {
  describeBundle,
  dsseToBundle,
  fetchEvidence,
  type PushedEvidence,
  pushEvidence,
  referrersTag,
} from './evidence.ts';
export {
  type EvidencePack,
  materializePack,
  PACK_FORMAT,
  PACK_VERSION,
  type PackInput,
  type PackMaterial,
  packPolicyDigest,
  readPack,
  writePack,
} from './pack.ts';
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
