import type { DepRule } from '../rule.ts';
import { dependencyConfusion } from './dependency-confusion.ts';
import { installScript } from './install-script.ts';
import { knownMalicious } from './known-malicious.ts';
import { registryNotAllowed } from './registry-not-allowed.ts';

/** Dependency rules written as one unit each, in the order they run. */
export const DEP_RULE_UNITS: readonly DepRule[] = [
  installScript,
  registryNotAllowed,
  dependencyConfusion,
  knownMalicious,
];
