import { VouchError } from '../../core/errors.ts';

/** Longest version string any scheme accepts; real versions are far shorter. */
export const MAX_VERSION_LENGTH = 256;

/** Throws VERSION_MALFORMED quoting the version and naming the scheme. */
export function malformed(scheme: string, version: string, why: string): never {
  const shown = version.length > 80 ? `${version.slice(0, 80)}…` : version;
  throw new VouchError(
    'VERSION_MALFORMED',
    `${JSON.stringify(shown)} is not a ${scheme} version: ${why}`,
    {
      field: 'version',
    },
  );
}

/**
 * Checks what no scheme allows: empty, too long, whitespace or control
 * characters, and (except where the scheme reads them, as rpm does) any
 * non-ASCII. Every scheme's parse calls this first.
 */
export function checkCommon(scheme: string, version: string, allowNonAscii = false): void {
  if (typeof version !== 'string') malformed(scheme, String(version), 'not a string');
  if (version.length === 0) malformed(scheme, version, 'empty');
  if (version.length > MAX_VERSION_LENGTH)
    malformed(scheme, version, `longer than ${MAX_VERSION_LENGTH} characters`);
  for (let i = 0; i < version.length; i++) {
    const c = version.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) malformed(scheme, version, 'whitespace or control character');
    if (c > 0x7f && !(allowNonAscii && c > 0xa0 && c !== 0x2028 && c !== 0x2029 && c !== 0xfeff))
      malformed(
        scheme,
        version,
        allowNonAscii ? 'whitespace or control character' : 'non-ASCII character',
      );
  }
}

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

export function isAllDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return true;
}

/**
 * Compares two strings of ASCII digits as unbounded integers (no BigInt, no
 * precision loss): leading zeros are ignored, then the longer is larger,
 * then plain string order decides.
 */
export function compareDigits(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length - 1 && a.charCodeAt(i) === 48) i++;
  while (j < b.length - 1 && b.charCodeAt(j) === 48) j++;
  const la = a.length - i;
  const lb = b.length - j;
  if (la !== lb) return la < lb ? -1 : 1;
  for (; i < a.length; i++, j++) {
    const d = a.charCodeAt(i) - b.charCodeAt(j);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** Strips leading zeros, keeping one digit. */
export function trimZeros(s: string): string {
  let i = 0;
  while (i < s.length - 1 && s.charCodeAt(i) === 48) i++;
  return i === 0 ? s : s.slice(i);
}

/** -1, 0 or 1 from plain code-unit order (Go's strings.Compare). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Compares digit-string component lists, padding the shorter with zeros. */
export function compareComponents(a: readonly string[], b: readonly string[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = compareDigits(a[i] ?? '0', b[i] ?? '0');
    if (d !== 0) return d;
  }
  return 0;
}

export function sign(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}
