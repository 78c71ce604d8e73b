import { parse as parseYaml } from 'yaml';
import { VouchError } from '../core/errors.ts';

/**
 * The part of an OSV record (schema 1.6/1.7, https://ossf.github.io/osv-schema/)
 * that matching, severity and de-duplication read. Unknown fields are
 * tolerated and dropped; `database_specific` and `ecosystem_specific` are
 * kept as opaque values for display only.
 */
export interface OsvRecord {
  schema_version?: string;
  id: string;
  modified: string;
  published?: string;
  withdrawn?: string;
  aliases: string[];
  upstream: string[];
  related: string[];
  summary?: string;
  details?: string;
  severity: OsvSeverity[];
  affected: OsvAffected[];
  references: OsvReference[];
  database_specific?: unknown;
}

export type OsvSeverityType = 'CVSS_V2' | 'CVSS_V3' | 'CVSS_V4' | 'Ubuntu' | (string & {});

export interface OsvSeverity {
  type: OsvSeverityType;
  score: string;
}

export interface OsvPackage {
  ecosystem: string;
  name: string;
  purl?: string;
}

export interface OsvAffected {
  /** Absent only when the record is about GIT ranges without a package. */
  package?: OsvPackage;
  severity: OsvSeverity[];
  ranges: OsvRange[];
  versions: string[];
  ecosystem_specific?: unknown;
  database_specific?: unknown;
}

export type OsvRangeType = 'GIT' | 'SEMVER' | 'ECOSYSTEM';

export type OsvEvent =
  | { introduced: string }
  | { fixed: string }
  | { last_affected: string }
  | { limit: string };

export interface OsvRange {
  type: OsvRangeType;
  repo?: string;
  events: OsvEvent[];
}

export interface OsvReference {
  type: string;
  url: string;
}

const RANGE_TYPES: ReadonlySet<string> = new Set(['GIT', 'SEMVER', 'ECOSYSTEM']);
const EVENT_KEYS = ['introduced', 'fixed', 'last_affected', 'limit'] as const;
/** Generous bounds against hostile input; the largest real records have a few thousand versions. */
const MAX_LIST = 100_000;
const MAX_STRING = 1_000_000;

class Reader {
  readonly source: string;
  constructor(source: string) {
    this.source = source;
  }

  fail(field: string, why: string): never {
    throw new VouchError('OSV_MALFORMED', `OSV record: ${why}`, { file: this.source, field });
  }

  object(v: unknown, field: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      this.fail(field, 'expected an object');
    return v as Record<string, unknown>;
  }

  string(v: unknown, field: string): string {
    if (typeof v !== 'string') this.fail(field, 'expected a string');
    if (v.length > MAX_STRING) this.fail(field, 'string too long');
    return v;
  }

  nonEmpty(v: unknown, field: string): string {
    const s = this.string(v, field);
    if (s.trim() === '') this.fail(field, 'must not be empty');
    return s;
  }

  optString(v: unknown, field: string): string | undefined {
    return v === undefined || v === null ? undefined : this.string(v, field);
  }

  timestamp(v: unknown, field: string): string {
    const s = this.nonEmpty(v, field);
    if (Number.isNaN(Date.parse(s)))
      this.fail(field, `${JSON.stringify(s.slice(0, 40))} is not an RFC 3339 timestamp`);
    return s;
  }

  array(v: unknown, field: string): unknown[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) this.fail(field, 'expected an array');
    if (v.length > MAX_LIST) this.fail(field, `more than ${MAX_LIST} entries`);
    return v;
  }

  strings(v: unknown, field: string): string[] {
    return this.array(v, field).map((x, i) => this.string(x, `${field}/${i}`));
  }
}

/**
 * Checks an already-decoded OSV record and returns the typed model.
 * @throws VouchError OSV_MALFORMED naming `source` and the JSON pointer of
 *   the first bad field.
 */
export function parseOsvRecord(value: unknown, source: string): OsvRecord {
  const r = new Reader(source);
  const o = r.object(value, '/');
  const rec: OsvRecord = {
    id: r.nonEmpty(o.id, '/id'),
    modified: r.timestamp(o.modified, '/modified'),
    aliases: r.strings(o.aliases, '/aliases'),
    upstream: r.strings(o.upstream, '/upstream'),
    related: r.strings(o.related, '/related'),
    severity: severities(r, o.severity, '/severity'),
    affected: r.array(o.affected, '/affected').map((a, i) => affected(r, a, `/affected/${i}`)),
    references: r.array(o.references, '/references').map((x, i) => {
      const ref = r.object(x, `/references/${i}`);
      return {
        type: r.string(ref.type, `/references/${i}/type`),
        url: r.string(ref.url, `/references/${i}/url`),
      };
    }),
  };
  const schemaVersion = r.optString(o.schema_version, '/schema_version');
  if (schemaVersion !== undefined) rec.schema_version = schemaVersion;
  if (o.published !== undefined && o.published !== null)
    rec.published = r.timestamp(o.published, '/published');
  if (o.withdrawn !== undefined && o.withdrawn !== null)
    rec.withdrawn = r.timestamp(o.withdrawn, '/withdrawn');
  const summary = r.optString(o.summary, '/summary');
  if (summary !== undefined) rec.summary = summary;
  const details = r.optString(o.details, '/details');
  if (details !== undefined) rec.details = details;
  if (o.database_specific !== undefined) rec.database_specific = o.database_specific;
  return rec;
}

function severities(r: Reader, v: unknown, field: string): OsvSeverity[] {
  return r.array(v, field).map((x, i) => {
    const s = r.object(x, `${field}/${i}`);
    return {
      type: r.nonEmpty(s.type, `${field}/${i}/type`),
      score: r.nonEmpty(s.score, `${field}/${i}/score`),
    };
  });
}

function affected(r: Reader, v: unknown, field: string): OsvAffected {
  const a = r.object(v, field);
  const out: OsvAffected = {
    severity: severities(r, a.severity, `${field}/severity`),
    ranges: r.array(a.ranges, `${field}/ranges`).map((x, i) => range(r, x, `${field}/ranges/${i}`)),
    versions: r.strings(a.versions, `${field}/versions`),
  };
  if (a.package !== undefined && a.package !== null) {
    const p = r.object(a.package, `${field}/package`);
    const pkg: OsvPackage = {
      ecosystem: r.nonEmpty(p.ecosystem, `${field}/package/ecosystem`),
      name: r.nonEmpty(p.name, `${field}/package/name`),
    };
    const purl = r.optString(p.purl, `${field}/package/purl`);
    if (purl !== undefined) pkg.purl = purl;
    out.package = pkg;
  } else if (!out.ranges.some((g) => g.type === 'GIT')) {
    r.fail(`${field}/package`, 'missing (only allowed with GIT ranges)');
  }
  if (a.ecosystem_specific !== undefined) out.ecosystem_specific = a.ecosystem_specific;
  if (a.database_specific !== undefined) out.database_specific = a.database_specific;
  return out;
}

function range(r: Reader, v: unknown, field: string): OsvRange {
  const g = r.object(v, field);
  const type = r.string(g.type, `${field}/type`);
  if (!RANGE_TYPES.has(type))
    r.fail(`${field}/type`, `${JSON.stringify(type)} is not GIT, SEMVER or ECOSYSTEM`);
  const events = r
    .array(g.events, `${field}/events`)
    .map((x, i) => event(r, x, `${field}/events/${i}`));
  if (events.length === 0) r.fail(`${field}/events`, 'a range needs at least one event');
  const out: OsvRange = { type: type as OsvRangeType, events };
  if (type === 'GIT') out.repo = r.nonEmpty(g.repo, `${field}/repo`);
  else if (g.repo !== undefined) out.repo = r.string(g.repo, `${field}/repo`);
  return out;
}

function event(r: Reader, v: unknown, field: string): OsvEvent {
  const e = r.object(v, field);
  const present = EVENT_KEYS.filter((k) => e[k] !== undefined);
  if (present.length !== 1) {
    r.fail(
      field,
      `an event has exactly one of introduced, fixed, last_affected, limit (found ${present.length})`,
    );
  }
  const k = present[0] as (typeof EVENT_KEYS)[number];
  const s = r.nonEmpty(e[k], `${field}/${k}`);
  return { [k]: s } as OsvEvent;
}

/**
 * Parses the text of one record file: JSON, or YAML (PyPA, R and other
 * advisory repositories write YAML).
 * @throws VouchError OSV_MALFORMED when the text is neither, or the record is bad.
 */
export function parseOsvText(text: string, source: string): OsvRecord {
  let value: unknown;
  const t = text.trimStart();
  try {
    value = t.startsWith('{')
      ? JSON.parse(t)
      : parseYaml(text, { maxAliasCount: 100, uniqueKeys: false });
  } catch (e) {
    throw new VouchError(
      'OSV_MALFORMED',
      `not JSON or YAML: ${(e as Error).message.split('\n')[0]}`,
      {
        file: source,
        cause: e,
      },
    );
  }
  return parseOsvRecord(value, source);
}

/** The event's kind and version. */
export function eventOf(e: OsvEvent): {
  kind: 'introduced' | 'fixed' | 'last_affected' | 'limit';
  version: string;
} {
  if ('introduced' in e) return { kind: 'introduced', version: e.introduced };
  if ('fixed' in e) return { kind: 'fixed', version: e.fixed };
  if ('last_affected' in e) return { kind: 'last_affected', version: e.last_affected };
  return { kind: 'limit', version: e.limit };
}
