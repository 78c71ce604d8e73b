import { defineScheme, type VersionScheme } from './scheme.ts';
import { parseSemver } from './semver.ts';
import { compareSemverLike, type SemverLike } from './semverlike.ts';

/**
 * Go module versions: SemVer with an optional `v` (OSV's Go data omits it),
 * pseudo-versions (`v0.0.0-20210101000000-abcdef123456`,
 * `v1.2.4-0.2021…`) which are ordinary pre-releases and so sort below the
 * release they precede, and `+incompatible`, which is build metadata and so
 * does not take part in ordering (`v2.0.0+incompatible` = `v2.0.0`).
 */
export const go: VersionScheme<SemverLike> = defineScheme(
  'go',
  (v) => parseSemver('go', v),
  (a, b) => compareSemverLike(a, b),
);
