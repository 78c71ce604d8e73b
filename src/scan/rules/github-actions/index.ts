/**
 * The GitHub Actions rule set: workflows (`.github/workflows/*.yml|yaml`) and
 * action metadata files (`action.yml|yaml` anywhere: composite and Docker
 * actions), read into one model so each rule covers both.
 */
import type { RuleSet } from '../../rule.ts';
import { isActionPath, isWorkflowPath, parseGithubActions, type Workflow } from './parse.ts';
import { GITHUB_ACTIONS_RULES } from './rules.ts';

export const githubActionsRuleSet: RuleSet<Workflow> = {
  name: 'gha',
  category: 'misconfiguration',
  matches(path, firstBytes) {
    return isWorkflowPath(path) || isActionPath(path, firstBytes);
  },
  parse: parseGithubActions,
  rules: GITHUB_ACTIONS_RULES,
};
