import { randomBytes } from 'node:crypto';
import { link, mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errorMessage, VouchError } from './errors.ts';

export interface AtomicWriteOptions {
  /** File mode for a new file, e.g. 0o600 for private keys. */
  mode?: number;
  /** Fail instead of replacing an existing file. */
  exclusive?: boolean;
}

/**
 * Writes `data` to `path` so that readers see the old file or the whole new
 * one, never a part: write a temp file beside it, fsync, rename, fsync the
 * directory. A kill at any point leaves at most a stray `.tmp-*` file.
 *
 * @throws VouchError FILE_WRITE
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(dir, { recursive: true });
    const fh = await open(tmp, 'wx', options.mode ?? 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (options.exclusive) {
      // link(2) fails when the target exists, which rename(2) would not.
      await link(tmp, path);
      await rm(tmp, { force: true });
    } else {
      await rename(tmp, path);
    }
    await syncDir(dir);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => {});
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new VouchError('FILE_WRITE', 'file already exists', { file: path, cause: e });
    }
    throw new VouchError('FILE_WRITE', `cannot write: ${errorMessage(e)}`, {
      file: path,
      cause: e,
    });
  }
}

/**
 * fsync(2) of a directory, so that a rename into it survives a crash. Never
 * throws: some file systems refuse fsync on directories, and the rename is
 * atomic all the same.
 */
export async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Some file systems refuse fsync on directories; the rename is still atomic.
  }
}
