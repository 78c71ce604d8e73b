/**
 * vouch as a library: everything the CLI does is available here, one call per
 * job. Producers return Statements; signing and storing are composed by the
 * caller (see ../shared/design/ARCHITECTURE.md).
 */

// producers
export {
  ATTESTORS,
  type Attestor,
  imageDigestFileFromSpec,
  imageSubjectFromReference,
  type ProvenancePredicate,
  parseImageDigest,
  type RunOptions,
  type RunResult,
  runAndAttest,
  SLSA_PROVENANCE_V1,
  validateProvenance,
} from './attest/index.ts';
// core: formats and primitives
export { writeFileAtomic } from './core/atomic.ts';
export { canonicalize, canonicalizeOlpc } from './core/canonical.ts';
export { type DigestSet, digestBytes, digestFile, digestTree, parseDigest } from './core/digest.ts';
export {
  type DsseSigner,
  type DsseVerifier,
  type Envelope,
  envelopeFromJson,
  envelopeToJson,
  pae,
  parseEnvelope,
  signEnvelope,
  verifyEnvelope,
} from './core/dsse.ts';
export { type ErrorCode, isVouchError, VouchError } from './core/errors.ts';
export { parseJson, readJsonFile } from './core/json.ts';
export { PREDICATE_TYPES, resolvePredicateType } from './core/predicates.ts';
export {
  makeStatement,
  PAYLOAD_TYPE_INTOTO,
  parseStatement,
  STATEMENT_V1,
  type Statement,
  type Subject,
  statementFromJson,
  statementHasSubject,
} from './core/statement.ts';
export { fileSubject, fileSubjectName, subjectNameOf } from './core/subject-name.ts';
// Larger producers, the policy engine and the faces' building blocks, as
// namespaces: `sbom.generateSbom(dir)`, `policy.evaluatePolicy(p, …)`,
// `vuln.matchComponents(…)`, `scan.scanPath(dir)`, `repro.diffFiles(a, b)`,
// `tee.verifierFor(platform)`, `report.buildReport(…)`, `oci.RegistryClient`.
export * as oci from './oci/index.ts';
export * as policy from './policy/index.ts';
export * as report from './report/index.ts';
export * as repro from './repro/index.ts';
export * as sbom from './sbom/index.ts';
export * as scan from './scan/index.ts';
// sign, verify, store
export {
  type BundleVerdict,
  generateKeyPair,
  loadSigningKey,
  loadTrustedRoot,
  loadVerificationKey,
  parseBundle,
  publicGoodTrustedRoot,
  type SigningMode,
  signStatement,
  type TrustPolicy,
  verifyBundle,
} from './sign/index.ts';
export { DirectoryStore, type EvidenceEntry, type EvidenceStore } from './store/index.ts';
export * as tee from './tee/index.ts';
export {
  type ArtifactVerdict,
  type Policy,
  requireEvidence,
  verifyArtifact,
} from './verify/index.ts';
export * as vuln from './vuln/index.ts';
