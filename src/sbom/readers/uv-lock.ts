import { VouchError } from '../../core/errors.ts';
import { ResultBuilder } from '../builder.ts';
import type { Component, Hash, ReaderResult, Scope } from '../model.ts';
import type { Reader, SourceFile } from '../reader.ts';
import { pypiHash, pypiName } from './python-name.ts';
import { isTable, packageLine, parseTomlLock } from './toml-lock.ts';

/**
 * uv.lock version 1 (any revision). Workspace members (`[manifest] members`,
 * or the editable/virtual project at `.`) are the roots. Scope comes from the
 * graph: reachable from a root through `dependencies` (and the extras those
 * edges ask for) is required, only through a root's `optional-dependencies`
 * is optional, only through `dev-dependencies` (dependency groups) is dev.
 */
export const uvLockReader: Reader = {
  name: 'uv-lock',
  matches: (path) => /(^|\/)uv\.lock$/.test(path),
  read,
};

interface DepEdge {
  name: string;
  version?: string;
  extras: string[];
}

interface Pkg {
  index: number;
  name: string;
  version: string;
  source: Record<string, unknown>;
  deps: DepEdge[];
  optional: Map<string, DepEdge[]>;
  dev: DepEdge[];
  hashes: Hash[];
}

const SOURCE_KINDS: Record<string, NonNullable<Component['source']>['kind']> = {
  registry: 'registry',
  git: 'git',
  url: 'tarball',
  path: 'file',
  directory: 'file',
  editable: 'file',
  virtual: 'workspace',
};

async function read(file: SourceFile): Promise<ReaderResult> {
  const bytes = await file.bytes();
  const doc = parseTomlLock(bytes, file.path);
  if (doc.version !== 1) {
    throw new VouchError(
      'LOCKFILE_UNSUPPORTED',
      `uv.lock version ${String(doc.version)} (this reader knows 1)`,
      { file: file.path, field: 'version' },
    );
  }
  const revision = typeof doc.revision === 'number' ? doc.revision : 0;
  const text = bytes.toString('utf8');
  const raw = doc.package === undefined ? [] : doc.package;
  if (!Array.isArray(raw)) {
    throw new VouchError('LOCKFILE_MALFORMED', 'package is not an array of tables', {
      file: file.path,
    });
  }
  const pkgs: Pkg[] = raw.map((p: unknown, index: number) => toPkg(p, index, file.path, text));
  const byName = new Map<string, Pkg[]>();
  for (const p of pkgs) byName.set(p.name, [...(byName.get(p.name) ?? []), p]);
  const resolve = (e: DepEdge): Pkg[] => {
    const all = byName.get(e.name) ?? [];
    return e.version === undefined ? all : all.filter((p) => p.version === e.version);
  };

  const manifest = isTable(doc.manifest) ? doc.manifest : {};
  const members = Array.isArray(manifest.members)
    ? manifest.members.map((m) => pypiName(String(m)))
    : [];
  const roots = pkgs.filter(
    (p) => members.includes(p.name) || p.source.editable === '.' || p.source.virtual === '.',
  );

  // Best scope per package: required, then optional, then dev (breadth-first, in rank order).
  const scope = new Map<Pkg, Scope>();
  const walk = (start: DepEdge[], s: Scope): void => {
    const queue: DepEdge[] = [...start];
    const seen = new Set<string>();
    while (queue.length > 0) {
      const e = queue.shift() as DepEdge;
      for (const p of resolve(e)) {
        const key = `${p.index}|${e.extras.join(',')}`;
        if (seen.has(key)) continue;
        seen.add(key);
        if (!scope.has(p)) scope.set(p, s);
        queue.push(...p.deps);
        for (const x of e.extras) queue.push(...(p.optional.get(x) ?? []));
      }
    }
  };
  for (const r of roots) scope.set(r, 'required');
  walk(
    roots.flatMap((r) => r.deps),
    'required',
  );
  walk(
    roots.flatMap((r) => [...r.optional.values()].flat()),
    'optional',
  );
  walk(
    roots.flatMap((r) => r.dev),
    'dev',
  );

  const b = new ResultBuilder(file.path, 'uv-lock', `uv.lock version 1 revision ${revision}`);
  const refs = new Map<Pkg, string>();
  for (const p of pkgs) {
    b.declare();
    const kindKey = Object.keys(p.source).find((k) => k in SOURCE_KINDS);
    const properties: Record<string, string> = {};
    let source: Component['source'];
    if (kindKey && kindKey !== 'registry') {
      const url = String(p.source[kindKey]);
      source = { kind: SOURCE_KINDS[kindKey] as NonNullable<Component['source']>['kind'], url };
      properties['uv:source'] = kindKey;
    }
    if (!scope.has(p)) properties['uv:reachable'] = 'false';
    const ref = b.add({
      ecosystem: 'pypi',
      name: p.name,
      version: p.version,
      scope: scope.get(p) ?? 'required',
      hashes: p.hashes,
      source,
      properties,
    });
    refs.set(p, ref);
  }
  for (const r of roots) b.root(refs.get(r) as string);
  for (const p of pkgs) {
    const from = refs.get(p) as string;
    const edges = [...p.deps, ...[...p.optional.values()].flat(), ...p.dev];
    for (const e of edges) for (const q of resolve(e)) b.depend(from, refs.get(q) as string);
  }
  return b.build();
}

function toPkg(p: unknown, index: number, file: string, text: string): Pkg {
  const field = `line ${packageLine(text, index)}`;
  if (!isTable(p) || typeof p.name !== 'string' || !isTable(p.source)) {
    throw new VouchError('LOCKFILE_MALFORMED', '[[package]] without a name and source', {
      file,
      field,
    });
  }
  if (!Object.keys(p.source).some((k) => k in SOURCE_KINDS)) {
    throw new VouchError('LOCKFILE_UNSUPPORTED', `source ${JSON.stringify(p.source)}`, {
      file,
      field,
    });
  }
  const edges = (v: unknown): DepEdge[] =>
    (Array.isArray(v) ? v : []).filter(isTable).map((d) => {
      const e: DepEdge = {
        name: pypiName(String(d.name)),
        extras: Array.isArray(d.extra) ? d.extra.map(String) : [],
      };
      if (typeof d.version === 'string') e.version = d.version;
      return e;
    });
  const groups = (v: unknown): Map<string, DepEdge[]> =>
    new Map(isTable(v) ? Object.entries(v).map(([k, x]) => [k, edges(x)]) : []);
  const hashes: Hash[] = [];
  const files = [p.sdist, ...(Array.isArray(p.wheels) ? p.wheels : [])];
  for (const f of files) {
    const h = isTable(f) && typeof f.hash === 'string' ? pypiHash(f.hash) : undefined;
    if (h) hashes.push(h);
  }
  hashes.sort((x, y) => (x.value < y.value ? -1 : 1));
  return {
    index,
    name: pypiName(p.name),
    // Dynamic versions of editable/virtual workspace members are not recorded.
    version: typeof p.version === 'string' ? p.version : '',
    source: p.source,
    deps: edges(p.dependencies),
    optional: groups(p['optional-dependencies']),
    dev: [...groups(p['dev-dependencies']).values()].flat(),
    hashes,
  };
}
