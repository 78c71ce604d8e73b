import { stat } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { type DigestSet, digestFile } from '../core/digest.ts';
import { VouchError } from '../core/errors.ts';
import type { Subject } from '../core/statement.ts';
import { subjectNameOf } from '../core/subject-name.ts';
import type { Attestor, SubjectProducer } from './attestor.ts';
import { expandGlobs } from './globs.ts';
import { resolveInside, toSlash } from './paths.ts';
import { DIGEST_CONCURRENCY, mapLimit } from './pool.ts';
import { racyFrom, type TreeSnapshot } from './snapshot.ts';
import { DEFAULT_EXCLUDED_DIRS, stampMatches, statTree } from './tree.ts';

export interface ProductsAttestation {
  /**
   * `changed`: files the command created or whose content it changed.
   * `globs`: every file matching `--products`, changed or not — the user named
   * the outputs, which also covers a no-op rebuild.
   */
  mode: 'changed' | 'globs';
  /** Sorted by name. A symbolic link is named by its own path and digested by its target's content. */
  products: Subject[];
}

export const productsAttestor: Attestor<ProductsAttestation> &
  SubjectProducer<ProductsAttestation> = {
  name: 'products',
  phase: 'after',
  async attest(ctx) {
    const globs = ctx.options.products;
    if (globs && globs.length > 0) {
      const paths = await expandGlobs(globs, ctx.workdir);
      return { mode: 'globs', products: await digestProducts(ctx.workdir, paths) };
    }
    if (!ctx.snapshot) {
      throw new VouchError('USAGE', 'products need a pre-command snapshot or --products globs');
    }
    // An image digest file is the build's note of what it pushed, not an
    // artifact: the image it names is the subject (see images.ts).
    const notes = new Set(
      (ctx.options.imageDigestFiles ?? []).map((f) =>
        toSlash(relative(ctx.workdir, resolve(ctx.workdir, f.path))),
      ),
    );
    const changed = (
      await changedFiles(ctx.workdir, ctx.snapshot, ctx.materials ?? new Map())
    ).filter((p) => !notes.has(p));
    ctx.log(`products: ${changed.length} changed files`);
    return { mode: 'changed', products: await digestProducts(ctx.workdir, changed) };
  },
  subjects(result) {
    return result.products;
  },
};

/**
 * Files the command created or changed, relative to `before`:
 *
 * - a file not in the snapshot is new: a product;
 * - identical stamp (size, mtime, ctime, inode, device), not racy: unchanged,
 *   and never read;
 * - a material (an input) with a changed or racy stamp: re-hashed, a product
 *   only if its content differs — a build that rewrites a source file with the
 *   same bytes did not produce it;
 * - any other file with a changed stamp: the command wrote it, so it is a
 *   product even if the bytes are the same as last time (a rebuild produces
 *   its outputs again; we have no earlier digest to compare anyway);
 * - any other file with an identical but racy stamp: compared with the
 *   content baseline taken before the command.
 */
export async function changedFiles(
  workdir: string,
  before: TreeSnapshot,
  materials: ReadonlyMap<string, DigestSet>,
): Promise<string[]> {
  const products: string[] = [];
  const toCompare: Array<[string, DigestSet]> = [];
  const racy = racyFrom(before);
  // Each file is compared as it is stat'ed: no second map of 10,000 stamps.
  await statTree(workdir, DEFAULT_EXCLUDED_DIRS, (path, st) => {
    const isFile = st.isFile();
    if (!isFile && !st.isSymbolicLink()) return;
    const old = before.stamps.get(path);
    if (!old) {
      products.push(path);
      return;
    }
    const same = stampMatches(old, st);
    if (same && st.ctimeNs < racy) return; // unchanged and not racy (racyFrom)
    const material = materials.get(path);
    // Links: materials hold the link text's digest, so nothing comparable; a touched link counts.
    if (material?.sha256 && isFile) toCompare.push([path, material]);
    else if (!same) products.push(path);
    else {
      const baseline = before.baselines.get(path);
      if (baseline?.sha256 && isFile) toCompare.push([path, baseline]);
    }
  });
  const differs = await mapLimit(toCompare, DIGEST_CONCURRENCY, async ([path, earlier]) => {
    try {
      return (await digestFile(resolve(workdir, path))).sha256 !== earlier.sha256;
    } catch {
      return false; // deleted again before we looked: not a product
    }
  });
  toCompare.forEach(([path], i) => {
    if (differs[i]) products.push(path);
  });
  return products.sort();
}

/**
 * Digests each product by content after checking it resolves inside the
 * working directory. Directories and dangling links are not products.
 *
 * @throws VouchError PATH_ESCAPE naming the product path
 */
async function digestProducts(workdir: string, paths: readonly string[]): Promise<Subject[]> {
  const out = await mapLimit(paths, DIGEST_CONCURRENCY, async (p) => {
    try {
      const real = await resolveInside(workdir, p);
      if (!real || !(await stat(real)).isFile()) return undefined;
      return {
        name: subjectNameOf(p, workdir),
        digest: await digestFile(real),
      };
    } catch (error) {
      return { error };
    }
  });
  // Report the first failure in path order, so the error does not depend on I/O timing.
  const subjects: Subject[] = [];
  for (const r of out) {
    if (r === undefined) continue;
    if ('error' in r) throw r.error;
    subjects.push(r);
  }
  return subjects.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
