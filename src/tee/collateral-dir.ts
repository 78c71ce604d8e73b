/**
 * Listing a collateral directory (`--collateral DIR`): the one bounded read
 * the CRL reader and the platforms' collateral readers share.
 */
import { readdirSync } from 'node:fs';
import { VouchError } from '../core/errors.ts';

/** A collateral directory holds a handful of files; more is not collateral. */
export const MAX_COLLATERAL_ENTRIES = 256;

/**
 * The names of the entries in `dir`, sorted (so readers see them in a stable order).
 *
 * @throws VouchError FILE_NOT_FOUND, FILE_READ naming the directory; TEE_MALFORMED
 *   when it holds more than MAX_COLLATERAL_ENTRIES entries
 */
export function listCollateralDir(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'FILE_READ';
    throw new VouchError(code, `cannot read collateral directory (${(e as Error).message})`, {
      file: dir,
      cause: e,
    });
  }
  if (names.length > MAX_COLLATERAL_ENTRIES) {
    throw new VouchError(
      'TEE_MALFORMED',
      `collateral directory holds ${names.length} entries (limit ${MAX_COLLATERAL_ENTRIES})`,
      { file: dir },
    );
  }
  return names;
}
