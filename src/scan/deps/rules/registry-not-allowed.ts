import { registryAllowed } from '../policy.ts';
import { type DepRule, packageName, registryOf } from '../rule.ts';

/**
 * Registry packages from a registry the policy does not list (or over plain
 * HTTP). Git, tarball and path sources are `dep/non-registry-source`: one
 * component never gets both.
 */
export const registryNotAllowed: DepRule = {
  id: 'dep/registry-not-allowed',
  severity: 'high',
  title: 'Package from a registry outside the allowed list',
  description:
    'The lockfile resolves the package from a registry the dependency policy does not list in allowedRegistries (a mirror nobody reviewed, a typo-squatted registry host, or plain http:// that anyone on the path can rewrite). Point the package manager at an allowed registry and regenerate the lockfile, or add the registry to allowedRegistries after review.',
  check(c, { policy }) {
    if (!policy.allowedRegistries) return undefined;
    const reg = registryOf(c);
    if (!reg || registryAllowed(reg.url, policy.allowedRegistries)) return undefined;
    const name = packageName(c);
    return {
      message: `${name}@${c.version} is resolved from ${reg.url}, not an allowed registry${reg.url.startsWith('http://') ? ' (plain HTTP)' : ''}`,
      fix: `resolve ${name} from one of ${policy.allowedRegistries.join(', ')} and regenerate the lockfile`,
    };
  },
};
