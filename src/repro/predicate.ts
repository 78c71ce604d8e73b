import type { DigestSet } from '../core/digest.ts';
import { makeStatement, type Statement } from '../core/statement.ts';
import type { CheckResult, Product } from './check.ts';
import type { VariationName } from './variations/index.ts';

/** The rebuild predicate type; its JSON Schema is schemas/rebuild-v1.json. */
export const REBUILD_PREDICATE_V1 = 'https://vouch.dev/attestation/rebuild/v1';

export interface RebuildPredicate {
  rebuilder: { id: string };
  source: { uri?: string; digest: { gitCommit?: string; sha256?: string }; dirty?: boolean };
  command: string[];
  variations: {
    varied: VariationName[];
    unavailable: { name: VariationName; reason: string }[];
    sourceDateEpoch: string | null;
  };
  runs: {
    run: number;
    role: 'control' | 'experiment';
    variations: VariationName[];
    products: { name: string; digest: DigestSet }[];
  }[];
  agreement: {
    reproducible: boolean;
    runs: number;
    /** Runs whose products equal the control's. */
    agreeing: number;
    differing: string[];
    culprits: { variations: VariationName[]; products: string[] }[];
  };
  original?: OriginalMatch;
  metadata: { startedOn: string; finishedOn: string };
}

/** How the rebuilt products compare with the subjects of a verified original provenance. */
export interface OriginalMatch {
  /** sha256 of the original bundle file. */
  bundle: { sha256: string };
  predicateType: string;
  /** Who signed it, as verified (key id or certificate identity). */
  signer: string;
  matches: boolean;
  matched: string[];
  mismatched: string[];
  /** Original subjects with no rebuilt product of the same name. */
  missing: string[];
}

export interface RebuildInput {
  result: CheckResult;
  argv: string[];
  rebuilderId: string;
  source: RebuildPredicate['source'];
  original?: OriginalMatch;
  startedOn: string;
  finishedOn: string;
}

/**
 * The Statement a rebuild check produces: subjects are the control run's
 * products. Returned, never signed (the caller signs and stores).
 */
export function rebuildStatement(i: RebuildInput): Statement<RebuildPredicate> {
  const r = i.result;
  const control = r.runs[0];
  const same = (p: readonly Product[]) =>
    control !== undefined &&
    p.length === control.products.length &&
    p.every(
      (x, k) =>
        x.name === control.products[k]?.name &&
        x.digest.sha256 === control.products[k]?.digest.sha256,
    );
  const predicate: RebuildPredicate = {
    rebuilder: { id: i.rebuilderId },
    source: i.source,
    command: [...i.argv],
    variations: {
      varied: [...r.varied],
      unavailable: r.unavailable.map((u) => ({ ...u })),
      sourceDateEpoch: r.sourceDateEpoch,
    },
    runs: r.runs.map((x) => ({
      run: x.run,
      role: x.role,
      variations: [...x.variations],
      products: x.products.map((p) => ({
        name: p.name,
        digest: { sha256: p.digest.sha256 as string },
      })),
    })),
    agreement: {
      reproducible: r.reproducible,
      runs: r.runs.length,
      agreeing: r.runs.filter((x) => same(x.products)).length,
      differing: [...r.differing],
      culprits: r.culprits.map((c) => ({
        variations: [...c.variations],
        products: [...c.products],
      })),
    },
    ...(i.original ? { original: i.original } : {}),
    metadata: { startedOn: i.startedOn, finishedOn: i.finishedOn },
  };
  const subjects = (control?.products ?? []).map((p) => ({
    name: p.name,
    digest: { sha256: p.digest.sha256 as string },
  }));
  return makeStatement(subjects, REBUILD_PREDICATE_V1, predicate);
}

/** Compares rebuilt products with original subjects by name. */
export function matchOriginal(
  products: readonly Product[],
  subjects: readonly { name: string; digest: Record<string, string> }[],
): Pick<OriginalMatch, 'matches' | 'matched' | 'mismatched' | 'missing'> {
  const byName = new Map(products.map((p) => [p.name, p.digest.sha256]));
  const matched: string[] = [];
  const mismatched: string[] = [];
  const missing: string[] = [];
  for (const s of subjects) {
    const d = byName.get(s.name);
    if (d === undefined) missing.push(s.name);
    else if (s.digest.sha256 === d) matched.push(s.name);
    else mismatched.push(s.name);
  }
  return {
    matches: matched.length > 0 && mismatched.length === 0 && missing.length === 0,
    matched,
    mismatched,
    missing,
  };
}
