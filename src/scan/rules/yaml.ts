/**
 * YAML for the rule sets: parses every document of a stream with `yaml` and
 * converts it once into a small position-carrying tree (YNode), so rules read
 * plain maps, sequences and scalars and still know the exact line of each
 * one — also in multi-document streams, where lines count from the top of
 * the file. Aliases are expanded (merge keys `<<` included) under a node
 * budget: an alias bomb is a SCAN_PARSE_ERROR, not an out-of-memory.
 */

import type { Document, Node as YamlNode } from 'yaml';
import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  visit,
} from 'yaml';
import { VouchError } from '../../core/errors.ts';

interface Base {
  /** 1-based line and column where the node starts. */
  line: number;
  column: number;
  /** Byte offsets [start, end) of the node in the source text. */
  start: number;
  end: number;
}
export interface YMap extends Base {
  kind: 'map';
  entries: YEntry[];
}
export interface YEntry {
  key: string;
  keyLine: number;
  keyColumn: number;
  value: YNode;
}
export interface YSeq extends Base {
  kind: 'seq';
  items: YNode[];
}
export interface YScalar extends Base {
  kind: 'scalar';
  value: string | number | boolean | null;
}
export type YNode = YMap | YSeq | YScalar;

export interface YDocument {
  /** Undefined for an empty document (`---` alone). */
  root: YNode | undefined;
  /** 1-based line where the document starts. */
  line: number;
}

export interface YStream {
  docs: YDocument[];
  /** 1-based line and column of a source offset. */
  pos(offset: number): { line: number; column: number };
}

/** Most nodes a stream may expand to (aliases included). */
const NODE_BUDGET = 2_000_000;

/** @throws VouchError SCAN_PARSE_ERROR with the file and line. */
export function parseYamlStream(text: string, file: string): YStream {
  const lc = new LineCounter();
  let parsed: Document.Parsed[];
  try {
    parsed = parseAllDocuments(text, { lineCounter: lc, uniqueKeys: false });
  } catch (e) {
    if (e instanceof RangeError) throw tooDeep(text, file, e);
    throw new VouchError('SCAN_PARSE_ERROR', `not YAML: ${(e as Error).message}`, {
      file,
      cause: e,
    });
  }
  if (!Array.isArray(parsed)) parsed = []; // an empty stream
  const pos = (offset: number) => {
    const p = lc.linePos(offset);
    return { line: p.line, column: p.col };
  };
  const budget: Budget = { left: NODE_BUDGET, aliases: new Map() };
  const docs: YDocument[] = [];
  for (const d of parsed) {
    const err = d.errors[0];
    if (err && /Maximum call stack size exceeded/.test(err.message)) throw tooDeep(text, file, err);
    if (err) {
      const line = err.linePos?.[0]?.line ?? pos(err.pos[0]).line;
      throw new VouchError('SCAN_PARSE_ERROR', `YAML: ${err.message.split('\n')[0]}`, {
        file,
        field: `line ${line}`,
      });
    }
    resolveAliases(d, budget.aliases);
    const root = d.contents ? convert(d.contents as YamlNode, d, pos, budget, file, 0) : undefined;
    docs.push({ root, line: pos(d.range[0]).line });
  }
  return { docs, pos };
}

interface Budget {
  /** Nodes that may still be made. */
  left: number;
  /** Each alias's target: `yaml` finds it by walking the whole document, every time. */
  aliases: Map<YamlNode, YamlNode | undefined>;
}

/**
 * Every alias's target in one walk of the document: the last node before it
 * carrying its anchor, what `Alias.resolve` finds. Resolving each alias on
 * its own walks the document once per alias, quadratic in a file of many
 * aliases (found by test/fuzz: 90 kB took seconds).
 */
function resolveAliases(doc: Document.Parsed, into: Budget['aliases']): void {
  const anchors = new Map<string, YamlNode>();
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node)) into.set(node, anchors.get(node.source));
      else if (node.anchor) anchors.set(node.anchor, node);
    },
  });
}

/** Nesting past which the error names the line: far deeper than any real file. */
const REPORTED_DEPTH = 256;

/**
 * The `yaml` parser ran out of stack. Where that happens depends on how deep
 * the stack already was, so the error names a line found from the text alone:
 * the first whose indentation or open `[`/`{` count passes REPORTED_DEPTH
 * (line 1 when none does) — the same error for the same text, every time.
 */
function tooDeep(text: string, file: string, cause: unknown): VouchError {
  let open = 0;
  let line = 1;
  let found = 0;
  for (const l of text.split(/\r\n|\r|\n/)) {
    const indent = /^ */.exec(l)?.[0].length ?? 0;
    for (const c of l) {
      if (c === '[' || c === '{') open++;
      else if ((c === ']' || c === '}') && open > 0) open--;
      if (open > REPORTED_DEPTH) break;
    }
    if (indent > REPORTED_DEPTH || open > REPORTED_DEPTH) {
      found = line;
      break;
    }
    line++;
  }
  return new VouchError('SCAN_PARSE_ERROR', 'YAML nests too deeply', {
    file,
    field: `line ${found || 1}`,
    cause,
  });
}

function convert(
  n: YamlNode,
  doc: Document.Parsed,
  pos: (o: number) => { line: number; column: number },
  budget: Budget,
  file: string,
  depth: number,
): YNode {
  if (--budget.left < 0 || depth > 500) {
    const at = n.range ? pos(n.range[0]).line : 0;
    throw new VouchError(
      'SCAN_PARSE_ERROR',
      depth > 500 ? 'YAML nests too deeply' : 'YAML expands to too many nodes (alias bomb?)',
      { file, field: `line ${at}` },
    );
  }
  const range = n.range ?? [0, 0, 0];
  const p = pos(range[0]);
  const base = { line: p.line, column: p.column, start: range[0], end: range[1] };
  if (isAlias(n)) {
    let target = budget.aliases.get(n);
    if (target === undefined && !budget.aliases.has(n)) {
      target = n.resolve(doc) as YamlNode | undefined;
      budget.aliases.set(n, target);
    }
    if (!target)
      throw new VouchError('SCAN_PARSE_ERROR', `unknown alias *${n.source}`, {
        file,
        field: `line ${p.line}`,
      });
    return convert(target as YamlNode, doc, pos, budget, file, depth + 1);
  }
  if (isMap(n)) {
    const entries: YEntry[] = [];
    const at = new Map<string, number>();
    const merged: YEntry[] = [];
    for (const pair of n.items) {
      if (!isPair(pair)) continue;
      const k = pair.key as YamlNode | null;
      const key = isScalar(k) ? String(k.value) : k ? String(k) : '';
      const kp = k?.range ? pos(k.range[0]) : p;
      const v = pair.value as YamlNode | null;
      const value: YNode = v
        ? convert(v, doc, pos, budget, file, depth + 1)
        : {
            kind: 'scalar',
            value: null,
            line: kp.line,
            column: kp.column,
            start: k?.range?.[1] ?? 0,
            end: k?.range?.[1] ?? 0,
          };
      if (key === '<<' && isScalar(k) && k.type === 'PLAIN') {
        const sources = value.kind === 'seq' ? value.items : [value];
        for (const s of sources) if (s.kind === 'map') merged.push(...s.entries);
        continue;
      }
      // A key given twice: the last value counts, as in the decoders that apply the file
      // (Kubernetes' sigs.k8s.io/yaml, GitLab's); reading the first would hide what runs.
      const e: YEntry = { key, keyLine: kp.line, keyColumn: kp.column, value };
      const dup = at.get(key);
      if (dup === undefined) at.set(key, entries.push(e) - 1);
      else entries[dup] = e;
    }
    for (const m of merged) if (!at.has(m.key)) at.set(m.key, entries.push(m) - 1);
    return { kind: 'map', entries, ...base };
  }
  if (isSeq(n)) {
    const items: YNode[] = [];
    for (const it of n.items)
      if (it) items.push(convert(it as YamlNode, doc, pos, budget, file, depth + 1));
    return { kind: 'seq', items, ...base };
  }
  if (isScalar(n)) {
    const v = n.value;
    const value =
      v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
        ? v
        : String(v);
    return { kind: 'scalar', value, ...base };
  }
  return { kind: 'scalar', value: null, ...base };
}

/** The entry `key` of a map node. */
export function entry(n: YNode | undefined, key: string): YEntry | undefined {
  if (n?.kind !== 'map') return undefined;
  return n.entries.find((e) => e.key === key);
}

/** Follows map keys: get(n, 'spec', 'template'). */
export function get(n: YNode | undefined, ...path: string[]): YNode | undefined {
  let cur = n;
  for (const k of path) cur = entry(cur, k)?.value;
  return cur;
}

/** A scalar as a string (numbers and booleans too); undefined otherwise. */
export function str(n: YNode | undefined): string | undefined {
  if (n?.kind !== 'scalar' || n.value === null) return undefined;
  return String(n.value);
}

/** True only for a YAML boolean true (or the string "true"). */
export function isTrue(n: YNode | undefined): boolean {
  return n?.kind === 'scalar' && (n.value === true || n.value === 'true');
}

export function isFalse(n: YNode | undefined): boolean {
  return n?.kind === 'scalar' && (n.value === false || n.value === 'false');
}

/** Items of a sequence node; [] for anything else. */
export function items(n: YNode | undefined): YNode[] {
  return n?.kind === 'seq' ? n.items : [];
}

/** Entries of a map node; [] for anything else. */
export function entries(n: YNode | undefined): YEntry[] {
  return n?.kind === 'map' ? n.entries : [];
}
