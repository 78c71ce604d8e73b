/**
 * One ecosystem's version order, in two layers. `parse` reads a version
 * once into the scheme's own form (throwing VouchError VERSION_MALFORMED,
 * naming the version, for what the scheme cannot read); `compareParsed`
 * orders two parsed forms and never throws. `compare(a, b)` is exactly
 * `compareParsed(parse(a), parse(b))` (see {@link defineScheme}): handy for
 * one comparison, wasteful in a loop, where callers parse each version once.
 * Results are a negative number, 0 or a positive number. Equality is the
 * scheme's, not the string's: `1.0` = `1.0.0` in PEP 440,
 * `2.0.0+incompatible` = `2.0.0` in Go. A parsed form is never mutated by
 * `compareParsed`, so it may be shared and compared any number of times.
 */
export interface VersionScheme<P = unknown> {
  readonly name: string;
  parse(v: string): P;
  compareParsed(a: P, b: P): number;
  compare(a: string, b: string): number;
}

/** A scheme from its parser and its order on parsed forms; `compare` parses `a`, then `b`. */
export function defineScheme<P>(
  name: string,
  parse: (v: string) => P,
  compareParsed: (a: P, b: P) => number,
): VersionScheme<P> {
  return {
    name,
    parse,
    compareParsed,
    compare: (a, b) => compareParsed(parse(a), parse(b)),
  };
}
