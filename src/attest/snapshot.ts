import { setTimeout as sleep } from 'node:timers/promises';
import type { DigestSet } from '../core/digest.ts';
import { digestFiles } from './hashing.ts';
import { type FileStamp, listFiles, stampPaths } from './tree.ts';

/**
 * File system timestamps come from a coarse kernel clock (one tick, at most
 * 10 ms on Linux) and some file systems keep whole seconds (2 s on FAT). A
 * file the command rewrites within the same tick as its last change before
 * the snapshot keeps an identical stamp — git's "racy clean" problem.
 *
 * We avoid it instead of paying for it: before the command starts, settle()
 * waits until the clock is one granule past the newest ctime in the snapshot
 * (usually no wait at all; a few ms right after a checkout). Any write by the
 * command then gets a later ctime. What settle() cannot fix — ctimes in the
 * future, from a file server whose clock runs ahead — is "racy": such files
 * are compared by content. A file server whose clock runs *behind* ours by
 * more than a granule is not covered; name outputs with --products there.
 */
export const RACY_WINDOW_NS = 0n;
const FINE_GRANULE_NS = 20_000_000n;
const COARSE_GRANULE_NS = 2_000_000_000n;
/** Longer than this and the clock is skewed, not merely recent: do not sleep on it. */
const MAX_SETTLE_NS = 3_000_000_000n;

/** The tree as it was before the command ran. */
export interface TreeSnapshot {
  /** Wall-clock time the snapshot started, in ns since the epoch. */
  takenAtNs: bigint;
  /** Files with a ctime this close to takenAtNs are compared by content. */
  racyWindowNs: bigint;
  /**
   * Every file and symbolic link the walk found, sorted. A promise so the
   * walk overlaps with the other 'before' attestors (git's start-up).
   */
  paths: Promise<string[]>;
  /**
   * Stamps by path. Hashing materials fills in theirs (taken from the open
   * file just before it is read); completeSnapshot() stats the rest.
   */
  stamps: Map<string, FileStamp>;
  /** Content digests of racy files that are not materials (materials carry their own). */
  baselines: Map<string, DigestSet>;
}

/** The ctime from which a file is racy: its stamp alone cannot show it unchanged, its content is compared. */
export function racyFrom(snapshot: TreeSnapshot): bigint {
  return snapshot.takenAtNs - snapshot.racyWindowNs;
}

function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/**
 * Step 1, before materials are hashed: note the time and start listing the
 * tree. No file is stat'ed yet: materials record their own stamps while they
 * are hashed, each one taken from the open file just before it is read, so a
 * change made while hashing moves ctime past the stamp and is re-examined
 * after the command instead of hiding behind a digest of older content.
 */
export function beginSnapshot(root: string, racyWindowNs: bigint = RACY_WINDOW_NS): TreeSnapshot {
  const takenAtNs = nowNs();
  const paths = listFiles(root);
  // Handled here so a failed walk is not an unhandled rejection while no one
  // awaits it yet; completeSnapshot() still awaits it and throws.
  paths.catch(() => {});
  return { takenAtNs, racyWindowNs, paths, stamps: new Map(), baselines: new Map() };
}

/**
 * Step 2, after materials are hashed: stamp every listed file that hashing
 * did not. A file deleted since the walk is simply not part of the snapshot.
 */
export async function completeSnapshot(root: string, snapshot: TreeSnapshot): Promise<void> {
  await stampPaths(root, await snapshot.paths, snapshot.stamps);
}

/** Steps 1 and 2 without hashing in between: every file's stamp, now. */
export async function takeSnapshot(
  root: string,
  racyWindowNs: bigint = RACY_WINDOW_NS,
): Promise<TreeSnapshot> {
  const snapshot = beginSnapshot(root, racyWindowNs);
  await completeSnapshot(root, snapshot);
  return snapshot;
}

/**
 * Step 3, after materials are known and before the command starts: hash the
 * racy files materials did not cover. In a fresh CI checkout every file is
 * racy, and they are nearly all materials, so this rarely hashes much.
 */
export async function addRacyBaselines(
  root: string,
  snapshot: TreeSnapshot,
  materials: ReadonlyMap<string, DigestSet>,
): Promise<void> {
  const from = racyFrom(snapshot);
  const todo: string[] = [];
  for (const [path, st] of snapshot.stamps) {
    if (st.ctimeNs >= from && st.kind === 'file' && !materials.has(path)) todo.push(path);
  }
  const digests = await digestFiles(root, todo);
  todo.forEach((p, i) => {
    const d = digests[i];
    if (d) snapshot.baselines.set(p, d);
  });
}

/**
 * Step 4, just before the command starts: wait until the file system clock
 * has moved a whole granule past every ctime in the snapshot (see above).
 * The granule is 2 s when every ctime is a whole second (a coarse file
 * system), else 20 ms.
 */
export async function settle(snapshot: TreeSnapshot): Promise<void> {
  let newest = 0n;
  let coarse = snapshot.stamps.size > 0;
  for (const st of snapshot.stamps.values()) {
    if (st.ctimeNs > newest) newest = st.ctimeNs;
    // Checked until one ctime has a fraction of a second: then it is not coarse.
    if (coarse && st.ctimeNs % 1_000_000_000n !== 0n) coarse = false;
  }
  const wait = newest + (coarse ? COARSE_GRANULE_NS : FINE_GRANULE_NS) - nowNs();
  if (wait > 0n && wait <= MAX_SETTLE_NS) await sleep(Number(wait / 1_000_000n) + 1);
}
