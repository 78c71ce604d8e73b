import { join } from 'node:path';
import { type DigestSet, digestFile } from '../core/digest.ts';
import { DIGEST_CONCURRENCY, mapLimit } from './pool.ts';
import { type FileStamp, stampTree } from './tree.ts';

/**
 * File system timestamps come from a coarse kernel clock (a few ms) and some
 * file systems store whole seconds. A file the command rewrites within the
 * same tick as our snapshot keeps an identical stamp — git's "racy clean"
 * problem. Any file whose ctime is this close to the snapshot is therefore
 * never trusted by stamp alone; it gets a content baseline instead.
 */
export const RACY_WINDOW_NS = 2_000_000_000n;

/** The tree as it was before the command ran. */
export interface TreeSnapshot {
  /** Wall-clock time the snapshot started, in ns since the epoch. */
  takenAtNs: bigint;
  /** Files with a ctime this close to takenAtNs are compared by content. */
  racyWindowNs: bigint;
  stamps: Map<string, FileStamp>;
  /** Content digests of racy files that are not materials (materials carry their own). */
  baselines: Map<string, DigestSet>;
}

export function isRacy(stamp: FileStamp, snapshot: TreeSnapshot): boolean {
  return stamp.ctimeNs >= snapshot.takenAtNs - snapshot.racyWindowNs;
}

/**
 * Step 1, before materials are hashed: stamps only. Taking stamps first means
 * a change made while materials are being hashed moves ctime past the stamp
 * and is re-examined later, instead of hiding behind a stale digest.
 */
export async function takeSnapshot(
  root: string,
  racyWindowNs: bigint = RACY_WINDOW_NS,
): Promise<TreeSnapshot> {
  const takenAtNs = BigInt(Date.now()) * 1_000_000n;
  return { takenAtNs, racyWindowNs, stamps: await stampTree(root), baselines: new Map() };
}

/**
 * Step 2, after materials are known and before the command starts: hash the
 * racy files materials did not cover. In a fresh CI checkout every file is
 * racy, and they are nearly all materials, so this rarely hashes much.
 */
export async function addRacyBaselines(
  root: string,
  snapshot: TreeSnapshot,
  materials: ReadonlyMap<string, DigestSet>,
): Promise<void> {
  const todo = [...snapshot.stamps]
    .filter(([path, st]) => st.kind === 'file' && !materials.has(path) && isRacy(st, snapshot))
    .map(([path]) => path);
  const digests = await mapLimit(todo, DIGEST_CONCURRENCY, (p) =>
    digestFile(join(root, p)).catch(() => undefined),
  );
  todo.forEach((p, i) => {
    const d = digests[i];
    if (d) snapshot.baselines.set(p, d);
  });
}
