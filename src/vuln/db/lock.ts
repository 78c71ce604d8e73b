import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { errorMessage, VouchError } from '../../core/errors.ts';

/** The writers' lock file inside a `--db` directory (an empty SQLite file). */
export const LOCK_FILE = '.osv.sqlite.lock';

/** Prefix of the temp files a writer builds the next database in. */
export const TEMP_PREFIX = '.osv.sqlite.tmp-';

/** How long a writer waits for another by default: 30 minutes. */
export const DEFAULT_LOCK_WAIT_MS = 30 * 60 * 1000;

export interface LockOptions {
  /** Give up after this long (ms); default {@link DEFAULT_LOCK_WAIT_MS}. */
  waitMs?: number;
  /** Told once when another writer holds the lock and this one waits. */
  onWait?: () => void;
}

/**
 * Runs `fn` while holding the database directory's writer lock, so writers
 * take turns: a second import waits for the first, then applies its own
 * sources on top of the first one's result (no update is lost).
 *
 * The lock is SQLite's own exclusive lock on {@link LOCK_FILE} (POSIX record
 * locks): the kernel drops it when the holder exits, even by SIGKILL, so a
 * dead writer never leaves a stale lock behind. Waiting polls without
 * blocking the event loop. Readers never take this lock: they open the
 * database file, which is only ever replaced whole by rename.
 *
 * Temp files of a writer that died are removed once the lock is held (only
 * the holder writes temp files, so any found then are leftovers).
 *
 * @throws VouchError VULN_DB_BUSY (waited longer than `waitMs`) | FILE_WRITE
 */
export async function withWriteLock<T>(
  dir: string,
  fn: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const path = join(dir, LOCK_FILE);
  let lock: DatabaseSync;
  try {
    await mkdir(dir, { recursive: true });
    // timeout 0: a busy lock throws at once; the wait below is asynchronous.
    lock = new DatabaseSync(path, { timeout: 0 });
  } catch (e) {
    throw new VouchError('FILE_WRITE', `cannot open the database lock: ${errorMessage(e)}`, {
      file: path,
      cause: e,
    });
  }
  try {
    const waitMs = options.waitMs ?? DEFAULT_LOCK_WAIT_MS;
    const start = Date.now();
    let pause = 10;
    let told = false;
    for (;;) {
      try {
        // The journal of this empty lock database stays in memory: nothing
        // left on disk. (The pragma itself is busy while another holds the lock.)
        lock.exec('PRAGMA journal_mode = MEMORY');
        lock.exec('BEGIN EXCLUSIVE');
        break;
      } catch (e) {
        if (!isBusy(e)) {
          throw new VouchError('FILE_WRITE', `cannot take the database lock: ${errorMessage(e)}`, {
            file: path,
            cause: e,
          });
        }
      }
      if (Date.now() - start >= waitMs) {
        throw new VouchError(
          'VULN_DB_BUSY',
          `another vouch process has been writing this database for over ${Math.round(waitMs / 1000)} s`,
          { file: dir },
        );
      }
      if (!told) {
        told = true;
        options.onWait?.();
      }
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause * 2, 250);
    }
    await removeLeftovers(dir);
    try {
      return await fn();
    } finally {
      lock.exec('ROLLBACK');
    }
  } finally {
    lock.close();
  }
}

function isBusy(e: unknown): boolean {
  const code = (e as { errcode?: unknown }).errcode;
  // SQLITE_BUSY (5) and its extended codes; SQLITE_LOCKED (6) within one process.
  return typeof code === 'number' && ((code & 0xff) === 5 || (code & 0xff) === 6);
}

async function removeLeftovers(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (n.startsWith(TEMP_PREFIX)) await rm(join(dir, n), { force: true }).catch(() => {});
  }
}
