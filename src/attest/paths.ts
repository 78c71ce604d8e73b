import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { errorMessage, VouchError } from '../core/errors.ts';

/** A path relative to the working directory with `/` separators, as subjects name files. */
export function toSlash(rel: string): string {
  return sep === '/' ? rel : rel.split(sep).join('/');
}

/** True when `child` (absolute) is `root` or lies below it. */
export function isInside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * Resolves `path` (relative to `root`, which must already be a real path)
 * through every symbolic link and checks the result stays inside `root`.
 * A product that resolves outside would let a build publish a signed digest
 * of, say, /etc/passwd or a sibling checkout under an innocent name.
 *
 * @returns the real path, or undefined for a dangling link
 * @throws VouchError PATH_ESCAPE naming `path`
 */
export async function resolveInside(root: string, path: string): Promise<string | undefined> {
  const abs = resolve(root, path);
  if (!isInside(root, abs)) {
    throw new VouchError('PATH_ESCAPE', 'path is outside the working directory', { file: path });
  }
  let real: string;
  try {
    real = await realpath(abs);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new VouchError('FILE_READ', `cannot resolve: ${errorMessage(e)}`, {
      file: path,
      cause: e,
    });
  }
  if (!isInside(root, real)) {
    throw new VouchError(
      'PATH_ESCAPE',
      `resolves through a symbolic link to ${real}, outside the working directory`,
      { file: path },
    );
  }
  return real;
}
