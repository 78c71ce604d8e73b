import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { errorMessage, VouchError } from './errors.ts';

/**
 * stat(2) of a path the user named (a symbolic link is followed: the name may
 * be one), with the failure as a VouchError naming the file as `name` (the
 * user's spelling of `path`, where it was resolved).
 *
 * @throws VouchError FILE_NOT_FOUND (no such file or directory) | FILE_READ
 */
export function statPath(path: string, name = path): Promise<Stats> {
  return statOrThrow(stat, path, name);
}

async function statOrThrow(
  call: (path: string) => Promise<Stats>,
  path: string,
  name: string,
): Promise<Stats> {
  try {
    return await call(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new VouchError('FILE_NOT_FOUND', 'no such file or directory', { file: name });
    }
    throw new VouchError('FILE_READ', `cannot read: ${errorMessage(e)}`, { file: name, cause: e });
  }
}
