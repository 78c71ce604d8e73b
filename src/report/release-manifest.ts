import { realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import { errorMessage, VouchError } from '../core/errors.ts';
import { isObject, readTextFile } from '../core/json.ts';

/** `apiVersion` of a release manifest (schemas/release-manifest-v1.json). */
export const RELEASE_MANIFEST_VERSION = 'vouch.dev/release/v1';
const MAX_MANIFEST_BYTES = 1024 * 1024;
const MAX_ARTIFACTS = 1000;
const MAX_TEXT = 256;
/** YAML aliases expanded at most this many times: an alias bomb is an error, not a hang. */
const MAX_ALIAS_COUNT = 50;

/** One member of a release, as the manifest lists it. */
export type ReleaseMemberSpec =
  | { by: 'path'; path: string; name?: string; kind?: string; field: string }
  | { by: 'digest'; sha256: string; name?: string; kind?: string; field: string };

export interface ReleaseManifest {
  name: string;
  version: string;
  artifacts: ReleaseMemberSpec[];
  /** Where it was read, for messages. */
  source: string;
}

const TOP = new Set(['apiVersion', 'kind', 'name', 'version', 'artifacts']);
const MEMBER = new Set(['path', 'digest', 'name', 'kind']);

/**
 * Parses a release manifest strictly: valid YAML (JSON is YAML), every field
 * one schemas/release-manifest-v1.json names, each artifact exactly one of
 * `path` (relative) or `digest` (`sha256:HEX`), no artifact twice.
 * Paths are only checked lexically here; {@link resolveReleasePaths} checks
 * them against the file system.
 *
 * @throws VouchError RELEASE_MALFORMED naming `source`, the field and the line
 * of every problem found.
 */
export function parseReleaseManifest(text: string, source: string): ReleaseManifest {
  const lines = new LineCounter();
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(text, {
      lineCounter: lines,
      prettyErrors: false,
      uniqueKeys: true,
      version: '1.2',
      schema: 'core',
    });
  } catch (e) {
    throw new VouchError('RELEASE_MALFORMED', `YAML: ${errorMessage(e)}`, { file: source });
  }
  const at = (offset: number | undefined) =>
    offset === undefined ? '' : ` (line ${lines.linePos(offset).line})`;
  const first = doc.errors[0];
  if (first)
    throw new VouchError(
      'RELEASE_MALFORMED',
      `YAML: ${first.message.split('\n')[0]}${at(first.pos[0])}`,
      { file: source, field: '/' },
    );
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    throw new VouchError('RELEASE_MALFORMED', `YAML: ${errorMessage(e)}`, {
      file: source,
      field: '/',
    });
  }
  const lineOf = (path: Array<string | number>): string => {
    for (let n = path.length; n > 0; n--) {
      const parent = doc.getIn(path.slice(0, n - 1), true);
      const key = path[n - 1];
      if (isMap(parent)) {
        const pair = parent.items.find((it) => (it.key as { value?: unknown })?.value === key);
        const range = (pair?.key as { range?: number[] } | null)?.range;
        if (range) return at(range[0]);
      }
      if (isSeq(parent)) {
        const range = (parent.items[key as number] as { range?: number[] } | undefined)?.range;
        if (range) return at(range[0]);
      }
    }
    return '';
  };
  const problems: Array<{ field: string; message: string }> = [];
  const problem = (path: Array<string | number>, message: string) =>
    problems.push({ field: `/${path.join('/')}`, message: `${message}${lineOf(path)}` });

  const out: ReleaseManifest = { name: '', version: '', artifacts: [], source };
  if (!isObject(value)) problem([], 'a release manifest is a mapping');
  else {
    for (const k of Object.keys(value))
      if (!TOP.has(k)) problem([k], `unknown field ${JSON.stringify(k)}`);
    if (value.apiVersion !== RELEASE_MANIFEST_VERSION)
      problem(['apiVersion'], `apiVersion must be ${RELEASE_MANIFEST_VERSION}`);
    if (value.kind !== 'Release') problem(['kind'], 'kind must be Release');
    for (const k of ['name', 'version'] as const) {
      const v = value[k];
      if (typeof v === 'number' && k === 'version')
        problem([k], 'version must be a string: quote it ("1.0", not 1.0)');
      else if (!isText(v))
        problem(
          [k],
          `${k} must be a non-empty string of printable characters, without surrounding spaces`,
        );
      else out[k] = v;
    }
    const list = value.artifacts;
    if (!Array.isArray(list) || list.length === 0)
      problem(['artifacts'], 'artifacts must be a non-empty list');
    else if (list.length > MAX_ARTIFACTS)
      problem(['artifacts'], `more than ${MAX_ARTIFACTS} artifacts`);
    else {
      const seen = new Map<string, string>();
      for (const [i, a] of list.entries()) {
        const p = ['artifacts', i];
        const field = `/artifacts/${i}`;
        if (!isObject(a)) {
          problem(p, 'an artifact is a mapping with path or digest');
          continue;
        }
        for (const k of Object.keys(a))
          if (!MEMBER.has(k)) problem([...p, k], `unknown field ${JSON.stringify(k)}`);
        const extra: { name?: string; kind?: string } = {};
        for (const k of ['name', 'kind'] as const) {
          if (a[k] === undefined) continue;
          if (!isText(a[k]))
            problem(
              [...p, k],
              `${k} must be a non-empty string of printable characters, without surrounding spaces`,
            );
          else extra[k] = a[k] as string;
        }
        if ((a.path === undefined) === (a.digest === undefined)) {
          problem(p, 'give exactly one of path or digest');
          continue;
        }
        if (a.path !== undefined) {
          const bad = pathProblem(a.path);
          if (bad) {
            problem([...p, 'path'], bad);
            continue;
          }
          const path = normalize(a.path as string)
            .split(sep)
            .join('/');
          const key = `path:${path}`;
          const dup = seen.get(key);
          if (dup) problem([...p, 'path'], `${path} is already listed at ${dup}`);
          seen.set(key, `${field}/path`);
          out.artifacts.push({ by: 'path', path, ...extra, field: `${field}/path` });
        } else {
          const m =
            typeof a.digest === 'string' ? /^sha256:([0-9a-fA-F]{64})$/.exec(a.digest) : null;
          if (!m) {
            problem([...p, 'digest'], 'digest must be sha256:<64 hex>');
            continue;
          }
          const hex = (m[1] as string).toLowerCase();
          const key = `sha256:${hex}`;
          const dup = seen.get(key);
          if (dup) problem([...p, 'digest'], `${key} is already listed at ${dup}`);
          seen.set(key, `${field}/digest`);
          out.artifacts.push({ by: 'digest', sha256: hex, ...extra, field: `${field}/digest` });
        }
      }
    }
  }
  if (problems.length > 0) {
    const [head] = problems as [{ field: string; message: string }];
    const rest = problems.slice(1).map((x) => `; ${x.field}: ${x.message}`);
    throw new VouchError('RELEASE_MALFORMED', `${head.message}${rest.join('')}`, {
      file: source,
      field: head.field,
    });
  }
  return out;
}

function isText(v: unknown): v is string {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_TEXT || v.trim() !== v)
    return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return false;
  }
  return true;
}

/** Why a manifest path is refused before it touches the file system, or undefined. */
function pathProblem(v: unknown): string | undefined {
  if (typeof v !== 'string' || v.length === 0 || v.length > 4096)
    return 'path must be a non-empty string';
  if (v.includes('\0')) return 'path contains a NUL byte';
  if (isAbsolute(v) || /^[a-zA-Z]:[\\/]/.test(v) || v.startsWith('\\'))
    return 'path must be relative to the manifest directory, not absolute';
  return undefined;
}

/**
 * Reads a release manifest file.
 *
 * @throws VouchError FILE_NOT_FOUND | FILE_READ | JSON_TOO_LARGE | RELEASE_MALFORMED
 */
export async function loadReleaseManifest(path: string, display = path): Promise<ReleaseManifest> {
  let text: string;
  try {
    text = await readTextFile(path, MAX_MANIFEST_BYTES);
  } catch (e) {
    if (e instanceof VouchError)
      throw new VouchError(e.code, errorMessage(e).replace(`${path}: `, ''), {
        file: display,
        cause: e,
      });
    throw e;
  }
  return parseReleaseManifest(text, display);
}

/**
 * Turns the manifest's relative paths into files: each resolves against the
 * manifest's directory and must stay inside it, also after symbolic links are
 * followed, and must be a regular file.
 *
 * @throws VouchError PATH_ESCAPE | FILE_NOT_FOUND | FILE_READ, naming the
 * manifest and the field.
 */
export async function resolveReleasePath(
  manifestFile: string,
  member: { path: string; field: string },
  source: string,
): Promise<string> {
  const base = dirname(resolve(manifestFile));
  const where = { file: source, field: member.field };
  const lexical = resolve(base, member.path);
  if (escapes(base, lexical))
    throw new VouchError(
      'PATH_ESCAPE',
      `${member.path} is outside the manifest's directory ${base}`,
      where,
    );
  let real: string;
  try {
    real = await realpath(lexical);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new VouchError('FILE_NOT_FOUND', `no such file ${member.path}`, where);
    throw new VouchError('FILE_READ', `cannot read ${member.path}: ${errorMessage(e)}`, where);
  }
  if (escapes(await realpath(base), real))
    throw new VouchError(
      'PATH_ESCAPE',
      `${member.path} leads outside the manifest's directory through a symbolic link`,
      where,
    );
  const st = await stat(real);
  if (!st.isFile())
    throw new VouchError('FILE_READ', `${member.path} is not a regular file`, where);
  return lexical;
}

function escapes(base: string, path: string): boolean {
  const rel = relative(base, path);
  return (
    rel === '' ||
    rel === '..' ||
    rel.startsWith(`..${sep}`) ||
    isAbsolute(rel) ||
    join(base, rel) !== path
  );
}
