import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage, VouchError } from '../../core/errors.ts';

/**
 * Directories not entered unless asked: version control, vouch's evidence
 * store, and installed npm packages (third-party code, scanned on request).
 */
export const DEFAULT_SKIP_DIRECTORIES: readonly string[] = ['.git', '.vouch', 'node_modules'];

/**
 * Relative `/`-separated paths of the regular files below `root`, sorted.
 * Symbolic links are not followed (no loops, nothing outside the root);
 * directories whose name is in `skip` are not entered.
 *
 * @throws VouchError FILE_READ when a directory cannot be listed.
 */
export async function walkFiles(root: string, skip: ReadonlySet<string>): Promise<string[]> {
  const out: string[] = [];
  const stack: string[] = [''];
  while (stack.length > 0) {
    const dir = stack.pop() as string;
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir === '' ? root : join(root, dir), { withFileTypes: true });
    } catch (e) {
      throw new VouchError('FILE_READ', `cannot list directory: ${errorMessage(e)}`, {
        file: dir === '' ? root : dir,
        cause: e,
      });
    }
    for (const e of entries) {
      const rel = dir === '' ? e.name : `${dir}/${e.name}`;
      if (e.isDirectory()) {
        if (!skip.has(e.name)) stack.push(rel);
      } else if (e.isFile()) out.push(rel);
    }
  }
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
