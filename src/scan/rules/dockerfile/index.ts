/** The Dockerfile / Containerfile rule set. */
import type { RuleSet } from '../../rule.ts';
import { type Dockerfile, parseDockerfile } from './parse.ts';
import { DOCKERFILE_RULES } from './rules.ts';

/**
 * Extensions of files that are about Dockerfiles, not Dockerfiles: source
 * code (`dockerfile.test.ts`, `dockerfile.go`), data and documentation. A
 * variant (`Dockerfile.dev`) or template (`Dockerfile.j2`) is still one.
 */
const NOT_A_DOCKERFILE =
  /\.(?:md|txt|rst|adoc|html?|dockerignore|containerignore|[cm]?[jt]sx?|go|py|rb|rs|java|kt|scala|cs|php|pl|c|h|cc|cpp|hpp|swift|json|ya?ml|toml|xml|lock|snap|bak|orig|rej|diff|patch)$/;

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
      !NOT_A_DOCKERFILE.test(base)
    );
  },
  parse: parseDockerfile,
  rules: DOCKERFILE_RULES,
};
