/**
 * Maps `items` through `fn` with at most `limit` calls in flight, keeping
 * input order in the output. Hashing 10,000 files one at a time leaves the
 * disk idle between reads; all at once exhausts file descriptors.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  const workers = Array.from({ length: Math.min(limit, items.length) }, worker);
  await Promise.all(workers);
  return out;
}

/** How many files are hashed at once. */
export const DIGEST_CONCURRENCY = 16;
