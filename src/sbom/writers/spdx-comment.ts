/**
 * The `key=value` lines of an SPDX package `comment`, where vouch keeps a
 * component's scope, origins and reader properties. Values come from
 * lockfiles, i.e. from whoever wrote them: a raw line break in one would
 * start a new line and forge an entry (`vouch:otherSource=…`,
 * `vouch:scope=dev`) that `sbom diff` reads back. So one entry is always
 * exactly one line:
 *
 * - `%` is written `%25`, and every character that is a control or a line
 *   break somewhere (U+0000–U+001F, U+007F–U+009F, U+2028, U+2029) as the
 *   percent-encoding of its UTF-8 bytes (`\n` → `%0A`, U+2028 → `%E2%80%A8`);
 * - in a key, `=` is written `%3D` too (the first raw `=` ends the key).
 *
 * Reading decodes exactly those sequences and leaves any other `%XX` as it
 * is, so a comment written before this rule (a URL's `%40`) reads unchanged.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is escaped
const VALUE_ESCAPES = /[%\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is escaped
const KEY_ESCAPES = /[%=\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const VALUE_DECODES = /%(?:25|[01][0-9A-F]|7F|C2%[89][0-9A-F]|E2%80%A[89])/g;
const KEY_DECODES = /%(?:25|3D|[01][0-9A-F]|7F|C2%[89][0-9A-F]|E2%80%A[89])/g;

function percent(ch: string): string {
  let out = '';
  for (const b of Buffer.from(ch, 'utf8'))
    out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** A value as one comment line holds it: no raw control or line-break character, `%` escaped. */
export function escapeCommentValue(value: string): string {
  return value.replace(VALUE_ESCAPES, percent);
}

/** A key as one comment line holds it: as a value, and `=` escaped too. */
export function escapeCommentKey(key: string): string {
  return key.replace(KEY_ESCAPES, percent);
}

/** The inverse of escapeCommentValue. */
export function unescapeCommentValue(text: string): string {
  return text.replace(VALUE_DECODES, decodeURIComponent);
}

/** The inverse of escapeCommentKey. */
export function unescapeCommentKey(text: string): string {
  return text.replace(KEY_DECODES, decodeURIComponent);
}

/** One entry as one line: `key=value`, both escaped. */
export function commentLine(key: string, value: string): string {
  return `${escapeCommentKey(key)}=${escapeCommentValue(value)}`;
}

/**
 * The entries of a comment, in order: every line with an `=` after a
 * non-empty key, key and value decoded. Other lines are not entries.
 */
export function parseComment(text: string): Array<[key: string, value: string]> {
  const out: Array<[string, string]> = [];
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0)
      out.push([unescapeCommentKey(line.slice(0, eq)), unescapeCommentValue(line.slice(eq + 1))]);
  }
  return out;
}
