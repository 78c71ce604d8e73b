import { readdir, realpath, stat } from 'node:fs/promises';
import { join, posix, relative, resolve } from 'node:path';
import { isInside, toSlash } from '../../attest/paths.ts';
import { digestFile } from '../../core/digest.ts';
import { errorMessage, VouchError } from '../../core/errors.ts';
import { type GlobOptions, globRegExp } from '../../core/glob.ts';
import type { Artifacts } from './model.ts';

/** in-toto 1.3.1's default exclude patterns (settings.ARTIFACT_EXCLUDE_PATTERNS). */
export const DEFAULT_EXCLUDES: readonly string[] = ['*.link*', '.git', '*.pyc', '*~'];

// As in-toto (pathspec's gitwildmatch) matches them: `**/` is zero or more directories; `**` crosses line breaks.
const IN_TOTO_GLOB: GlobOptions = { doubleStarSlashOptional: true, dotAll: true };

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
 * in-toto-run's `--lstrip-paths` check (runlib.record_artifacts_as_dict): no
 * prefix may be a left substring of another, since which one strips would
 * then depend on their order.
 *
 * @throws VouchError USAGE naming both prefixes
 */
export function checkLstripPrefixes(prefixes: readonly string[]): void {
  for (let i = 0; i < prefixes.length; i++) {
    for (let j = i + 1; j < prefixes.length; j++) {
      const a = prefixes[i] as string;
      const b = prefixes[j] as string;
      if (a.startsWith(b) || b.startsWith(a)) {
        throw new VouchError(
          'USAGE',
          `--lstrip-paths ${JSON.stringify(a)} and ${JSON.stringify(b)}: one is a prefix of the other`,
          { field: 'lstrip-paths' },
        );
      }
    }
  }
}

/**
 * The name an artifact is recorded under with in-toto-run's `--lstrip-paths`
 * (runlib._apply_left_strip): the first prefix it starts with is cut off (a
 * plain string prefix: without a trailing `/` the name keeps its `/`), and,
 * whenever prefixes are given, a name already recorded is an error, not an
 * overwrite: two artifacts must not collide after stripping.
 *
 * @throws VouchError USAGE naming the path and the name it collides on
 */
export function strippedName(
  path: string,
  recorded: Artifacts,
  prefixes: readonly string[],
): string {
  if (prefixes.length === 0) return path;
  let name = path;
  for (const prefix of prefixes) {
    if (name.startsWith(prefix)) {
      name = name.slice(prefix.length);
      break;
    }
  }
  if (Object.hasOwn(recorded, name)) {
    throw new VouchError(
      'USAGE',
      `--lstrip-paths makes ${JSON.stringify(path)} the name ${JSON.stringify(name)}, which is already recorded (in-toto: "non unique dictionary key")`,
      { file: path, field: 'lstrip-paths' },
    );
  }
  return name;
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
 * `workdir` is in-toto-run's `--base-path` when one is given: names are
 * relative to it. `lstrip` are `--lstrip-paths` prefixes (see strippedName).
 *
 * @param paths relative to `workdir` (globs already expanded)
 * @throws VouchError PATH_ESCAPE | FILE_READ | USAGE (lstrip prefixes that overlap or make names collide)
 */
export async function recordArtifacts(
  workdir: string,
  paths: readonly string[],
  excludes: readonly string[] = DEFAULT_EXCLUDES,
  lstrip: readonly string[] = [],
): Promise<Artifacts> {
  // As in-toto: the prefixes are checked only when there is something to record.
  if (paths.length > 0) checkLstripPrefixes(lstrip);
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
        out[strippedName(rel, out, lstrip)] = { sha256: (await digestFile(real)).sha256 as string };
      }
      return;
    }
    if (!info.isDirectory() || onStack.includes(real)) return;
    if (rel !== '' && isExcluded(rel, true)) return;
    const names = (await readdir(real)).sort();
    const below = [...onStack, real];
    for (const name of names) {
      await visit(rel === '' ? name : `${rel}/${name}`, below);
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
