import { registryAllowed } from '../policy.ts';
import { type DepRule, packageName, registriesOf } from '../rule.ts';

/**
 * Registry packages from a registry the policy does not list (or over plain
 * HTTP). Every origin of the component is judged — copies of one package can
 * come from different registries — and one finding names every bad one.
 * Git, tarball and path origins are `dep/non-registry-source`'s.
 */
export const registryNotAllowed: DepRule = {
  id: 'dep/registry-not-allowed',
  severity: 'high',
  title: 'Package from a registry outside the allowed list',
  description:
    'The lockfile resolves the package (or one of its copies) from a registry the dependency policy does not list in allowedRegistries (a mirror nobody reviewed, a typo-squatted registry host, or plain http:// that anyone on the path can rewrite). Point the package manager at an allowed registry and regenerate the lockfile, or add the registry to allowedRegistries after review.',
  check(c, { policy }) {
    const allowed = policy.allowedRegistries;
    if (!allowed) return undefined;
    const bad = registriesOf(c).filter((r) => !registryAllowed(r.url, allowed));
    if (bad.length === 0) return undefined;
    const name = packageName(c);
    const http = (url: string) => url.startsWith('http://');
    // One bad registry keeps the message it always had; several are all named.
    const message =
      bad.length === 1
        ? `${name}@${c.version} is resolved from ${bad[0]?.url}, not an allowed registry${http(bad[0]?.url ?? '') ? ' (plain HTTP)' : ''}`
        : `${name}@${c.version} is resolved from ${bad.map((r) => `${r.url}${http(r.url) ? ' (plain HTTP)' : ''}`).join(' and ')}, none of them an allowed registry`;
    return {
      message,
      fix: `resolve ${name} from one of ${allowed.join(', ')} and regenerate the lockfile`,
    };
  },
};
