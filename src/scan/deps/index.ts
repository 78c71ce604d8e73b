export { checkDependencies, DEP_RULES, type DepsOutcome } from './check.ts';
export {
  DEPS_POLICY_FILE,
  type DenyEntry,
  type DepsPolicy,
  defaultDepsPolicy,
  globMatches,
  parseDepsPolicy,
  readDepsPolicy,
  registryAllowed,
  SOURCE_KINDS,
  type SourceKind,
} from './policy.ts';
export {
  type DepContext,
  type DepHit,
  type DepRule,
  type Origin,
  originsOf,
  registriesOf,
  registryOf,
  registryOfOrigin,
} from './rule.ts';
export { DEP_RULE_UNITS } from './rules/index.ts';
export { type LicenseExpr, parseLicenseExpression, satisfiable } from './spdx.ts';
