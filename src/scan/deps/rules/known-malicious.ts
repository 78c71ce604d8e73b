import { type DepRule, packageName } from '../rule.ts';

/** OSV `MAL-` records (the OpenSSF malicious-packages feed) matched by the vulnerability database. */
export const knownMalicious: DepRule = {
  id: 'dep/known-malicious',
  severity: 'critical',
  title: 'Known malicious package',
  description:
    'An OSV MAL- record (OpenSSF malicious packages) lists this package version as malicious: it was published to steal credentials, mine, or open a backdoor, and installing it may already have run its code. Remove it, rotate every credential the machines that installed it could read, and regenerate the lockfile. Needs a vulnerability database (vouch db update); without one the rule is reported as not checked.',
  check(c, { malicious }) {
    const ids = malicious?.get(c.ref);
    if (!ids || ids.length === 0) return undefined;
    return {
      message: `${packageName(c)}@${c.version} is known malicious (${ids.join(', ')})`,
      fix: `remove ${packageName(c)}, rotate the credentials of every machine that installed it, and regenerate the lockfile`,
    };
  },
};
