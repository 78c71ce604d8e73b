import { defineScheme, type VersionScheme } from './scheme.ts';
import {
  checkCommon,
  compareComponents,
  compareDigits,
  compareStrings,
  isAllDigits,
  isDigit,
} from './util.ts';

/**
 * PEP 440 (PyPI): `[N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]`, with the
 * spec's normalisations (case, `alpha`/`beta`/`c`/`pre`/`preview`/`rev`/`r`,
 * `-`/`_`/`.` separators, implicit numbers, `1.0-1` as a post release).
 * Ordering per the spec: epoch, release (trailing zeros insignificant),
 * then dev-only < pre < final < post, with `.devN` below its parent; local
 * labels compare segment-wise (numbers > strings). Strings that are not
 * PEP 440 at all are "legacy" (setuptools' LegacyVersion) and sort below
 * every PEP 440 version, as pip did before dropping them.
 */
const PEP440 =
  /^v?(?:(?:([0-9]+)!)?([0-9]+(?:\.[0-9]+)*)([-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?([0-9]+)?)?((?:-([0-9]+))|(?:[-_.]?(post|rev|r)[-_.]?([0-9]+)?))?([-_.]?(dev)[-_.]?([0-9]+)?)?)(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?$/;

interface LetterNumber {
  letter: string;
  number: string;
}

export interface Pep440Version {
  /** Present only for legacy (non-PEP 440) versions. */
  legacy?: string;
  epoch: string;
  release: string[];
  pre?: LetterNumber;
  post?: string;
  dev?: string;
  local: string[];
}

const PRE_LETTER: Record<string, string> = {
  a: 'a',
  alpha: 'a',
  b: 'b',
  beta: 'b',
  c: 'rc',
  rc: 'rc',
  pre: 'rc',
  preview: 'rc',
};

function parse(version: string): Pep440Version {
  checkCommon('PEP 440', version);
  const s = version.toLowerCase();
  const m = PEP440.exec(s);
  if (!m) {
    return { legacy: legacyKey(s), epoch: '-1', release: [], local: [] };
  }
  const v: Pep440Version = { epoch: m[1] ?? '0', release: (m[2] as string).split('.'), local: [] };
  if (m[4] !== undefined) v.pre = { letter: PRE_LETTER[m[4]] as string, number: m[5] ?? '0' };
  if (m[7] !== undefined) v.post = m[7];
  else if (m[8] !== undefined) v.post = m[9] ?? '0';
  if (m[11] !== undefined) v.dev = m[12] ?? '0';
  if (m[13] !== undefined) v.local = m[13].split(/[-_.]/);
  return v;
}

/** setuptools' legacy key (parse_version before PEP 440), joined for comparison. */
function legacyKey(s: string): string {
  const parts: string[] = [];
  const re = /\d+|[a-z]+|\.|-/g;
  const found = [...s.matchAll(re)].map((x) => x[0]);
  found.push('final');
  for (let part of found) {
    if (part === '' || part === '.') continue;
    part =
      part === 'pre' || part === 'preview' || part === 'rc'
        ? 'c'
        : part === '-'
          ? 'final-'
          : part === 'dev'
            ? '@'
            : part;
    if (isDigit(part.charCodeAt(0))) {
      part = part.padStart(8, '0');
    } else {
      part = `*${part}`;
      if (part < '*final')
        while (parts.length > 0 && parts[parts.length - 1] === '*final-') parts.pop();
      while (parts.length > 0 && parts[parts.length - 1] === '00000000') parts.pop();
    }
    parts.push(part);
  }
  return parts.join('');
}

// dev-only releases sort before pre-releases of the same release.
function preKey(v: Pep440Version): number {
  if (v.pre === undefined && v.post === undefined && v.dev !== undefined) return -2;
  return v.pre === undefined ? 1 : 0;
}

function comparePep440(a: Pep440Version, b: Pep440Version): number {
  if (a.legacy !== undefined || b.legacy !== undefined) {
    if (a.legacy === undefined) return 1;
    if (b.legacy === undefined) return -1;
    return compareStrings(a.legacy, b.legacy);
  }
  let d = compareDigits(a.epoch, b.epoch) || compareComponents(a.release, b.release);
  if (d !== 0) return d;
  const pa = preKey(a);
  const pb = preKey(b);
  if (pa !== pb) return pa < pb ? -1 : 1;
  if (pa === 0 && a.pre && b.pre) {
    d = compareStrings(a.pre.letter, b.pre.letter) || compareDigits(a.pre.number, b.pre.number);
    if (d !== 0) return d;
  }
  d = compareOptional(a.post, b.post, -1);
  if (d !== 0) return d;
  d = compareOptional(a.dev, b.dev, 1);
  if (d !== 0) return d;
  return compareLocal(a.local, b.local);
}

/** Absent sorts as `absent` (-1: below any number, 1: above). */
function compareOptional(a: string | undefined, b: string | undefined, absent: number): number {
  if (a === undefined && b === undefined) return 0;
  if (a === undefined) return absent;
  if (b === undefined) return -absent;
  return compareDigits(a, b);
}

function compareLocal(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] as string;
    const y = b[i] as string;
    const xn = isAllDigits(x);
    const yn = isAllDigits(y);
    const d = xn && yn ? compareDigits(x, y) : !xn && !yn ? compareStrings(x, y) : xn ? 1 : -1;
    if (d !== 0) return d;
  }
  return a.length > b.length ? 1 : a.length < b.length ? -1 : 0;
}

export const pep440: VersionScheme<Pep440Version> = defineScheme('pep440', parse, comparePep440);
