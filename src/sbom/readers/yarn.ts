import { posix } from 'node:path';
import { errorMessage } from '../../core/errors.ts';
import { type ComponentInput, hashesFromIntegrity, ResultBuilder } from '../builder.ts';
import type { ReaderResult } from '../model.ts';
import type { Reader, SourceFile } from '../reader.ts';
import {
  type EdgeKind,
  isObject,
  malformed,
  npmInput,
  type Origin,
  originOf,
  registryOfDownload,
  registryOfTarball,
  registryOrigin,
  scopesByReachability,
  splitAt,
  unsupported,
} from './js-common.ts';
import { BAIL, parseYarnV1 } from './yarn-v1-syml.ts';

/**
 * yarn.lock, classic (`# yarn lockfile v1`) and berry (`__metadata.version`
 * 4 to 10), parsed with @yarnpkg/parsers (loaded only when needed: what yarn
 * classic writes takes the fast path of yarn-v1-syml.ts).
 *
 * Each block is declared once, whatever number of descriptors its header
 * lists; blocks that are the same package merge. Classic: the name comes from
 * the descriptor (`alias@npm:real@range` → real), the version from the block.
 * Berry: the `resolution` field is the truth; `patch:` resolutions fold onto
 * the patched package (property `yarn:patch`), `workspace:` blocks are the
 * projects (roots), `portal:`/`link:` are links. Berry's `checksum` is a
 * checksum of yarn's cache archive, not of the published tarball, so it is
 * kept as the property `yarn:checksum`, never as a package hash. Scope comes
 * from reachability from the projects' manifests when they are beside the
 * lockfile (neither flavour records dev/optional). Registry origins: a
 * classic `resolved` registry tarball, or berry's `::__archiveUrl=`, from
 * another registry than the public one (registry.yarnpkg.com is the public
 * one) or over http is the `registry` source; berry's plain `npm:1.2.3`
 * names no registry (npmRegistryServer is configuration), so none is recorded.
 */
export const yarnReader: Reader = {
  name: 'yarn',
  matches: (path) => /(^|\/)yarn\.lock$/.test(path),
  read,
};

const BERRY_VERSIONS = new Set([4, 5, 6, 7, 8, 9, 10]);

interface Block {
  /** The header as written (descriptors joined), for accounting. */
  header: string;
  descriptors: string[];
  entry: Record<string, unknown>;
}

interface Node {
  block: Block;
  input: ComponentInput;
  workspace?: string;
  ref?: string;
  deps: Array<[string, string, EdgeKind]>;
}

async function read(file: SourceFile): Promise<ReaderResult> {
  const text = (await file.bytes()).toString('utf8');
  const berry = /^__metadata:/m.test(text);
  const classic = !berry && /^# yarn lockfile v1\s*$/m.test(text);
  if (!berry && !classic) {
    throw unsupported(
      file.path,
      'neither a yarn classic lockfile ("# yarn lockfile v1") nor a yarn berry one (__metadata)',
    );
  }
  let doc: Record<string, unknown>;
  try {
    // yarn classic's own output takes the fast path; anything else, @yarnpkg/parsers.
    const fast = classic ? parseYarnV1(text) : BAIL;
    const parsed =
      fast !== BAIL ? fast : ((await import('@yarnpkg/parsers')).parseSyml(text) as unknown);
    if (!isObject(parsed)) throw new Error('not a mapping');
    doc = parsed;
  } catch (e) {
    throw parseError(e, file.path);
  }
  let format = 'yarn.lock v1';
  if (berry) {
    const meta = doc.__metadata;
    const v = isObject(meta) ? Number(meta.version) : Number.NaN;
    if (!BERRY_VERSIONS.has(v)) {
      throw unsupported(
        file.path,
        `__metadata.version ${JSON.stringify(isObject(meta) ? meta.version : meta)} (this reader knows 4 to 10)`,
        '__metadata.version',
      );
    }
    format = `yarn.lock berry __metadata.version ${v}`;
  }
  const blocks = blocksOf(doc, berry, file.path);
  const b = new ResultBuilder(file.path, 'yarn', format);
  const nodes: Node[] = [];
  for (const block of blocks) {
    b.declare();
    const node = berry ? berryNode(block) : classicNode(block);
    if (typeof node === 'string') {
      b.skip(block.header, node);
      continue;
    }
    nodes.push(node);
  }

  // Descriptor → node, for dependency lookups.
  const byDescriptor = new Map<string, Node>();
  for (const n of nodes) for (const d of n.block.descriptors) byDescriptor.set(d, n);
  const find = (name: string, range: string): Node | undefined =>
    byDescriptor.get(`${name}@${range}`) ?? byDescriptor.get(`${name}@npm:${range}`);

  // Projects: berry's workspace blocks; classic's manifest beside the lockfile.
  const starts: Array<{ key: string; kind: EdgeKind }> = [];
  const ids = new Map<Node, string>(nodes.map((n, i) => [n, String(i)]));
  const projects = nodes.filter((n) => n.workspace !== undefined);
  for (const p of projects) {
    const manifest = await manifestOf(file, p.workspace as string);
    // Berry writes 0.0.0-use.local for a workspace; its manifest knows better.
    if (typeof manifest?.version === 'string') p.input.version = manifest.version;
    const devNames = new Set(
      isObject(manifest?.devDependencies) ? Object.keys(manifest.devDependencies) : [],
    );
    const optNames = new Set(
      isObject(manifest?.optionalDependencies) ? Object.keys(manifest.optionalDependencies) : [],
    );
    for (const [name, range] of p.deps) {
      const to = find(name, range);
      if (!to) continue;
      const kind: EdgeKind =
        devNames.has(name) && !hasProd(manifest, name)
          ? 'dev'
          : optNames.has(name)
            ? 'optional'
            : 'prod';
      starts.push({ key: ids.get(to) as string, kind });
    }
  }
  let classicRoot: string | undefined;
  if (classic) {
    const manifest = await manifestOf(file, '.');
    if (manifest && typeof manifest.name === 'string') {
      b.declare();
      classicRoot = b.add(
        npmInput(manifest.name, typeof manifest.version === 'string' ? manifest.version : '', {
          source: { kind: 'workspace', url: '.' },
        }),
      );
      b.root(classicRoot);
    }
    for (const [field, kind] of [
      ['dependencies', 'prod'],
      ['optionalDependencies', 'optional'],
      ['devDependencies', 'dev'],
    ] as const) {
      const d = manifest?.[field];
      if (!isObject(d)) continue;
      for (const [name, range] of Object.entries(d)) {
        const to = typeof range === 'string' ? find(name, range) : undefined;
        if (to) starts.push({ key: ids.get(to) as string, kind });
      }
    }
  }
  const edges = new Map<string, Array<{ key: string; kind: EdgeKind }>>();
  for (const n of nodes) {
    if (n.workspace !== undefined) continue;
    const out: Array<{ key: string; kind: EdgeKind }> = [];
    for (const [name, range, kind] of n.deps) {
      const to = find(name, range);
      if (to) out.push({ key: ids.get(to) as string, kind });
    }
    edges.set(ids.get(n) as string, out);
  }
  const scopes = scopesByReachability(starts, edges);
  // Blocks that are one package (a patch and its base) share their properties.
  const props = new Map<string, Record<string, string>>();
  for (const n of nodes) {
    const k = `${n.input.namespace ?? ''}/${n.input.name}@${n.input.version}`;
    const seen = props.get(k);
    if (seen) Object.assign(seen, n.input.properties);
    else props.set(k, { ...n.input.properties });
    n.input.properties = props.get(k) as Record<string, string>;
  }
  for (const n of nodes) {
    const scope =
      n.workspace !== undefined ? 'required' : (scopes.get(ids.get(n) as string) ?? 'required');
    n.ref = b.add({ ...n.input, scope });
    if (n.workspace !== undefined) b.root(n.ref);
  }
  for (const n of nodes) {
    for (const [name, range] of n.deps) {
      const to = find(name, range);
      if (to?.ref && n.ref) b.depend(n.ref, to.ref);
    }
  }
  if (classicRoot) {
    for (const s of starts) {
      const to = nodes[Number(s.key)]?.ref;
      if (to) b.depend(classicRoot, to);
    }
  }
  return b.build();
}

function hasProd(manifest: Record<string, unknown> | undefined, name: string): boolean {
  return isObject(manifest?.dependencies) && name in (manifest.dependencies as object);
}

/** Blocks with their descriptors: classic headers are split by the parser, berry's are not. */
function blocksOf(doc: Record<string, unknown>, berry: boolean, file: string): Block[] {
  const byEntry = new Map<Record<string, unknown>, Block>();
  const out: Block[] = [];
  for (const [header, entry] of Object.entries(doc)) {
    if (header === '__metadata') continue;
    if (!isObject(entry)) throw malformed(file, 'block is not a mapping', header);
    const descriptors = berry ? header.split(/,\s*/) : [header];
    // The classic parser gives each descriptor of one header the same object.
    const seen = byEntry.get(entry);
    if (seen) {
      seen.descriptors.push(...descriptors);
      seen.header += `, ${header}`;
      continue;
    }
    const block: Block = { header, descriptors, entry };
    byEntry.set(entry, block);
    out.push(block);
  }
  return out;
}

function depsOf(entry: Record<string, unknown>): Array<[string, string, EdgeKind]> {
  const out: Array<[string, string, EdgeKind]> = [];
  for (const [field, kind] of [
    ['dependencies', 'prod'],
    ['optionalDependencies', 'optional'],
  ] as const) {
    const d = entry[field];
    if (!isObject(d)) continue;
    for (const [n, r] of Object.entries(d)) if (typeof r === 'string') out.push([n, r, kind]);
  }
  return out;
}

/** A classic block, or why it cannot be one component. */
function classicNode(block: Block): Node | string {
  const e = block.entry;
  const first = splitAt(block.descriptors[0] as string);
  if (!first) return `cannot split ${JSON.stringify(block.descriptors[0])} into name and range`;
  let [name, range] = first;
  const properties: Record<string, string> = {};
  if (range.startsWith('npm:')) {
    const real = splitAt(range.slice(4));
    if (real) {
      properties['npm:alias'] = name;
      [name, range] = real;
    }
  }
  if (typeof e.version !== 'string' && typeof e.version !== 'number') {
    return 'block has no version';
  }
  const resolved = typeof e.resolved === 'string' ? e.resolved : undefined;
  let origin: Origin = originOf(resolved);
  // A registry tarball: its registry is the source unless it is the public one over https.
  const registry = origin.source ? undefined : registryOfTarball(resolved, name);
  if (registry !== undefined) origin = registryOrigin(registry);
  if (!origin.source) {
    const fromRange = originOf(range);
    if (fromRange.source && fromRange.source.kind !== 'tarball') origin = fromRange;
  }
  const hashes = hashesFromIntegrity(typeof e.integrity === 'string' ? e.integrity : undefined);
  if (hashes.length === 0 && resolved) {
    // Old classic lockfiles: only the tarball's sha1 after '#'.
    const sha1 = /#([0-9a-f]{40})$/.exec(resolved)?.[1];
    if (sha1 && (!origin.source || origin.source.kind === 'registry'))
      hashes.push({ algorithm: 'SHA-1', value: sha1 });
  }
  return {
    block,
    input: npmInput(name, String(e.version), { hashes, properties, ...origin }),
    deps: depsOf(e),
  };
}

/** A berry block, or why it cannot be one component. */
function berryNode(block: Block): Node | string {
  const e = block.entry;
  if (typeof e.resolution !== 'string') return 'block has no resolution';
  const id = splitAt(e.resolution);
  if (!id) return `cannot split resolution ${JSON.stringify(e.resolution)}`;
  const [name, spec] = id;
  const entryVersion =
    typeof e.version === 'string' || typeof e.version === 'number' ? String(e.version) : undefined;
  const properties: Record<string, string> = {};
  if (typeof e.checksum === 'string') properties['yarn:checksum'] = e.checksum;
  const alias = block.descriptors.map((d) => splitAt(d)?.[0]).find((n) => n && n !== name);
  if (alias) properties['npm:alias'] = alias;
  const node = (version: string, origin: Origin = {}, workspace?: string): Node => {
    const n: Node = {
      block,
      input: npmInput(name, version, { properties, ...origin }),
      deps: depsOf(e),
    };
    if (workspace !== undefined) n.workspace = workspace;
    return n;
  };
  let base = spec;
  if (base.startsWith('patch:')) {
    // patch:name@npm%3A1.2.3#<patch>::locator — the package is the one patched.
    properties['yarn:patch'] = base;
    const inner = decodeURIComponent(base.slice(6).replace(/#.*$/, ''));
    const innerId = splitAt(inner);
    if (!innerId) return `cannot read the patched package of ${JSON.stringify(e.resolution)}`;
    base = innerId[1];
  }
  if (base.startsWith('npm:')) {
    // `npm:1.2.3`: from npmRegistryServer, which the lockfile does not name
    // (nothing is invented: the public registry). yarn adds
    // `::__archiveUrl=<url>` when the tarball is not where the registry's
    // layout puts it; that URL says which registry served it.
    const cut = base.indexOf('::');
    if (cut < 0) return node(base.slice(4));
    const archive = new URLSearchParams(base.slice(cut + 2)).get('__archiveUrl');
    const registry = archive ? registryOfDownload(archive, name) : undefined;
    return node(base.slice(4, cut), registry === undefined ? {} : registryOrigin(registry));
  }
  if (base.startsWith('workspace:')) {
    const path = base.slice('workspace:'.length);
    return node(entryVersion ?? '', { source: { kind: 'workspace', url: path } }, path);
  }
  const local = (v: string | undefined) => (v && v !== '0.0.0-use.local' ? v : base);
  for (const p of ['portal:', 'link:', 'file:']) {
    if (base.startsWith(p)) {
      const url = base.slice(p.length).replace(/(::|#).*$/, '');
      return node(local(entryVersion), { source: { kind: p === 'file:' ? 'file' : 'link', url } });
    }
  }
  const where = base.replace(/::.*$/, '');
  let origin = originOf(where);
  // An explicit URL is a tarball even when it points into a registry.
  if (!origin.source && /^https?:\/\//.test(where)) {
    origin = { source: { kind: 'tarball', url: where }, qualifiers: { download_url: where } };
  }
  if (origin.source) return node(entryVersion ?? base, origin);
  return `unknown resolution protocol in ${JSON.stringify(e.resolution)}`;
}

function parseError(e: unknown, file: string): Error {
  const err = e as { location?: { start?: { line?: number } }; mark?: { line?: number } };
  const line =
    err.location?.start?.line ?? (err.mark?.line !== undefined ? err.mark.line + 1 : undefined);
  const first = errorMessage(e).split('\n')[0] ?? '';
  return malformed(file, `not a valid yarn.lock: ${first}`, line ? `line ${line}` : undefined, e);
}

async function manifestOf(
  file: SourceFile,
  dir: string,
): Promise<Record<string, unknown> | undefined> {
  const rel = dir === '.' || dir === '' ? 'package.json' : posix.join(dir, 'package.json');
  try {
    const bytes = await file.sibling(rel);
    if (!bytes) return undefined;
    const m = JSON.parse(bytes.toString('utf8')) as unknown;
    return isObject(m) ? m : undefined;
  } catch {
    return undefined;
  }
}
