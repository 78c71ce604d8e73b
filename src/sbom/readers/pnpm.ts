import { posix } from 'node:path';
import { type ComponentInput, hashesFromIntegrity, ResultBuilder } from '../builder.ts';
import type { ReaderResult, Scope } from '../model.ts';
import type { Reader, SourceFile } from '../reader.ts';
import {
  type EdgeKind,
  isObject,
  malformed,
  npmInput,
  type Origin,
  originOf,
  registryOfTarball,
  registryOrigin,
  scopesByReachability,
  splitAt,
  unsupported,
} from './js-common.ts';
import { parseLockYaml } from './js-lockyaml.ts';

/**
 * pnpm-lock.yaml, and pnpm's hidden lockfile `node_modules/.pnpm/lock.yaml`
 * (the same format, written at install: what is installed, so without the
 * dev dependencies after `--prod`; its importers are relative to the
 * directory holding node_modules), lockfileVersion 5.x (`/name/version_peers` keys), 6.x
 * (`/name@version(peers)`) and 9.0 (`packages` for what a package is,
 * `snapshots` for each peer-resolved instance, `importers` for the projects).
 *
 * Each instance (a `packages` key in 5/6, a `snapshots` key in 9) is declared;
 * peer variants of one name@version merge. Scope comes from the `dev` and
 * `optional` flags (5/6) or, in 9.0, which records none, from reachability
 * from the importers' dependencies / optionalDependencies / devDependencies.
 * Importers become workspace components only where a package.json beside the
 * lockfile names them (the lockfile does not).
 */
export const pnpmReader: Reader = {
  name: 'pnpm',
  matches: (path) => /(^|\/)pnpm-lock\.yaml$/.test(path) || HIDDEN.test(path),
  read,
};

/** pnpm's hidden lockfile, in the default virtual store (`node_modules/.pnpm`). */
const HIDDEN = /(^|\/)node_modules\/\.pnpm\/lock\.yaml$/;

type Flavor = 5 | 6 | 9;

function flavorOf(v: unknown): Flavor | undefined {
  const s = typeof v === 'number' ? v.toFixed(1) : typeof v === 'string' ? v : '';
  if (/^5\.[0-4]$/.test(s)) return 5;
  if (/^6\.[01]$/.test(s)) return 6;
  if (s === '9.0') return 9;
  return undefined;
}

/** One installed instance: its lockfile key, what it is, and what it depends on. */
interface Instance {
  key: string;
  input: ComponentInput;
  /** Scope from the lockfile's own flags (5/6), if any. */
  flagged?: Scope;
  deps: Array<[string, string, EdgeKind]>;
}

async function read(file: SourceFile): Promise<ReaderResult> {
  const doc = parseLockYaml((await file.bytes()).toString('utf8'), file.path);
  if (!isObject(doc)) throw malformed(file.path, 'not a YAML mapping');
  const flavor = flavorOf(doc.lockfileVersion);
  if (flavor === undefined) {
    throw unsupported(
      file.path,
      `lockfileVersion ${JSON.stringify(doc.lockfileVersion)} (this reader knows 5.x, 6.0/6.1 and 9.0)`,
      'lockfileVersion',
    );
  }
  for (const field of ['packages', 'snapshots', 'importers', 'patchedDependencies']) {
    if (doc[field] !== undefined && doc[field] !== null && !isObject(doc[field])) {
      throw malformed(file.path, `"${field}" is not a mapping`, field);
    }
  }
  const packages = (doc.packages ?? {}) as Record<string, unknown>;
  const snapshots = (doc.snapshots ?? undefined) as Record<string, unknown> | undefined;
  const patches = (doc.patchedDependencies ?? {}) as Record<string, unknown>;
  const hidden = HIDDEN.test(file.path);
  const b = new ResultBuilder(
    file.path,
    'pnpm',
    `${hidden ? 'node_modules/.pnpm/lock.yaml' : 'pnpm-lock.yaml'} v${String(doc.lockfileVersion)}`,
  );

  const instances: Instance[] = [];
  const units: Array<[string, Record<string, unknown>, Record<string, unknown> | undefined]> = [];
  if (flavor === 9 && snapshots) {
    const covered = new Set<string>();
    for (const [key, snap] of Object.entries(snapshots)) {
      const base = stripPeers(key);
      covered.add(base);
      const pkg = packages[base];
      if (!isObject(snap))
        throw malformed(file.path, 'entry is not a mapping', `snapshots["${key}"]`);
      units.push([key, isObject(pkg) ? pkg : {}, snap]);
    }
    for (const [key, pkg] of Object.entries(packages)) {
      if (covered.has(key)) continue;
      if (!isObject(pkg))
        throw malformed(file.path, 'entry is not a mapping', `packages["${key}"]`);
      units.push([key, pkg, undefined]);
    }
  } else {
    for (const [key, pkg] of Object.entries(packages)) {
      if (!isObject(pkg))
        throw malformed(file.path, 'entry is not a mapping', `packages["${key}"]`);
      units.push([key, pkg, undefined]);
    }
  }

  for (const [key, pkg, snap] of units) {
    b.declare();
    const id = identity(key, pkg, flavor);
    if (!id) {
      b.skip(key, 'cannot tell name and version from the key or the entry');
      continue;
    }
    const { name, version, origin } = id;
    const properties: Record<string, string> = {};
    const patch = patches[`${name}@${version}`] ?? patches[name];
    if (isObject(patch) && typeof patch.path === 'string') properties['pnpm:patch'] = patch.path;
    else if (/\(patch_hash=|patch_hash=/.test(key)) properties['pnpm:patched'] = 'true';
    // pnpm < 9 records that the package has install scripts (or a binding.gyp).
    if (pkg.requiresBuild === true) properties['pnpm:requiresBuild'] = 'true';
    const res = isObject(pkg.resolution) ? pkg.resolution : {};
    const input = npmInput(name, version, {
      hashes: hashesFromIntegrity(typeof res.integrity === 'string' ? res.integrity : undefined),
      properties,
      ...origin,
    });
    const inst: Instance = { key, input, deps: [] };
    const meta = snap ?? pkg;
    if (flavor !== 9) {
      if (pkg.dev === true) inst.flagged = 'dev';
      else if (pkg.optional === true) inst.flagged = 'optional';
      else inst.flagged = 'required';
    }
    for (const [field, kind] of [
      ['dependencies', 'prod'],
      ['optionalDependencies', 'optional'],
    ] as const) {
      const d = meta[field];
      if (isObject(d)) for (const [n, r] of Object.entries(d)) inst.deps.push([n, String(r), kind]);
    }
    instances.push(inst);
  }

  // Keys of instances, by the key a dependency reference points to.
  const byKey = new Map<string, Instance>();
  for (const inst of instances) byKey.set(inst.key, inst);
  const edges = new Map<string, Array<{ key: string; kind: EdgeKind }>>();
  for (const inst of instances) {
    const out: Array<{ key: string; kind: EdgeKind }> = [];
    for (const [n, r, kind] of inst.deps) {
      const k = refKey(n, r, flavor);
      const to = k === undefined ? undefined : byKey.get(k);
      if (k === undefined || !to) continue;
      out.push({ key: k, kind });
      noteAlias(to, n);
    }
    edges.set(inst.key, out);
  }

  // Importers (or the single project of a 5/6 lockfile without them).
  const importers: Record<string, unknown> = isObject(doc.importers)
    ? doc.importers
    : {
        '.': {
          dependencies: doc.dependencies,
          devDependencies: doc.devDependencies,
          optionalDependencies: doc.optionalDependencies,
        },
      };
  const starts: Array<{ key: string; kind: EdgeKind; from: string }> = [];
  const importerRefs = new Map<string, string>();
  const links: Array<[string, string, EdgeKind]> = [];
  for (const [path, imp] of Object.entries(importers)) {
    if (!isObject(imp))
      throw malformed(file.path, 'entry is not a mapping', `importers["${path}"]`);
    for (const [field, kind] of [
      ['dependencies', 'prod'],
      ['optionalDependencies', 'optional'],
      ['devDependencies', 'dev'],
    ] as const) {
      const d = imp[field];
      if (!isObject(d)) continue;
      for (const [n, v] of Object.entries(d)) {
        // 6/9: { specifier, version }; 5: the version reference itself.
        const r = isObject(v) ? v.version : v;
        if (typeof r !== 'string' && typeof r !== 'number') continue;
        const ref = String(r);
        if (ref.startsWith('link:')) {
          links.push([path, posix.normalize(posix.join(path, ref.slice(5))), kind]);
          continue;
        }
        const k = refKey(n, ref, flavor);
        const inst = k === undefined ? undefined : byKey.get(k);
        if (k === undefined || !inst) continue;
        starts.push({ key: k, kind, from: path });
        noteAlias(inst, n);
      }
    }
    const manifest = await manifestOf(file, hidden ? posix.join('../..', path) : path);
    if (manifest) {
      b.declare();
      const ref = b.add(
        npmInput(manifest.name, manifest.version, {
          scope: 'required',
          source: { kind: 'workspace', url: path },
        }),
      );
      importerRefs.set(path, ref);
      b.root(ref);
    }
  }

  const scopes = flavor === 9 ? scopesByReachability(starts, edges) : undefined;
  const refs = new Map<string, string>();
  for (const inst of instances) {
    const snap = snapshots?.[inst.key];
    const unreached: Scope = isObject(snap) && snap.optional === true ? 'optional' : 'required';
    const scope = inst.flagged ?? scopes?.get(inst.key) ?? unreached;
    refs.set(inst.key, b.add({ ...inst.input, scope }));
  }
  for (const inst of instances) {
    const from = refs.get(inst.key) as string;
    for (const e of edges.get(inst.key) ?? []) b.depend(from, refs.get(e.key) as string);
  }
  for (const s of starts) {
    const from = importerRefs.get(s.from);
    if (from) b.depend(from, refs.get(s.key) as string);
  }
  for (const [from, to] of links) {
    const a = importerRefs.get(from);
    const z = importerRefs.get(to);
    if (a && z) b.depend(a, z);
  }
  return b.build();
}

/** A package reached under another name (`alias: real@1.0.0`) keeps the alias as a property. */
function noteAlias(inst: Instance, depName: string): void {
  const id = inst.input;
  const real = id.namespace ? `${id.namespace}/${id.name}` : id.name;
  if (depName === real) return;
  id.properties = { ...id.properties, 'npm:alias': depName };
}

/** `name@1.0.0(peer@2)(other@3)` → `name@1.0.0`; also v5's `/name/1.0.0_peer@2`. */
function stripPeers(key: string): string {
  const paren = key.indexOf('(');
  return paren > 0 ? key.slice(0, paren) : key;
}

/** Name, version and origin of one instance, from its key and entry. */
function identity(
  key: string,
  pkg: Record<string, unknown>,
  flavor: Flavor,
): { name: string; version: string; origin: Origin } | undefined {
  const res = isObject(pkg.resolution) ? pkg.resolution : {};
  let origin: Origin = {};
  if (typeof res.tarball === 'string') origin = originOf(res.tarball);
  else if (typeof res.repo === 'string') {
    const url = `${res.repo}${typeof res.commit === 'string' ? `#${res.commit}` : ''}`;
    origin = { source: { kind: 'git', url }, qualifiers: { vcs_url: url } };
  } else if (typeof res.directory === 'string') {
    origin = { source: { kind: 'file', url: res.directory } };
  }
  const entryName = typeof pkg.name === 'string' ? pkg.name : undefined;
  const entryVersion =
    typeof pkg.version === 'string' || typeof pkg.version === 'number'
      ? String(pkg.version)
      : undefined;

  let name: string | undefined;
  let version: string | undefined;
  const k = stripPeers(key);
  if (flavor === 5 && k.startsWith('/')) {
    // /name/1.0.0_peer or /@scope/name/1.0.0_peer
    const parts = k.slice(1).split('/');
    const scoped = parts[0]?.startsWith('@');
    const n = scoped ? 3 : 2;
    if (parts.length === n) {
      name = parts.slice(0, n - 1).join('/');
      version = (parts[n - 1] as string).replace(/_.*$/, '');
    }
  } else if (flavor !== 5 || !k.includes('/')) {
    const id = splitAt(k.startsWith('/') ? k.slice(1) : k);
    if (id && !id[0].includes(':')) {
      name = id[0];
      version = id[1];
    }
  }
  name = entryName ?? name;
  // A registry tarball URL (pnpm records one when the registry is not the
  // default or the tarball is not where the layout puts it) names the
  // registry; without one the registry is the configured one, which the
  // lockfile does not name: nothing is invented (the public registry).
  const registry =
    name !== undefined && typeof res.tarball === 'string' && !origin.source
      ? registryOfTarball(res.tarball, name)
      : undefined;
  if (registry !== undefined) origin = registryOrigin(registry);
  if (version === undefined || !/^\d/.test(version)) {
    // git, tarball, file: the entry's own name/version say what it is.
    const spec = version ?? k;
    version = entryVersion ?? spec;
    if (!origin.source) origin = originOf(spec);
  }
  if (!name || !version) return undefined;
  return { name, version, origin };
}

/** The instance key a dependency reference (`1.0.0(peer@1)`, `alias@1.0.0`, `/x@1`, `file:…`) points to. */
function refKey(name: string, ref: string, flavor: Flavor): string | undefined {
  if (ref.startsWith('link:')) return undefined;
  if (flavor === 9) {
    if (/^\d/.test(ref)) return `${name}@${ref}`;
    const at = ref.indexOf('@', ref.startsWith('@') ? 1 : 0);
    const paren = ref.indexOf('(');
    // `real@1.0.0`: an alias, the reference is the key itself.
    if (at > 0 && (paren < 0 || at < paren) && !ref.slice(0, at).includes(':')) return ref;
    return `${name}@${ref}`;
  }
  if (/^\d/.test(ref)) return flavor === 6 ? `/${name}@${ref}` : `/${name}/${ref}`;
  return ref;
}

async function manifestOf(
  file: SourceFile,
  importer: string,
): Promise<{ name: string; version: string } | undefined> {
  const rel = posix.join(importer, 'package.json');
  let bytes: Buffer | undefined;
  try {
    bytes = await file.sibling(rel);
  } catch {
    return undefined;
  }
  if (!bytes) return undefined;
  try {
    const m = JSON.parse(bytes.toString('utf8')) as unknown;
    if (isObject(m) && typeof m.name === 'string') {
      return { name: m.name, version: typeof m.version === 'string' ? m.version : '' };
    }
  } catch {
    // A broken manifest only costs the project's own component.
  }
  return undefined;
}
