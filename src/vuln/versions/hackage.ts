import { defineScheme, type VersionScheme } from './scheme.ts';
import { checkCommon, compareComponents, isAllDigits, malformed } from './util.ts';

/**
 * Haskell PVP (Hackage and GHC): any number of dot-separated non-negative
 * integers, compared component by component; when one is a prefix of the
 * other the longer is greater (`1.0.0` > `1.0`, as Data.Version orders).
 */
function parse(version: string): string[] {
  checkCommon('Hackage', version);
  const parts = version.split('.');
  for (const p of parts)
    if (!isAllDigits(p)) malformed('Hackage', version, 'PVP versions are dot-separated numbers');
  return parts;
}

export function comparePvp(a: readonly string[], b: readonly string[]): number {
  return compareComponents(a, b) || (a.length > b.length ? 1 : a.length < b.length ? -1 : 0);
}

export const hackage: VersionScheme<string[]> = defineScheme('hackage', parse, comparePvp);
