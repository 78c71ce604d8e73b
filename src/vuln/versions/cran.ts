import { comparePvp } from './hackage.ts';
import { defineScheme, type VersionScheme } from './scheme.ts';
import { checkCommon, isAllDigits, malformed } from './util.ts';

/**
 * CRAN / R `package_version`: integers separated by `.` or `-`; padding
 * with zeros first, then the longer is greater (`1.0.0` > `1.0`).
 */
function parse(version: string): string[] {
  checkCommon('CRAN', version);
  const parts = version.split(/[.-]/);
  for (const p of parts)
    if (!isAllDigits(p)) malformed('CRAN', version, 'R versions are numbers separated by . or -');
  return parts;
}

export const cran: VersionScheme<string[]> = defineScheme('cran', parse, comparePvp);
