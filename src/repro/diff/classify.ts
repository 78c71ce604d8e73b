import type { DiffClass } from './types.ts';

/**
 * Guesses why two versions of a line differ, from the differing part of
 * each widened to whole tokens. Order matters: a date printed in another
 * language is a locale problem first, an absolute build directory is a path
 * problem even when it contains a random temp-dir suffix.
 */
export function classifyPair(a: string, b: string, buildPaths: readonly string[] = []): DiffClass {
  const [da, db] = differingTokens(a, b);
  const both = `${da}\n${db}`;
  if (buildPaths.some((p) => p.length > 1 && (da.includes(p) || db.includes(p)))) {
    return 'embedded-build-path';
  }
  if (randomFileName(da, db)) return 'random-id';
  if (hasPath(both) && !/^\d/.test(da)) return 'embedded-build-path';
  if (MODE.test(da) && MODE.test(db)) return 'permissions-ownership';
  if (LOCALE.test(both) || decimalSeparator(da, db)) return 'locale';
  if (TIME.some((re) => re.test(both))) return 'timestamp';
  if (RANDOM.some((re) => re.test(da) && re.test(db))) return 'random-id';
  return 'unknown';
}

/** Line sets that are equal as multisets but not as sequences differ only in order. */
export function sameLinesReordered(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length || a.length < 2) return false;
  const x = [...a].sort();
  const y = [...b].sort();
  return x.every((v, i) => v === y[i]);
}

/** The most telling class of several: anything known beats 'unknown', then the most frequent. */
export function dominant(classes: readonly DiffClass[]): DiffClass {
  const counts = new Map<DiffClass, number>();
  for (const c of classes) if (c !== 'unknown') counts.set(c, (counts.get(c) ?? 0) + 1);
  let best: DiffClass = 'unknown';
  let n = 0;
  for (const [c, k] of [...counts].sort((p, q) => (p[0] < q[0] ? -1 : 1))) {
    if (k > n) {
      best = c;
      n = k;
    }
  }
  return best;
}

/** The differing middle of two strings, widened to token boundaries (whitespace, quotes). */
export function differingTokens(a: string, b: string): [string, string] {
  let p = 0;
  while (p < a.length && p < b.length && a[p] === b[p]) p++;
  let s = 0;
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++;
  const boundary = /[\s"'`<>(),;=]/;
  let start = p;
  while (start > 0 && !boundary.test(a[start - 1] as string)) start--;
  const widen = (t: string, endExclusive: number) => {
    let e = endExclusive;
    while (e < t.length && !boundary.test(t[e] as string)) e++;
    return e;
  };
  return [a.slice(start, widen(a, a.length - s)), b.slice(start, widen(b, b.length - s))];
}

/**
 * Two absolute paths that differ only in a run of letters and digits inside
 * their last component, like `mktemp` names (`/tmp/build.U8I9lY`). A random
 * directory with the same file below it is left to the build-path check.
 */
function randomFileName(a: string, b: string): boolean {
  if (!a.startsWith('/') || a.length !== b.length) return false;
  let p = 0;
  while (a[p] === b[p]) p++;
  let q = a.length - 1;
  while (a[q] === b[q]) q--;
  const x = a.slice(p, q + 1);
  const y = b.slice(p, q + 1);
  return (
    q - p + 1 >= 4 &&
    !a.includes('/', p) &&
    !b.includes('/', p) &&
    /^[A-Za-z0-9]+$/.test(x) &&
    /^[A-Za-z0-9]+$/.test(y) &&
    /[A-Za-z]/.test(x + y)
  );
}

function hasPath(s: string): boolean {
  return /(^|[^\w.])\/(tmp|build|builds|home|root|var\/tmp|usr\/src|srv|workspace|runner|work|nonexistent)(\/|\b)/.test(
    s,
  );
}

function decimalSeparator(a: string, b: string): boolean {
  return (/\d,\d/.test(a) && /\d\.\d/.test(b)) || (/\d\.\d/.test(a) && /\d,\d/.test(b));
}

// French abbreviations carry a dot ("mer. 25 nov."); German and Spanish names are whole words.
const LOCALE =
  /\b(janv|févr|avr|juil|sept|oct|nov|déc|lun|mar|mer|jeu|ven|sam|dim)\.|\b(août|januar|februar|märz|juni|juli|oktober|dezember|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre|lunes|martes|miércoles|jueves|viernes|sábado|domingo)\b|\b[a-z]{2}_[A-Z]{2}\b|[À-ÿ]/i;

/** File modes as `stat -c %a` or `ls -l` print them. */
const MODE = /^(0?[0-7]{3,4}|[-dlcbps][-rwxsStT]{9}[.+@]?)$/;

const TIME: readonly RegExp[] = [
  /\d{4}-\d{2}-\d{2}/,
  /\b\d{1,2}:\d{2}(:\d{2})?\b/,
  /\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b/,
  /\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b/,
  /\b1[0-9]{9}(\d{3})?\b/,
  /\b(UTC|GMT|[+-]\d{2}:?\d{2}|Z)\b/,
  /\b\d{8}T?\d{6}\b/,
  // A compact date (20240101), as in file names and snapshot versions.
  /\b(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\b/,
];

const RANDOM: readonly RegExp[] = [
  /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i,
  /\b[0-9a-f]{8,}\b/i,
  /[A-Za-z0-9+/_-]{16,}={0,2}/,
];
