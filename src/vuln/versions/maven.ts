import { defineScheme, type VersionScheme } from './scheme.ts';
import { checkCommon, compareDigits, isAllDigits, isDigit, trimZeros } from './util.ts';

/**
 * Maven ComparableVersion (maven-artifact), the order the Maven resolver
 * and OSV use: split at `.`, `-` and digit/letter transitions (a transition
 * counts as `-`), qualifiers `alpha` < `beta` < `milestone` < `rc`=`cr` <
 * `snapshot` < "" = `ga` = `final` = `release` < `sp` < other qualifiers
 * (alphabetical) < numbers; `a1`/`b1`/`m1` are alpha/beta/milestone when a
 * number follows; trailing null values are trimmed before each `-`;
 * a missing token is padded with the null of the other side's prefix.
 * Ported from osv-scalibr's semantic package (the fixtures' own comparator).
 */
interface Token {
  prefix: string;
  value: string;
  isNull: boolean;
}

const KEYWORDS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];

function keywordOrder(k: string): number {
  const i = KEYWORDS.indexOf(k);
  return i < 0 ? KEYWORDS.length : i;
}

function qualifierOrder(t: Token): number {
  const numeric = isAllDigits(t.value);
  if (numeric) return t.prefix === '-' ? 2 : 3;
  return t.prefix === '-' ? 1 : 0;
}

function tokenLess(v: Token, w: Token): boolean {
  if (v.prefix === w.prefix) {
    const vn = isAllDigits(v.value);
    const wn = isAllDigits(w.value);
    if (vn && wn) return compareDigits(v.value, w.value) < 0;
    if (vn && !v.isNull) return false;
    if (wn && !w.isNull) return true;
    const l = keywordOrder(v.value);
    const r = keywordOrder(w.value);
    if (l === KEYWORDS.length && r === KEYWORDS.length) return v.value < w.value;
    return l < r;
  }
  return qualifierOrder(v) < qualifierOrder(w);
}

function nullToken(t: Token): Token {
  if (t.prefix === '-') return { prefix: '-', value: '', isNull: true };
  // "sp" is the one qualifier above the empty value, so pad it with "" not "0".
  return { prefix: '.', value: t.value === 'sp' ? '' : '0', isNull: true };
}

function shouldTrim(t: Token): boolean {
  return t.value === '0' || t.value === '' || t.value === 'final' || t.value === 'ga';
}

function transitions(s: string): number[] {
  const out: number[] = [];
  for (let i = 1; i < s.length; i++) {
    if (isDigit(s.charCodeAt(i)) !== isDigit(s.charCodeAt(i - 1))) out.push(i);
  }
  return out;
}

function parse(version: string): Token[] {
  checkCommon('Maven', version);
  const tokens: Token[] = [];
  const raw = version.split(/([.-])/);
  for (let i = 0; i < raw.length; i += 2) {
    let prefix = i === 0 ? '' : (raw[i - 1] as string);
    const part = raw[i] as string;
    const cuts = transitions(part);
    cuts.push(part.length);
    let prev = 0;
    for (let j = 0; j < cuts.length; j++) {
      const cut = cuts[j] as number;
      if (j > 0) prefix = '-';
      let cur = part.slice(prev, cut).toLowerCase();
      if (cur === '') cur = '0';
      if (cur === 'cr') cur = 'rc';
      if (cur === 'ga' || cur === 'final' || cur === 'release') cur = '';
      if (cut !== part.length) {
        if (cur === 'a') cur = 'alpha';
        else if (cur === 'b') cur = 'beta';
        else if (cur === 'm') cur = 'milestone';
      }
      if (isAllDigits(cur)) cur = trimZeros(cur);
      tokens.push({ prefix, value: cur, isNull: false });
      prev = cut;
    }
  }
  // Trim trailing nulls, then again before each remaining hyphen, end to start.
  let i = tokens.length - 1;
  while (i > 0) {
    if (shouldTrim(tokens[i] as Token)) {
      tokens.splice(i, 1);
      i--;
      continue;
    }
    while (i >= 0 && (tokens[i] as Token).prefix !== '-') i--;
    i--;
  }
  return tokens;
}

function compareTokens(v: readonly Token[], w: readonly Token[]): number {
  if (
    v.length === w.length &&
    v.every((t, i) => t.prefix === w[i]?.prefix && t.value === w[i]?.value)
  )
    return 0;
  const n = Math.max(v.length, w.length);
  for (let i = 0; i < n; i++) {
    const left = i < v.length ? (v[i] as Token) : nullToken(w[i] as Token);
    const right = i < w.length ? (w[i] as Token) : nullToken(v[i] as Token);
    if (left.prefix === right.prefix && left.value === right.value) continue;
    return tokenLess(left, right) ? -1 : 1;
  }
  return 1;
}

export const maven: VersionScheme<Token[]> = defineScheme('maven', parse, compareTokens);
