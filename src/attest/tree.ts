import { type BigIntStats, lstatSync, readdirSync } from 'node:fs';
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
 *
 * Directories are read synchronously: an async readdir is a thread-pool round
 * trip per directory, and the walk's cost is mostly the main thread's work on
 * the entries anyway. It starts after a turn of the event loop, so what the
 * caller starts next (the 'before' attestors' git processes) is already
 * running while it reads, and it yields every YIELD_EVERY entries so their
 * output keeps flowing on a large tree.
 */
export async function listFiles(
  root: string,
  excludedDirs: readonly string[] = DEFAULT_EXCLUDED_DIRS,
): Promise<string[]> {
  const skip = new Set(excludedDirs);
  const out: string[] = [];
  const dirs: string[] = [''];
  let since = YIELD_EVERY;
  while (dirs.length > 0) {
    if (since >= YIELD_EVERY) {
      since = 0;
      await yieldToLoop();
    }
    const rel = dirs.pop() as string;
    const entries = readdirSync(rel === '' ? root : join(root, rel), { withFileTypes: true });
    since += entries.length;
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

/** Synchronous file system work between yields to the event loop. */
const YIELD_EVERY = 1024;

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

/** Stamps of every file under `root`, keyed by relative path. */
export async function stampTree(
  root: string,
  excludedDirs: readonly string[] = DEFAULT_EXCLUDED_DIRS,
): Promise<Map<string, FileStamp>> {
  const out = new Map<string, FileStamp>();
  await statTree(root, excludedDirs, (rel, st) => {
    const stamp = stampOf(st);
    if (stamp) out.set(rel, stamp);
  });
  return out;
}

/**
 * True when `st` (an lstat) is what `stamp` recorded: the same test as
 * sameStamp(stamp, stampOf(st)), without building a stamp to throw away.
 */
export function stampMatches(stamp: FileStamp, st: BigIntStats): boolean {
  return (
    (stamp.kind === 'file' ? st.isFile() : st.isSymbolicLink()) &&
    stamp.size === st.size &&
    stamp.mtimeNs === st.mtimeNs &&
    stamp.ctimeNs === st.ctimeNs &&
    stamp.ino === st.ino &&
    stamp.dev === st.dev
  );
}

/**
 * Walks `root` as listFiles does and calls `visit` with each file's lstat,
 * in no particular order. One pass, synchronous system calls (each async call
 * is a thread-pool round trip, several times slower per file on large trees),
 * each file stat'ed right after its directory is read, and nothing kept per
 * file: the cheap way to look at every stamp after the command. A path
 * deleted between readdir and lstat is simply left out.
 */
export async function statTree(
  root: string,
  excludedDirs: readonly string[],
  visit: (rel: string, st: BigIntStats) => void,
): Promise<void> {
  const skip = new Set(excludedDirs);
  const dirs: string[] = [''];
  let at = pathsUnder(root);
  let since = 0;
  while (dirs.length > 0) {
    if (since >= YIELD_EVERY) {
      since = 0;
      await yieldToLoop();
      at = pathsUnder(root);
    }
    const rel = dirs.pop() as string;
    const entries = readdirSync(rel === '' ? root : join(root, rel), { withFileTypes: true });
    for (const e of entries) {
      const path = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (!skip.has(e.name)) dirs.push(path);
      } else if (e.isFile() || e.isSymbolicLink()) {
        since++;
        let st: BigIntStats | undefined;
        try {
          st = lstatSync(at(path), { bigint: true, throwIfNoEntry: false });
        } catch {
          // gone or replaced since readdir: not part of the tree
        }
        if (st) visit(path, st);
      }
    }
  }
}

/**
 * Adds to `into` the stamp of each of `paths` (relative to `root`) it does
 * not hold yet. lstat runs synchronously in batches: one async call per file
 * costs a thread-pool round trip each, several times slower on large trees
 * (see hashing.ts). A path deleted since it was listed is simply left out.
 */
export async function stampPaths(
  root: string,
  paths: readonly string[],
  into: Map<string, FileStamp>,
): Promise<void> {
  let done = 0;
  let at = pathsUnder(root);
  for (const rel of paths) {
    if (into.has(rel)) continue;
    if (++done % 1024 === 0) {
      await yieldToLoop();
      at = pathsUnder(root);
    }
    try {
      const stamp = stampOf(lstatSync(at(rel), { bigint: true }));
      if (stamp) into.set(rel, stamp);
    } catch {
      // deleted since it was listed
    }
  }
}
