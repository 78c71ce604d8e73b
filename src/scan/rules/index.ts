/**
 * The registry of misconfiguration rule sets, in the order a file is offered
 * to them (first match wins: GitHub Actions and GitLab CI are recognised by
 * path before the content-sniffing Kubernetes set).
 */
import type { RuleSet } from '../rule.ts';
import { dockerfileRuleSet } from './dockerfile/index.ts';
import { githubActionsRuleSet } from './github-actions/index.ts';
import { gitlabCiRuleSet } from './gitlab-ci/index.ts';
import { kubernetesRuleSet } from './kubernetes/index.ts';

// biome-ignore lint/suspicious/noExplicitAny: each set has its own Doc type
export const RULE_SETS: readonly RuleSet<any>[] = [
  githubActionsRuleSet,
  gitlabCiRuleSet,
  dockerfileRuleSet,
  kubernetesRuleSet,
];
