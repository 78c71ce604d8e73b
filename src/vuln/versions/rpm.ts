import { defineScheme, type VersionScheme } from './scheme.ts';
import { checkCommon, compareStrings, isAllDigits, isDigit, isLetter } from './util.ts';

/**
 * RPM (AlmaLinux, Rocky, Red Hat, SUSE, openSUSE, openEuler, Mageia):
 * `[epoch:]version[-release]`, each part compared with rpmvercmp — runs
 * of digits (numerically) and of letters (strcmp), separators ignored,
 * `~` sorts before everything (pre-releases), `^` after the base but
 * before anything longer (snapshots), a digit run beats a letter run.
 * A missing epoch is 0. Non-ASCII letters are separators, as in rpm.
 */
export interface RpmVersion {
  epoch: string;
  version: string;
  release: string;
}

function parse(version: string): RpmVersion {
  checkCommon('RPM', version, true);
  let epoch = '0';
  let vr = version;
  const colon = version.indexOf(':');
  if (colon >= 0 && isAllDigits(version.slice(0, colon))) {
    epoch = version.slice(0, colon);
    vr = version.slice(colon + 1);
  }
  const dash = vr.indexOf('-');
  return dash < 0
    ? { epoch, version: vr, release: '' }
    : { epoch, version: vr.slice(0, dash), release: vr.slice(dash) };
}

function skip(c: number): boolean {
  return !isLetter(c) && !isDigit(c) && c !== 126 && c !== 94;
}

/** rpmvercmp (rpm's lib/rpmvercmp.c), with the empty string below any other. */
export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '') return -1;
  if (b === '') return 1;
  let i = 0;
  let j = 0;
  for (;;) {
    while (i < a.length && skip(a.charCodeAt(i))) i++;
    while (j < b.length && skip(b.charCodeAt(j))) j++;
    const at = a.charCodeAt(i) === 126;
    const bt = b.charCodeAt(j) === 126;
    if (at || bt) {
      if (at && bt) {
        i++;
        j++;
        continue;
      }
      return at ? -1 : 1;
    }
    const ac = a.charCodeAt(i) === 94;
    const bc = b.charCodeAt(j) === 94;
    if (ac || bc) {
      if (ac && bc) {
        i++;
        j++;
        continue;
      }
      if (ac) return j >= b.length ? 1 : -1;
      return i >= a.length ? -1 : 1;
    }
    if (i >= a.length || j >= b.length) break;
    const digit = isDigit(a.charCodeAt(i));
    const same = digit ? isDigit : isLetter;
    const si = i;
    while (i < a.length && same(a.charCodeAt(i))) i++;
    const sj = j;
    while (j < b.length && same(b.charCodeAt(j))) j++;
    if (sj === j) return digit ? 1 : -1;
    let x = a.slice(si, i);
    let y = b.slice(sj, j);
    if (digit) {
      x = x.replace(/^0+/, '');
      y = y.replace(/^0+/, '');
      if (x.length !== y.length) return x.length > y.length ? 1 : -1;
    }
    const d = compareStrings(x, y);
    if (d !== 0) return d;
  }
  const al = a.length - i;
  const bl = b.length - j;
  return al > bl ? 1 : al < bl ? -1 : 0;
}

export function compareRpm(a: RpmVersion, b: RpmVersion): number {
  return (
    rpmvercmp(a.epoch, b.epoch) ||
    rpmvercmp(a.version, b.version) ||
    rpmvercmp(a.release, b.release)
  );
}

export const rpm: VersionScheme<RpmVersion> = defineScheme('rpm', parse, compareRpm);
