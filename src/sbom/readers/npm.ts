import { type ComponentInput, hashesFromIntegrity, ResultBuilder } from '../builder.ts';
import type { ReaderResult, Scope } from '../model.ts';
import type { Reader, SourceFile } from '../reader.ts';
import {
  depNames,
  isObject,
  malformed,
  npmInput,
  type Origin,
  originOf,
  parseLockJson,
  registryOfTarball,
  registryOrigin,
  siblingManifest,
  splitAt,
  unsupported,
} from './js-common.ts';

/**
 * package-lock.json and npm-shrinkwrap.json, lockfileVersion 1 (nested
 * `dependencies`), 2 and 3 (flat `packages` keyed by install path).
 *
 * Every entry is declared; the root project and workspace folders are
 * components with source `workspace` and are the result's roots; a `link`
 * entry is the same package as its target and merges into it. Aliases
 * (`node_modules/foo` holding package `bar`) are emitted under the real name
 * with the property `npm:alias`. A registry tarball from another registry
 * than https://registry.npmjs.org or its alias https://registry.yarnpkg.com
 * (or from one of them over http) gets the source
 * `registry` with that registry's URL. Dependencies are resolved the way Node does:
 * from the dependent's folder up through every enclosing `node_modules`.
 */
export const npmReader: Reader = {
  name: 'npm',
  matches: (path) =>
    /(^|\/)(package-lock|npm-shrinkwrap)\.json$/.test(path) ||
    /(^|\/)node_modules\/\.package-lock\.json$/.test(path),
  read,
};

/** One installed package location, v1 entries converted to the v2 shape. */
interface Entry {
  key: string;
  name?: string;
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  peer?: boolean;
  inBundle?: boolean;
  /** npm ran (or will run) a preinstall/install/postinstall script or node-gyp for it. */
  hasInstallScript?: boolean;
  license?: string[];
  /** Names this entry depends on, with the kind of dependency. */
  deps: Array<[string, 'prod' | 'optional' | 'peer' | 'dev']>;
  /** v1 only: the alias/git/file spec the version came from. */
  spec?: string;
}

const NM = 'node_modules/';

async function read(file: SourceFile): Promise<ReaderResult> {
  const text = (await file.bytes()).toString('utf8');
  const doc = parseLockJson(text, file.path);
  if (!isObject(doc)) throw malformed(file.path, 'not a JSON object');
  const version = doc.lockfileVersion;
  let entries: Entry[];
  if (version === 1) {
    if (doc.dependencies !== undefined && !isObject(doc.dependencies)) {
      throw malformed(file.path, '"dependencies" is not an object', 'dependencies');
    }
    entries = await entriesV1(doc, file);
  } else if (version === 2 || version === 3) {
    if (!isObject(doc.packages)) {
      throw malformed(
        file.path,
        `"packages" is ${doc.packages === undefined ? 'missing' : 'not an object'} (lockfileVersion ${version})`,
        'packages',
      );
    }
    entries = entriesV2(doc.packages, file.path);
  } else {
    throw unsupported(
      file.path,
      `lockfileVersion ${JSON.stringify(version)} (this reader knows 1, 2 and 3)`,
      'lockfileVersion',
    );
  }
  const base = file.path.slice(file.path.lastIndexOf('/') + 1);
  const b = new ResultBuilder(file.path, 'npm', `${base} v${version}`);
  emit(b, entries, doc);
  return b.build();
}

function entriesV2(packages: Record<string, unknown>, file: string): Entry[] {
  const out: Entry[] = [];
  for (const [key, e] of Object.entries(packages)) {
    if (!isObject(e)) throw malformed(file, 'entry is not an object', `packages["${key}"]`);
    const entry: Entry = { key, deps: [] };
    if (typeof e.name === 'string') entry.name = e.name;
    if (typeof e.version === 'string') entry.version = e.version;
    if (typeof e.resolved === 'string') entry.resolved = e.resolved;
    if (typeof e.integrity === 'string') entry.integrity = e.integrity;
    if (e.link === true) entry.link = true;
    if (e.dev === true) entry.dev = true;
    if (e.optional === true) entry.optional = true;
    if (e.devOptional === true) entry.devOptional = true;
    if (e.peer === true) entry.peer = true;
    if (e.inBundle === true) entry.inBundle = true;
    if (e.hasInstallScript === true) entry.hasInstallScript = true;
    const lic = licensesOf(e);
    if (lic.length > 0) entry.license = lic;
    for (const [n] of depNames(e.dependencies)) entry.deps.push([n, 'prod']);
    for (const [n] of depNames(e.optionalDependencies)) entry.deps.push([n, 'optional']);
    for (const [n] of depNames(e.peerDependencies)) entry.deps.push([n, 'peer']);
    // Only projects (root, workspaces) get their devDependencies installed.
    if (!key.includes(NM))
      for (const [n] of depNames(e.devDependencies)) entry.deps.push([n, 'dev']);
    out.push(entry);
  }
  return out;
}

function licensesOf(e: Record<string, unknown>): string[] {
  const one = (l: unknown): string | undefined =>
    typeof l === 'string' ? l : isObject(l) && typeof l.type === 'string' ? l.type : undefined;
  const out: string[] = [];
  const l = one(e.license);
  if (l) out.push(l);
  if (Array.isArray(e.licenses))
    for (const x of e.licenses) {
      const s = one(x);
      if (s) out.push(s);
    }
  return out;
}

async function entriesV1(doc: Record<string, unknown>, file: SourceFile): Promise<Entry[]> {
  const root: Entry = { key: '', deps: [] };
  if (typeof doc.name === 'string') root.name = doc.name;
  if (typeof doc.version === 'string') root.version = doc.version;
  // v1 does not list the root's dependencies; the manifest beside it does.
  const manifest = await siblingManifest((n) => file.sibling(n), file.path);
  if (manifest) {
    for (const [n] of depNames(manifest.dependencies)) root.deps.push([n, 'prod']);
    for (const [n] of depNames(manifest.optionalDependencies)) root.deps.push([n, 'optional']);
    for (const [n] of depNames(manifest.peerDependencies)) root.deps.push([n, 'peer']);
    for (const [n] of depNames(manifest.devDependencies)) root.deps.push([n, 'dev']);
  }
  const out: Entry[] = [root];
  const stack: Array<[string, Record<string, unknown>]> = [];
  if (isObject(doc.dependencies)) stack.push(['', doc.dependencies]);
  while (stack.length > 0) {
    const [parent, deps] = stack.pop() as [string, Record<string, unknown>];
    for (const [name, e] of Object.entries(deps)) {
      const key = parent ? `${parent}/${NM}${name}` : `${NM}${name}`;
      if (!isObject(e)) throw malformed(file.path, 'entry is not an object', key);
      const entry: Entry = { key, deps: [] };
      if (typeof e.version === 'string') {
        const v = e.version;
        if (v.startsWith('npm:')) {
          const real = splitAt(v.slice(4));
          if (real) {
            entry.name = real[0];
            entry.version = real[1];
          }
          entry.spec = v;
        } else if (/^\d/.test(v)) {
          entry.version = v;
        } else {
          // git, file and tarball specs: the spec is all v1 records.
          const origin = originOf(v);
          entry.spec = v;
          entry.version =
            origin.source?.kind === 'git' ? (/#([0-9a-f]{40})$/.exec(v)?.[1] ?? v) : v;
          if (origin.source) entry.resolved = v;
        }
      }
      if (typeof e.resolved === 'string' && entry.resolved === undefined)
        entry.resolved = e.resolved;
      if (typeof e.integrity === 'string') entry.integrity = e.integrity;
      if (e.dev === true) entry.dev = true;
      if (e.optional === true) entry.optional = true;
      if (e.bundled === true) entry.inBundle = true;
      for (const [n] of depNames(e.requires)) entry.deps.push([n, 'prod']);
      out.push(entry);
      if (e.dependencies !== undefined) {
        if (!isObject(e.dependencies))
          throw malformed(file.path, '"dependencies" is not an object', key);
        stack.push([key, e.dependencies]);
      }
    }
  }
  return out;
}

function scopeOf(e: Entry): Scope {
  if (e.dev) return 'dev';
  if (e.devOptional || e.optional) return 'optional';
  if (e.peer) return 'peer';
  return 'required';
}

function emit(b: ResultBuilder, entries: Entry[], doc: Record<string, unknown>): void {
  const inputs = new Map<string, ComponentInput>();
  const refs = new Map<string, string>();
  const links: Entry[] = [];
  for (const e of entries) {
    b.declare();
    if (e.link) {
      links.push(e);
      continue;
    }
    const isProject = !e.key.includes(NM);
    const folder = isProject ? undefined : e.key.slice(e.key.lastIndexOf(NM) + NM.length);
    const name =
      e.name ?? folder ?? (e.key === '' && typeof doc.name === 'string' ? doc.name : undefined);
    const version =
      e.version ?? (e.key === '' && typeof doc.version === 'string' ? doc.version : undefined);
    if (!name) {
      b.skip(e.key || '(root)', 'no package name recorded');
      continue;
    }
    if (version === undefined && !isProject) {
      b.skip(e.key, 'no version recorded (not installed?)');
      continue;
    }
    const properties: Record<string, string> = {};
    if (folder && folder !== name) properties['npm:alias'] = folder;
    if (e.spec) properties['npm:spec'] = e.spec;
    if (e.inBundle) properties['npm:inBundle'] = 'true';
    if (e.devOptional) properties['npm:devOptional'] = 'true';
    if (e.hasInstallScript) properties['npm:hasInstallScript'] = 'true';
    const registry = isProject ? undefined : registryOfTarball(e.resolved, name);
    // Another registry than the public one (or the public one over http) is
    // the copy's source, so the builder keeps it beside every other copy's.
    const origin: Origin = isProject
      ? { source: { kind: 'workspace', url: e.key || '.' } }
      : registry !== undefined
        ? registryOrigin(registry)
        : originOf(e.resolved);
    const input = npmInput(name, version ?? '', {
      scope: isProject ? 'required' : scopeOf(e),
      licenses: e.license ?? [],
      hashes: hashesFromIntegrity(e.integrity),
      properties,
      ...origin,
    });
    inputs.set(e.key, input);
    const ref = b.add(input);
    refs.set(e.key, ref);
    if (isProject) b.root(ref);
  }
  for (const e of links) {
    const target = e.resolved;
    const input = target === undefined ? undefined : inputs.get(target);
    if (!input) {
      b.skip(e.key, `link to ${target ?? '(no target)'}, which the lockfile does not describe`);
      continue;
    }
    // The link and its target are one package: merging keeps the accounting honest.
    refs.set(e.key, b.add(input));
  }
  for (const e of entries) {
    const from = refs.get(e.key);
    if (from === undefined || e.link) continue;
    for (const [name] of e.deps) {
      const to = resolve(refs, e.key, name);
      if (to !== undefined) b.depend(from, to);
    }
  }
}

/** Node's lookup: `<dir>/node_modules/<name>` for the dependent's folder and each parent. */
function resolve(refs: Map<string, string>, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    if (!dir.endsWith('/node_modules') && dir !== 'node_modules') {
      const ref = refs.get(dir === '' ? `${NM}${name}` : `${dir}/${NM}${name}`);
      if (ref !== undefined) return ref;
    }
    if (dir === '') return undefined;
    const slash = dir.lastIndexOf('/');
    dir = slash < 0 ? '' : dir.slice(0, slash);
  }
}
