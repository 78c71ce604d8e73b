// The attest folder's public surface; everything else is internal.
export type {
  AttestationContext,
  AttestOptions,
  Attestor,
  CommandResult,
  Phase,
  SubjectProducer,
} from './attestor.ts';
export { isSubjectProducer } from './attestor.ts';
export { type CiAttestation, ciAttestor, detectCi, LOCAL_BUILDER_ID } from './ci.ts';
export { type CommandAttestation, commandAttestor } from './command.ts';
export {
  DEFAULT_ENV_ALLOW,
  type EnvironmentAttestation,
  environmentAttestor,
  recordEnvironment,
} from './environment.ts';
export {
  type CommitSignature,
  type GitAttestation,
  type GitSubmodule,
  gitAttestor,
  SIGNATURE_STATUS,
  type SignatureStatus,
  sanitizeRemoteUrl,
} from './git.ts';
export {
  type ImageDigestFile,
  imageDigestFileFromSpec,
  imageSubjectFromReference,
  imageSubjectName,
  MAX_DIGEST_FILE_BYTES,
  parseImageDigest,
} from './image-digest.ts';
export {
  type ImageDigestStamps,
  type ImagesAttestation,
  imageDigestStampsAttestor,
  imagesAttestor,
} from './images.ts';
export {
  LOCKFILES,
  type Material,
  type MaterialsAttestation,
  materialsAttestor,
} from './materials.ts';
export {
  type BuildDefinition,
  type Builder,
  type BuildMetadata,
  type ProvenancePredicate,
  type ResourceDescriptor,
  type RunDetails,
  SLSA_PROVENANCE_V1,
  VOUCH_RUN_BUILD_TYPE,
  validateProvenance,
} from './predicate.ts';
export { type ProductsAttestation, productsAttestor } from './products.ts';
export { ATTESTORS } from './registry.ts';
export { type RunOptions, type RunResult, runAndAttest } from './run.ts';
export { REDACTED } from './secrets.ts';
