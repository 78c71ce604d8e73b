import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic.ts';
import { isVouchError, VouchError } from '../core/errors.ts';
import { isObject, parseJson, readJsonFile } from '../core/json.ts';
import { PREDICATE_TYPES } from '../core/predicates.ts';
import { type TrustPolicy, verifyBundle } from '../sign/index.ts';
import type { DirectoryStore, EvidenceEntry } from '../store/index.ts';
import type { VulnDatabase } from './db/index.ts';
import {
  componentsOfSbom,
  type Finding,
  type MatchResult,
  matchComponents,
  type ScanInput,
} from './match.ts';

const SBOM_TYPES: ReadonlySet<string> = new Set([PREDICATE_TYPES.cyclonedx, PREDICATE_TYPES.spdx]);

/** A stored SBOM whose bundle verified, about one artifact digest. */
export interface VerifiedSbom {
  /** `sha256:<hex>`. */
  digest: string;
  name: string;
  bundle: string;
  storedAt: string;
  input: ScanInput;
}

export interface RejectedBundle {
  bundle: string;
  digest: string;
  reason: string;
}

/**
 * The SBOM attestations in the store, per artifact, that verify against the
 * trust policy: for each subject digest, the most recently stored one.
 * Bundles that do not verify are returned as rejected, never read.
 */
export async function verifiedSboms(
  store: DirectoryStore,
  trust: TrustPolicy,
  only?: string,
): Promise<{ sboms: VerifiedSbom[]; rejected: RejectedBundle[] }> {
  const entries: EvidenceEntry[] = only ? await store.find(only) : await store.list();
  const latest = new Map<string, VerifiedSbom>();
  const rejected: RejectedBundle[] = [];
  for (const e of entries) {
    if (!SBOM_TYPES.has(e.predicateType)) continue;
    const json = parseJson((await store.read(e.id)).toString('utf8'), `bundle ${e.id}`);
    for (const s of e.subjects) {
      const hex = s.digest.sha256;
      if (!hex) continue;
      const digest = `sha256:${hex}`;
      if (only && digest !== only) continue;
      const verdict = verifyBundle(
        json,
        `bundle ${e.id}`,
        { digest: { algorithm: 'sha256', hex } },
        trust,
      );
      if (!verdict.ok || !verdict.statement) {
        const failed = verdict.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
        rejected.push({ bundle: e.id, digest, reason: failed.join('; ') || 'did not verify' });
        continue;
      }
      if (!SBOM_TYPES.has(verdict.statement.predicateType)) continue;
      let input: ScanInput;
      try {
        input = componentsOfSbom(verdict.statement.predicate, `bundle ${e.id}`);
      } catch (err) {
        if (!isVouchError(err)) throw err;
        rejected.push({ bundle: e.id, digest, reason: err.message });
        continue;
      }
      const prev = latest.get(digest);
      if (!prev || prev.storedAt <= e.storedAt) {
        latest.set(digest, { digest, name: s.name, bundle: e.id, storedAt: e.storedAt, input });
      }
    }
  }
  const sboms = [...latest.values()].sort((a, b) => (a.digest < b.digest ? -1 : 1));
  return { sboms, rejected };
}

/** Where the last rescan's result is kept, inside the store directory. */
export const RESCAN_STATE = join('vulns', 'last-rescan.json');

interface RescanState {
  format: 'vouch-vulns-rescan';
  version: 1;
  time: string;
  artifacts: Record<string, { bundle: string; findings: string[] }>;
}

export interface ArtifactRescan {
  digest: string;
  name: string;
  bundle: string;
  components: number;
  findings: number;
  /** Findings not in the last rescan of this artifact (all of them on the first). */
  new: Finding[];
  /** Keys (`id package@version`) in the last rescan that are gone now. */
  gone: string[];
  firstScan: boolean;
}

export interface RescanResult {
  time: string;
  previous: string | null;
  artifacts: ArtifactRescan[];
  rejected: RejectedBundle[];
}

const keyOf = (f: Finding) => `${f.id} ${f.component.purl ?? `${f.package}@${f.version}`}`;

/**
 * Re-evaluates every verified SBOM in the store against the current
 * database and reports, per artifact, the findings that are new since the
 * last rescan; then records this rescan (atomically) as the new baseline.
 */
export async function rescanStore(
  store: DirectoryStore,
  db: VulnDatabase,
  trust: TrustPolicy,
  options: { now: Date; write?: boolean },
): Promise<RescanResult> {
  const statePath = join(store.root, RESCAN_STATE);
  const previous = await readState(statePath);
  const { sboms, rejected } = await verifiedSboms(store, trust);
  const state: RescanState = {
    format: 'vouch-vulns-rescan',
    version: 1,
    time: options.now.toISOString(),
    // Artifacts not scanned this time (their bundle did not verify) keep their last baseline.
    artifacts: { ...(previous?.artifacts ?? {}) },
  };
  const artifacts: ArtifactRescan[] = [];
  for (const s of sboms) {
    const result: MatchResult = matchComponents(db, s.input.components, { now: options.now });
    const keys = result.findings.map(keyOf);
    const before = previous?.artifacts[s.digest];
    const old = new Set(before?.findings ?? []);
    const now = new Set(keys);
    artifacts.push({
      digest: s.digest,
      name: s.name,
      bundle: s.bundle,
      components: result.components,
      findings: result.findings.length,
      new: result.findings.filter((f) => !old.has(keyOf(f))),
      gone: [...old].filter((k) => !now.has(k)).sort(),
      firstScan: before === undefined,
    });
    state.artifacts[s.digest] = { bundle: s.bundle, findings: [...now].sort() };
  }
  if (options.write !== false) {
    await writeFileAtomic(statePath, `${JSON.stringify(state, null, 2)}\n`);
  }
  return { time: state.time, previous: previous?.time ?? null, artifacts, rejected };
}

async function readState(path: string): Promise<RescanState | undefined> {
  let value: unknown;
  try {
    value = await readJsonFile(path);
  } catch (e) {
    if (isVouchError(e) && e.code === 'FILE_NOT_FOUND') return undefined;
    throw e;
  }
  if (
    !isObject(value) ||
    value.format !== 'vouch-vulns-rescan' ||
    value.version !== 1 ||
    !isObject(value.artifacts)
  ) {
    throw new VouchError(
      'STORE_CORRUPT',
      'not a vouch rescan state file (delete it to start over)',
      { file: path },
    );
  }
  return value as unknown as RescanState;
}
