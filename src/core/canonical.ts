import { compareCodePoints } from './digest.ts';
import { VouchError } from './errors.ts';

/** What differs between canonical JSON dialects; the walk is shared. */
interface Dialect {
  number(value: number, path: string): string;
  string(value: string): string;
  compareKeys(a: string, b: string): number;
}

/**
 * RFC 8785: keys sorted by UTF-16 code units (the default sort), numbers in
 * ECMAScript's shortest round-trip form, strings with JSON.stringify's
 * escaping, which is what the RFC specifies.
 */
const JCS: Dialect = {
  number(value, path) {
    if (!Number.isFinite(value)) throw notCanonical(path, `number ${value}`);
    return JSON.stringify(value);
  },
  string: (value) => JSON.stringify(value),
  compareKeys: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
};

/**
 * OLPC canonical JSON as used by in-toto metadata v0.9 and securesystemslib:
 * keys sorted by code point, only `"` and `\` escaped, integers only.
 */
const OLPC: Dialect = {
  number(value, path) {
    if (!Number.isSafeInteger(value)) {
      throw notCanonical(path, `number ${value} (OLPC canonical JSON allows integers only)`);
    }
    return String(value);
  },
  string: (value) => `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`,
  compareKeys: compareCodePoints,
};

/**
 * RFC 8785 JSON Canonicalization Scheme.
 *
 * @throws VouchError JSON_NOT_CANONICALIZABLE for non-finite numbers,
 *   bigints, functions, symbols and other non-JSON values.
 */
export function canonicalize(value: unknown): string {
  const out: string[] = [];
  write(JCS, value, out, '');
  return out.join('');
}

/**
 * OLPC canonical JSON (in-toto metadata v0.9 signatures).
 *
 * @throws VouchError JSON_NOT_CANONICALIZABLE for floats and non-JSON values.
 */
export function canonicalizeOlpc(value: unknown): string {
  const out: string[] = [];
  write(OLPC, value, out, '');
  return out.join('');
}

function write(d: Dialect, value: unknown, out: string[], path: string): void {
  if (value === null) {
    out.push('null');
    return;
  }
  switch (typeof value) {
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'number':
      out.push(d.number(value, path));
      return;
    case 'string':
      out.push(d.string(value));
      return;
    case 'object': {
      if (Array.isArray(value)) {
        out.push('[');
        value.forEach((v, i) => {
          if (i > 0) out.push(',');
          write(d, v, out, `${path}/${i}`);
        });
        out.push(']');
        return;
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort(d.compareKeys);
      out.push('{');
      keys.forEach((k, i) => {
        if (i > 0) out.push(',');
        out.push(d.string(k), ':');
        write(d, obj[k], out, `${path}/${k}`);
      });
      out.push('}');
      return;
    }
    default:
      throw notCanonical(path, typeof value);
  }
}

function notCanonical(path: string, what: string): VouchError {
  return new VouchError('JSON_NOT_CANONICALIZABLE', `cannot canonicalize ${what}`, {
    field: path || '/',
  });
}
