import { VouchError } from '../../core/errors.ts';
import { ResultBuilder } from '../builder.ts';
import type { Component, Hash, ReaderResult, Scope } from '../model.ts';
import type { Reader, SourceFile } from '../reader.ts';
import { pypiHash, pypiName } from './python-name.ts';
import { isTable, packageLine, parseTomlLock } from './toml-lock.ts';

/**
 * poetry.lock, lock-version 1.x (`category`, hashes in `[metadata.files]`) and
 * 2.x (`groups`, inline `files`). A package in the `main` group (category
 * `main`) is required — optional when only an extra pulls it in — and one
 * only in other groups is dev.
 */
export const poetryLockReader: Reader = {
  name: 'poetry-lock',
  matches: (path) => /(^|\/)poetry\.lock$/.test(path),
  read,
};

async function read(file: SourceFile): Promise<ReaderResult> {
  const bytes = await file.bytes();
  const doc = parseTomlLock(bytes, file.path);
  const meta = isTable(doc.metadata) ? doc.metadata : undefined;
  if (!meta) {
    throw new VouchError('LOCKFILE_MALFORMED', 'not a poetry.lock: no [metadata] table', {
      file: file.path,
    });
  }
  // Poetry 1.0 wrote no lock-version; it is the 1.0 format.
  const lockVersion = meta['lock-version'] === undefined ? '1.0' : String(meta['lock-version']);
  const major = /^(\d+)\.\d+$/.exec(lockVersion)?.[1];
  if (major !== '1' && major !== '2') {
    throw new VouchError(
      'LOCKFILE_UNSUPPORTED',
      `poetry lock-version ${lockVersion} (this reader knows 1.x and 2.x)`,
      { file: file.path, field: 'metadata.lock-version' },
    );
  }
  const legacyFiles = isTable(meta.files) ? meta.files : {};
  const packages = doc.package === undefined ? [] : doc.package;
  if (!Array.isArray(packages)) {
    throw new VouchError('LOCKFILE_MALFORMED', 'package is not an array of tables', {
      file: file.path,
    });
  }
  const b = new ResultBuilder(file.path, 'poetry-lock', `poetry.lock lock-version ${lockVersion}`);
  const text = bytes.toString('utf8');
  const refsByName = new Map<string, string[]>();
  const deps: Array<[string, string[]]> = [];
  packages.forEach((p: unknown, i: number) => {
    b.declare();
    const field = `line ${packageLine(text, i)}`;
    if (!isTable(p) || typeof p.name !== 'string' || typeof p.version !== 'string') {
      throw new VouchError('LOCKFILE_MALFORMED', '[[package]] without a name and version', {
        file: file.path,
        field,
      });
    }
    const name = pypiName(p.name);
    const hashes: Hash[] = [];
    const files = Array.isArray(p.files) ? p.files : (legacyFiles[p.name] ?? legacyFiles[name]);
    for (const f of Array.isArray(files) ? files : []) {
      const h = isTable(f) && typeof f.hash === 'string' ? pypiHash(f.hash) : undefined;
      if (h) hashes.push(h);
    }
    hashes.sort((x, y) => (x.value < y.value ? -1 : 1));
    const properties: Record<string, string> = {};
    let scope: Scope;
    if (Array.isArray(p.groups)) {
      const groups = p.groups.map(String);
      properties['poetry:groups'] = groups.join(',');
      scope = groups.includes('main') ? 'required' : 'dev';
    } else {
      const category = typeof p.category === 'string' ? p.category : 'main';
      properties['poetry:category'] = category;
      scope = category === 'main' ? 'required' : 'dev';
    }
    if (p.optional === true && scope === 'required') scope = 'optional';
    if (typeof p.markers === 'string') properties['python:markers'] = p.markers;
    let source: Component['source'];
    if (isTable(p.source) && typeof p.source.type === 'string') {
      const url = typeof p.source.url === 'string' ? p.source.url : undefined;
      const kind = (
        { git: 'git', directory: 'file', file: 'file', url: 'tarball', legacy: 'registry' } as const
      )[p.source.type as 'git'];
      if (!kind) {
        throw new VouchError('LOCKFILE_UNSUPPORTED', `source type ${p.source.type}`, {
          file: file.path,
          field,
        });
      }
      source = url ? { kind, url } : { kind };
      const ref = p.source.resolved_reference ?? p.source.reference;
      if (typeof ref === 'string') properties['vcs:ref'] = ref;
    }
    const ref = b.add({
      ecosystem: 'pypi',
      name,
      version: p.version,
      scope,
      hashes,
      source,
      properties,
    });
    refsByName.set(name, [...(refsByName.get(name) ?? []), ref]);
    if (isTable(p.dependencies)) deps.push([ref, Object.keys(p.dependencies).map(pypiName)]);
  });
  for (const [from, names] of deps)
    for (const n of names) for (const to of refsByName.get(n) ?? []) b.depend(from, to);
  return b.build();
}
