import { fileURLToPath } from 'node:url';

/**
 * `../shared` beside the project root: the vectors, bench lockfiles and
 * oracles every developer and CI run has (see ../shared/README.md). Tests and
 * benchmarks find it from here, never from a machine path;
 * VOUCH_SHARED overrides it for an unusual layout.
 */
export const SHARED: string =
  process.env.VOUCH_SHARED ?? fileURLToPath(new URL('../../shared', import.meta.url));
