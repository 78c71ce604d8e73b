import { compareCodePoints } from './digest.ts';
import { VouchError } from './errors.ts';

/**
 * RFC 8785 JSON Canonicalization Scheme. Keys are sorted by UTF-16 code
 * units, numbers use ECMAScript's shortest round-trip form, strings use
 * JSON.stringify's escaping, which is what the RFC specifies.
 *
 * @throws VouchError JSON_NOT_CANONICALIZABLE for non-finite numbers,
 *   undefined, functions, bigints and other non-JSON values.
 */
export function canonicalize(value: unknown): string {
  const out: string[] = [];
  jcs(value, out, '');
  return out.join('');
}

function jcs(value: unknown, out: string[], path: string): void {
  if (value === null) {
    out.push('null');
    return;
  }
  switch (typeof value) {
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'number':
      if (!Number.isFinite(value)) throw notCanonical(path, `number ${value}`);
      out.push(JSON.stringify(value));
      return;
    case 'string':
      out.push(JSON.stringify(value));
      return;
    case 'object': {
      if (Array.isArray(value)) {
        out.push('[');
        value.forEach((v, i) => {
          if (i > 0) out.push(',');
          jcs(v, out, `${path}/${i}`);
        });
        out.push(']');
        return;
      }
      const obj = value as Record<string, unknown>;
      // Default sort compares UTF-16 code units, as RFC 8785 §3.2.3 requires.
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort();
      out.push('{');
      keys.forEach((k, i) => {
        if (i > 0) out.push(',');
        out.push(JSON.stringify(k), ':');
        jcs(obj[k], out, `${path}/${k}`);
      });
      out.push('}');
      return;
    }
    default:
      throw notCanonical(path, typeof value);
  }
}

/**
 * OLPC canonical JSON as used by in-toto metadata v0.9 and
 * securesystemslib: no whitespace, keys sorted by code point, only `"` and
 * `\` escaped in strings, integers only.
 *
 * @throws VouchError JSON_NOT_CANONICALIZABLE for floats and non-JSON values.
 */
export function canonicalizeOlpc(value: unknown): string {
  const out: string[] = [];
  olpc(value, out, '');
  return out.join('');
}

function olpc(value: unknown, out: string[], path: string): void {
  if (value === null) {
    out.push('null');
    return;
  }
  switch (typeof value) {
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'number':
      if (!Number.isSafeInteger(value)) {
        throw notCanonical(path, `number ${value} (OLPC canonical JSON allows integers only)`);
      }
      out.push(String(value));
      return;
    case 'string':
      out.push(`"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`);
      return;
    case 'object': {
      if (Array.isArray(value)) {
        out.push('[');
        value.forEach((v, i) => {
          if (i > 0) out.push(',');
          olpc(v, out, `${path}/${i}`);
        });
        out.push(']');
        return;
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort(compareCodePoints);
      out.push('{');
      keys.forEach((k, i) => {
        if (i > 0) out.push(',');
        olpc(k, out, path);
        out.push(':');
        olpc(obj[k], out, `${path}/${k}`);
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
