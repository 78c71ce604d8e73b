import { expandGlobs } from '../../attest/globs.ts';
import {
  type Attestor,
  type CommandAttestation,
  commandAttestor,
  type ProductsAttestation,
  productsAttestor,
  runAndAttest,
} from '../../attest/index.ts';
import { DEFAULT_EXCLUDES, excludeMatcher, recordArtifacts } from './artifacts.ts';
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
  /**
   * gitignore-style patterns of paths not to record; default in-toto's
   * (`*.link*`, `.git`, `*.pyc`, `*~`). Given patterns replace the defaults, as in-toto-run's `--exclude`.
   */
  exclude?: string[];
  stdio?: 'inherit' | 'pipe';
  log?: (m: string) => void;
}

export interface RecordLinkResult {
  exitCode: number;
  /** Undefined when the command failed: in-toto-run records no link for a failed step either. */
  link: Link | undefined;
}

/**
 * A pattern without glob characters is a path, as in-toto-run takes them
 * (Node's glob finds nothing for `.`); the rest are globs. Both are recorded
 * as in-toto-run records its paths.
 */
async function expandPaths(patterns: readonly string[], workdir: string): Promise<string[]> {
  const literal = patterns.filter((p) => !/[*?[\]{}]/.test(p));
  const globs = patterns.filter((p) => /[*?[\]{}]/.test(p));
  return [...literal, ...(globs.length > 0 ? await expandGlobs(globs, workdir) : [])];
}

function intotoArtifacts(
  name: string,
  phase: 'before' | 'after',
  globs: readonly string[],
  excludes: readonly string[],
): Attestor<Artifacts> {
  return {
    name,
    phase,
    attest: async (ctx) =>
      recordArtifacts(ctx.workdir, await expandPaths(globs, ctx.workdir), excludes),
  };
}

// Not named materials/products: runAndAttest reads those as its own attestors' results.
const MATERIALS = 'intoto-materials';
const PRODUCTS = 'intoto-products';

/**
 * Runs one supply-chain step and describes it as an in-toto link (unsigned):
 * the command, the materials before it and the products after it, each
 * digested with sha256, paths relative to the working directory, recorded as
 * in-toto-run records them (see recordArtifacts).
 *
 * @throws VouchError COMMAND_FAILED_TO_START | PATH_ESCAPE | FILE_NOT_FOUND | FILE_READ | USAGE
 */
export async function recordLink(options: RecordLinkOptions): Promise<RecordLinkResult> {
  const excludes = options.exclude ?? DEFAULT_EXCLUDES;
  const isExcluded = excludeMatcher(excludes);
  const attestors: Attestor[] = [commandAttestor];
  if (options.materials?.length) {
    attestors.push(intotoArtifacts(MATERIALS, 'before', options.materials, excludes));
  }
  attestors.push(
    options.products?.length
      ? intotoArtifacts(PRODUCTS, 'after', options.products, excludes)
      : productsAttestor,
  );
  const result = await runAndAttest({
    argv: options.argv,
    workdir: options.workdir,
    env: options.env ?? process.env,
    // With product globs no pre-command snapshot is needed (none is taken).
    attestOptions: options.products?.length ? { products: options.products } : {},
    attestors,
    stdio: options.stdio ?? 'inherit',
    log: options.log ?? (() => {}),
  });
  if (result.exitCode !== 0) return { exitCode: result.exitCode, link: undefined };
  const materials = (result.attestations[MATERIALS] as Artifacts | undefined) ?? {};
  let products = result.attestations[PRODUCTS] as Artifacts | undefined;
  if (!products) {
    // The files the command created or changed, less what in-toto would exclude.
    products = {};
    for (const p of (result.attestations.products as ProductsAttestation | undefined)?.products ??
      []) {
      if (p.digest.sha256 && !isExcluded(p.name, false))
        products[p.name] = { sha256: p.digest.sha256 };
    }
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
