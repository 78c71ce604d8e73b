import { globMatches, registryAllowed } from '../policy.ts';
import { type DepRule, packageName, registryOf } from '../rule.ts';

/**
 * An internal package name resolved from the wrong place: the public
 * registry (or, when internalRegistries is set, anywhere but there).
 */
export const dependencyConfusion: DepRule = {
  id: 'dep/dependency-confusion',
  severity: 'critical',
  title: 'Internal package resolved from outside the internal registry',
  description:
    'The package name is one of the organisation’s internal packages (internalPackages), but the lockfile resolves it from the public registry or another registry than internalRegistries: anyone can publish that name publicly with a higher version, and the package manager installs theirs (dependency confusion). Scope internal packages and map the scope to the internal registry (.npmrc @scope:registry=…), reserve the names publicly, and regenerate the lockfile.',
  check(c, { policy }) {
    if (policy.internalPackages.length === 0) return undefined;
    const name = packageName(c);
    if (!policy.internalPackages.some((g) => globMatches(g, name))) return undefined;
    const reg = registryOf(c);
    const internal = policy.internalRegistries;
    let where: string | undefined;
    if (internal) {
      if (reg && registryAllowed(reg.url, internal)) return undefined;
      where = reg?.url ?? `a ${c.source?.kind ?? 'unknown'} source`;
    } else {
      if (!reg?.public) return undefined;
      where = `the public registry ${reg.url}`;
    }
    return {
      message: `internal package ${name}@${c.version} is resolved from ${where}`,
      fix: `resolve ${name} from ${internal ? internal.join(', ') : 'the internal registry'} (map its scope in .npmrc) and regenerate the lockfile`,
    };
  },
};
