import {
  type Attestor,
  type CommandAttestation,
  commandAttestor,
  type MaterialsAttestation,
  materialsAttestor,
  type ProductsAttestation,
  productsAttestor,
  runAndAttest,
} from '../../attest/index.ts';
import { makeLink } from './link.ts';
import type { Artifacts, Link } from './model.ts';

export interface RecordLinkOptions {
  /** The layout step this link is for. */
  name: string;
  /** The command; argv[0] is looked up on PATH, never run through a shell. */
  argv: string[];
  workdir: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Globs of materials to record. As with in-toto-run, nothing is recorded
   * when none are given (vouch's provenance default, every tracked file,
   * would trip the usual `DISALLOW *` material rule).
   */
  materials?: string[];
  /** Globs of products; default: the files the command created or changed. */
  products?: string[];
  stdio?: 'inherit' | 'pipe';
  log?: (m: string) => void;
}

export interface RecordLinkResult {
  exitCode: number;
  /** Undefined when the command failed: in-toto-run records no link for a failed step either. */
  link: Link | undefined;
}

/**
 * Runs one supply-chain step and describes it as an in-toto link (unsigned):
 * the command, the materials before it and the products after it, each
 * digested with sha256, paths relative to the working directory.
 *
 * @throws VouchError COMMAND_FAILED_TO_START | PATH_ESCAPE | FILE_NOT_FOUND | FILE_READ | USAGE
 */
export async function recordLink(options: RecordLinkOptions): Promise<RecordLinkResult> {
  const attestors: Attestor[] = [commandAttestor, productsAttestor];
  if (options.materials && options.materials.length > 0) attestors.unshift(materialsAttestor);
  const attestOptions: { materials?: string[]; products?: string[] } = {};
  if (options.materials?.length) attestOptions.materials = options.materials;
  if (options.products?.length) attestOptions.products = options.products;
  const result = await runAndAttest({
    argv: options.argv,
    workdir: options.workdir,
    env: options.env ?? process.env,
    attestOptions,
    attestors,
    stdio: options.stdio ?? 'inherit',
    log: options.log ?? (() => {}),
  });
  if (result.exitCode !== 0) return { exitCode: result.exitCode, link: undefined };
  const materials: Artifacts = {};
  for (const m of (result.attestations.materials as MaterialsAttestation | undefined)?.materials ??
    []) {
    if (m.digest.sha256) materials[m.path] = { sha256: m.digest.sha256 };
  }
  const products: Artifacts = {};
  for (const p of (result.attestations.products as ProductsAttestation | undefined)?.products ??
    []) {
    if (p.digest.sha256) products[p.name] = { sha256: p.digest.sha256 };
  }
  return {
    exitCode: 0,
    link: makeLink({
      name: options.name,
      // As redacted by the command attestor: a token on the command line is not signed into the link.
      command:
        (result.attestations.command as CommandAttestation | undefined)?.argv ?? options.argv,
      materials,
      products,
      byproducts: { 'return-value': result.exitCode },
    }),
  };
}
