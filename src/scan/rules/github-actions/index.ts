/** The GitHub Actions workflow rule set (`.github/workflows/*.yml|yaml`). */
import type { RuleSet } from '../../rule.ts';
import { parseWorkflow, type Workflow } from './parse.ts';
import { GITHUB_ACTIONS_RULES } from './rules.ts';

export const githubActionsRuleSet: RuleSet<Workflow> = {
  name: 'gha',
  category: 'misconfiguration',
  matches(path) {
    return /(?:^|\/)\.github\/workflows\/[^/]+\.ya?ml$/.test(path);
  },
  parse: parseWorkflow,
  rules: GITHUB_ACTIONS_RULES,
};
