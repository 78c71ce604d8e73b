/**
 * A counting semaphore that never queues: when every slot is taken the
 * caller is told at once, so a flood gets prompt refusals instead of an
 * unbounded queue of pending requests in memory.
 */
export class Limiter {
  readonly max: number;
  #used = 0;

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1)
      throw new Error(`limit must be a positive integer: ${max}`);
    this.max = max;
  }

  get inUse(): number {
    return this.#used;
  }

  /** A release function, or undefined when full. Release is idempotent. */
  tryAcquire(): (() => void) | undefined {
    if (this.#used >= this.max) return undefined;
    this.#used++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#used--;
    };
  }
}
