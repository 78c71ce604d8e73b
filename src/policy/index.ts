export {
  COST_LIMIT,
  type CompiledWhere,
  compileWhere,
  MAX_COMPREHENSION_DEPTH,
  MAX_EXPRESSION_LENGTH,
  MAX_NODES,
  type WhereBindings,
  type WhereResult,
} from './cel.ts';
export {
  type EvaluateOptions,
  type EvidenceRecord,
  type EvidenceUse,
  evaluatePolicy,
  type PolicyVerdict,
  type RuleResult,
  type RuleStatus,
  type SignerMatch,
} from './evaluate.ts';
export { explainVerdict } from './explain.ts';
export { type FixtureCase, type FixtureResult, runFixtures } from './fixtures.ts';
export { type StarterKey, starterPolicy } from './init.ts';
export {
  type CompositeRule,
  type EvidenceRule,
  POLICY_API_VERSION,
  type Policy,
  type PolicyException,
  type Rule,
  type SignerSpec,
  type Validity,
} from './model.ts';
export type { NewestSelection, TimeSource } from './newest.ts';
export {
  formatProblems,
  loadPolicy,
  type ParsePolicyOptions,
  type PolicyParse,
  type PolicyProblem,
  parseDuration,
  parsePolicy,
} from './parse.ts';
export { policySchema, schemaFieldPaths, validateSchema } from './schema.ts';
export { predicateTime } from './time.ts';
export {
  type BundleVerifier,
  type TrustedVerifier,
  VerificationCache,
  type VerificationCacheOptions,
  type VerificationCacheStats,
} from './verify-cache.ts';
export { VERIFIER_ID, VSA_EXTENSION, type VsaOptions, verificationSummary } from './vsa.ts';
