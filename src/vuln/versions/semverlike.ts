import { compareComponents, compareDigits, compareStrings, isAllDigits, isDigit } from './util.ts';

/**
 * The lenient "numbers, then a build/pre-release tail" reading that npm-like
 * schemes share: `v1.2.3-beta+x` → components [1,2,3], build `-beta+x`.
 * Components past `maxComponents` move into the tail as `.N` (so for SemVer
 * `1.2.3.4` is `1.2.3` with tail `.4`), as osv-scalibr does.
 */
export interface SemverLike {
  readonly components: readonly string[];
  readonly build: string;
}

export function parseSemverLike(version: string, maxComponents: number): SemverLike {
  const line = version.startsWith('v') ? version.slice(1) : version;
  const components: string[] = [];
  let current = '';
  let i = 0;
  for (; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (isDigit(c)) {
      current += line[i];
      continue;
    }
    if (current !== '') {
      components.push(current);
      current = '';
    }
    if (c === 46 /* . */) continue;
    break;
  }
  if (i >= line.length && current !== '') components.push(current);
  let build = i < line.length ? line.slice(i) : '';
  if (maxComponents >= 0 && components.length > maxComponents) {
    const extra = components.splice(maxComponents);
    build = build + extra.map((c) => `.${trimLeadingZeros(c)}`).join('');
  }
  return { components, build };
}

function trimLeadingZeros(s: string): string {
  const t = s.replace(/^0+/, '');
  return t === '' ? '0' : t;
}

/**
 * SemVer 2.0.0 §11 pre-release precedence over the tail: build metadata
 * (`+…`) ignored, a leading `-` dropped, no pre-release > any pre-release,
 * dot-separated identifiers numeric-by-value < alphanumeric-by-ASCII, more
 * identifiers win when all before are equal.
 */
export function compareSemverTail(a: string, b: string): number {
  a = stripBuild(a);
  b = stripBuild(b);
  if (a.startsWith('-')) a = a.slice(1);
  if (b.startsWith('-')) b = b.slice(1);
  if (a === '' && b !== '') return 1;
  if (a !== '' && b === '') return -1;
  if (a === b) return 0;
  const as = a.split('.');
  const bs = b.split('.');
  const n = Math.min(as.length, bs.length);
  for (let i = 0; i < n; i++) {
    const x = as[i] as string;
    const y = bs[i] as string;
    const xn = isAllDigits(x);
    const yn = isAllDigits(y);
    let d: number;
    if (xn && yn) d = compareDigits(x, y);
    else if (!xn && !yn) d = compareStrings(x, y);
    else d = xn ? -1 : 1;
    if (d !== 0) return d;
  }
  return as.length > bs.length ? 1 : as.length < bs.length ? -1 : 0;
}

function stripBuild(s: string): string {
  const i = s.indexOf('+');
  return i < 0 ? s : s.slice(0, i);
}

export function compareSemverLike(a: SemverLike, b: SemverLike, foldCase = false): number {
  const d = compareComponents(a.components, b.components);
  if (d !== 0) return d;
  return foldCase
    ? compareSemverTail(a.build.toLowerCase(), b.build.toLowerCase())
    : compareSemverTail(a.build, b.build);
}
