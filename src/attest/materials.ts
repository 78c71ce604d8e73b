import { access } from 'node:fs/promises';
import { join, posix, relative, resolve } from 'node:path';
import type { DigestSet } from '../core/digest.ts';
import { VouchError } from '../core/errors.ts';
import type { AttestationContext, Attestor } from './attestor.ts';
import { git } from './exec.ts';
import { gitWorkTree } from './git.ts';
import { expandGlobs } from './globs.ts';
import { digestFiles } from './hashing.ts';
import { isInside, resolveInside, toSlash } from './paths.ts';
import { listFiles } from './tree.ts';

/** Lockfiles pin what a build resolves, so they are inputs even when untracked. */
export const LOCKFILES: readonly string[] = [
  'package-lock.json',
  'npm-shrinkwrap.json',
  'pnpm-lock.yaml',
  'yarn.lock',
  'bun.lock',
  'bun.lockb',
  'deno.lock',
  'Cargo.lock',
  'go.sum',
  'go.work.sum',
  'poetry.lock',
  'uv.lock',
  'Pipfile.lock',
  'pdm.lock',
  'Gemfile.lock',
  'composer.lock',
  'mix.lock',
  'pubspec.lock',
  'Podfile.lock',
  'packages.lock.json',
  'gradle.lockfile',
  'flake.lock',
];

export interface Material {
  /** Relative to the working directory, `/`-separated. */
  path: string;
  digest: DigestSet;
}

export interface MaterialsAttestation {
  /** How the file list was chosen. */
  source: 'git' | 'walk' | 'globs';
  /** Sorted by path. Symbolic links are digested by their target text, as git records them. */
  materials: Material[];
}

export const materialsAttestor: Attestor<MaterialsAttestation> = {
  name: 'materials',
  phase: 'before',
  async attest(ctx) {
    const { workdir, options } = ctx;
    let source: MaterialsAttestation['source'];
    let unique: readonly string[];
    if (options.materials && options.materials.length > 0) {
      source = 'globs';
      const paths = await expandGlobs(options.materials, workdir);
      unique = sortedOnce(paths.map((p) => containedPath(workdir, p)));
      await assertDirectoriesInside(workdir, unique);
    } else {
      const tracked = await gitTrackedFiles(ctx);
      source = tracked ? 'git' : 'walk';
      // Without git every file the walk finds is a material, root-level
      // lockfiles included, and its list is sorted with each path once: the
      // pre-command snapshot's walk when there is one.
      unique = tracked
        ? sortedOnce([...tracked, ...(await presentLockfiles(workdir))])
        : await (ctx.snapshot?.paths ?? listFiles(workdir));
    }
    // Stamps taken while hashing are the snapshot's: no second stat per file.
    const digests = await digestFiles(workdir, unique, ctx.snapshot?.stamps);
    const materials: Material[] = [];
    unique.forEach((path, i) => {
      const digest = digests[i];
      if (digest) materials.push({ path, digest });
    });
    ctx.log(`materials: ${materials.length} files (${source})`);
    return { source, materials };
  },
};

/** Paths in the materials result as a lookup table, which products diff against. */
export function materialsMap(a: MaterialsAttestation): Map<string, DigestSet> {
  const out = new Map<string, DigestSet>();
  for (const m of a.materials) out.set(m.path, m.digest);
  return out;
}

/** `git ls-files` relative to `workdir`, gitlinks left out, or undefined outside a git work tree. */
async function gitTrackedFiles(ctx: AttestationContext): Promise<string[] | undefined> {
  const { workdir, env } = ctx;
  // The git attestor asks the same question at the same time: one git process answers both.
  const inside = await gitWorkTree(ctx);
  if (!inside.ok || inside.stdout.trim() !== 'true') return undefined;
  // -z: names with newlines or quotes come back verbatim, not C-quoted.
  // --stage gives each entry's mode: a gitlink (160000) is a submodule,
  // recorded by its commit as a source of its own (git.ts), not a file —
  // whatever stands at its path in the work tree (an empty directory, or a
  // file put there) is not the submodule and must not be hashed as it.
  const r = await git(['ls-files', '-z', '--cached', '--stage'], workdir, env);
  if (!r.ok) return undefined;
  const out: string[] = [];
  for (const entry of r.stdout.split('\0')) {
    const tab = entry.indexOf('\t'); // "<mode> <object> <stage>\t<path>"
    if (tab > 0 && !entry.startsWith('160000 ')) out.push(entry.slice(tab + 1));
  }
  return out;
}

function sortedOnce(paths: readonly string[]): string[] {
  return [...new Set(paths)].sort();
}

async function presentLockfiles(workdir: string): Promise<string[]> {
  const present = await Promise.all(
    LOCKFILES.map((name) =>
      access(join(workdir, name)).then(
        () => true,
        () => false, // not present
      ),
    ),
  );
  return LOCKFILES.filter((_, i) => present[i]);
}

/**
 * Hashing never follows a material's own link (it is digested as a link),
 * but the directories above it are resolved by the kernel: a glob reaching
 * `vendor/x` through a `vendor` link to a directory outside the tree would
 * fingerprint a file out there under an innocent name. Each distinct parent
 * directory must resolve inside the working directory (git-tracked and
 * walked files never lie below a link: git does not track through one and
 * the walk lists a link without entering it).
 *
 * @throws VouchError PATH_ESCAPE naming the first material whose directory resolves outside
 */
async function assertDirectoriesInside(workdir: string, paths: readonly string[]): Promise<void> {
  const checked = new Set<string>();
  for (const p of paths) {
    const dir = posix.dirname(p);
    if (dir === '.' || checked.has(dir)) continue;
    checked.add(dir);
    // A directory removed since the glob saw it resolves to undefined: hashing skips its files.
    await resolveInside(workdir, dir).catch((e: unknown) => {
      if (e instanceof VouchError && e.code === 'PATH_ESCAPE') {
        throw new VouchError('PATH_ESCAPE', `material's directory ${e.message}`, { file: p });
      }
      throw e;
    });
  }
}

function containedPath(workdir: string, p: string): string {
  const abs = resolve(workdir, p);
  if (!isInside(workdir, abs)) {
    throw new VouchError('PATH_ESCAPE', 'material is outside the working directory', { file: p });
  }
  return toSlash(relative(workdir, abs));
}
