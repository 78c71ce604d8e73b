/**
 * A fast parser for the subset of syml that yarn classic (v1) writes.
 *
 * @yarnpkg/parsers' `parseSyml` is the parser of record; on a yarn v1 lockfile
 * it runs a PEG grammar that takes ~250 ms on a 1 MB file, ~20× what reading
 * it should cost. yarn v1's stringifier writes a small, regular subset: header
 * comments, blank lines, unindented block headers (`"a@^1", a@^2:`), 2-space
 * `key value` lines and nested `key:` mappings whose entries are indented two
 * more spaces. This parser reads exactly that subset, giving the value
 * `parseSyml` gives (each descriptor of one header shares one object; later
 * duplicates win), and returns BAIL for anything else — comments after the
 * first block, `key: value`, tabs, CR, odd indentation, unusual unquoted
 * tokens — so the caller hands the text to `parseSyml`. Tests check that both
 * give the same value on every real yarn v1 lockfile.
 */

const BAIL: unique symbol = Symbol('bail');

export { BAIL };

type Bail = typeof BAIL;

class Bailout extends Error {}
const bail = (): never => {
  throw new Bailout();
};

/** What makes parseSyml use its v1 grammar (copied from @yarnpkg/parsers). */
const LEGACY_REGEXP = /^(#.*(\r?\n))*?#\s+yarn\s+lockfile\s+v1\r?\n/i;

/**
 * Unquoted tokens both of the grammar's unquoted forms read the same way: a
 * letter or digit first, then nothing that ends or splits a token.
 */
const PLAIN_TOKEN = /^[A-Za-z0-9][^\s:,"'#[\]{}\\]*$/;

/** The parsed lockfile, or BAIL when the text steps outside the subset. */
export function parseYarnV1(text: string): Record<string, unknown> | Bail {
  if (!LEGACY_REGEXP.test(text)) return BAIL;
  if (text.includes('\r') || text.includes('\t') || text.includes('\x7f')) return BAIL;
  try {
    return parse(text);
  } catch (e) {
    if (e instanceof Bailout) return BAIL;
    throw e;
  }
}

function parse(text: string): Record<string, unknown> {
  const doc: Record<string, unknown> = {};
  // Stack of open mappings by depth: stack[0] is the document.
  const stack: Array<Record<string, unknown>> = [doc];
  let depth = 0; // depth of the mapping the next line may belong to (max)
  let sawBlock = false;
  const n = text.length;
  let pos = 0;
  while (pos < n) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = n;
    const line = text.slice(pos, end);
    pos = end + 1;
    let ind = 0;
    while (line.charCodeAt(ind) === 0x20) ind++;
    if (ind === line.length) continue; // blank
    if (line.charCodeAt(ind) === 0x23 /* # */) {
      if (sawBlock || ind !== 0) bail();
      continue;
    }
    if (ind % 2 !== 0) bail();
    const level = ind / 2;
    if (level > depth) bail();
    depth = level;
    const target = stack[level] as Record<string, unknown>;
    if (line.charCodeAt(line.length - 1) === 0x3a /* : */) {
      // A header (level 0, one or more keys) or a nested mapping (one key).
      const keys = level === 0 ? headerKeys(line.slice(0, -1)) : [oneKey(line, ind, -1)];
      const value: Record<string, unknown> = {};
      for (const k of keys) set(target, k, value);
      stack[level + 1] = value;
      depth = level + 1;
      sawBlock = true;
      continue;
    }
    if (level === 0) bail();
    // `key value`, separated by exactly one space.
    const [key, after] = keyAt(line, ind);
    if (line.charCodeAt(after) !== 0x20) bail();
    set(target, key, scalarAt(line.slice(after + 1)));
  }
  return doc;
}

function set(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') bail();
  obj[key] = value;
}

/** `"a@^1", a@^2` → ['a@^1', 'a@^2']. */
function headerKeys(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let key: string;
    if (s.charCodeAt(i) === 0x22) {
      const [v, end] = quoted(s, i);
      key = v;
      i = end;
    } else {
      let j = s.indexOf(',', i);
      if (j < 0) j = s.length;
      key = s.slice(i, j);
      if (!PLAIN_TOKEN.test(key)) bail();
      i = j;
    }
    out.push(key);
    if (i === s.length) return out;
    if (s.charCodeAt(i) !== 0x2c || s.charCodeAt(i + 1) !== 0x20) bail();
    i += 2;
  }
}

/** A key alone on its line from `at` up to `line.length + endOffset`. */
function oneKey(line: string, at: number, endOffset: number): string {
  const [key, after] = keyAt(line, at);
  if (after !== line.length + endOffset) bail();
  return key;
}

/** The key at `at` (quoted, or a plain token up to a space or colon) and the index after it. */
function keyAt(line: string, at: number): [string, number] {
  if (line.charCodeAt(at) === 0x22) return quoted(line, at);
  let j = at;
  while (j < line.length && line.charCodeAt(j) !== 0x20 && line.charCodeAt(j) !== 0x3a) j++;
  const key = line.slice(at, j);
  if (!PLAIN_TOKEN.test(key)) bail();
  return [key, j];
}

/** The value after `key `: a quoted string, `null`, or a plain token, to the end of the line. */
function scalarAt(s: string): unknown {
  if (s.charCodeAt(0) === 0x22) {
    const [v, end] = quoted(s, 0);
    if (end !== s.length) bail();
    return v;
  }
  if (!PLAIN_TOKEN.test(s)) bail();
  if (s === 'null') return null;
  // The grammar tries `null` first and does not back off: `nullable` is its error.
  if (s.startsWith('null')) bail();
  return s;
}

/** A JSON-escaped double-quoted string at `at`; the value and the index after the closing quote. */
function quoted(s: string, at: number): [string, number] {
  let j = at + 1;
  let escaped = false;
  for (;;) {
    const c = s.charCodeAt(j);
    if (Number.isNaN(c)) bail();
    if (c === 0x22) break;
    if (c < 0x20) bail();
    if (c === 0x5c) {
      escaped = true;
      j += 2;
    } else j++;
  }
  if (j > s.length) bail();
  const raw = s.slice(at, j + 1);
  if (!escaped) return [raw.slice(1, -1), j + 1];
  // The grammar's escapes are JSON's (\" \\ \/ \b \f \n \r \t \uXXXX).
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    bail();
  }
  return [v as string, j + 1];
}
