import { VouchError } from '../../core/errors.ts';
import { ResultBuilder } from '../builder.ts';
import type { Component, Hash, ReaderResult } from '../model.ts';
import type { Reader, SourceFile } from '../reader.ts';
import { isTable, packageLine, parseTomlLock } from './toml-lock.ts';

/**
 * Cargo.lock v1 (checksums in `[metadata]`), v2 (inline `checksum`, no
 * version key), v3 and v4 (`version = 3|4`). Packages without a `source`
 * are the workspace's own crates: the roots. Cargo.lock does not say which
 * dependencies are dev-only, so every package is required.
 */
export const cargoLockReader: Reader = {
  name: 'cargo-lock',
  matches: (path) => /(^|\/)Cargo\.lock$/.test(path),
  read,
};

async function read(file: SourceFile): Promise<ReaderResult> {
  const bytes = await file.bytes();
  const doc = parseTomlLock(bytes, file.path);
  const meta = isTable(doc.metadata) ? doc.metadata : undefined;
  let version: number;
  if (doc.version === undefined)
    version = meta && Object.keys(meta).some((k) => k.startsWith('checksum ')) ? 1 : 2;
  else if (doc.version === 3 || doc.version === 4) version = doc.version;
  else {
    throw new VouchError(
      'LOCKFILE_UNSUPPORTED',
      `Cargo.lock version ${String(doc.version)} (this reader knows 1 to 4)`,
      { file: file.path, field: 'version' },
    );
  }
  const packages = doc.package === undefined ? [] : doc.package;
  if (!Array.isArray(packages)) {
    throw new VouchError('LOCKFILE_MALFORMED', 'package is not an array of tables', {
      file: file.path,
    });
  }
  const text = bytes.toString('utf8');
  const b = new ResultBuilder(file.path, 'cargo-lock', `Cargo.lock v${version}`);
  // `name`, `name version` or `name version (source)` → refs
  const refs = new Map<string, string>();
  const byName = new Map<string, string[]>();
  const edges: Array<[string, string[]]> = [];
  packages.forEach((p: unknown, i: number) => {
    b.declare();
    if (!isTable(p) || typeof p.name !== 'string' || typeof p.version !== 'string') {
      throw new VouchError('LOCKFILE_MALFORMED', '[[package]] without a name and version', {
        file: file.path,
        field: `line ${packageLine(text, i)}`,
      });
    }
    const src = typeof p.source === 'string' ? p.source : undefined;
    const hashes: Hash[] = [];
    const sum =
      typeof p.checksum === 'string'
        ? p.checksum
        : meta?.[`checksum ${p.name} ${p.version} (${src})`];
    if (typeof sum === 'string' && /^[0-9a-f]{64}$/.test(sum))
      hashes.push({ algorithm: 'SHA-256', value: sum });
    let source: Component['source'];
    const properties: Record<string, string> = {};
    if (src === undefined) source = { kind: 'workspace' };
    else if (src.startsWith('git+')) {
      const [url, rev] = src.slice(4).split('#');
      source = { kind: 'git', url: url as string };
      if (rev) properties['vcs:ref'] = rev;
    } else if (/^(registry|sparse)\+/.test(src)) {
      const url = src.replace(/^(registry|sparse)\+/, '');
      if (
        url !== 'https://github.com/rust-lang/crates.io-index' &&
        url !== 'https://index.crates.io/'
      )
        source = { kind: 'registry', url };
    } else if (src.startsWith('path+')) source = { kind: 'file', url: src.slice(5) };
    else {
      throw new VouchError('LOCKFILE_UNSUPPORTED', `package source ${src}`, {
        file: file.path,
        field: `line ${packageLine(text, i)}`,
      });
    }
    const ref = b.add({
      ecosystem: 'cargo',
      name: p.name,
      version: p.version,
      hashes,
      source,
      properties,
    });
    if (src === undefined) b.root(ref);
    refs.set(`${p.name} ${p.version} (${src})`, ref);
    refs.set(`${p.name} ${p.version}`, ref);
    byName.set(p.name, [...(byName.get(p.name) ?? []), ref]);
    if (Array.isArray(p.dependencies)) edges.push([ref, p.dependencies.map(String)]);
  });
  for (const [from, deps] of edges) {
    for (const d of deps) {
      const parts = d.split(' ');
      const to =
        parts.length === 1
          ? byName.get(d)?.[0]
          : (refs.get(d) ?? refs.get(`${parts[0]} ${parts[1]}`));
      if (to) b.depend(from, to);
    }
  }
  return b.build();
}
