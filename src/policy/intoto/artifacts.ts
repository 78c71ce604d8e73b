import { readdir, realpath, stat } from 'node:fs/promises';
import { join, posix, relative, resolve } from 'node:path';
import { isInside, toSlash } from '../../attest/paths.ts';
import { digestFile } from '../../core/digest.ts';
import { errorMessage, VouchError } from '../../core/errors.ts';
import { type GlobOptions, globRegExp } from '../../core/glob.ts';
import type { Artifacts } from './model.ts';

/** in-toto 1.3.1's default exclude patterns (settings.ARTIFACT_EXCLUDE_PATTERNS). */
export const DEFAULT_EXCLUDES: readonly string[] = ['*.link*', '.git', '*.pyc', '*~'];

// As in-toto matched them: `**` then `/` also matches no directory; `**` crosses line breaks.
const IN_TOTO_GLOB: GlobOptions = { doubleStarDropsSlash: true, dotAll: true };

/**
 * A gitignore-style exclude pattern as in-toto applies it (pathspec's
 * gitwildmatch), for the forms in-toto's docs use: a pattern without `/`
 * matches a path component at any depth, one with `/` the whole path from
 * the working directory; a trailing `/` only directories; `*` and `?` stop
 * at `/`, `**` does not. An excluded directory excludes what is below it.
 *
 * @throws VouchError USAGE for `!` negation, which vouch does not implement
 */
export function excludeMatcher(
  patterns: readonly string[],
): (rel: string, dir: boolean) => boolean {
  const compiled = patterns.map((raw) => {
    if (raw.startsWith('!')) {
      throw new VouchError(
        'USAGE',
        `exclude pattern ${JSON.stringify(raw)}: negation is not supported`,
      );
    }
    let p = raw.trim();
    const dirOnly = p.endsWith('/');
    if (dirOnly) p = p.replace(/\/+$/, '');
    const anchored = p.includes('/');
    p = p.replace(/^\//, '');
    return { re: globRegExp(p, IN_TOTO_GLOB), dirOnly, anchored, empty: p === '' };
  });
  return (rel, dir) => {
    const parts = rel.split('/');
    return compiled.some(({ re, dirOnly, anchored, empty }) => {
      if (empty) return false;
      // Each prefix of the path is a directory but the last, which is `dir`.
      for (let n = 1; n <= parts.length; n++) {
        const isDir = n < parts.length || dir;
        if (dirOnly && !isDir) continue;
        const subject = anchored ? parts.slice(0, n).join('/') : (parts[n - 1] as string);
        if (re.test(subject)) return true;
      }
      return false;
    });
  };
}

/**
 * Records artifacts as in-toto-run does (runlib.record_artifacts_as_dict):
 * each path names a file or a directory (recorded recursively), symbolic
 * links are followed (to files and to directories), dangling links and
 * anything neither file nor directory are skipped, excluded paths are left
 * out, and names are normalised and relative to the working directory with
 * `/`. Stricter than in-toto: a path or link that resolves outside `workdir`
 * is an error, not a digest of a file out there under an innocent name, and a
 * link back to a directory being walked is not walked again.
 *
 * @param paths relative to `workdir` (globs already expanded)
 * @throws VouchError PATH_ESCAPE | FILE_READ
 */
export async function recordArtifacts(
  workdir: string,
  paths: readonly string[],
  excludes: readonly string[] = DEFAULT_EXCLUDES,
): Promise<Artifacts> {
  const root = await realpath(workdir);
  const isExcluded = excludeMatcher(excludes);
  const out: Artifacts = {};

  const visit = async (rel: string, onStack: readonly string[]): Promise<void> => {
    const abs = rel === '' ? root : join(root, rel);
    let real: string;
    try {
      real = await realpath(abs);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return; // missing or a dangling link: in-toto skips it
      throw new VouchError('FILE_READ', `cannot resolve: ${errorMessage(e)}`, {
        file: rel,
        cause: e,
      });
    }
    if (!isInside(root, real)) {
      throw new VouchError('PATH_ESCAPE', 'resolves outside the working directory', {
        file: rel || '.',
      });
    }
    const info = await stat(real);
    if (info.isFile()) {
      if (rel !== '' && !isExcluded(rel, false)) {
        out[rel] = { sha256: (await digestFile(real)).sha256 as string };
      }
      return;
    }
    if (!info.isDirectory() || onStack.includes(real)) return;
    if (rel !== '' && isExcluded(rel, true)) return;
    const names = (await readdir(real)).sort();
    for (const name of names) {
      await visit(rel === '' ? name : `${rel}/${name}`, [...onStack, real]);
    }
  };

  for (const p of paths) {
    const abs = resolve(root, p);
    if (!isInside(root, abs)) {
      throw new VouchError('PATH_ESCAPE', 'path is outside the working directory', { file: p });
    }
    const rel = posix.normalize(toSlash(relative(root, abs)));
    await visit(rel === '.' ? '' : rel, []);
  }
  return out;
}
