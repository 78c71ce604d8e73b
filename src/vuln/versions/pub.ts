import { defineScheme, type VersionScheme } from './scheme.ts';
import { compareSemverLike, parseSemverLike, type SemverLike } from './semverlike.ts';
import { checkCommon, compareStrings, isDigit, malformed } from './util.ts';

/**
 * Dart Pub: SemVer, except that build metadata does order versions
 * (`1.0.0+1` < `1.0.0+2`), as pub_semver does.
 */
function parse(version: string): SemverLike {
  checkCommon('Pub', version);
  const start = version.startsWith('v') ? 1 : 0;
  if (!isDigit(version.charCodeAt(start)))
    malformed('Pub', version, 'does not start with a number');
  return parseSemverLike(version, 3);
}

function buildOf(tail: string): string {
  const i = tail.indexOf('+');
  return i < 0 ? '' : tail.slice(i + 1);
}

export const pub: VersionScheme<SemverLike> = defineScheme(
  'pub',
  parse,
  (x, y) => compareSemverLike(x, y) || compareStrings(buildOf(x.build), buildOf(y.build)),
);
