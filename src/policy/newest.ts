import { createHash } from 'node:crypto';
import { canonicalize } from '../core/canonical.ts';
import type { Statement } from '../core/statement.ts';
import type { EvidenceRecord } from './evaluate.ts';
import { predicateTime } from './time.ts';

/**
 * `select: newest`: which one verified statement a rule judges. Only bundles
 * that already passed verification and trust are given here, so nothing
 * unverifiable can ever be "the newest".
 */

/** How far a time can be trusted; the vocabulary of the SSDF report (docs/ssdf.md). */
export type TimeSource = 'transparency-log' | 'timestamp-authority' | 'predicate' | 'none';

/** The statement a `select: newest` rule judged, recorded in the rule's result. */
export interface NewestSelection {
  /** `sha256:<hex>` of the Statement's canonical JSON (of the bundle, for a message signature). */
  statement: string;
  /** The bundles that carry this statement (several when several signers signed it). */
  bundles: Array<{ source: string; digest: string }>;
  /** RFC 3339; absent only when it was the sole candidate and has no usable time. */
  time?: string;
  timeSource: TimeSource;
  /** With timeSource `predicate`: the field read, e.g. `predicate.metadata.scanFinishedOn`. */
  timeField?: string;
  /** How many distinct verified statements were compared. */
  compared: number;
}

export type NewestResult<T> =
  | { ok: true; selection: NewestSelection; chosen: T[]; older: T[] }
  | { ok: false; reason: string };

/** A predicate time further ahead of the evaluation clock than this is not usable (as for maxAge). */
const FUTURE_SLACK_MS = 5 * 60_000;

interface Group<T> {
  key: string;
  members: T[];
  time?: number;
  timeSource: TimeSource;
  timeField?: string;
  /** Why there is no usable time. */
  why?: string;
}

/**
 * Groups the bundles by the statement they carry and picks the newest
 * statement. A statement's time is the earliest verified time (transparency
 * log or RFC 3161) of any of its bundles: a statement existed no later than
 * its first verified signature, and re-signing an old statement does not make
 * it new. Only when none of its bundles has a verified time is the
 * predicate's own time field used (claimed by a trusted signer, and not more
 * than 5 minutes in the future). Fails closed: with two or more statements,
 * one without a usable time, or a tie for newest, means no newest.
 */
export function selectNewest<T extends { record: EvidenceRecord; statement?: Statement }>(
  items: readonly T[],
  now: Date,
): NewestResult<T> {
  const groups = new Map<string, Group<T>>();
  for (const item of items) {
    const key = statementKey(item);
    const g = groups.get(key) ?? { key, members: [], timeSource: 'none' };
    g.members.push(item);
    groups.set(key, g);
  }
  const all = [...groups.values()];
  for (const g of all) dateGroup(g, now);
  const only = all.length === 1 ? all[0] : undefined;
  if (only) return { ok: true, selection: selection(only, 1), chosen: only.members, older: [] };
  const untimed = all.filter((g) => g.time === undefined);
  if (untimed.length > 0)
    return {
      ok: false,
      reason: `newest cannot be determined among ${all.length} verified statements: ${untimed
        .map((g) => `${label(g)} has no usable time (${g.why})`)
        .join('; ')}`,
    };
  all.sort((a, b) => (b.time as number) - (a.time as number) || (a.key < b.key ? -1 : 1));
  const top = all[0] as Group<T>;
  const tied = all.filter((g) => g.time === top.time);
  if (tied.length > 1)
    return {
      ok: false,
      reason: `newest cannot be determined: ${tied.map(label).join(' and ')} are different statements with the same time ${iso(top.time as number)}`,
    };
  return {
    ok: true,
    selection: selection(top, all.length),
    chosen: top.members,
    older: all.slice(1).flatMap((g) => g.members),
  };
}

/** The reason line for a selection: which bundle(s), what time, from where. */
export function describeSelection(s: NewestSelection): string {
  const which = s.bundles.map((b) => b.source).join(', ');
  const of = `newest of ${s.compared} verified statement(s): ${which}`;
  switch (s.timeSource) {
    case 'transparency-log':
      return `${of}, at ${s.time} (transparency log)`;
    case 'timestamp-authority':
      return `${of}, at ${s.time} (RFC 3161 timestamp)`;
    case 'predicate':
      return `${of}, at ${s.time} (${s.timeField}, claimed by its signer: no verified time)`;
    case 'none':
      return `${of} (the only one; it has no usable time)`;
    default:
      return assertNever(s.timeSource);
  }
}

function statementKey(item: { record: EvidenceRecord; statement?: Statement }): string {
  if (!item.statement) return item.record.digest;
  try {
    return `sha256:${createHash('sha256').update(canonicalize(item.statement)).digest('hex')}`;
  } catch {
    // Not canonicalizable (a number like 1e400 parses to Infinity): the
    // bundle stands alone. Grouping is only ever a merge of equal statements,
    // so keeping one apart can cost it co-signers, never add any.
    return item.record.digest;
  }
}

function dateGroup<T extends { record: EvidenceRecord; statement?: Statement }>(
  g: Group<T>,
  now: Date,
): void {
  let best: { t: number; source: TimeSource } | undefined;
  for (const m of g.members) {
    const r = m.record;
    if (r.signedAt === undefined || r.timeSource === 'none') continue;
    const t = Date.parse(r.signedAt);
    if (!Number.isNaN(t) && (best === undefined || t < best.t)) best = { t, source: r.timeSource };
  }
  if (best) {
    g.time = best.t;
    g.timeSource = best.source;
    return;
  }
  const st = g.members[0]?.statement;
  const field = st ? predicateTime(st) : undefined;
  if (!field) {
    g.why = 'no verified signing time and no predicate time field';
    return;
  }
  const t = Date.parse(field.value);
  if (Number.isNaN(t)) {
    g.why = `no verified signing time, and ${field.path} ${JSON.stringify(field.value)} is not a time`;
    return;
  }
  if (t > now.getTime() + FUTURE_SLACK_MS) {
    g.why = `no verified signing time, and ${field.path} ${field.value} is in the future`;
    return;
  }
  g.time = t;
  g.timeSource = 'predicate';
  g.timeField = field.path;
}

function selection<T extends { record: EvidenceRecord }>(
  g: Group<T>,
  compared: number,
): NewestSelection {
  const s: NewestSelection = {
    statement: g.key,
    bundles: g.members.map((m) => ({ source: m.record.source, digest: m.record.digest })),
    timeSource: g.timeSource,
    compared,
  };
  if (g.time !== undefined) s.time = iso(g.time);
  if (g.timeField !== undefined) s.timeField = g.timeField;
  return s;
}

function label<T extends { record: EvidenceRecord }>(g: Group<T>): string {
  return g.members.map((m) => m.record.source).join(', ');
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function assertNever(x: never): never {
  throw new Error(`unreachable: ${JSON.stringify(x)}`);
}
