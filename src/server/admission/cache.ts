import type { PolicyVerdict } from '../../policy/index.ts';

export interface CachedVerdict {
  verdict: PolicyVerdict;
  /** Epoch ms: never served at or after this. */
  expires: number;
}

/**
 * Full PolicyVerdicts by `digest|policy digest|trust version`, each with its
 * own expiry (see verdictExpiry), bounded in entries (least recently used
 * dropped first). A hit returns a verdict in which every rule was evaluated;
 * an expired entry is a miss, so the rules run again.
 */
export class VerdictCache {
  readonly #entries = new Map<string, CachedVerdict>();
  readonly #max: number;

  constructor(maxEntries = 10_000) {
    this.#max = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string, now: number): CachedVerdict | undefined {
    const hit = this.#entries.get(key);
    if (!hit) return undefined;
    this.#entries.delete(key);
    if (now >= hit.expires) return undefined;
    this.#entries.set(key, hit);
    return hit;
  }

  set(key: string, value: CachedVerdict): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  clear(): void {
    this.#entries.clear();
  }
}

/** One shared promise per key while it runs: concurrent callers wait on the same work. */
export class Coalescer<T> {
  readonly #running = new Map<string, Promise<T>>();

  get size(): number {
    return this.#running.size;
  }

  run(key: string, work: () => Promise<T>): { promise: Promise<T>; joined: boolean } {
    const running = this.#running.get(key);
    if (running) return { promise: running, joined: true };
    const promise = work().finally(() => this.#running.delete(key));
    this.#running.set(key, promise);
    return { promise, joined: false };
  }
}
