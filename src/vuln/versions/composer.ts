import { defineScheme, type VersionScheme } from './scheme.ts';
import { checkCommon, compareDigits, isAllDigits, malformed } from './util.ts';

/**
 * Packagist / Composer: PHP's version_compare after Composer's
 * canonicalisation — `v` dropped, `-`, `_`, `+` become `.`, a `.` is put
 * at every digit/non-digit transition; special forms order
 * `dev` < `alpha`=`a` < `beta`=`b` < `RC`=`rc` < number < `pl`=`p`,
 * unknown words rank as `dev`. Ported from osv-scalibr.
 */
function parse(version: string): string[] {
  checkCommon('Packagist', version);
  let v = version;
  if (v.startsWith('v') || v.startsWith('V')) v = v.slice(1);
  if (v === '') malformed('Packagist', version, 'empty after the v prefix');
  v = v.replace(/[-_+]/g, '.');
  v = v.replace(/([^\d.])(\d)/g, '$1.$2');
  v = v.replace(/(\d)([^\d.])/g, '$1.$2');
  return v.split('.');
}

function weigh(s: string): number {
  if (s.startsWith('RC')) return 3;
  const specials = ['dev', 'a', 'b', 'rc', '#', 'p'];
  for (let i = 0; i < specials.length; i++) if (s.startsWith(specials[i] as string)) return i;
  return 0;
}

function compareSpecial(a: string, b: string): number {
  const x = weigh(a);
  const y = weigh(b);
  return x > y ? 1 : x < y ? -1 : 0;
}

function isInt(s: string | undefined): boolean {
  // Go's strconv.Atoi: optional sign, digits
  return s !== undefined && /^[+-]?\d+$/.test(s) && s.length > 0;
}

export function compareComposer(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] as string;
    const y = b[i] as string;
    const xn = isAllDigits(x);
    const yn = isAllDigits(y);
    let d: number;
    if (xn && yn) d = compareDigits(x, y);
    else if (!xn && !yn) d = compareSpecial(x, y);
    else if (xn) d = compareSpecial('#', y);
    else d = compareSpecial(x, '#');
    if (d !== 0) return d;
  }
  if (a.length > b.length) {
    if (isInt(a[b.length])) return 1;
    return compareComposer(a.slice(b.length), ['#']);
  }
  if (a.length < b.length) {
    if (isInt(b[a.length])) return -1;
    return compareComposer(['#'], b.slice(a.length));
  }
  return 0;
}

export const composer: VersionScheme<string[]> = defineScheme('composer', parse, compareComposer);
