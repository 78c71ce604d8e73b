/**
 * YAML for machine-written lockfiles (pnpm-lock.yaml).
 *
 * The `yaml` library is the parser of record, with safe options (a small
 * alias budget, so an alias bomb fails fast). It is also about 1.5 s on a
 * 1 MB lockfile, ~30× what reading the file should cost. pnpm writes a small,
 * regular subset of YAML (block mappings, one-line flow collections, plain and
 * quoted scalars), so a fast path parses exactly that subset and hands
 * anything else — anchors, aliases, tags, block scalars, multi-line scalars,
 * several documents, odd indentation — to `yaml`. Tests check that both give
 * the same value on every real lockfile. `yaml` is loaded only when needed.
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import { errorMessage } from '../../core/errors.ts';
import { malformed } from './js-common.ts';

/** Aliases a lockfile may use before we call it an attack (pnpm writes none). */
export const MAX_ALIAS_COUNT = 100;

/**
 * @throws VouchError LOCKFILE_MALFORMED naming the file and line
 */
export function parseLockYaml(text: string, file: string): unknown {
  const fast = fastParse(text);
  if (fast !== BAIL) return fast;
  return parseWithLibrary(text, file);
}

let yamlLib: typeof Yaml | undefined;

/** The `yaml` library, loaded on first use (most lockfiles never need it). */
function yaml(): typeof Yaml {
  yamlLib ??= createRequire(import.meta.url)('yaml') as typeof Yaml;
  return yamlLib;
}

/** The `yaml` library with safe options; multi-document files yield the lockfile document. */
export function parseWithLibrary(text: string, file: string): unknown {
  const { parseAllDocuments, parseDocument, YAMLParseError } = yaml();
  try {
    const doc = parseDocument(text, { prettyErrors: true });
    if (doc.errors.length > 0) throw doc.errors[0];
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
  } catch (e) {
    if (e instanceof YAMLParseError && e.code === 'MULTIPLE_DOCS') {
      // pnpm ≥ 9.7 may put an environment document before the lockfile proper.
      const docs = parseAllDocuments(text, { prettyErrors: true });
      const list = Array.isArray(docs) ? docs : [docs];
      for (const d of list) if (d.errors.length > 0) throw yamlError(d.errors[0], file);
      const values = list.map((d) => d.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown);
      const lock = values.filter(
        (v) => typeof v === 'object' && v !== null && ('packages' in v || 'importers' in v),
      );
      return lock[lock.length - 1] ?? values[values.length - 1];
    }
    throw yamlError(e, file);
  }
}

function yamlError(e: unknown, file: string): Error {
  if (e instanceof yaml().YAMLParseError) {
    const line = e.linePos?.[0]?.line;
    const first = e.message.split('\n')[0] ?? e.message;
    return malformed(file, `not valid YAML: ${first}`, line ? `line ${line}` : undefined, e);
  }
  // The alias budget is enforced while converting, as a ReferenceError.
  return malformed(file, `not valid YAML: ${errorMessage(e)}`, undefined, e);
}

const BAIL: unique symbol = Symbol('bail');
type Bail = typeof BAIL;

class Bailout extends Error {}
const bail = (): never => {
  throw new Bailout();
};

/** The fast subset parser; BAIL when the text steps outside the subset. */
export function fastParse(text: string): unknown | Bail {
  try {
    return new SubsetParser(text).document();
  } catch (e) {
    if (e instanceof Bailout) return BAIL;
    throw e;
  }
}

export { BAIL };

const PLAIN_START_FORBIDDEN = new Set([...'[]{},#&*!|>\'"%@`']);

class SubsetParser {
  readonly #lines: string[];
  #i = 0;

  constructor(text: string) {
    this.#lines = text.split(/\r?\n/);
  }

  document(): unknown {
    this.#skipBlank();
    if (this.#i < this.#lines.length && this.#lines[this.#i] === '---') {
      this.#i++;
      this.#skipBlank();
    }
    if (this.#i >= this.#lines.length) return null;
    const first = this.#lines[this.#i] as string;
    const ind = indentOf(first);
    if (ind !== 0) bail();
    const v = isSeqItem(first, 0) ? this.#seq(0) : this.#map(0);
    this.#skipBlank();
    if (this.#i < this.#lines.length) bail();
    return v;
  }

  #skipBlank(): void {
    const lines = this.#lines;
    while (this.#i < lines.length) {
      const l = lines[this.#i] as string;
      const t = l.trimStart();
      if (t === '' || t.startsWith('#')) {
        if (l.includes('\t') && t !== '') bail();
        this.#i++;
      } else break;
    }
  }

  #map(ind: number): Record<string, unknown> {
    const obj: Record<string, unknown> = {};
    for (;;) {
      this.#skipBlank();
      if (this.#i >= this.#lines.length) return obj;
      const line = this.#lines[this.#i] as string;
      const li = indentOf(line);
      if (li < ind) return obj;
      if (li > ind || line.charCodeAt(li) === 0x09) bail();
      if (isSeqItem(line, li)) bail();
      const [key, rest] = splitKey(line, li);
      if (key === '__proto__' || Object.hasOwn(obj, key)) bail();
      this.#i++;
      if (rest === '') obj[key] = this.#nested(ind);
      else obj[key] = scalarOrFlow(rest);
    }
  }

  #nested(parentInd: number): unknown {
    this.#skipBlank();
    if (this.#i >= this.#lines.length) return null;
    const line = this.#lines[this.#i] as string;
    const li = indentOf(line);
    if (isSeqItem(line, li) && li >= parentInd) return this.#seq(li);
    if (li > parentInd) return this.#map(li);
    return null;
  }

  #seq(ind: number): unknown[] {
    const arr: unknown[] = [];
    for (;;) {
      this.#skipBlank();
      if (this.#i >= this.#lines.length) return arr;
      const line = this.#lines[this.#i] as string;
      const li = indentOf(line);
      if (li < ind) return arr;
      if (li > ind || !isSeqItem(line, li)) {
        if (li === ind) return arr; // a sibling key of the parent mapping
        bail();
      }
      const rest = line.slice(li + 1).trim();
      if (rest === '') bail();
      // `- key: value` starts a mapping inside the sequence: not in the subset.
      if (rest[0] !== '"' && rest[0] !== "'" && /:(\s|$)/.test(rest) && rest[0] !== '{') bail();
      arr.push(scalarOrFlow(rest));
      this.#i++;
    }
  }
}

function indentOf(line: string): number {
  let n = 0;
  while (line.charCodeAt(n) === 0x20) n++;
  return n;
}

function isSeqItem(line: string, at: number): boolean {
  return (
    line.charCodeAt(at) === 0x2d && (line.length === at + 1 || line.charCodeAt(at + 1) === 0x20)
  );
}

/** `key: rest` at column `at` → [key, rest trimmed]; quoted or plain keys only. */
function splitKey(line: string, at: number): [string, string] {
  const c = line[at] as string;
  let key: string;
  let after: number;
  if (c === '"' || c === "'") {
    const [s, end] = quoted(line, at);
    key = s;
    after = end;
    if (line[after] !== ':') bail();
  } else {
    if (PLAIN_START_FORBIDDEN.has(c) || c === '?' || c === ':' || c === '-') bail();
    let j = line.indexOf(':', at);
    while (j >= 0 && j + 1 < line.length && line[j + 1] !== ' ') j = line.indexOf(':', j + 1);
    if (j < 0) bail();
    key = line.slice(at, j).trimEnd();
    if (key.includes(' #')) bail();
    after = j;
  }
  const rest = line.slice(after + 1);
  if (rest !== '' && rest[0] !== ' ') bail();
  return [key, rest.trim()];
}

/** A one-line value: flow collection, quoted or plain scalar. */
function scalarOrFlow(s: string): unknown {
  const c = s[0] as string;
  if (c === '{' || c === '[') {
    const [v, end] = flow(s, 0);
    if (s.slice(end).trim() !== '') bail();
    return v;
  }
  if (c === '"' || c === "'") {
    const [v, end] = quoted(s, 0);
    if (s.slice(end).trim() !== '') bail();
    return v;
  }
  if (PLAIN_START_FORBIDDEN.has(c)) bail();
  if ((c === '-' || c === '?' || c === ':') && (s.length === 1 || s[1] === ' ')) bail();
  if (s.includes(' #') || s.includes(': ')) bail();
  return plain(s);
}

/** YAML 1.2 core schema resolution of a plain scalar (what `yaml` does by default). */
function plain(s: string): unknown {
  switch (s) {
    case '~':
    case 'null':
    case 'Null':
    case 'NULL':
      return null;
    case 'true':
    case 'True':
    case 'TRUE':
      return true;
    case 'false':
    case 'False':
    case 'FALSE':
      return false;
  }
  const c = s.charCodeAt(0);
  // Only something starting like a number can be one.
  if ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e) {
    if (/^[-+]?[0-9]+$/.test(s)) return Number(s);
    if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/.test(s)) return Number(s);
    if (/^0o[0-7]+$/.test(s) || /^0x[0-9a-fA-F]+$/.test(s)) bail();
    if (/^[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)$/.test(s)) bail();
  }
  return s;
}

const ESCAPES: Record<string, string> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  t: '\t',
  '\t': '\t',
  n: '\n',
  v: '\v',
  f: '\f',
  r: '\r',
  e: '\x1b',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  N: '\x85',
  _: '\xa0',
  L: '\u2028',
  P: '\u2029',
};

/** A quoted scalar starting at `at`; returns the value and the index after the closing quote. */
function quoted(s: string, at: number): [string, number] {
  const q = s[at];
  if (q === "'") {
    let out = '';
    let i = at + 1;
    for (;;) {
      const j = s.indexOf("'", i);
      if (j < 0) bail(); // multi-line: not in the subset
      out += s.slice(i, j);
      if (s[j + 1] === "'") {
        out += "'";
        i = j + 2;
      } else return [out, j + 1];
    }
  }
  let out = '';
  let i = at + 1;
  for (;;) {
    const j = nextOf(s, i);
    if (j < 0) bail();
    out += s.slice(i, j);
    if (s[j] === '"') return [out, j + 1];
    const e = s[j + 1] as string;
    const hex = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (hex > 0) {
      const h = s.slice(j + 2, j + 2 + hex);
      if (!/^[0-9a-fA-F]+$/.test(h) || h.length !== hex) bail();
      out += String.fromCodePoint(Number.parseInt(h, 16));
      i = j + 2 + hex;
    } else {
      const r = ESCAPES[e];
      if (r === undefined) bail();
      out += r;
      i = j + 2;
    }
  }
}

function nextOf(s: string, from: number): number {
  const a = s.indexOf('"', from);
  const b = s.indexOf('\\', from);
  if (a < 0) return -1;
  return b >= 0 && b < a ? b : a;
}

/** A flow collection starting at `at` (`{…}` or `[…]`), on one line. */
function flow(s: string, at: number): [unknown, number] {
  const open = s[at];
  const close = open === '{' ? '}' : ']';
  const isMap = open === '{';
  const obj: Record<string, unknown> = {};
  const arr: unknown[] = [];
  let i = skipSpaces(s, at + 1);
  if (s[i] === close) return [isMap ? obj : arr, i + 1];
  for (;;) {
    let key: string | undefined;
    if (isMap) {
      const [k, end] = flowScalar(s, i, true);
      if (typeof k !== 'string' && typeof k !== 'number' && typeof k !== 'boolean') bail();
      key = String(k);
      i = skipSpaces(s, end);
      if (s[i] !== ':') bail();
      i = skipSpaces(s, i + 1);
    }
    let value: unknown;
    if (s[i] === '{' || s[i] === '[') {
      const [v, end] = flow(s, i);
      value = v;
      i = end;
    } else {
      const [v, end] = flowScalar(s, i, false);
      value = v;
      i = end;
    }
    if (isMap) {
      if (key === '__proto__' || Object.hasOwn(obj, key as string)) bail();
      obj[key as string] = value;
    } else arr.push(value);
    i = skipSpaces(s, i);
    if (s[i] === ',') {
      i = skipSpaces(s, i + 1);
      if (s[i] === close) return [isMap ? obj : arr, i + 1];
      continue;
    }
    if (s[i] === close) return [isMap ? obj : arr, i + 1];
    bail();
  }
}

function skipSpaces(s: string, i: number): number {
  while (s[i] === ' ') i++;
  return i;
}

/** A scalar inside a flow collection: quoted, or plain up to `,`, `]`, `}` (or `: ` for keys). */
function flowScalar(s: string, at: number, isKey: boolean): [unknown, number] {
  const c = s[at];
  if (c === '"' || c === "'") return quoted(s, at);
  if (c === undefined || PLAIN_START_FORBIDDEN.has(c)) bail();
  let j = at;
  for (; j < s.length; j++) {
    const d = s[j];
    if (d === ',' || d === ']' || d === '}') break;
    if (
      d === ':' &&
      (s[j + 1] === ' ' || s[j + 1] === ',' || s[j + 1] === '}' || s[j + 1] === ']')
    ) {
      if (isKey) break;
      bail();
    }
    if (d === '#' && s[j - 1] === ' ') bail();
  }
  const raw = s.slice(at, j).trimEnd();
  if (raw === '') bail();
  return [plain(raw), j];
}
