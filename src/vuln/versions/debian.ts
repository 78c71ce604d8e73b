import { defineScheme, type VersionScheme } from './scheme.ts';
import { checkCommon, compareDigits, isAllDigits, isDigit, isLetter, malformed } from './util.ts';

/**
 * Debian policy §5.6.12 / dpkg: `[epoch:]upstream[-revision]`; the epoch
 * is numeric, the revision is after the last `-`; upstream and revision
 * compare by alternating non-digit runs (`~` below everything, even the end
 * of the string; letters below non-letters) and digit runs (numerically).
 * A missing revision equals `0`. Ubuntu uses the same.
 */
export interface DebianVersion {
  epoch: string;
  upstream: string;
  revision: string;
}

const ALLOWED = /^[A-Za-z0-9.+~:-]+$/;

function parse(version: string): DebianVersion {
  checkCommon('Debian', version);
  let epoch = '0';
  let rest = version;
  const colon = version.indexOf(':');
  if (colon >= 0) {
    epoch = version.slice(0, colon);
    rest = version.slice(colon + 1);
    if (!isAllDigits(epoch))
      malformed('Debian', version, 'the epoch (before the first :) is not a number');
  }
  if (!ALLOWED.test(rest))
    malformed('Debian', version, 'only letters, digits and . + ~ - : are allowed');
  const dash = rest.lastIndexOf('-');
  const upstream = dash < 0 ? rest : rest.slice(0, dash);
  const revision = dash < 0 ? '0' : rest.slice(dash + 1);
  if (upstream === '') malformed('Debian', version, 'empty upstream version');
  if (!isDigit(upstream.charCodeAt(0)))
    malformed('Debian', version, 'the upstream version must start with a digit');
  return { epoch, upstream, revision };
}

function order(c: number): number {
  if (c === 126 /* ~ */) return -1;
  if (Number.isNaN(c)) return 0;
  if (isLetter(c)) return c;
  return c + 256;
}

/** dpkg's verrevcmp. */
export function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (
      (i < a.length && !isDigit(a.charCodeAt(i))) ||
      (j < b.length && !isDigit(b.charCodeAt(j)))
    ) {
      const ac = i < a.length && !isDigit(a.charCodeAt(i)) ? order(a.charCodeAt(i)) : 0;
      const bc = j < b.length && !isDigit(b.charCodeAt(j)) ? order(b.charCodeAt(j)) : 0;
      if (ac !== bc) return ac < bc ? -1 : 1;
      i++;
      j++;
    }
    const si = i;
    while (i < a.length && isDigit(a.charCodeAt(i))) i++;
    const sj = j;
    while (j < b.length && isDigit(b.charCodeAt(j))) j++;
    const d = compareDigits(si === i ? '0' : a.slice(si, i), sj === j ? '0' : b.slice(sj, j));
    if (d !== 0) return d;
  }
  return 0;
}

export function compareDebian(a: DebianVersion, b: DebianVersion): number {
  return (
    compareDigits(a.epoch, b.epoch) ||
    verrevcmp(a.upstream, b.upstream) ||
    verrevcmp(a.revision, b.revision)
  );
}

export const debian: VersionScheme<DebianVersion> = defineScheme('debian', parse, compareDebian);
