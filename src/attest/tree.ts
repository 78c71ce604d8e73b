import { type BigIntStats, lstatSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';

/** Directories never walked by default: VCS data, installed dependencies, our own store. */
export const DEFAULT_EXCLUDED_DIRS: readonly string[] = ['.git', 'node_modules', '.vouch'];

/**
 * What `stat` says about a file, enough to tell "certainly unchanged" from
 * "maybe changed" without reading it. ctime is included because a tool (or an
 * attacker) can put mtime back with utimes(2) after changing the content, but
 * cannot put ctime back: the kernel sets it on every content or inode change.
 */
export interface FileStamp {
  kind: 'file' | 'symlink';
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  ino: bigint;
  dev: bigint;
}

export function stampOf(st: BigIntStats): FileStamp | undefined {
  const kind = st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : undefined;
  if (!kind) return undefined;
  return {
    kind,
    size: st.size,
    mtimeNs: st.mtimeNs,
    ctimeNs: st.ctimeNs,
    ino: st.ino,
    dev: st.dev,
  };
}

export function sameStamp(a: FileStamp, b: FileStamp): boolean {
  return (
    a.kind === b.kind &&
    a.size === b.size &&
    a.mtimeNs === b.mtimeNs &&
    a.ctimeNs === b.ctimeNs &&
    a.ino === b.ino &&
    a.dev === b.dev
  );
}

/**
 * Lists regular files and symbolic links under `root` as `/`-separated
 * relative paths, sorted, skipping directories named in `excludedDirs` at any
 * depth. Symbolic links to directories are listed, not followed, so a link to
 * `/` cannot make the walk leave the tree.
 */
export async function listFiles(
  root: string,
  excludedDirs: readonly string[] = DEFAULT_EXCLUDED_DIRS,
): Promise<string[]> {
  const skip = new Set(excludedDirs);
  const out: string[] = [];
  const dirs: string[] = [''];
  while (dirs.length > 0) {
    const rel = dirs.pop() as string;
    const entries = await readdir(rel === '' ? root : join(root, rel), { withFileTypes: true });
    for (const e of entries) {
      const path = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (!skip.has(e.name)) dirs.push(path);
      } else if (e.isFile() || e.isSymbolicLink()) {
        out.push(path);
      }
    }
  }
  return out.sort();
}

/**
 * How to name `rel` under `root` for a system call: relative when `root` is
 * the working directory, which saves the kernel a lookup of every component
 * of `root` per file (measurable over 10,000 files). Only JavaScript on the
 * main thread can chdir, and only while we await, so callers ask again after
 * every await.
 */
export function pathsUnder(root: string): (rel: string) => string {
  return process.cwd() === root ? (rel) => rel : (rel) => join(root, rel);
}

/**
 * Stamps of every file under `root`, keyed by relative path. lstat runs
 * synchronously in batches: one async call per file costs a thread-pool round
 * trip each, several times slower on large trees (see hashing.ts).
 */
export async function stampTree(
  root: string,
  excludedDirs: readonly string[] = DEFAULT_EXCLUDED_DIRS,
): Promise<Map<string, FileStamp>> {
  const files = await listFiles(root, excludedDirs);
  const out = new Map<string, FileStamp>();
  let at = pathsUnder(root);
  for (let i = 0; i < files.length; i++) {
    if (i > 0 && i % 1024 === 0) {
      await yieldToLoop();
      at = pathsUnder(root);
    }
    const rel = files[i] as string;
    try {
      const s = stampOf(lstatSync(at(rel), { bigint: true }));
      if (s) out.set(rel, s);
    } catch {
      // deleted while we walked: simply not part of the snapshot
    }
  }
  return out;
}
