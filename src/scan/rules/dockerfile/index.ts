/** The Dockerfile / Containerfile rule set. */
import type { RuleSet } from '../../rule.ts';
import { type Dockerfile, parseDockerfile } from './parse.ts';
import { DOCKERFILE_RULES } from './rules.ts';

export const dockerfileRuleSet: RuleSet<Dockerfile> = {
  name: 'docker',
  category: 'misconfiguration',
  matches(path) {
    const base = path.slice(path.lastIndexOf('/') + 1).toLowerCase();
    return (
      (base === 'dockerfile' ||
        base === 'containerfile' ||
        /^(?:docker|container)file[.-][^/]+$/.test(base) ||
        /\.(?:dockerfile|containerfile)$/.test(base)) &&
      !/\.(?:md|txt|dockerignore|containerignore)$/.test(base)
    );
  },
  parse: parseDockerfile,
  rules: DOCKERFILE_RULES,
};
