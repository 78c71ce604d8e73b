import { lstat, open, realpath, stat } from 'node:fs/promises';
import { delimiter, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/**
 * The real path of the root of the git work tree that holds `dir`, found by
 * walking up from the real path of `dir` to the first directory with a
 * `.git` entry: a directory with a `HEAD` file (a repository), or a file
 * starting `gitdir:` (a linked worktree or a submodule). undefined outside
 * any work tree, or when `dir` cannot be resolved.
 *
 * A walk instead of `git rev-parse --show-toplevel`: no process per scan, no
 * git needed, and no refusal for a repository owned by another user (git's
 * `safe.directory`, common in CI containers) — a name is all this is for.
 * Starting from the real path means a symbolic link to a directory is placed
 * where its target is, as git does. Directories in GIT_CEILING_DIRECTORIES
 * are not walked into, as by git.
 */
export async function gitWorkTreeRoot(
  dir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  let d: string;
  try {
    d = await realpath(dir);
  } catch {
    return undefined;
  }
  // As git: never walk up into a directory of GIT_CEILING_DIRECTORIES.
  const ceilings = new Set<string>();
  for (const c of (env.GIT_CEILING_DIRECTORIES ?? '').split(delimiter)) {
    if (!isAbsolute(c)) continue;
    ceilings.add(resolve(c));
    ceilings.add(await realpath(c).catch(() => resolve(c)));
  }
  for (;;) {
    if (await isGitEntry(join(d, '.git'))) return d;
    const parent = dirname(d);
    if (parent === d || ceilings.has(parent)) return undefined;
    d = parent;
  }
}

async function isGitEntry(path: string): Promise<boolean> {
  const st = await lstat(path).catch(() => undefined);
  if (st?.isDirectory())
    return (await stat(join(path, 'HEAD')).catch(() => undefined)) !== undefined;
  if (!st?.isFile()) return false;
  const fh = await open(path, 'r').catch(() => undefined);
  if (!fh) return false;
  try {
    const head = Buffer.alloc(7);
    const { bytesRead } = await fh.read(head, 0, 7, 0);
    return head.subarray(0, bytesRead).toString('latin1') === 'gitdir:';
  } finally {
    await fh.close();
  }
}

/** `abs` relative to `root`, `/`-separated (`''` for the root itself). */
export function posixRelative(root: string, abs: string): string {
  const rel = relative(root, abs);
  return sep === '/' ? rel : rel.split(sep).join('/');
}
