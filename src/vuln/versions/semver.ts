import { defineScheme, type VersionScheme } from './scheme.ts';
import { compareSemverLike, parseSemverLike, type SemverLike } from './semverlike.ts';
import { checkCommon, isDigit, malformed } from './util.ts';

/**
 * SemVer 2.0.0 precedence (semver.org §11), as npm, crates.io, Hex and the
 * OSV `SEMVER` range type use it. Lenient the way osv-scalibr is, because
 * real advisories carry `1.2`, `v1.2.3`, `1.2.3.4`: missing components are 0,
 * components past the third belong to the tail, build metadata is ignored.
 */
export function parseSemver(scheme: string, version: string): SemverLike {
  checkCommon(scheme, version);
  const start = version.startsWith('v') ? 1 : 0;
  if (!isDigit(version.charCodeAt(start)))
    malformed(scheme, version, 'does not start with a number');
  return parseSemverLike(version, 3);
}

export const semver: VersionScheme<SemverLike> = defineScheme(
  'semver',
  (v) => parseSemver('semver', v),
  (a, b) => compareSemverLike(a, b),
);
