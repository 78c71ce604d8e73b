import { constants } from 'node:fs';
import { lstat, open, readdir, realpath } from 'node:fs/promises';
import {
  basename,
  dirname,
  isAbsolute,
  join,
  matchesGlob,
  posix,
  relative,
  resolve,
  sep,
} from 'node:path';
import { errorMessage, isVouchError, VouchError } from '../core/errors.ts';
import { statPath } from '../core/stat.ts';
import { parseOsRelease } from './image/os-release.ts';
import { cmp, FAILED_PREFIX, mergeResults, sbomCreated, vouchTool } from './merge.ts';
import type { ReaderResult, Sbom } from './model.ts';
import type { Distro, Reader, SourceContext, SourceFile } from './reader.ts';
import { READERS } from './readers/index.ts';

export interface ScanOptions {
  /** Readers to try, in order; the first whose `matches(path)` is true reads the file. */
  readers?: readonly Reader[];
  /**
   * Globs (Node's `path.matchesGlob`) over `/`-separated paths relative to the
   * scanned root; a matching directory is not entered. A pattern without `/`
   * also matches a bare file or directory name at any depth, as in .gitignore.
   */
  ignore?: readonly string[];
  /**
   * Keep going when a reader throws a VouchError (an unsupported lockfile
   * version, a malformed file): the file gets an accounting entry marked
   * incomplete with reason `failed: <message>` instead of stopping the scan.
   */
  allowPartial?: boolean;
  /** Largest file a reader may read, in bytes (default 512 MiB). */
  maxFileBytes?: number;
  /** RFC 3339 creation time (default: from SOURCE_DATE_EPOCH, else now). */
  created?: string;
  /** Files read at the same time (default 8). */
  concurrency?: number;
}

const DEFAULT_MAX_FILE_BYTES = 512 * 1024 * 1024;

/**
 * Directories never entered: version control and vouch's own evidence store
 * hold no packages of the project.
 */
export const SKIPPED_DIRECTORIES: ReadonlySet<string> = new Set(['.git', '.hg', '.svn', '.vouch']);

/**
 * `node_modules` is entered to offer the package managers' hidden lockfiles,
 * their own records of what is installed: npm's
 * `node_modules/.package-lock.json` and pnpm's `node_modules/.pnpm/lock.yaml`
 * (pnpm-lock.yaml's format, less what was not installed: `--prod` leaves the
 * dev dependencies out), and, for a tree no lockfile describes (see installedManifestsWanted), the
 * installed packages' own manifests (`[@scope/]name/package.json`, nested
 * `node_modules` too). Nothing else is offered: lockfiles inside installed
 * packages (published packages do ship yarn.lock, npm-shrinkwrap.json,
 * pnpm-lock.yaml…) describe those packages' own development set-ups, not
 * what this project installed, and would add packages that are not there.
 * Installed-package databases of other ecosystems (Python `*.dist-info` in
 * site-packages, dpkg status) never live under node_modules, and a tree of
 * 100,000 installed files is not walked for nothing.
 */
export const NODE_MODULES_FILES: readonly string[] = ['.package-lock.json', '.pnpm/lock.yaml'];

/** An installed package's manifest, as the path after the outermost node_modules. */
const INSTALLED_MANIFEST =
  /^(?:(?:@[^/.][^/]*\/)?[^/.@][^/]*\/node_modules\/)*(?:@[^/.][^/]*\/)?[^/.@][^/]*\/package\.json$/;

/** Lockfiles that, beside a node_modules directory, record what is installed in it. */
const NODE_LOCKFILES: readonly string[] = [
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'bun.lock',
  'bun.lockb',
];

/**
 * The same rule for every source of files (a directory walk, an image's
 * merged tree): nothing under SKIPPED_DIRECTORIES, and under the outermost
 * `node_modules` only NODE_MODULES_FILES directly inside it and installed
 * packages' manifests (which scanSources then keeps only where
 * installedManifestsWanted says so).
 */
export function isOffered(path: string): boolean {
  const parts = path.split('/');
  for (let i = 0; i < parts.length - 1; i++) {
    const dir = parts[i] as string;
    if (SKIPPED_DIRECTORIES.has(dir)) return false;
    if (dir === 'node_modules') {
      const rest = parts.slice(i + 1).join('/');
      return NODE_MODULES_FILES.includes(rest) || INSTALLED_MANIFEST.test(rest);
    }
  }
  return true;
}

/** The outermost `node_modules` directory of a path, or undefined. */
function outerNodeModules(path: string): string | undefined {
  const parts = path.split('/');
  const i = parts.indexOf('node_modules');
  return i >= 0 && i < parts.length - 1 ? parts.slice(0, i + 1).join('/') : undefined;
}

/**
 * Whether the installed manifests under a `node_modules` directory are read:
 * only when no lockfile records that tree — a hidden lockfile in it (npm's
 * `.package-lock.json`, pnpm's `.pnpm/lock.yaml`), or a lockfile beside it or in a directory
 * above it (a workspace's own node_modules is in the top lockfile) — as for
 * a global install (`/usr/lib/node_modules/npm` and the packages bundled in
 * it) or an image that copied `node_modules` alone. Where a lockfile exists
 * it is the record (with scopes, origins and hashes that manifests lack).
 */
export function installedManifestsWanted(
  nodeModules: string,
  exists: (path: string) => boolean,
): boolean {
  if (NODE_MODULES_FILES.some((f) => exists(`${nodeModules}/${f}`))) return false;
  const dirs = nodeModules.split('/').slice(0, -1);
  for (let n = dirs.length; n >= 0; n--) {
    const prefix = dirs.slice(0, n).join('/');
    if (NODE_LOCKFILES.some((f) => exists(prefix === '' ? f : `${prefix}/${f}`))) return false;
  }
  return true;
}

/**
 * Scans a directory tree: offers every file to the first reader that matches
 * it and merges the results into one SBOM (see mergeResults). Symbolic links
 * are not followed (no loops, nothing outside the root is read).
 *
 * @throws VouchError from a reader (unless allowPartial), FILE_NOT_FOUND | FILE_READ for the root.
 */
export async function scanDirectory(root: string, options: ScanOptions = {}): Promise<Sbom> {
  const abs = resolve(root);
  // The root the user named may be a symlink; links below it are not followed.
  const st = await statPath(abs);
  if (!st.isDirectory()) throw new VouchError('FILE_READ', 'not a directory', { file: root });
  const readers = options.readers ?? READERS;
  const paths = await walk(abs, options.ignore ?? []);
  const maxBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  // A root file system's distribution goes into OS packages' purls, as for images.
  const distro = await distroOf(abs);
  const context = distro ? { distro } : undefined;
  const files = paths.map((p) => fsSourceFile(abs, p, maxBytes, context));
  return scanSources(files, { kind: 'directory', name: basename(abs) }, { ...options, readers });
}

/**
 * Reads one lockfile (or package database file) with the first reader that
 * matches its name. Siblings are looked up beside it.
 *
 * @throws VouchError USAGE when no reader handles the file; reader errors as scanDirectory.
 */
export async function scanFile(path: string, options: ScanOptions = {}): Promise<Sbom> {
  const abs = resolve(path);
  const st = await statPath(abs);
  if (!st.isFile()) throw new VouchError('FILE_READ', 'not a regular file', { file: path });
  const readers = options.readers ?? READERS;
  const name = basename(abs);
  const file = fsSourceFile(dirname(abs), name, options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES);
  const byContent = readers.filter((r) => r.content !== undefined);
  if (!readers.some((r) => r.matches(name))) {
    const reader = await readerByContent(byContent, file);
    if (!reader) {
      throw new VouchError(
        'USAGE',
        `no reader for this file (known: ${readers.map((r) => r.name).join(', ') || 'none'})`,
        { file: path },
      );
    }
    return scanSources([file], { kind: 'file', name }, { ...options, readers: [reader] });
  }
  return scanSources([file], { kind: 'file', name }, { ...options, readers });
}

/**
 * The scanner over any set of files (a directory walk, an image's merged
 * layers): first matching reader per file, reader errors handled as
 * `allowPartial` says, results merged and sorted. A reader error about a file
 * with an origin (an image layer) names that origin, thrown or counted.
 *
 * @throws VouchError the first reader error in path order (unless allowPartial).
 */
export async function scanSources(
  files: Iterable<SourceFile> | AsyncIterable<SourceFile>,
  subject: Sbom['subject'],
  options: ScanOptions = {},
): Promise<Sbom> {
  const readers = options.readers ?? READERS;
  const concurrency = options.concurrency ?? 8;
  const byContent = readers.filter((r) => r.content !== undefined);
  // `error`: the file could not even be looked at for content; it fails as its reader would.
  const jobs: Array<{ file: SourceFile; reader: Reader; error?: unknown }> = [];
  const unnamed: SourceFile[] = [];
  const seen = new Set<string>();
  for await (const file of files) {
    seen.add(file.path);
    if (!isOffered(file.path)) continue;
    const reader = readers.find((r) => r.matches(file.path));
    if (reader) jobs.push({ file, reader });
    else if (byContent.length > 0 && file.readAt) unnamed.push(file);
  }
  // Installed packages' manifests only where no lockfile records their tree.
  const wanted = new Map<string, boolean>();
  const keep = (path: string): boolean => {
    const nm = outerNodeModules(path);
    if (nm === undefined || NODE_MODULES_FILES.includes(path.slice(nm.length + 1))) return true;
    let w = wanted.get(nm);
    if (w === undefined) {
      w = installedManifestsWanted(nm, (p) => seen.has(p));
      wanted.set(nm, w);
    }
    return w;
  };
  for (let i = jobs.length - 1; i >= 0; i--)
    if (!keep((jobs[i] as (typeof jobs)[number]).file.path)) jobs.splice(i, 1);
  // Files no name matched are offered by content (executables anywhere, named anything).
  const sniffed = await pool(unnamed, concurrency, (file) => readerByContent(byContent, file));
  for (const [i, outcome] of sniffed.entries()) {
    const file = unnamed[i] as SourceFile;
    if (!outcome.ok) jobs.push({ file, reader: byContent[0] as Reader, error: outcome.error });
    else if (outcome.value) jobs.push({ file, reader: outcome.value });
  }
  jobs.sort((a, b) => cmp(a.file.path, b.file.path));
  const settled = await pool(jobs, concurrency, async ({ file, reader, error }) => {
    if (error !== undefined) throw error;
    return reader.read(file);
  });
  const results: ReaderResult[] = [];
  for (const [i, outcome] of settled.entries()) {
    const { file, reader } = jobs[i] as (typeof jobs)[number];
    if (outcome.ok) {
      results.push(outcome.value);
      continue;
    }
    // Anything but a VouchError is a bug in a reader: never turned into a warning.
    if (!isVouchError(outcome.error)) throw outcome.error;
    const error = withOrigin(outcome.error, file);
    if (!options.allowPartial) throw error;
    results.push(failedResult(file.path, reader.name, error));
  }
  return mergeResults(results, {
    subject,
    created: options.created ?? sbomCreated(process.env),
    tool: vouchTool(),
  });
}

/**
 * The first reader that recognises the file by content: its cheap head test
 * on the first bytes, then its bounded full test.
 */
async function readerByContent(
  readers: readonly Reader[],
  file: SourceFile,
): Promise<Reader | undefined> {
  const readAt = file.readAt?.bind(file);
  if (!readAt || readers.length === 0) return undefined;
  const headBytes = Math.max(...readers.map((r) => r.content?.headBytes ?? 0));
  const head = await readAt(0, headBytes);
  for (const r of readers) {
    const c = r.content;
    if (!c?.head(head.subarray(0, c.headBytes))) continue;
    if (await c.matches({ ...file, readAt })) return r;
  }
  return undefined;
}

/**
 * A reader's error about a file that has an origin (an image's file: which
 * layer), with that origin added: the path alone does not say which layer's
 * copy is broken. An error about the file itself gets `<path> in <origin>` as
 * its file; one about another file (a sibling, an image archive) keeps its own
 * file and says in its message which file was being read. Readers never add
 * the origin themselves, so it is added once, here.
 */
function withOrigin(error: VouchError, file: SourceFile): VouchError {
  if (!file.origin) return error;
  const where = `${file.path} in ${file.origin}`;
  const prefix = [error.file, error.field].filter(Boolean).join(': ');
  const raw =
    prefix && error.message.startsWith(`${prefix}: `)
      ? error.message.slice(prefix.length + 2)
      : error.message;
  if (error.file === undefined || error.file === file.path) {
    return new VouchError(error.code, raw, { file: where, field: error.field, cause: error });
  }
  return new VouchError(error.code, `${raw} (reading ${where})`, {
    file: error.file,
    field: error.field,
    cause: error,
  });
}

function failedResult(path: string, reader: string, error: VouchError): ReaderResult {
  return {
    components: [],
    dependencies: [],
    roots: [],
    accounting: {
      file: path,
      reader,
      format: 'unreadable',
      declared: 0,
      emitted: 0,
      merged: 0,
      skipped: [],
      incomplete: true,
      incompleteReason: `${FAILED_PREFIX}${error.code}: ${error.message}`,
    },
  };
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Runs `fn` over `items`, `limit` at a time; outcomes in input order. */
async function pool<I, T>(
  items: readonly I[],
  limit: number,
  fn: (item: I) => Promise<T>,
): Promise<Outcome<T>[]> {
  const out: Outcome<T>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        out[i] = { ok: true, value: await fn(items[i] as I) };
      } catch (error) {
        out[i] = { ok: false, error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/** Relative `/`-separated paths of the regular files to offer, sorted. */
async function walk(root: string, ignore: readonly string[]): Promise<string[]> {
  const ignored = (rel: string) =>
    ignore.some(
      (g) => matchesGlob(rel, g) || (!g.includes('/') && matchesGlob(posix.basename(rel), g)),
    );
  const out: string[] = [];
  const lockfiles = new Set<string>();
  const stack: string[] = [''];
  while (stack.length > 0) {
    const dir = stack.pop() as string;
    const entries = await listDirectory(root, dir);
    // Directories are listed before anything below them: a node_modules
    // directory sees the lockfiles of every directory above it.
    for (const e of entries)
      if (e.isFile() && NODE_LOCKFILES.includes(e.name))
        lockfiles.add(dir === '' ? e.name : `${dir}/${e.name}`);
    for (const e of entries) {
      const rel = dir === '' ? e.name : `${dir}/${e.name}`;
      if (ignore.length > 0 && ignored(rel)) continue;
      if (e.isDirectory()) {
        if (SKIPPED_DIRECTORIES.has(e.name)) continue;
        if (e.name === 'node_modules') {
          const hidden = new Set<string>();
          for (const name of NODE_MODULES_FILES) {
            const inner = `${rel}/${name}`;
            if (!(await isRegularBelow(root, rel, name))) continue;
            hidden.add(inner);
            if (!(ignore.length > 0 && ignored(inner))) out.push(inner);
          }
          if (installedManifestsWanted(rel, (p) => hidden.has(p) || lockfiles.has(p)))
            out.push(
              ...(await installedManifests(root, rel, ignore.length > 0 ? ignored : undefined)),
            );
          continue;
        }
        stack.push(rel);
      } else if (e.isFile()) {
        out.push(rel);
      }
      // Symbolic links, sockets, devices: not followed, not read.
    }
  }
  return out.sort(cmp);
}

/** The entries of `dir` (relative to `root`, '' for the root itself). */
async function listDirectory(root: string, dir: string): Promise<import('node:fs').Dirent[]> {
  try {
    return await readdir(join(root, ...dir.split('/')), { withFileTypes: true });
  } catch (e) {
    throw new VouchError('FILE_READ', `cannot list directory: ${errorMessage(e)}`, {
      file: dir || root,
      cause: e,
    });
  }
}

/**
 * Whether `dir/name` is a regular file reached through real directories only
 * (`.pnpm` may not be a link out of the tree: links are not followed).
 */
async function isRegularBelow(root: string, dir: string, name: string): Promise<boolean> {
  const parts = name.split('/');
  let at = dir;
  for (let i = 0; i < parts.length; i++) {
    at = `${at}/${parts[i]}`;
    const st = await lstat(join(root, ...at.split('/'))).catch(() => undefined);
    if (!(i === parts.length - 1 ? st?.isFile() : st?.isDirectory())) return false;
  }
  return true;
}

/**
 * The manifests of the packages installed in a node_modules directory:
 * `name/package.json`, `@scope/name/package.json`, and the same in each
 * package's own nested node_modules. Package contents are not walked;
 * hidden directories (`.bin`, `.cache`, pnpm's `.pnpm`) and links are not entered.
 */
async function installedManifests(
  root: string,
  nodeModules: string,
  ignored: ((rel: string) => boolean) | undefined,
): Promise<string[]> {
  const out: string[] = [];
  const stack = [nodeModules];
  while (stack.length > 0) {
    const nm = stack.pop() as string;
    const packages: string[] = [];
    for (const e of await listDirectory(root, nm)) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue;
      if (!e.name.startsWith('@')) packages.push(`${nm}/${e.name}`);
      else
        for (const s of await listDirectory(root, `${nm}/${e.name}`))
          if (s.isDirectory() && !s.name.startsWith('.'))
            packages.push(`${nm}/${e.name}/${s.name}`);
    }
    for (const pkg of packages) {
      if (ignored?.(pkg)) continue;
      const manifest = `${pkg}/package.json`;
      const st = await lstat(join(root, ...manifest.split('/'))).catch(() => undefined);
      if (st?.isFile() && !ignored?.(manifest)) out.push(manifest);
      const nested = await lstat(join(root, ...pkg.split('/'), 'node_modules')).catch(
        () => undefined,
      );
      if (nested?.isDirectory()) stack.push(`${pkg}/node_modules`);
    }
  }
  return out;
}

const OS_RELEASE = ['etc/os-release', 'usr/lib/os-release'];
const OS_RELEASE_MAX_BYTES = 64 * 1024;

/**
 * The distribution of a directory that is a root file system, from its own
 * os-release (links followed only inside the root, as in images); undefined
 * for a project directory, which has none.
 */
async function distroOf(root: string): Promise<Distro | undefined> {
  const tree = fsSourceFile(root, '.', OS_RELEASE_MAX_BYTES).treeFile;
  for (const path of OS_RELEASE) {
    const bytes = await tree?.(path, OS_RELEASE_MAX_BYTES).catch(() => undefined);
    if (bytes) return parseOsRelease(bytes.toString('utf8'));
  }
  return undefined;
}

/** A SourceFile over a real file below `root`. */
export function fsSourceFile(
  root: string,
  rel: string,
  maxBytes: number,
  context?: SourceContext,
): SourceFile {
  return {
    path: rel,
    ...(context ? { context } : {}),
    bytes: async () => {
      const data = await readRegular(root, rel, maxBytes);
      if (data === undefined) throw new VouchError('FILE_NOT_FOUND', 'no such file', { file: rel });
      return data;
    },
    sibling: (name: string) => {
      const target = posix.normalize(posix.join(posix.dirname(rel), name));
      if (posix.isAbsolute(name) || target === '..' || target.startsWith('../')) {
        throw new VouchError('PATH_ESCAPE', `sibling ${JSON.stringify(name)} is outside the root`, {
          file: rel,
        });
      }
      return readRegular(root, target, maxBytes);
    },
    readAt: (offset, length) => readRange(root, rel, offset, Math.min(length, maxBytes)),
    treeFile: async (path, limit) => {
      const target = posix.normalize(path);
      if (posix.isAbsolute(target) || target === '..' || target.startsWith('../')) return undefined;
      // Symbolic links on the way (usr/share/doc/<pkg> often is one) are followed
      // only while they stay inside the root.
      let real: string;
      let realRoot: string;
      try {
        [real, realRoot] = await Promise.all([
          realpath(join(root, ...target.split('/'))),
          realpath(root),
        ]);
      } catch {
        return undefined;
      }
      const inside = relative(realRoot, real);
      if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) return undefined;
      return readRegular(realRoot, inside.split(sep).join('/'), Math.min(limit, maxBytes));
    },
  };
}

/** Up to `length` bytes at `offset` of a regular file below `root` (fewer at its end). */
async function readRange(
  root: string,
  rel: string,
  offset: number,
  length: number,
): Promise<Buffer> {
  if (!(length > 0) || !Number.isSafeInteger(offset) || offset < 0) return Buffer.alloc(0);
  const path = join(root, ...rel.split('/'));
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    // O_NOFOLLOW: a file swapped for a symlink after the walk is not followed out of the root.
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await fh.read({ buffer, position: offset, length });
    return buffer.subarray(0, bytesRead);
  } catch (e) {
    throw new VouchError('FILE_READ', `cannot read: ${errorMessage(e)}`, { file: rel, cause: e });
  } finally {
    await fh?.close();
  }
}

/** The bytes of a regular file (not a symlink), or undefined when there is none. */
async function readRegular(
  root: string,
  rel: string,
  maxBytes: number,
): Promise<Buffer | undefined> {
  const path = join(root, ...rel.split('/'));
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    const st = await lstat(path);
    if (!st.isFile()) return undefined;
    fh = await open(path, 'r');
    // Check the open file, not the name: the limit must hold for what is read.
    const { size } = await fh.stat();
    if (size > maxBytes) {
      throw new VouchError('FILE_READ', `larger than the limit of ${maxBytes} bytes`, {
        file: rel,
      });
    }
    return await fh.readFile();
  } catch (e) {
    if (isVouchError(e)) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new VouchError('FILE_READ', `cannot read: ${errorMessage(e)}`, { file: rel, cause: e });
  } finally {
    await fh?.close();
  }
}
