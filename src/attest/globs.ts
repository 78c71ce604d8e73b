import { glob } from 'node:fs/promises';

/** Never matched by user globs either: VCS internals and vouch's own evidence store. */
const ALWAYS_EXCLUDED = ['.git', '.vouch'];

function excluded(path: string): boolean {
  const first = path.split(/[\\/]/, 1)[0] ?? '';
  return ALWAYS_EXCLUDED.includes(first);
}

/**
 * Expands globs relative to `cwd` with Node's built-in matcher, returning
 * the matched paths as the matcher produced them (relative, possibly with
 * `..`), deduplicated and sorted. Callers check containment themselves.
 */
export async function expandGlobs(patterns: readonly string[], cwd: string): Promise<string[]> {
  const seen = new Set<string>();
  for await (const p of glob([...patterns], { cwd, exclude: excluded })) seen.add(p);
  return [...seen].sort();
}
