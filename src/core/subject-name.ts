import { realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { digestFile } from './digest.ts';
import type { Subject } from './statement.ts';

/**
 * The name a file subject gets, the way `vouch run` names its products: the
 * path relative to `cwd`, `/`-separated and normalized, when the file is
 * below `cwd`; its base name when it is not. Evidence never carries an
 * absolute machine path, and the same file gets the same name from every
 * verb. Names are informational (matching is by digest), but people read
 * them and policies can test them (`subject.name`).
 *
 * Purely lexical: a symbolic link is named by its own path, as products are.
 * `fileSubjectName` also recognises an absolute path spelled through a
 * symbolic link to the working directory.
 */
export function subjectNameOf(path: string, cwd: string): string {
  const abs = resolve(cwd, path);
  return relativeName(abs, resolve(cwd)) ?? basename(abs);
}

/**
 * As `subjectNameOf`, but a path that is lexically outside `cwd` is looked at
 * once more through the real paths of its directory and of `cwd`, so that
 * `$PWD/dist/app.tgz` in a directory reached through a symbolic link (whose
 * `process.cwd()` is the real path) is still `dist/app.tgz`.
 */
export async function fileSubjectName(path: string, cwd: string): Promise<string> {
  const abs = resolve(cwd, path);
  const lexical = relativeName(abs, resolve(cwd));
  if (lexical !== undefined) return lexical;
  try {
    const [realDir, realCwd] = await Promise.all([realpath(dirname(abs)), realpath(cwd)]);
    const real = relativeName(join(realDir, basename(abs)), realCwd);
    if (real !== undefined) return real;
  } catch {
    // Unreadable or missing: the base name is still a name; reading the file reports the error.
  }
  return basename(abs);
}

/**
 * A Statement subject for a file: its SHA-256 and `name`, or the name
 * `fileSubjectName` gives when `name` is undefined.
 *
 * @throws VouchError FILE_NOT_FOUND / FILE_READ when the file cannot be read
 */
export async function fileSubject(path: string, cwd: string, name?: string): Promise<Subject> {
  const digest = await digestFile(resolve(cwd, path), ['sha256']);
  return { name: name ?? (await fileSubjectName(path, cwd)), digest };
}

/** `abs` relative to `root` with `/` separators, or undefined when it is not strictly below `root`. */
function relativeName(abs: string, root: string): string | undefined {
  const rel = relative(root, abs);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  return sep === '/' ? rel : rel.split(sep).join('/');
}
