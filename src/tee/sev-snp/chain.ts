/**
 * The AMD endorsement chain for one SEV-SNP report signer:
 *
 *   VCEK → ASK  (CN=SEV-<Product>)      → ARK (CN=ARK-<Product>)
 *   VLEK → ASVK (CN=SEV-VLEK-<Product>) → ARK (CN=ARK-<Product>)
 *
 * The ASK/ASVK and ARK are the pinned ones shipped in ../roots for the
 * product and key kind; no caller-supplied intermediate is used with them, so
 * a VCEK can only chain through the product's ASK and a VLEK only through its
 * ASVK (mixing fails). With caller-replaced anchors (`anchors`, for tests and
 * private deployments) the intermediate may also come from the caller's
 * certificates, and must still carry the ASK or ASVK name of the product.
 */
import type { X509Certificate } from 'node:crypto';
import { type AmdRoots, type AmdSigningKey, amdRoots } from '../roots/index.ts';
import { type ChainCache, type ChainResult, describe, verifyChain } from '../x509.ts';
import type { SnpProduct } from './report.ts';

/** The subject CN the leaf must carry for a signing-key kind. */
export function signerCommonName(kind: AmdSigningKey): string {
  return kind === 'vcek' ? 'SEV-VCEK' : 'SEV-VLEK';
}

/** The subject CN of the ASK (VCEK) or ASVK (VLEK) of a product. */
export function intermediateCommonName(product: SnpProduct, kind: AmdSigningKey): string {
  return kind === 'vcek' ? `SEV-${product}` : `SEV-VLEK-${product}`;
}

function cn(cert: X509Certificate): string | undefined {
  return cert.subject
    .split('\n')
    .find((l) => l.startsWith('CN='))
    ?.slice(3);
}

export interface AmdChainOptions {
  at: Date;
  cache?: ChainCache;
  /** Replace the pinned ARK (tests, private deployments); `intermediates` are then candidates beside the pinned ASK/ASVK. */
  anchors?: readonly X509Certificate[];
  /** Caller certificates; only used when `anchors` replaces the pinned roots. */
  intermediates?: readonly X509Certificate[];
  /** The pinned roots for (product, kind); looked up when absent. */
  roots?: AmdRoots;
}

/**
 * Verify `leaf` (a VCEK or VLEK) up to the product's ARK at `opts.at`.
 * Never throws for a verification failure; the result says why.
 */
export function verifyAmdChain(
  leaf: X509Certificate,
  kind: AmdSigningKey,
  product: SnpProduct,
  opts: AmdChainOptions,
): ChainResult {
  const wantLeaf = signerCommonName(kind);
  const wantInter = intermediateCommonName(product, kind);
  let result: ChainResult;
  if (opts.anchors) {
    const pinned = opts.roots ?? amdRoots(product, kind);
    result = verifyChain(
      leaf,
      [pinned.intermediate, ...(opts.intermediates ?? []).filter((c) => c !== leaf)],
      opts.anchors,
      opts.at,
      opts.cache,
    );
  } else {
    const roots = opts.roots ?? amdRoots(product, kind);
    result = verifyChain(leaf, [roots.intermediate], [roots.ark], opts.at, opts.cache);
    if (result.ok && !result.path[1]?.raw.equals(roots.intermediate.raw)) {
      result = fail(result, `path does not run through the pinned ${wantInter}`);
    }
  }
  if (!result.ok) return result;
  const problems: string[] = [];
  if (cn(leaf) !== wantLeaf)
    problems.push(
      `a ${kind.toUpperCase()} report needs a ${wantLeaf} certificate, got "${describe(leaf)}"`,
    );
  if (result.path.length !== 3)
    problems.push(
      `an AMD chain is ${wantLeaf} → ${wantInter} → ARK-${product}, got ${result.path.length} certificates (${result.detail})`,
    );
  const inter = result.path[1];
  if (inter && cn(inter) !== wantInter)
    problems.push(
      `${wantLeaf} must be issued by ${wantInter}, not "${describe(inter)}" (${kind === 'vcek' ? 'VCEK → ASK' : 'VLEK → ASVK'})`,
    );
  const ark = result.path[result.path.length - 1];
  if (ark && cn(ark) !== `ARK-${product}`)
    problems.push(`the root must be ARK-${product}, not "${describe(ark)}"`);
  return problems.length === 0 ? result : fail(result, problems.join('; '));
}

function fail(r: ChainResult, why: string): ChainResult {
  return { ...r, ok: false, detail: why, problems: [...r.problems, why] };
}
