/** The GitLab CI rule set (`.gitlab-ci.yml`, `*.gitlab-ci.yml`). */
import type { RuleSet } from '../../rule.ts';
import { type GitlabCi, parseGitlabCi } from './parse.ts';
import { GITLAB_CI_RULES } from './rules.ts';

export const gitlabCiRuleSet: RuleSet<GitlabCi> = {
  name: 'gitlab',
  category: 'misconfiguration',
  matches(path) {
    return /(?:^|\/|\.)gitlab-ci\.ya?ml$/.test(path);
  },
  parse: parseGitlabCi,
  rules: GITLAB_CI_RULES,
};
