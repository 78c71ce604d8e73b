import { readFileSync } from 'node:fs';
import { VouchError } from '../core/errors.ts';
import { mergeOrigins } from './builder.ts';
import type { Accounting, Component, Dependency, ReaderResult, Sbom } from './model.ts';

const SCOPE_RANK: Record<Component['scope'], number> = {
  required: 0,
  peer: 1,
  optional: 2,
  dev: 3,
};

/**
 * Merges the results of several readers (one per source file) into one SBOM.
 *
 * - Components with the same ref (the purl) are one component: `foundIn`
 *   accumulates, the strongest scope wins (required over peer over optional
 *   over dev: a package some file needs at run time is needed at run time),
 *   licences and hashes are unioned; every distinct origin is kept (source
 *   is the first file's in path order that records one, the rest go to
 *   otherSources, sorted); properties keep the value of the first file in
 *   path order, so the outcome does not depend on the order files were read in.
 * - Dependency edges and roots are unioned.
 * - Accounting stays per file: it describes each source, and merging across
 *   files does not change what any one file declared or emitted.
 * - Every list is sorted, so the same inputs give the same SBOM.
 *
 * Inputs are not modified.
 */
export function mergeResults(
  results: readonly ReaderResult[],
  meta: Pick<Sbom, 'subject' | 'created' | 'tool'>,
): Sbom {
  // Path order first: "first file wins" must not depend on read order.
  const ordered = [...results].sort(
    (a, b) =>
      cmp(a.accounting.file, b.accounting.file) || cmp(a.accounting.reader, b.accounting.reader),
  );
  const byRef = new Map<string, Component>();
  const edges = new Map<string, Set<string>>();
  const roots = new Set<string>();
  for (const r of ordered) {
    for (const c of r.components) {
      const existing = byRef.get(c.ref);
      if (!existing) {
        byRef.set(c.ref, cloneComponent(c));
        continue;
      }
      for (const f of c.foundIn) if (!existing.foundIn.includes(f)) existing.foundIn.push(f);
      if (SCOPE_RANK[c.scope] < SCOPE_RANK[existing.scope]) existing.scope = c.scope;
      for (const l of c.licenses) if (!existing.licenses.includes(l)) existing.licenses.push(l);
      for (const h of c.hashes) {
        if (!existing.hashes.some((x) => x.algorithm === h.algorithm && x.value === h.value)) {
          existing.hashes.push({ ...h });
        }
      }
      mergeOrigins(existing, c);
      if (c.properties) {
        existing.properties ??= {};
        for (const [k, v] of Object.entries(c.properties)) {
          if (!(k in existing.properties)) existing.properties[k] = v;
        }
      }
    }
    for (const d of r.dependencies) {
      let set = edges.get(d.ref);
      if (!set) {
        set = new Set();
        edges.set(d.ref, set);
      }
      for (const to of d.dependsOn) if (to !== d.ref) set.add(to);
    }
    for (const root of r.roots) roots.add(root);
  }
  const components = [...byRef.values()].sort((a, b) => cmp(a.ref, b.ref));
  for (const c of components) {
    c.foundIn.sort(cmp);
    c.licenses.sort(cmp);
    c.hashes.sort((a, b) => cmp(a.algorithm, b.algorithm) || cmp(a.value, b.value));
  }
  const dependencies: Dependency[] = [...edges.entries()]
    .filter(([, to]) => to.size > 0)
    .map(([ref, to]) => ({ ref, dependsOn: [...to].sort(cmp) }))
    .sort((a, b) => cmp(a.ref, b.ref));
  return {
    subject: meta.subject,
    components,
    dependencies,
    roots: [...roots].sort(cmp),
    accounting: ordered.map((r) => cloneAccounting(r.accounting)),
    created: meta.created,
    tool: meta.tool,
  };
}

/** Totals over every file's accounting, and the unique component count of the merged SBOM. */
export interface Totals {
  files: number;
  /** Sum of entries every source declared. */
  declared: number;
  /** Components in the SBOM after merging across files (what the document lists). */
  components: number;
  /** Sum of per-file emitted counts (a package found in two files counts twice here). */
  emitted: number;
  merged: number;
  skipped: number;
  /** Files whose reader failed (only with allowPartial). */
  failed: number;
  /** Files that are partial by nature or failed: the SBOM cannot be called complete. */
  incomplete: number;
}

export function totalsOf(sbom: Pick<Sbom, 'accounting' | 'components'>): Totals {
  const t: Totals = {
    files: sbom.accounting.length,
    declared: 0,
    components: sbom.components.length,
    emitted: 0,
    merged: 0,
    skipped: 0,
    failed: 0,
    incomplete: 0,
  };
  for (const a of sbom.accounting) {
    t.declared += a.declared;
    t.emitted += a.emitted;
    t.merged += a.merged;
    t.skipped += a.skipped.length;
    if (isFailed(a)) t.failed++;
    if (a.incomplete) t.incomplete++;
  }
  return t;
}

/** The prefix of `incompleteReason` for a file whose reader threw (kept only with allowPartial). */
export const FAILED_PREFIX = 'failed: ';

export function isFailed(a: Accounting): boolean {
  return a.incomplete === true && (a.incompleteReason ?? '').startsWith(FAILED_PREFIX);
}

/** True when nothing was skipped, no file failed and no source is partial by nature. */
export function isComplete(sbom: Pick<Sbom, 'accounting'>): boolean {
  return sbom.accounting.every((a) => a.skipped.length === 0 && !a.incomplete);
}

function cloneComponent(c: Component): Component {
  const out: Component = {
    ...c,
    licenses: [...c.licenses],
    hashes: c.hashes.map((h) => ({ ...h })),
    foundIn: [...c.foundIn],
  };
  if (c.source) out.source = { ...c.source };
  if (c.otherSources) out.otherSources = c.otherSources.map((s) => ({ ...s }));
  if (c.properties) out.properties = { ...c.properties };
  return out;
}

function cloneAccounting(a: Accounting): Accounting {
  return { ...a, skipped: a.skipped.map((s) => ({ ...s })) };
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The SBOM's creation time, RFC 3339 in whole seconds: SOURCE_DATE_EPOCH when
 * set (reproducible builds), else now.
 *
 * @throws VouchError USAGE when SOURCE_DATE_EPOCH is set but not a non-negative integer.
 */
export function sbomCreated(env: NodeJS.ProcessEnv, now: () => Date = () => new Date()): string {
  const epoch = env.SOURCE_DATE_EPOCH;
  let date: Date;
  if (epoch !== undefined && epoch !== '') {
    if (!/^\d{1,12}$/.test(epoch)) {
      throw new VouchError(
        'USAGE',
        `SOURCE_DATE_EPOCH must be a non-negative integer (seconds), got ${JSON.stringify(epoch)}`,
      );
    }
    date = new Date(Number(epoch) * 1000);
  } else {
    date = now();
  }
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

let toolVersion: string | undefined;

/** vouch's name and version, from package.json (read once). */
export function vouchTool(): Sbom['tool'] {
  toolVersion ??= String(
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version,
  );
  return { name: 'vouch', version: toolVersion };
}
