import { stat } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { type DigestSet, digestFile } from '../core/digest.ts';
import { VouchError } from '../core/errors.ts';
import type { Subject } from '../core/statement.ts';
import type { Attestor, SubjectProducer } from './attestor.ts';
import { expandGlobs } from './globs.ts';
import { resolveInside, toSlash } from './paths.ts';
import { DIGEST_CONCURRENCY, mapLimit } from './pool.ts';
import { isRacy, type TreeSnapshot } from './snapshot.ts';
import { type FileStamp, sameStamp, stampTree } from './tree.ts';

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
    const changed = await changedFiles(ctx.workdir, ctx.snapshot, ctx.materials ?? new Map());
    ctx.log(`products: ${changed.length} changed files`);
    return { mode: 'changed', products: await digestProducts(ctx.workdir, changed) };
  },
  subjects(result) {
    return result.products;
  },
};

/**
 * Files created or changed since `before`. A file whose stamp (size, mtime,
 * ctime, inode, device) is identical and not racy is unchanged without being
 * read. Anything else is hashed and compared with the digest it had before:
 * its material digest, or the racy baseline. A changed stamp with no earlier
 * digest (an untracked, non-material file) counts as changed: we cannot prove
 * otherwise, and missing a product is worse than listing a rewritten one.
 */
export async function changedFiles(
  workdir: string,
  before: TreeSnapshot,
  materials: ReadonlyMap<string, DigestSet>,
): Promise<string[]> {
  const after = await stampTree(workdir);
  const suspects: Array<[string, FileStamp]> = [];
  for (const [path, st] of after) {
    const old = before.stamps.get(path);
    if (old && sameStamp(old, st) && !isRacy(st, before)) continue;
    suspects.push([path, st]);
  }
  const verdicts = await mapLimit(suspects, DIGEST_CONCURRENCY, async ([path, st]) => {
    const earlier = materials.get(path) ?? before.baselines.get(path);
    // Links: materials hold the link text's digest, so there is nothing comparable; a rewritten link counts.
    if (!earlier?.sha256 || st.kind === 'symlink') return true;
    try {
      const now = await digestFile(resolve(workdir, path));
      return now.sha256 !== earlier.sha256;
    } catch {
      return false; // deleted again before we looked: not a product
    }
  });
  return suspects.filter((_, i) => verdicts[i]).map(([path]) => path);
}

/**
 * Digests each product by content after checking it resolves inside the
 * working directory. Directories and dangling links are not products.
 *
 * @throws VouchError PATH_ESCAPE naming the product path
 */
async function digestProducts(workdir: string, paths: readonly string[]): Promise<Subject[]> {
  const out = await mapLimit(paths, DIGEST_CONCURRENCY, async (p): Promise<Subject | undefined> => {
    const real = await resolveInside(workdir, p);
    if (!real) return undefined;
    const st = await stat(real);
    if (!st.isFile()) return undefined;
    return {
      name: toSlash(relative(workdir, resolve(workdir, p))),
      digest: await digestFile(real),
    };
  });
  return out
    .filter((s): s is Subject => s !== undefined)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
