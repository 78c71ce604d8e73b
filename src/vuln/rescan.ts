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
import { applyVex, readVex, type VexStatement } from './vex/index.ts';

const SBOM_TYPES: ReadonlySet<string> = new Set([PREDICATE_TYPES.cyclonedx, PREDICATE_TYPES.spdx]);

/** OpenVEX attestations: `https://openvex.dev/ns` (cosign's) or a versioned `…/ns/v0.2.0`. */
function isOpenVexType(t: string): boolean {
  return t === PREDICATE_TYPES.openvex || t.startsWith(`${PREDICATE_TYPES.openvex}/`);
}

/** Predicate types that may carry VEX: OpenVEX, and CycloneDX (a BOM with analysed vulnerabilities). */
function mayHoldVex(t: string): boolean {
  return isOpenVexType(t) || t === PREDICATE_TYPES.cyclonedx;
}

/**
 * A CycloneDX document that is VEX only: `vulnerabilities[]` and no
 * components. It is read for its VEX statements, never as the artifact's SBOM
 * (it would otherwise replace the SBOM as the latest one, with no components).
 */
function isVexOnlyBom(predicate: unknown): boolean {
  return (
    isObject(predicate) &&
    Array.isArray(predicate.vulnerabilities) &&
    predicate.vulnerabilities.length > 0 &&
    !(Array.isArray(predicate.components) && predicate.components.length > 0)
  );
}

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

/** The VEX statements of verified attestations about one artifact. */
export interface VerifiedVex {
  /** `sha256:<hex>`. */
  digest: string;
  /** The bundles they came from, in store order. */
  bundles: string[];
  /** Each statement's `source` is `bundle <id>`. */
  statements: VexStatement[];
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
  const { sboms, rejected } = await verifiedEvidence(store, trust, { only, vex: false });
  return { sboms, rejected };
}

/**
 * One pass over the store: the verified SBOMs (as {@link verifiedSboms}) and,
 * with `vex`, the VEX statements of every verified OpenVEX or CycloneDX VEX
 * attestation, per subject digest. A VEX bundle that does not verify is
 * rejected like an SBOM bundle and suppresses nothing (fail closed); one that
 * verifies but does not parse as VEX is rejected with the parse error.
 */
export async function verifiedEvidence(
  store: DirectoryStore,
  trust: TrustPolicy,
  options: { only?: string | undefined; vex: boolean },
): Promise<{ sboms: VerifiedSbom[]; vex: Map<string, VerifiedVex>; rejected: RejectedBundle[] }> {
  const { only } = options;
  const entries: EvidenceEntry[] = only ? await store.find(only) : await store.list();
  const latest = new Map<string, VerifiedSbom>();
  const vex = new Map<string, VerifiedVex>();
  const rejected: RejectedBundle[] = [];
  for (const e of entries) {
    const sbomType = SBOM_TYPES.has(e.predicateType);
    const vexType = options.vex && mayHoldVex(e.predicateType);
    if (!sbomType && !vexType) continue;
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
      // The index's predicate type is unverified: decide by the verified Statement's.
      const { predicateType, predicate } = verdict.statement;
      const vexOnly = predicateType === PREDICATE_TYPES.cyclonedx && isVexOnlyBom(predicate);
      if (options.vex && mayHoldVex(predicateType)) {
        let statements: VexStatement[] = [];
        try {
          const embedded = predicateType === PREDICATE_TYPES.cyclonedx;
          // A CycloneDX SBOM without vulnerabilities carries no VEX; one with analysed ones does.
          if (!embedded || (isObject(predicate) && Array.isArray(predicate.vulnerabilities)))
            statements = readVex(predicate, `bundle ${e.id}`);
        } catch (err) {
          // Its VEX suppresses nothing; an SBOM with a broken VEX part is still scanned.
          if (!isVouchError(err)) throw err;
          rejected.push({ bundle: e.id, digest, reason: err.message });
        }
        if (statements.length > 0) {
          const v = vex.get(digest) ?? { digest, bundles: [], statements: [] };
          v.bundles.push(e.id);
          v.statements.push(...statements);
          vex.set(digest, v);
        }
      }
      if (!SBOM_TYPES.has(predicateType) || vexOnly) continue;
      let input: ScanInput;
      try {
        input = componentsOfSbom(predicate, `bundle ${e.id}`);
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
  return { sboms, vex, rejected };
}

/** Where the last rescan's result is kept, inside the store directory. */
export const RESCAN_STATE = join('vulns', 'last-rescan.json');

interface RescanState {
  format: 'vouch-vulns-rescan';
  version: 1;
  time: string;
  /** `findings`: the open ones; `suppressed` (absent before VEX was applied): by VEX. */
  artifacts: Record<string, { bundle: string; findings: string[]; suppressed?: string[] }>;
}

export interface ArtifactRescan {
  digest: string;
  name: string;
  bundle: string;
  components: number;
  /** Open findings (not suppressed by VEX). */
  findings: number;
  /** Open findings not open in the last rescan of this artifact (all of them on the first). */
  new: Finding[];
  /** Findings a VEX statement suppresses (each with `suppressed` set): never new. */
  suppressed: Finding[];
  /** Keys (`id package@version`) open in the last rescan that are neither open nor suppressed now. */
  gone: string[];
  /** The VEX applied to this artifact: verified bundles (`bundle <id>`), then the --vex files. */
  vex: string[];
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
 * database, applies VEX as `vouch vulns` does, and reports, per artifact,
 * the open findings that are new since the last rescan; then records this
 * rescan (atomically) as the new baseline.
 *
 * VEX per artifact: the statements of every verified OpenVEX / CycloneDX VEX
 * attestation about its digest (verified against the same trust policy;
 * bundles that do not verify are rejected and suppress nothing), then
 * `options.vex` (e.g. `--vex` files) for every artifact. The artifact's
 * digest counts as a product, as `vouch vulns sha256:…` does.
 */
export async function rescanStore(
  store: DirectoryStore,
  db: VulnDatabase,
  trust: TrustPolicy,
  options: { now: Date; write?: boolean; vex?: readonly VexStatement[] },
): Promise<RescanResult> {
  const statePath = join(store.root, RESCAN_STATE);
  const previous = await readState(statePath);
  const { sboms, vex, rejected } = await verifiedEvidence(store, trust, { vex: true });
  const given = options.vex ?? [];
  const givenSources = [...new Set(given.map((v) => v.source))];
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
    const stored = vex.get(s.digest);
    const findings = applyVex(
      result.findings,
      [...(stored?.statements ?? []), ...given],
      [s.digest],
    );
    const open = findings.filter((f) => !f.suppressed);
    const suppressed = findings.filter((f) => f.suppressed);
    const before = previous?.artifacts[s.digest];
    const old = new Set(before?.findings ?? []);
    const now = new Set(open.map(keyOf));
    const quiet = new Set(suppressed.map(keyOf));
    artifacts.push({
      digest: s.digest,
      name: s.name,
      bundle: s.bundle,
      components: result.components,
      findings: open.length,
      new: open.filter((f) => !old.has(keyOf(f))),
      suppressed,
      gone: [...old].filter((k) => !now.has(k) && !quiet.has(k)).sort(),
      vex: [...(stored?.bundles ?? []).map((b) => `bundle ${b}`), ...givenSources],
      firstScan: before === undefined,
    });
    state.artifacts[s.digest] = {
      bundle: s.bundle,
      findings: [...now].sort(),
      suppressed: [...quiet].sort(),
    };
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
