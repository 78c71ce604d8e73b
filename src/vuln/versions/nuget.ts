import { defineScheme, type VersionScheme } from './scheme.ts';
import { compareSemverLike, parseSemverLike, type SemverLike } from './semverlike.ts';
import { checkCommon, isDigit, malformed } from './util.ts';

/**
 * NuGet: SemVer with a fourth numeric component (`1.0.0.1`, NuGet's
 * "revision"), case-insensitive pre-release labels, build metadata ignored.
 */
function parse(version: string): SemverLike {
  checkCommon('NuGet', version);
  const start = version.startsWith('v') ? 1 : 0;
  if (!isDigit(version.charCodeAt(start)))
    malformed('NuGet', version, 'does not start with a number');
  return parseSemverLike(version, 4);
}

export const nuget: VersionScheme<SemverLike> = defineScheme('nuget', parse, (a, b) =>
  compareSemverLike(a, b, true),
);
