import { globMatches, registryAllowed } from '../policy.ts';
import { type DepRule, originsOf, packageName, registriesOf, registryOfOrigin } from '../rule.ts';

/**
 * An internal package name resolved from the wrong place: the public
 * registry (or, when internalRegistries is set, anywhere but there). Every
 * origin of the component is judged; one finding names every wrong one.
 */
export const dependencyConfusion: DepRule = {
  id: 'dep/dependency-confusion',
  severity: 'critical',
  title: 'Internal package resolved from outside the internal registry',
  description:
    'The package name is one of the organisation’s internal packages (internalPackages), but the lockfile resolves it (or one of its copies) from the public registry or another registry than internalRegistries: anyone can publish that name publicly with a higher version, and the package manager installs theirs (dependency confusion). Scope internal packages and map the scope to the internal registry (.npmrc @scope:registry=…), reserve the names publicly, and regenerate the lockfile.',
  check(c, { policy }) {
    if (policy.internalPackages.length === 0) return undefined;
    const name = packageName(c);
    if (!policy.internalPackages.some((g) => globMatches(g, name))) return undefined;
    const internal = policy.internalRegistries;
    const where: string[] = [];
    if (internal) {
      for (const o of originsOf(c)) {
        const r = registryOfOrigin(c, o);
        if (r && registryAllowed(r.url, internal)) continue;
        const text = r?.url ?? (o.kind === 'registry' ? 'an unknown source' : `a ${o.kind} source`);
        if (!where.includes(text)) where.push(text);
      }
    } else {
      for (const r of registriesOf(c)) if (r.public) where.push(`the public registry ${r.url}`);
    }
    if (where.length === 0) return undefined;
    return {
      message: `internal package ${name}@${c.version} is resolved from ${where.join(' and ')}`,
      fix: `resolve ${name} from ${internal ? internal.join(', ') : 'the internal registry'} (map its scope in .npmrc) and regenerate the lockfile`,
    };
  },
};
