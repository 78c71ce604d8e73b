import { readFileSync } from 'node:fs';

/**
 * A small strict JSON Schema validator for the subset `schemas/policy-v1.json`
 * uses. The parser validates against the published schema itself, so the two
 * cannot drift; a keyword outside the subset is a bug in the schema and
 * throws, rather than being silently ignored.
 */

export interface SchemaProblem {
  /** JSON pointer of the offending value (or of the object missing a field). */
  pointer: string;
  message: string;
}

type Schema = Record<string, unknown>;

const KNOWN = new Set([
  '$schema',
  '$id',
  '$defs',
  '$ref',
  'title',
  'description',
  'type',
  'const',
  'enum',
  'properties',
  'required',
  'additionalProperties',
  'propertyNames',
  'items',
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
]);

let cached: Schema | undefined;

/** The published policy schema (schemas/policy-v1.json), read once. */
export function policySchema(): Schema {
  cached ??= JSON.parse(
    readFileSync(new URL('../../schemas/policy-v1.json', import.meta.url), 'utf8'),
  ) as Schema;
  return cached;
}

/** Every problem with `value` against `schema` (root of the document for `$ref`s). */
export function validateSchema(value: unknown, schema: Schema = policySchema()): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  check(value, schema, schema, '', problems);
  return problems;
}

function resolve(root: Schema, s: Schema): Schema {
  const ref = s.$ref;
  if (typeof ref !== 'string') return s;
  const m = /^#\/\$defs\/([A-Za-z0-9_-]+)$/.exec(ref);
  const target = m
    ? (root.$defs as Record<string, Schema> | undefined)?.[m[1] as string]
    : undefined;
  if (!target) throw new Error(`policy schema: unresolvable $ref ${ref}`);
  return target;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function check(v: unknown, raw: Schema, root: Schema, at: string, out: SchemaProblem[]): void {
  const s = resolve(root, raw);
  for (const k of Object.keys(s)) {
    if (!KNOWN.has(k)) throw new Error(`policy schema: unsupported keyword ${k} at ${at || '/'}`);
  }
  const add = (message: string, pointer = at) => out.push({ pointer: pointer || '/', message });
  if ('const' in s && v !== s.const) {
    add(`must be ${JSON.stringify(s.const)}, not ${JSON.stringify(v)}`);
    return;
  }
  if (Array.isArray(s.enum) && !s.enum.includes(v)) {
    add(
      `must be one of ${s.enum.map((e) => JSON.stringify(e)).join(', ')}, not ${JSON.stringify(v)}`,
    );
    return;
  }
  const want = s.type as string | undefined;
  if (want !== undefined) {
    const got = typeOf(v);
    const ok = got === want || (want === 'number' && got === 'integer');
    if (!ok) {
      add(
        `must be ${want === 'object' ? 'a mapping' : want === 'array' ? 'a list' : `a ${want}`}, not ${got === 'object' ? 'a mapping' : got === 'array' ? 'a list' : got}`,
      );
      return;
    }
  }
  if (typeof v === 'string') {
    if (typeof s.minLength === 'number' && v.length < s.minLength)
      add(s.minLength === 1 ? 'must not be empty' : `must have at least ${s.minLength} characters`);
    if (typeof s.maxLength === 'number' && v.length > s.maxLength)
      add(`must have at most ${s.maxLength} characters`);
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(v))
      add(`${JSON.stringify(v)} does not match ${s.pattern}`);
  }
  if (typeof v === 'number') {
    if (typeof s.minimum === 'number' && v < s.minimum) add(`must be at least ${s.minimum}`);
    if (typeof s.maximum === 'number' && v > s.maximum) add(`must be at most ${s.maximum}`);
  }
  if (Array.isArray(v)) {
    if (typeof s.minItems === 'number' && v.length < s.minItems)
      add(`must have at least ${s.minItems} item(s)`);
    if (typeof s.maxItems === 'number' && v.length > s.maxItems)
      add(`must have at most ${s.maxItems} items`);
    if (s.items !== undefined)
      v.forEach((item, i) => {
        check(item, s.items as Schema, root, `${at}/${i}`, out);
      });
  }
  if (typeOf(v) === 'object') {
    const obj = v as Record<string, unknown>;
    const props = (s.properties ?? {}) as Record<string, Schema>;
    for (const name of (s.required ?? []) as string[]) {
      if (!(name in obj)) add(`missing required field ${JSON.stringify(name)}`);
    }
    for (const [k, child] of Object.entries(obj)) {
      const p = `${at}/${escapePointer(k)}`;
      if (Object.hasOwn(props, k)) {
        check(child, props[k] as Schema, root, p, out);
        continue;
      }
      if (s.propertyNames !== undefined) check(k, s.propertyNames as Schema, root, p, out);
      const extra = s.additionalProperties;
      if (extra === false) add(`unknown field ${JSON.stringify(k)}`, p);
      else if (typeof extra === 'object' && extra !== null)
        check(child, extra as Schema, root, p, out);
    }
  }
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * Every field path the schema allows, as pointer patterns (`*` for list
 * items and map keys): what the parser accepts. Used by the sync test.
 */
export function schemaFieldPaths(schema: Schema = policySchema()): string[] {
  const out = new Set<string>();
  const walk = (raw: Schema, at: string, depth: number) => {
    if (depth > 6) return;
    const s = resolve(schema, raw);
    if (s.items) walk(s.items as Schema, `${at}/*`, depth + 1);
    for (const [k, child] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) {
      out.add(`${at}/${k}`);
      walk(child, `${at}/${k}`, depth + 1);
    }
    if (typeof s.additionalProperties === 'object') {
      out.add(`${at}/*`);
      walk(s.additionalProperties as Schema, `${at}/*`, depth + 1);
    }
  };
  walk(schema, '', 0);
  return [...out].sort();
}
