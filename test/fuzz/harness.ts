/**
 * Deterministic mutation fuzzing for the parsers (not a test file): a seeded
 * PRNG, byte- and text-level mutation operators, and `fuzz()`, which feeds
 * each parser mutants of real inputs and collects every outcome that is not
 * "returned" or "threw a VouchError with a code naming the input".
 *
 * Reproducible: mutant `i` of target `name` is made by an RNG seeded from
 * (FUZZ_SEED, name, i) alone, so a failure message's seed and index rebuild
 * the same bytes (`FUZZ_ONLY=<name>:<index>` runs just that one and writes it
 * to a temp file).
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isVouchError } from '../../src/core/errors.ts';

/** Base seed: fixed, so every run makes the same mutants; override to explore. */
export const BASE_SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_c0de) >>> 0;
/** Mutants per target (the default keeps the whole fuzz suite around a minute on 2 cores). */
export const DEFAULT_MUTANTS = Number(process.env.FUZZ_MUTANTS ?? 200);

export type Rng = () => number;

/** mulberry32: a tiny, good-enough 32-bit PRNG; returns [0, 1). */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of a string, to give each target its own seed. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Mutants never grow past this: big enough for "huge", small enough for 2 cores. */
const MAX_MUTANT = 8 * 1024 * 1024;

const int = (rng: Rng, n: number): number => Math.floor(rng() * n);
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[int(rng, xs.length)] as T;

// ---------------------------------------------------------------- byte mutators

type ByteOp = (b: Buffer, rng: Rng, seeds: readonly Buffer[]) => Buffer;

/** Lengths a truncation cuts at: the small powers of two and their neighbours, halves, one short. */
function truncationPoints(n: number): number[] {
  const out = new Set<number>([0, 1, 2, 3, n >> 1, n - 1, n - 2]);
  for (let p = 4; p < n; p *= 2)
    out
      .add(p - 1)
      .add(p)
      .add(p + 1);
  return [...out].filter((x) => x >= 0 && x < n);
}

const INTERESTING_8 = [0x00, 0x01, 0x7f, 0x80, 0xff];
const INTERESTING_32 = [0xffffffff, 0x7fffffff, 0x80000000, 0x10000, 0xffff, 0x7fff, 0];

export const BYTE_OPS: Record<string, ByteOp> = {
  bitflip(b, rng) {
    const c = Buffer.from(b);
    if (c.length === 0) return c;
    for (let k = 1 + int(rng, 4); k > 0; k--) {
      const i = int(rng, c.length);
      c[i] = (c[i] as number) ^ (1 << int(rng, 8));
    }
    return c;
  },
  interestingByte(b, rng) {
    const c = Buffer.from(b);
    if (c.length > 0) c[int(rng, c.length)] = pick(rng, INTERESTING_8);
    return c;
  },
  insert(b, rng) {
    const at = int(rng, b.length + 1);
    const add = Buffer.alloc(1 + int(rng, 16));
    for (let i = 0; i < add.length; i++) add[i] = int(rng, 256);
    return Buffer.concat([b.subarray(0, at), add, b.subarray(at)]);
  },
  deleteRange(b, rng) {
    if (b.length === 0) return b;
    const at = int(rng, b.length);
    const len = 1 + int(rng, Math.min(64, b.length - at));
    return Buffer.concat([b.subarray(0, at), b.subarray(at + len)]);
  },
  truncate(b, rng) {
    const pts = truncationPoints(b.length);
    return pts.length === 0 ? b : Buffer.from(b.subarray(0, pick(rng, pts)));
  },
  duplicateChunk(b, rng) {
    if (b.length === 0) return b;
    const at = int(rng, b.length);
    const len = 1 + int(rng, Math.min(512, b.length - at));
    const chunk = b.subarray(at, at + len);
    const times = 1 + int(rng, 4);
    return Buffer.concat([
      b.subarray(0, at + len),
      ...Array(times).fill(chunk),
      b.subarray(at + len),
    ]);
  },
  /** A 16- or 32-bit field (either byte order) set to a huge or boundary value: length inflation. */
  inflateLength(b, rng) {
    const c = Buffer.from(b);
    if (c.length < 4) return c;
    // Aligned offsets are where headers keep their lengths; early offsets most of all.
    const span = rng() < 0.5 ? Math.min(c.length - 4, 256) : c.length - 4;
    const at = int(rng, span + 1) & ~(rng() < 0.7 ? 3 : 0);
    const v = rng() < 0.3 ? c.length + 1 + int(rng, 4096) : pick(rng, INTERESTING_32);
    if (rng() < 0.3) {
      const v16 = v & 0xffff;
      if (rng() < 0.5) c.writeUInt16LE(v16, at);
      else c.writeUInt16BE(v16, at);
    } else if (rng() < 0.5) c.writeUInt32LE(v >>> 0, at);
    else c.writeUInt32BE(v >>> 0, at);
    return c;
  },
  /** The same bytes again at the end (appended member, trailing garbage). */
  splice(b, rng, seeds) {
    const other = pick(rng, seeds);
    const at = int(rng, b.length + 1);
    const from = int(rng, other.length + 1);
    return Buffer.concat([b.subarray(0, at), other.subarray(from)]);
  },
};

// ---------------------------------------------------------------- text mutators

type TextOp = (s: string, rng: Rng) => string;

const NASTY_TOKENS = [
  '\0',
  '\ufeff',
  '\u2028',
  '"',
  "'",
  '\\',
  '`',
  '{',
  '}',
  '[',
  ']',
  ':',
  ': ',
  '- ',
  '#',
  '&a',
  '*a',
  '!!binary',
  '|',
  '>',
  '\t',
  '\r',
  '\n',
  '\n\n',
  '%',
  '$',
  '${',
  '@',
  '=',
  '==',
  '../../../../etc/passwd',
  '/etc/shadow',
  '..',
  'C:\\Windows',
  '-1',
  '0',
  '1e309',
  '-0',
  'NaN',
  'Infinity',
  '9007199254740993',
  '18446744073709551616',
  '0x7fffffff',
  'null',
  'true',
  '~',
  '<<',
  '\ud800',
];

function splice(s: string, at: number, del: number, add: string): string {
  return s.slice(0, at) + add + s.slice(at + del);
}

export const TEXT_OPS: Record<string, TextOp> = {
  nastyToken(s, rng) {
    return splice(
      s,
      int(rng, s.length + 1),
      rng() < 0.5 ? 0 : int(rng, 8),
      pick(rng, NASTY_TOKENS),
    );
  },
  deepNesting(s, rng) {
    const depth = pick(rng, [100, 1000, 10_000]);
    const open = pick(rng, ['[', '{"a":', '- ', '  ', '(', '${', 'a:\n ', '{a: ']);
    const close = pick(rng, [']', '}', '', ')']);
    return splice(s, int(rng, s.length + 1), 0, open.repeat(depth) + close.repeat(depth));
  },
  hugeString(s, rng) {
    const n = pick(rng, [1 << 12, 1 << 16, 1 << 20]);
    return splice(
      s,
      int(rng, s.length + 1),
      0,
      pick(rng, ['A', '9', ' ', '\n', 'é', '"']).repeat(n),
    );
  },
  duplicateLines(s, rng) {
    const lines = s.split('\n');
    const at = int(rng, lines.length);
    const len = 1 + int(rng, Math.min(20, lines.length - at));
    const chunk = lines.slice(at, at + len);
    const size = chunk.reduce((n, l) => n + l.length + 1, 0);
    const times = Math.min(1 + int(rng, rng() < 0.1 ? 2000 : 4), Math.ceil(MAX_MUTANT / 2 / size));
    lines.splice(at, 0, ...Array(times).fill(chunk).flat());
    return lines.join('\n');
  },
  deleteLines(s, rng) {
    const lines = s.split('\n');
    lines.splice(int(rng, lines.length), 1 + int(rng, 5));
    return lines.join('\n');
  },
  /** A line's indentation changed: the nesting of YAML and indented formats. */
  reindent(s, rng) {
    const lines = s.split('\n');
    const i = int(rng, lines.length);
    const line = lines[i] as string;
    lines[i] = rng() < 0.5 ? line.trimStart() : ' '.repeat(1 + int(rng, 8)) + line;
    return lines.join('\n');
  },
  /** A number replaced by a boundary value. */
  numbers(s, rng) {
    const ms = [...s.matchAll(/\d+/g)];
    if (ms.length === 0) return s;
    const m = pick(rng, ms);
    return splice(
      s,
      m.index,
      m[0].length,
      pick(rng, ['0', '-1', '99999999999999999999', '4294967296', '1e309', '']),
    );
  },
  /** A word replaced by another word of the same input (keys become values and back). */
  swapWords(s, rng) {
    const ms = [...s.matchAll(/[A-Za-z_][\w.-]*/g)];
    if (ms.length < 2) return s;
    const a = pick(rng, ms);
    const b = pick(rng, ms);
    return splice(s, a.index, a[0].length, b[0]);
  },
};

// ---------------------------------------------------------------- JSON mutators

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function nodes(v: Json, out: { parent: Json[] | { [k: string]: Json }; key: string | number }[]) {
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      out.push({ parent: v, key: i });
      nodes(x, out);
    });
  } else if (v !== null && typeof v === 'object') {
    for (const k of Object.keys(v)) {
      out.push({ parent: v, key: k });
      nodes(v[k] as Json, out);
    }
  }
  return out;
}

function deep(depth: number, rng: Rng): Json {
  let v: Json = 'x';
  const arr = rng() < 0.5;
  for (let i = 0; i < depth; i++) v = arr ? [v] : { a: v };
  return v;
}

function replacement(rng: Rng, old: Json): Json {
  switch (int(rng, 16)) {
    case 0:
      return null;
    case 1:
      return rng() < 0.5;
    case 2:
      return pick(rng, [
        0,
        -1,
        1.5,
        2 ** 53 + 2,
        -(2 ** 31),
        4294967296,
        1e300,
        Number.MAX_SAFE_INTEGER,
      ]);
    case 3:
      return '';
    case 4:
      return pick(rng, NASTY_TOKENS);
    case 5:
      return 'A'.repeat(pick(rng, [1 << 12, 1 << 20]));
    case 6:
      return [];
    case 7:
      return {};
    case 8:
      return deep(pick(rng, [50, 60, 63, 64, 65, 200]), rng);
    case 9:
      return [old, old];
    case 10:
      return { [String(old)]: old };
    case 11:
      return typeof old === 'string' ? `${old}${pick(rng, NASTY_TOKENS)}` : String(old);
    case 12:
      return typeof old === 'string' ? old.slice(0, int(rng, old.length + 1)) : [old];
    case 13: {
      const n = pick(rng, [1000, 20_000]);
      return (JSON.stringify(old)?.length ?? 4) * n < MAX_MUTANT / 2
        ? Array(n).fill(old)
        : [old, old];
    }
    case 14:
      return typeof old === 'string'
        ? Number(old.length)
        : ({ __proto__: old, constructor: 'x' } as Json);
    default:
      return pick(rng, [
        '../../../../etc/passwd',
        '/abs/path',
        'sha256:',
        'sha256:zz',
        '%00',
        'a/../../b',
      ]);
  }
}

/** A structural mutation of JSON text: some value replaced, deleted or duplicated; re-serialised. */
export function mutateJson(text: string, rng: Rng): string | undefined {
  let v: Json;
  try {
    v = JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
  const all = nodes(v, []);
  if (all.length === 0) return JSON.stringify(replacement(rng, v));
  for (let k = 1 + int(rng, 3); k > 0; k--) {
    const { parent, key } = pick(rng, all);
    const old = (parent as Record<string | number, Json>)[key] as Json;
    const r = rng();
    if (r < 0.15) {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key as string];
    } else {
      (parent as Record<string | number, Json>)[key] = replacement(rng, old);
    }
  }
  return JSON.stringify(v, null, rng() < 0.5 ? 2 : undefined);
}

// ---------------------------------------------------------------- the driver

export type Kind = 'binary' | 'text' | 'json';

export interface Target {
  /** Stable name: part of the seed, shown on failure. */
  name: string;
  kind: Kind;
  seeds: readonly Buffer[];
  /**
   * Runs the parser on one mutant. `file` is the name the input goes by; a
   * VouchError must name it (see `naming`).
   */
  run(bytes: Buffer, file: string): unknown;
  /** The name handed to `run` (default `fuzz-input`). */
  file?: string;
  /**
   * How an error must name the input: in `e.file` (default), or in the
   * message (parsers whose input is not a file, like a registry response or
   * one version string, and take a `where`/label instead), or not at all
   * (pure value parsers, whose callers add the file).
   */
  naming?: 'file' | 'message' | 'none';
  mutants?: number;
}

export interface Failure {
  index: number;
  ops: string[];
  length: number;
  error: string;
}

/** The mutant `index` of a target: rebuilt from the seed alone. */
export function mutant(t: Target, index: number): { bytes: Buffer; ops: string[] } {
  const rng = mulberry32(BASE_SEED ^ hash32(t.name) ^ Math.imul(index + 1, 0x9e3779b1));
  const seed = t.seeds[index % t.seeds.length] as Buffer;
  const ops: string[] = [];
  let bytes = seed;
  const n = 1 + (rng() < 0.3 ? int(rng, 4) : 0);
  for (let k = 0; k < n; k++) {
    const before = bytes;
    step();
    if (bytes.length > MAX_MUTANT) {
      bytes = before;
      ops.pop();
    }
  }
  return { bytes, ops };

  function step(): void {
    const r = rng();
    if (t.kind === 'json' && r < 0.55) {
      const m = mutateJson(bytes.toString('utf8'), rng);
      if (m !== undefined) {
        bytes = Buffer.from(m);
        ops.push('json');
        return;
      }
    }
    if (t.kind !== 'binary' && r < 0.8) {
      const name = pick(rng, Object.keys(TEXT_OPS));
      bytes = Buffer.from((TEXT_OPS[name] as TextOp)(bytes.toString('utf8'), rng));
      ops.push(name);
      return;
    }
    const name = pick(rng, Object.keys(BYTE_OPS));
    bytes = (BYTE_OPS[name] as ByteOp)(bytes, rng, t.seeds);
    ops.push(name);
  }
}

function describeError(e: unknown): string {
  if (e instanceof Error) {
    const frame = e.stack?.split('\n').find((l) => l.includes('/src/')) ?? '';
    return `${e.constructor.name}: ${e.message.slice(0, 200)} ${frame.trim()}`;
  }
  return `non-Error thrown: ${String(e).slice(0, 200)}`;
}

/** Why an outcome is a failure, or undefined when it is one of the two allowed ones. */
function judge(t: Target, file: string, e: unknown): string | undefined {
  if (!isVouchError(e)) return describeError(e);
  if (typeof e.code !== 'string' || (e.code as string) === '')
    return `VouchError without a code: ${e.message}`;
  const naming = t.naming ?? 'file';
  if (naming === 'file' && e.file !== file && !(e.file ?? '').startsWith(file))
    return `VouchError ${e.code} names file ${JSON.stringify(e.file)}, not ${file}: ${e.message.slice(0, 200)}`;
  if (naming === 'message' && !e.message.includes(file))
    return `VouchError ${e.code} message does not name ${file}: ${e.message.slice(0, 200)}`;
  return undefined;
}

/**
 * Runs every mutant of `t` (plus the seeds themselves) and returns the
 * failures, at most a few per distinct error. Bounded by count, not by clock.
 */
export async function fuzz(t: Target): Promise<Failure[]> {
  const file = t.file ?? 'fuzz-input';
  const total = t.mutants ?? DEFAULT_MUTANTS;
  const only = process.env.FUZZ_ONLY?.split(':');
  const failures: Failure[] = [];
  const seen = new Map<string, number>();
  // Negative indexes: the seeds themselves, then each seed cut at every truncation class.
  const fixed: { bytes: Buffer; ops: string[] }[] = [];
  for (const s of t.seeds) fixed.push({ bytes: s, ops: ['seed'] });
  for (const s of t.seeds)
    for (const p of truncationPoints(s.length))
      fixed.push({ bytes: s.subarray(0, p), ops: [`truncate@${p}`] });
  for (let index = -fixed.length; index < total; index++) {
    if (only && (only[0] !== t.name || Number(only[1]) !== index)) continue;
    const { bytes, ops } =
      index < 0 ? (fixed[-index - 1] as (typeof fixed)[number]) : mutant(t, index);
    if (only) {
      const out = join(tmpdir(), `fuzz-${t.name.replace(/\W+/g, '_')}-${index}.bin`);
      writeFileSync(out, bytes);
      process.stderr.write(`fuzz: mutant written to ${out}\n`);
    }
    let why: string | undefined;
    const t0 = process.hrtime.bigint();
    try {
      await t.run(bytes, file);
    } catch (e) {
      // A seed must parse, or its mutants test nothing but the first error path.
      why =
        ops[0] === 'seed'
          ? `the seed itself does not parse: ${describeError(e)}`
          : judge(t, file, e);
      if (only)
        process.stderr.write(`fuzz: ${t.name}:${index}: ${String((e as Error)?.stack ?? e)}\n`);
    }
    if (process.env.FUZZ_SLOW) {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (ms > Number(process.env.FUZZ_SLOW))
        process.stderr.write(
          `fuzz: ${t.name}:${index} [${ops.join('+')}] ${bytes.length} bytes took ${ms.toFixed(0)} ms\n`,
        );
    }
    if (why === undefined) continue;
    const key = why.replace(/\d+/g, 'N').slice(0, 120);
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    if (n < 2) failures.push({ index, ops, length: bytes.length, error: why });
  }
  return failures;
}

/** Runs `t` and fails the test with the report when any mutant misbehaved. */
export async function check(t: Target, assert: typeof import('node:assert/strict')): Promise<void> {
  const failures = await fuzz(t);
  if (failures.length > 0) assert.fail(report(t, failures));
}

/** The failure report: seed, target, mutant index and how to rebuild it. */
export function report(t: Target, failures: readonly Failure[]): string {
  return [
    `${failures.length} failing mutant(s) of ${t.name} (FUZZ_SEED=0x${BASE_SEED.toString(16)}); rerun one with FUZZ_ONLY='${t.name}:<index>':`,
    ...failures.map((f) => `  #${f.index} [${f.ops.join('+')}] ${f.length} bytes: ${f.error}`),
  ].join('\n');
}
