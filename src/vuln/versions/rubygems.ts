import { defineScheme, type VersionScheme } from './scheme.ts';
import {
  checkCommon,
  compareDigits,
  compareStrings,
  isAllDigits,
  isDigit,
  malformed,
} from './util.ts';

/**
 * RubyGems Gem::Version: segments split at `.` and at digit/letter
 * transitions; a letter segment makes the version a prerelease (letters <
 * numbers); trailing zeros of the numeric part and of the prerelease part
 * are insignificant (`1.0.a` = `1.a`). `-` is read as `.pre.` as Gem::Version
 * does.
 */
// Gem::Version's pattern, loosened as osv-scalibr reads it (`1beta` is accepted).
const GEM = /^[0-9][0-9A-Za-z.-]*$/;

function parse(version: string): string[] {
  checkCommon('RubyGems', version);
  if (!GEM.test(version)) malformed('RubyGems', version, 'does not match Gem::Version');
  const s = version.replaceAll('-', '.pre.');
  // Split at dots and at every digit/non-digit transition inside a segment.
  const segs: string[] = [];
  for (const part of s.split('.')) {
    let cur = '';
    for (let i = 0; i < part.length; i++) {
      if (i > 0 && isDigit(part.charCodeAt(i)) !== isDigit(part.charCodeAt(i - 1))) {
        segs.push(cur);
        cur = '';
      }
      cur += part[i];
    }
    segs.push(cur);
  }
  const numbers: string[] = [];
  const build: string[] = [];
  for (const seg of segs) {
    if (build.length > 0 || !isAllDigits(seg)) build.push(seg);
    else numbers.push(seg);
  }
  return [...removeZeros(numbers), ...removeZeros(build)];
}

function removeZeros(segs: string[]): string[] {
  let i = segs.length;
  while (i > 0 && isAllDigits(segs[i - 1] as string) && /^0+$/.test(segs[i - 1] as string)) i--;
  return segs.slice(0, i);
}

function compareSegments(a: readonly string[], b: readonly string[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] ?? '0';
    const y = b[i] ?? '0';
    const xn = isAllDigits(x);
    const yn = isAllDigits(y);
    if (xn && yn) {
      const d = compareDigits(x, y);
      if (d !== 0) return d;
    } else if (!xn && !yn) {
      const d = compareStrings(x, y);
      if (d !== 0) return d;
    } else return xn ? 1 : -1;
  }
  return 0;
}

export const rubygems: VersionScheme<string[]> = defineScheme('rubygems', parse, compareSegments);
