import { hashesFromIntegrity, ResultBuilder } from '../builder.ts';
import type { ReaderResult } from '../model.ts';
import type { Reader, SourceFile } from '../reader.ts';
import {
  type EdgeKind,
  isObject,
  malformed,
  npmInput,
  type Origin,
  originOf,
  parseJsonc,
  registryOfDownload,
  registryOrigin,
  scopesByReachability,
  splitAt,
  unsupported,
} from './js-common.ts';

/**
 * bun's text lockfile `bun.lock` (lockfileVersion 0, 1, 2): JSON with
 * trailing commas. `packages` maps an install path (`a/b` = b nested under a)
 * to a tuple whose first element is the real `name@version` (or
 * `name@workspace:…`, `name@github:…`, `name@file:…`, a tarball URL…).
 * bun records no dev/optional flags, so scope comes from reachability from the
 * workspaces' dependency lists. A registry package's second element is its
 * tarball URL (or "" for the default registry): another registry than the
 * public one, or plain http, is the component's `registry` source.
 */
export const bunReader: Reader = {
  name: 'bun',
  matches: (path) => /(^|\/)bun\.lock$/.test(path),
  read,
};

const KNOWN_VERSIONS = new Set([0, 1, 2]);

interface Node {
  ref: string;
  deps: Array<[string, EdgeKind]>;
  /** Install path segments (package names), for nested resolution. */
  segs: string[];
}

async function read(file: SourceFile): Promise<ReaderResult> {
  const doc = parseJsonc((await file.bytes()).toString('utf8'), file.path);
  if (!isObject(doc)) throw malformed(file.path, 'not a JSON object');
  const version = doc.lockfileVersion;
  if (typeof version !== 'number' || !KNOWN_VERSIONS.has(version)) {
    throw unsupported(
      file.path,
      `lockfileVersion ${JSON.stringify(version)} (this reader knows 0, 1 and 2)`,
      'lockfileVersion',
    );
  }
  const workspaces = doc.workspaces ?? {};
  if (!isObject(workspaces))
    throw malformed(file.path, '"workspaces" is not an object', 'workspaces');
  const packages = doc.packages ?? {};
  if (!isObject(packages)) throw malformed(file.path, '"packages" is not an object', 'packages');

  const b = new ResultBuilder(file.path, 'bun', `bun.lock v${version}`);
  const byPath = new Map<string, Node>();
  const starts: Array<{ key: string; kind: EdgeKind }> = [];
  const wsVersion = new Map<string, string>();
  const projects: Array<{ ref: string; prefix: string[]; deps: Array<[string, EdgeKind]> }> = [];
  // Pass 1: the projects.
  const wsInputs: Array<{
    path: string;
    name: string;
    version: string;
    w: Record<string, unknown>;
  }> = [];
  for (const [path, w] of Object.entries(workspaces)) {
    b.declare();
    if (!isObject(w)) throw malformed(file.path, 'entry is not an object', `workspaces["${path}"]`);
    if (typeof w.name !== 'string') {
      b.skip(`workspaces["${path}"]`, 'workspace without a name');
      continue;
    }
    const v = typeof w.version === 'string' ? w.version : '';
    wsVersion.set(path, v);
    wsInputs.push({ path, name: w.name, version: v, w });
  }
  const scopeLater = new Map<string, { input: ReturnType<typeof npmInput>; key: string }>();
  for (const { path, name, version: v, w } of wsInputs) {
    const ref = b.add(
      npmInput(name, v, { scope: 'required', source: { kind: 'workspace', url: path || '.' } }),
    );
    b.root(ref);
    const deps: Array<[string, EdgeKind]> = [];
    for (const [field, kind] of DEP_FIELDS_WS) {
      const d = w[field];
      if (isObject(d)) for (const n of Object.keys(d)) deps.push([n, kind]);
    }
    // A workspace's own nested packages sit under its name; the root's at the top.
    projects.push({ ref, prefix: path === '' ? [] : [name], deps });
  }
  // Pass 2: the packages.
  for (const [path, t] of Object.entries(packages)) {
    b.declare();
    if (!Array.isArray(t) || typeof t[0] !== 'string') {
      throw malformed(
        file.path,
        'entry is not a [ "name@version", … ] tuple',
        `packages["${path}"]`,
      );
    }
    const id = splitAt(t[0]);
    if (!id) {
      b.skip(path, `cannot split ${JSON.stringify(t[0])} into name and version`);
      continue;
    }
    const [name, spec] = id;
    const segs = splitPath(path);
    const folder = segs[segs.length - 1];
    const properties: Record<string, string> = {};
    if (folder && folder !== name) properties['npm:alias'] = folder;
    let version = spec;
    let origin: Origin = {};
    let info: Record<string, unknown> | undefined;
    let integrity: string | undefined;
    if (spec.startsWith('workspace:')) {
      const wpath = spec.slice('workspace:'.length);
      version = wsVersion.get(wpath) ?? '';
      origin = { source: { kind: 'workspace', url: wpath } };
      if (isObject(t[1])) info = t[1];
    } else if (spec.startsWith('root:')) {
      version = wsVersion.get('') ?? '';
      origin = { source: { kind: 'workspace', url: '.' } };
    } else if (/^\d/.test(spec)) {
      // npm: [id, registry, info, integrity]. The registry field is the
      // tarball URL, or "" for the configured default registry, which the
      // lockfile does not name: nothing is invented (the public registry).
      // The property keeps the URL as written (first copy's, on merges).
      if (typeof t[1] === 'string' && t[1] !== '') properties['bun:registry'] = t[1];
      const registry =
        typeof t[1] === 'string' && t[1] !== '' ? registryOfDownload(t[1], name) : undefined;
      if (registry !== undefined) origin = registryOrigin(registry);
      if (isObject(t[2])) info = t[2];
      if (typeof t[3] === 'string') integrity = t[3];
    } else {
      origin = originOf(spec);
      // bun writes remote tarballs as their URL, local ones as a bare path.
      if (/^https?:\/\//.test(spec) && !origin.source) {
        origin = { source: { kind: 'tarball', url: spec }, qualifiers: { download_url: spec } };
      } else if (!origin.source) origin = { source: { kind: 'file', url: spec } };
      if (origin.source?.kind === 'git') {
        version = /#([0-9a-f]{7,40})$/.exec(spec)?.[1] ?? spec;
        properties['bun:spec'] = spec;
      }
      if (isObject(t[1])) info = t[1];
      if (typeof t[2] === 'string' && /^sha\d+-/.test(t[2])) integrity = t[2];
    }
    const input = npmInput(name, version, {
      hashes: hashesFromIntegrity(integrity),
      properties,
      ...origin,
    });
    const deps: Array<[string, EdgeKind]> = [];
    if (info) {
      for (const [field, kind] of DEP_FIELDS) {
        const d = info[field];
        if (isObject(d)) for (const n of Object.keys(d)) deps.push([n, kind]);
      }
    }
    scopeLater.set(path, { input, key: path });
    byPath.set(path, { ref: '', deps, segs });
  }

  // Edges by install path, then scope from reachability, then components.
  const edges = new Map<string, Array<{ key: string; kind: EdgeKind }>>();
  for (const [path, node] of byPath) {
    const out: Array<{ key: string; kind: EdgeKind }> = [];
    for (const [n, kind] of node.deps) {
      const to = resolve(byPath, node.segs, n);
      if (to !== undefined) out.push({ key: to, kind });
    }
    edges.set(path, out);
  }
  for (const p of projects) {
    for (const [n, kind] of p.deps) {
      const to = resolve(byPath, p.prefix, n);
      if (to !== undefined) starts.push({ key: to, kind });
    }
  }
  const scopes = scopesByReachability(starts, edges);
  for (const [path, { input }] of scopeLater) {
    const node = byPath.get(path) as Node;
    node.ref = b.add({
      ...input,
      scope: input.source?.kind === 'workspace' ? 'required' : (scopes.get(path) ?? 'required'),
    });
  }
  for (const p of projects) {
    for (const [n] of p.deps) {
      const to = resolve(byPath, p.prefix, n);
      if (to !== undefined) b.depend(p.ref, (byPath.get(to) as Node).ref);
    }
  }
  for (const [path, node] of byPath) {
    for (const e of edges.get(path) ?? []) b.depend(node.ref, (byPath.get(e.key) as Node).ref);
  }
  return b.build();
}

const DEP_FIELDS: ReadonlyArray<[string, EdgeKind]> = [
  ['dependencies', 'prod'],
  ['optionalDependencies', 'optional'],
  ['peerDependencies', 'peer'],
];
const DEP_FIELDS_WS: ReadonlyArray<[string, EdgeKind]> = [
  ...DEP_FIELDS,
  ['devDependencies', 'dev'],
];

/** `a/@s/b/c` → ['a', '@s/b', 'c']. */
function splitPath(path: string): string[] {
  const parts = path.split('/');
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as string;
    if (p.startsWith('@') && i + 1 < parts.length) {
      out.push(`${p}/${parts[i + 1]}`);
      i++;
    } else out.push(p);
  }
  return out;
}

/** bun's hoisting: the dependent's own nested path first, then each parent, then the top. */
function resolve(byPath: Map<string, Node>, segs: string[], name: string): string | undefined {
  for (let i = segs.length; i >= 0; i--) {
    const key = i === 0 ? name : `${segs.slice(0, i).join('/')}/${name}`;
    if (byPath.has(key)) return key;
  }
  return undefined;
}
