import { isVouchError } from '../core/errors.ts';
import { eventOf, type OsvAffected, type OsvRange, type OsvRecord } from './osv.ts';
import { schemeFor, type VersionScheme } from './versions/index.ts';
import { semver } from './versions/semver.ts';

/**
 * Why a verdict could not use part of an entry: GIT ranges (commit
 * hashes, which a package version cannot be placed on), an ECOSYSTEM range
 * in an ecosystem with no version scheme, or a range with an event version
 * its scheme cannot parse. The caller counts these.
 */
export type Unevaluable = 'git-range' | 'no-scheme' | 'malformed-event';

export interface AffectedResult {
  affected: boolean;
  /** For people: which list entry or range decided, or why nothing did. */
  reason: string;
  /** Set when some range was skipped; with affected:false the answer may be incomplete. */
  unevaluable?: Unevaluable;
}

/**
 * A queried version, parsed at most once per scheme however many entries,
 * list versions and range events it is checked against: match one
 * component against all its records with one of these. The outcome of each
 * parse (the parsed form, or the VERSION_MALFORMED error) is kept.
 */
export class QueriedVersion {
  readonly text: string;
  readonly #parsed = new Map<
    VersionScheme,
    { ok: true; value: unknown } | { ok: false; error: unknown }
  >();

  constructor(text: string) {
    this.text = text;
  }

  /**
   * The version in `scheme`'s parsed form.
   * @throws VouchError VERSION_MALFORMED (the same error on every call) when the scheme cannot read it.
   */
  parsedBy(scheme: VersionScheme): unknown {
    let p = this.#parsed.get(scheme);
    if (p === undefined) {
      try {
        p = { ok: true, value: scheme.parse(this.text) };
      } catch (error) {
        p = { ok: false, error };
      }
      this.#parsed.set(scheme, p);
    }
    if (!p.ok) throw p.error;
    return p.value;
  }
}

/**
 * Whether `version` of the entry's package is affected, per the OSV spec's
 * evaluation: listed in `versions` (compared by the ecosystem's scheme, so
 * `1.0` matches a listed `1.0.0` in PyPI), or inside any SEMVER/ECOSYSTEM
 * range (ranges OR'ed; events sorted by version, `introduced: "0"` lowest;
 * introduced ≤ v < fixed, introduced ≤ v ≤ last_affected; `limit` events
 * cap the range). GIT ranges are not evaluable here and are reported in
 * `unevaluable`. Withdrawn records are the caller's business (isWithdrawn);
 * `database_specific` is ignored.
 *
 * Each version is parsed once: the queried one once per scheme (across
 * calls too, when given as a {@link QueriedVersion}), each list version and
 * range event once per call; comparisons work on the parsed forms.
 * @throws VouchError VERSION_MALFORMED when `version` is not a version of
 *   the scheme a range needs.
 */
export function affectedVersions(
  affected: OsvAffected,
  version: string | QueriedVersion,
): AffectedResult {
  const query = typeof version === 'string' ? new QueriedVersion(version) : version;
  const ecosystem = affected.package?.ecosystem;
  const scheme = ecosystem === undefined ? undefined : schemeFor(ecosystem);
  const listed = inVersionsList(affected.versions, query, scheme);
  if (listed !== undefined)
    return { affected: true, reason: `listed in versions as ${JSON.stringify(listed)}` };

  let unevaluable: Unevaluable | undefined;
  const misses: string[] = [];
  for (const r of affected.ranges) {
    if (r.type === 'GIT') {
      unevaluable ??= 'git-range';
      continue;
    }
    const s = r.type === 'SEMVER' ? semverFor(ecosystem) : scheme;
    if (s === undefined) {
      unevaluable ??= 'no-scheme';
      continue;
    }
    const verdict = evaluateRange(r, query, s);
    if (verdict === 'malformed-event') {
      unevaluable ??= 'malformed-event';
      continue;
    }
    if (verdict.affected) return { affected: true, reason: verdict.reason };
    misses.push(verdict.reason);
  }
  const reason =
    misses.length > 0
      ? misses.join('; ')
      : affected.ranges.length === 0
        ? 'not in the versions list'
        : 'no evaluable range';
  const out: AffectedResult = { affected: false, reason };
  if (unevaluable !== undefined) {
    out.unevaluable = unevaluable;
    out.reason = `${reason} (${unevaluable} skipped)`;
  }
  return out;
}

// Go's SEMVER ranges use Go's order; everything else plain SemVer.
function semverFor(ecosystem: string | undefined): VersionScheme {
  const s = ecosystem === undefined ? undefined : schemeFor(ecosystem);
  return s?.name === 'go' ? s : semver;
}

function inVersionsList(
  list: readonly string[],
  query: QueriedVersion,
  scheme: VersionScheme | undefined,
): string | undefined {
  if (list.length === 0) return undefined;
  if (list.includes(query.text)) return query.text;
  if (scheme === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = query.parsedBy(scheme);
  } catch (e) {
    if (!isVouchError(e)) throw e;
    return undefined;
  }
  for (const v of list) {
    let p: unknown;
    try {
      p = scheme.parse(v);
    } catch (e) {
      if (!isVouchError(e)) throw e;
      continue; // a list entry the scheme cannot read matches only by exact string
    }
    if (scheme.compareParsed(p, parsed) === 0) return v;
  }
  return undefined;
}

interface RangeVerdict {
  affected: boolean;
  reason: string;
}

interface SortedEvent {
  kind: 'introduced' | 'fixed' | 'last_affected' | 'limit';
  version: string;
  /** The version in the scheme's parsed form; undefined only when `zero`. */
  parsed: unknown;
  /** True for `introduced: "0"`, which sorts below every version. */
  zero: boolean;
  index: number;
}

function evaluateRange(
  r: OsvRange,
  query: QueriedVersion,
  scheme: VersionScheme,
): RangeVerdict | 'malformed-event' {
  // Throws VERSION_MALFORMED: the caller's version, not the record's.
  const v = query.parsedBy(scheme);
  const cmp = (a: unknown, b: unknown) => scheme.compareParsed(a, b);
  const events: SortedEvent[] = [];
  for (let i = 0; i < r.events.length; i++) {
    const e = eventOf(r.events[i] as (typeof r.events)[number]);
    const zero = e.kind === 'introduced' && e.version === '0';
    let parsed: unknown;
    if (!zero) {
      try {
        parsed = scheme.parse(e.version);
      } catch (err) {
        if (!isVouchError(err)) throw err;
        return 'malformed-event';
      }
    }
    events.push({ ...e, parsed, zero, index: i });
  }
  events.sort((a, b) => {
    if (a.zero || b.zero) return a.zero === b.zero ? a.index - b.index : a.zero ? -1 : 1;
    return cmp(a.parsed, b.parsed) || a.index - b.index;
  });

  const limits = events.filter((e) => e.kind === 'limit');
  if (limits.length > 0 && !limits.some((l) => cmp(v, l.parsed) < 0)) {
    return {
      affected: false,
      reason: `at or above the range's limit ${limits.map((l) => l.version).join(', ')}`,
    };
  }

  let affected = false;
  let from: SortedEvent | undefined;
  let closedBy: SortedEvent | undefined;
  for (const e of events) {
    if (e.kind === 'introduced') {
      if (e.zero || cmp(v, e.parsed) >= 0) {
        affected = true;
        from = e;
        closedBy = undefined;
      }
    } else if (e.kind === 'fixed') {
      if (cmp(v, e.parsed) >= 0) {
        affected = false;
        closedBy = e;
      }
    } else if (e.kind === 'last_affected') {
      if (cmp(v, e.parsed) > 0) {
        affected = false;
        closedBy = e;
      }
    }
  }
  const label = `${r.type} range (${scheme.name})`;
  if (affected) {
    const end = events.find(
      (e) =>
        !e.zero &&
        ((e.kind === 'fixed' && cmp(e.parsed, v) > 0) ||
          (e.kind === 'last_affected' && cmp(e.parsed, v) >= 0)),
    );
    const upper =
      end === undefined ? '' : end.kind === 'fixed' ? `, < ${end.version}` : `, <= ${end.version}`;
    return { affected: true, reason: `${label}: >= ${from?.zero ? '0' : from?.version}${upper}` };
  }
  if (closedBy !== undefined) {
    return {
      affected: false,
      reason: `${label}: ${closedBy.kind === 'fixed' ? 'fixed in' : 'after last_affected'} ${closedBy.version}`,
    };
  }
  return { affected: false, reason: `${label}: below the first introduced version` };
}

/** True when the record has a `withdrawn` time at or before `now` (ms since the epoch or a Date). */
export function isWithdrawn(rec: OsvRecord, now: number | Date = Date.now()): boolean {
  if (rec.withdrawn === undefined) return false;
  const t = Date.parse(rec.withdrawn);
  const n = typeof now === 'number' ? now : now.getTime();
  return Number.isNaN(t) ? true : t <= n;
}

/** CVE ids name a vulnerability best, then GHSA, then the rest; ties by string order. */
function preferred(a: string, b: string): string {
  const rank = (s: string) => (s.startsWith('CVE-') ? 0 : s.startsWith('GHSA-') ? 1 : 2);
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra < rb ? a : b;
  return a <= b ? a : b;
}

/** All ids a record says are the same vulnerability: its id, aliases and upstream. */
export function idsOf(rec: Pick<OsvRecord, 'id' | 'aliases' | 'upstream'>): string[] {
  return [rec.id, ...rec.aliases, ...rec.upstream];
}

/**
 * A stable key for the vulnerability a single record describes: the
 * preferred id among its id, aliases and upstream (CVE over GHSA over the
 * rest). Records that share no id directly but are linked through a third
 * need AliasGroups.
 */
export function aliasesKey(rec: Pick<OsvRecord, 'id' | 'aliases' | 'upstream'>): string {
  return idsOf(rec).reduce(preferred);
}

/**
 * Union-find over id + aliases + upstream across many records, so that
 * CVE-x, GHSA-y and PYSEC-z reported by three databases become one finding.
 */
export class AliasGroups {
  readonly #parent = new Map<string, string>();

  #find(id: string): string {
    let root = id;
    for (;;) {
      const p = this.#parent.get(root);
      if (p === undefined || p === root) break;
      root = p;
    }
    // path compression
    let cur = id;
    while (cur !== root) {
      const next = this.#parent.get(cur) as string;
      this.#parent.set(cur, root);
      cur = next;
    }
    if (!this.#parent.has(root)) this.#parent.set(root, root);
    return root;
  }

  #union(a: string, b: string): void {
    const ra = this.#find(a);
    const rb = this.#find(b);
    if (ra === rb) return;
    const keep = preferred(ra, rb);
    this.#parent.set(keep === ra ? rb : ra, keep);
  }

  add(rec: Pick<OsvRecord, 'id' | 'aliases' | 'upstream'>): void {
    const ids = idsOf(rec);
    this.#find(rec.id);
    for (const other of ids) this.#union(rec.id, other);
  }

  /** The group's key (its preferred id) for any id seen, or the id itself. */
  keyOf(id: string): string {
    return this.#parent.has(id) ? this.#find(id) : id;
  }
}
