/**
 * Shared pieces of the JavaScript lockfile readers (npm, yarn, pnpm, bun):
 * npm package identity, sources of non-registry packages, errors, JSONC, and
 * scope from reachability for formats that do not flag dev/optional entries.
 */
import { errorMessage, VouchError } from '../../core/errors.ts';
import { isObject, parseJson } from '../../core/json.ts';
import type { ComponentInput } from '../builder.ts';
import type { Component, Scope } from '../model.ts';

export { isObject };

/** A lockfile format or version this reader does not know. */
export function unsupported(file: string, message: string, field?: string): VouchError {
  return new VouchError('LOCKFILE_UNSUPPORTED', message, { file, field });
}

/** Input that is not what the format says it should be. */
export function malformed(
  file: string,
  message: string,
  field?: string,
  cause?: unknown,
): VouchError {
  return new VouchError('LOCKFILE_MALFORMED', message, { file, field, cause });
}

/** Splits `name@rest` at the `@` after an optional scope: `@a/b@1.0` → ['@a/b', '1.0']. */
export function splitAt(spec: string): [string, string] | undefined {
  const at = spec.indexOf('@', spec.startsWith('@') ? 1 : 0);
  if (at <= 0) return undefined;
  return [spec.slice(0, at), spec.slice(at + 1)];
}

/** purl namespace and name of an npm package name (`@scope/name`). */
export function npmIdentity(fullName: string): { namespace?: string; name: string } {
  if (fullName.startsWith('@')) {
    const slash = fullName.indexOf('/');
    if (slash > 0) return { namespace: fullName.slice(0, slash), name: fullName.slice(slash + 1) };
  }
  return { name: fullName };
}

/** The `name@version` an oracle or a person would print for an npm component. */
export function npmKey(c: Pick<Component, 'namespace' | 'name' | 'version'>): string {
  return `${c.namespace ? `${c.namespace}/` : ''}${c.name}@${c.version}`;
}

export interface Origin {
  source?: Component['source'];
  qualifiers?: Record<string, string>;
}

const REGISTRY_TARBALL = /\/-\/[^/]+\.tgz(?:[?#].*)?$/;

/**
 * Where a package comes from, from a `resolved`/`resolution` URL or spec.
 * Registry tarballs (`…/-/name-1.0.0.tgz`) are the default and get no source.
 */
export function originOf(resolved: string | undefined): Origin {
  if (!resolved) return {};
  const git =
    /^(?:git\+|git:|github:|gitlab:|bitbucket:|ssh:)/.test(resolved) ||
    /^https?:\/\/[^#]*\.git(?:#|$)/.test(resolved) ||
    /^[\w.-]+\/[\w.-]+#[0-9a-f]{7,40}$/.test(resolved);
  if (git) return { source: { kind: 'git', url: resolved }, qualifiers: { vcs_url: resolved } };
  if (/^https?:\/\//.test(resolved)) {
    if (REGISTRY_TARBALL.test(resolved) && !/codeload\.github\.com/.test(resolved)) return {};
    return { source: { kind: 'tarball', url: resolved }, qualifiers: { download_url: resolved } };
  }
  if (resolved.startsWith('file:')) {
    return { source: { kind: 'file', url: resolved.slice(5).replace(/#.*$/, '') } };
  }
  if (resolved.startsWith('link:') || resolved.startsWith('portal:')) {
    return { source: { kind: 'link', url: resolved.slice(resolved.indexOf(':') + 1) } };
  }
  return {};
}

/** An npm-ecosystem component input. */
export function npmInput(
  fullName: string,
  version: string,
  extra: Omit<ComponentInput, 'ecosystem' | 'name' | 'namespace' | 'version'> = {},
): ComponentInput {
  return { ecosystem: 'npm', ...npmIdentity(fullName), version, ...extra };
}

/**
 * Parses bun's JSONC-like text: JSON plus trailing commas and comments. Removed
 * characters become spaces, so JSON errors keep their line and column.
 *
 * @throws VouchError LOCKFILE_MALFORMED
 */
export function parseJsonc(text: string, file: string): unknown {
  return parseLockJson(stripJsonc(text), file);
}

/**
 * JSON.parse for lockfiles: the fast path has no depth walk (the readers walk
 * iteratively); on failure, core's parser explains where.
 *
 * @throws VouchError LOCKFILE_MALFORMED
 */
export function parseLockJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (first) {
    try {
      parseJson(text, file, { maxBytes: Number.POSITIVE_INFINITY });
    } catch (e) {
      throw malformed(file, errorMessage(e).replace(`${file}: `, ''), undefined, e);
    }
    throw malformed(file, errorMessage(first), undefined, first);
  }
}

const JSONC_NOISE = /"(?:[^"\\\n]|\\.)*"|\/\/[^\n]*|\/\*[\s\S]*?(?:\*\/|$)|,(?=\s*[}\]])/g;

/** Blanks comments and trailing commas (same length, newlines kept); strings untouched. */
function stripJsonc(text: string): string {
  return text.replace(JSONC_NOISE, (m) =>
    m.charCodeAt(0) === 0x22 ? m : m.replace(/[^\n]/g, ' '),
  );
}

export type EdgeKind = 'prod' | 'optional' | 'dev' | 'peer';

/**
 * Scope from reachability, for formats that do not flag entries: reachable
 * from the projects' dependencies through non-optional edges → required;
 * otherwise reachable through optional edges → optional; otherwise only from
 * dev dependencies → dev. Entries nothing reaches stay required (the lockfile
 * says they are installed; hiding them from a production view would be wrong).
 */
export function scopesByReachability(
  starts: ReadonlyArray<{ key: string; kind: EdgeKind }>,
  edges: ReadonlyMap<string, ReadonlyArray<{ key: string; kind: EdgeKind }>>,
): Map<string, Scope> {
  const scope = new Map<string, Scope>();
  const walk = (from: string[], s: Scope, follow: (k: EdgeKind) => boolean) => {
    const seen = new Set(from);
    const stack = [...seen];
    while (stack.length > 0) {
      const k = stack.pop() as string;
      if (!scope.has(k)) scope.set(k, s);
      for (const e of edges.get(k) ?? []) {
        if (!follow(e.kind) || seen.has(e.key)) continue;
        seen.add(e.key);
        stack.push(e.key);
      }
    }
  };
  const prod = starts.filter((s) => s.kind === 'prod' || s.kind === 'peer').map((s) => s.key);
  const opt = starts.filter((s) => s.kind === 'optional').map((s) => s.key);
  const dev = starts.filter((s) => s.kind === 'dev').map((s) => s.key);
  walk(prod, 'required', (k) => k !== 'optional' && k !== 'dev');
  walk([...prod, ...opt], 'optional', (k) => k !== 'dev');
  walk(dev, 'dev', () => true);
  return scope;
}

/** Reads and parses the sibling package.json, when there is one and it is an object. */
export async function siblingManifest(
  sibling: (name: string) => Promise<Buffer | undefined>,
  file: string,
): Promise<Record<string, unknown> | undefined> {
  let bytes: Buffer | undefined;
  try {
    bytes = await sibling('package.json');
  } catch {
    return undefined;
  }
  if (!bytes) return undefined;
  try {
    const v = JSON.parse(bytes.toString('utf8')) as unknown;
    return isObject(v) ? v : undefined;
  } catch (e) {
    throw malformed(file.replace(/[^/]*$/, 'package.json'), 'not valid JSON', undefined, e);
  }
}

/** The string-valued entries of a `dependencies`-like object (others ignored). */
export function depNames(v: unknown): Array<[string, string]> {
  if (!isObject(v)) return [];
  const out: Array<[string, string]> = [];
  for (const [k, r] of Object.entries(v)) if (typeof r === 'string') out.push([k, r]);
  return out;
}

/**
 * The public npm registry under its two names: registry.yarnpkg.com is an
 * alias of registry.npmjs.org (yarn classic writes it into every `resolved`).
 * A registry tarball from either over https records no source; over plain
 * http it is a `registry` source like any other registry.
 */
export const PUBLIC_NPM_REGISTRIES: ReadonlySet<string> = new Set([
  'https://registry.npmjs.org',
  'https://registry.yarnpkg.com',
]);

const PUBLIC_PREFIXES = [...PUBLIC_NPM_REGISTRIES].map((r) => `${r}/`);
const REGISTRY_TARBALL_URL = /^https?:\/\/[^#]*\/-\/[^/]+\.tgz(?:[?#].*)?$/;

/**
 * The registry a registry tarball URL (`<registry>/<name>/-/<file>.tgz`) was
 * served by, without credentials or trailing slash; undefined for anything
 * else (git, file and other tarball URLs are the component's source). The
 * same reading as the npm reader's.
 */
export function registryOfTarball(resolved: string | undefined, name: string): string | undefined {
  if (resolved === undefined) return undefined;
  // The usual case, without a URL parse: the public registry's own layout.
  for (const p of PUBLIC_PREFIXES) {
    if (
      resolved.startsWith(p) &&
      (resolved.startsWith(`${name}/-/`, p.length) ||
        resolved.startsWith(`${name.replace('/', '%2f')}/-/`, p.length)) &&
      REGISTRY_TARBALL_URL.test(resolved)
    )
      return p.slice(0, -1);
  }
  if (!REGISTRY_TARBALL_URL.test(resolved) || originOf(resolved).source !== undefined)
    return undefined;
  let url: URL;
  try {
    url = new URL(resolved);
  } catch {
    return undefined;
  }
  const path = url.pathname;
  const at = path.indexOf(`/${name}/-/`);
  const escaped = path.indexOf(`/${name.replace('/', '%2f')}/-/`);
  const cut = at >= 0 ? at : escaped >= 0 ? escaped : path.lastIndexOf('/-/');
  return `${url.protocol}//${url.host}${path.slice(0, Math.max(0, cut))}`.replace(/\/+$/, '');
}

/**
 * The origin of a package fetched from `registry` (a base URL): none for the
 * public npm registry over https, else a `registry` source with that URL.
 */
export function registryOrigin(registry: string): Origin {
  const r = registry.replace(/\/+$/, '');
  return PUBLIC_NPM_REGISTRIES.has(r) ? {} : { source: { kind: 'registry', url: r } };
}

/**
 * The registry of a URL a lockfile says a *registry* package was downloaded
 * from (bun's registry field, berry's `__archiveUrl`): the registry tarball
 * reading when the URL has its layout, else the URL's scheme and host (GitHub
 * Packages and others serve tarballs elsewhere); undefined when not http(s).
 */
export function registryOfDownload(url: string, name: string): string | undefined {
  const r = registryOfTarball(url, name);
  if (r !== undefined) return r;
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:'
      ? `${u.protocol}//${u.host}`
      : undefined;
  } catch {
    return undefined;
  }
}
