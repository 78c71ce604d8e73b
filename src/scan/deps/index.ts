export { checkDependencies, DEP_RULES, type DepsOutcome } from './check.ts';
export {
  DEPS_POLICY_FILE,
  type DenyEntry,
  type DepsPolicy,
  defaultDepsPolicy,
  globMatches,
  parseDepsPolicy,
  readDepsPolicy,
  SOURCE_KINDS,
  type SourceKind,
} from './policy.ts';
export { type LicenseExpr, parseLicenseExpression, satisfiable } from './spdx.ts';
