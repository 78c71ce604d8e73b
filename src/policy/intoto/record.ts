import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { expandGlobs } from '../../attest/globs.ts';
import {
  type Attestor,
  type CommandAttestation,
  commandAttestor,
  type ProductsAttestation,
  productsAttestor,
  runAndAttest,
} from '../../attest/index.ts';
import { toSlash } from '../../attest/paths.ts';
import { errorMessage, VouchError } from '../../core/errors.ts';
import {
  checkLstripPrefixes,
  DEFAULT_EXCLUDES,
  excludeMatcher,
  recordArtifacts,
  strippedName,
} from './artifacts.ts';
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
  /**
   * in-toto-run's `--base-path`: materials and products are looked up and
   * recorded relative to this directory (relative to `workdir` when not
   * absolute); the command still runs in `workdir`.
   */
  basePath?: string;
  /**
   * in-toto-run's `--lstrip-paths`: the first of these prefixes a recorded
   * name starts with is removed from it; no prefix may start another, and
   * two artifacts recorded under the same name are an error.
   */
  lstripPaths?: string[];
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
  base: string | undefined,
  lstrip: readonly string[],
): Attestor<Artifacts> {
  return {
    name,
    phase,
    attest: async (ctx) => {
      const root = base ?? ctx.workdir;
      return recordArtifacts(root, await expandPaths(globs, root), excludes, lstrip);
    },
  };
}

/**
 * The base path as a real directory, checked before the step runs.
 *
 * @throws VouchError FILE_NOT_FOUND | USAGE (not a directory) | FILE_READ
 */
async function realBasePath(basePath: string, workdir: string): Promise<string> {
  const path = resolve(workdir, basePath);
  try {
    const real = await realpath(path);
    if (!(await stat(real)).isDirectory()) {
      throw new VouchError('USAGE', '--base-path is not a directory', { file: basePath });
    }
    return real;
  } catch (e) {
    if (e instanceof VouchError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new VouchError('FILE_NOT_FOUND', '--base-path does not exist', { file: basePath });
    }
    throw new VouchError('FILE_READ', `cannot use as --base-path: ${errorMessage(e)}`, {
      file: basePath,
      cause: e,
    });
  }
}

/** `abs` relative to `base` with `/`, or undefined when it is not below it. */
function underBase(base: string, abs: string): string | undefined {
  const rel = relative(base, abs);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  return toSlash(rel);
}

// Not named materials/products: runAndAttest reads those as its own attestors' results.
const MATERIALS = 'intoto-materials';
const PRODUCTS = 'intoto-products';

/**
 * Runs one supply-chain step and describes it as an in-toto link (unsigned):
 * the command, the materials before it and the products after it, each
 * digested with sha256, paths relative to the working directory (or the
 * base path), recorded as in-toto-run records them (see recordArtifacts).
 *
 * @throws VouchError COMMAND_FAILED_TO_START | PATH_ESCAPE | FILE_NOT_FOUND | FILE_READ | USAGE
 *   (USAGE also for --lstrip-paths prefixes that overlap or make two names collide)
 */
export async function recordLink(options: RecordLinkOptions): Promise<RecordLinkResult> {
  const excludes = options.exclude ?? DEFAULT_EXCLUDES;
  const isExcluded = excludeMatcher(excludes);
  const lstrip = options.lstripPaths ?? [];
  // in-toto-run checks this when it records; products are always recorded here, so before the step.
  checkLstripPrefixes(lstrip);
  const base =
    options.basePath === undefined
      ? undefined
      : await realBasePath(options.basePath, options.workdir);
  const attestors: Attestor[] = [commandAttestor];
  if (options.materials?.length) {
    attestors.push(intotoArtifacts(MATERIALS, 'before', options.materials, excludes, base, lstrip));
  }
  attestors.push(
    options.products?.length
      ? intotoArtifacts(PRODUCTS, 'after', options.products, excludes, base, lstrip)
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
    // With a base path, those under it, named relative to it.
    const workdir = await realpath(options.workdir);
    products = {};
    for (const p of (result.attestations.products as ProductsAttestation | undefined)?.products ??
      []) {
      const name = base === undefined ? p.name : underBase(base, resolve(workdir, p.name));
      if (name === undefined || !p.digest.sha256 || isExcluded(name, false)) continue;
      products[strippedName(name, products, lstrip)] = { sha256: p.digest.sha256 };
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
