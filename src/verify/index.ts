export {
  type ArtifactVerdict,
  type CandidateBundle,
  type VerifyArtifactOptions,
  verifyArtifact,
} from './artifact.ts';
export {
  type Policy,
  type PolicyResult,
  requireEvidence,
  type VerifiedEvidence,
} from './policy.ts';
