import { globMatches } from '../policy.ts';
import { type DepRule, packageName } from '../rule.ts';

/** npm `hasInstallScript`, pnpm `requiresBuild`: code run on `npm install`, before any review or test. */
export const installScript: DepRule = {
  id: 'dep/install-script',
  severity: 'medium',
  title: 'Package runs install scripts',
  description:
    'The package runs a preinstall, install or postinstall script (or node-gyp) when installed: code from the registry executes on developer machines and CI runners with their credentials, which is how most npm supply-chain attacks spread. Remove the package, install with --ignore-scripts, or review it and add its name to installScripts.allow in the dependency policy.',
  check(c, { policy }) {
    if (!policy.installScripts) return undefined;
    const p = c.properties ?? {};
    if (p['npm:hasInstallScript'] !== 'true' && p['pnpm:requiresBuild'] !== 'true')
      return undefined;
    const name = packageName(c);
    if (policy.installScripts.allow.some((g) => globMatches(g, name))) return undefined;
    return {
      message: `${name}@${c.version} runs install scripts`,
      fix: `review ${name}'s install script and add "${name}" to installScripts.allow, or install with --ignore-scripts`,
    };
  },
};
