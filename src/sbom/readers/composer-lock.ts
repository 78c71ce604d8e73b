import { VouchError } from '../../core/errors.ts';
import { isObject, parseJson } from '../../core/json.ts';
import { ResultBuilder } from '../builder.ts';
import type { Component, Hash, ReaderResult, Scope } from '../model.ts';
import type { Reader, SourceFile } from '../reader.ts';

/**
 * composer.lock: `packages` → required, `packages-dev` → dev. `dist.shasum`
 * (SHA-1 of the dist archive, often empty for GitHub zipballs) is the hash.
 * `require` entries for the platform (php, ext-*, lib-*, composer-*-api)
 * are not packages and make no edges.
 */
export const composerLockReader: Reader = {
  name: 'composer-lock',
  matches: (path) => /(^|\/)composer\.lock$/.test(path),
  read,
};

const SECTIONS: ReadonlyArray<[string, Scope]> = [
  ['packages', 'required'],
  ['packages-dev', 'dev'],
];

async function read(file: SourceFile): Promise<ReaderResult> {
  const doc = parseJson((await file.bytes()).toString('utf8'), file.path);
  if (!isObject(doc) || !Array.isArray(doc.packages)) {
    throw new VouchError('LOCKFILE_MALFORMED', 'not a composer.lock: no packages array', {
      file: file.path,
    });
  }
  const api =
    typeof doc['plugin-api-version'] === 'string' ? ` plugin-api ${doc['plugin-api-version']}` : '';
  const b = new ResultBuilder(file.path, 'composer-lock', `composer.lock${api}`);
  const refs = new Map<string, string>();
  const edges: Array<[string, string[]]> = [];
  for (const [section, scope] of SECTIONS) {
    const list = doc[section] ?? [];
    if (!Array.isArray(list)) {
      throw new VouchError('LOCKFILE_MALFORMED', `${section} is not an array`, {
        file: file.path,
        field: section,
      });
    }
    list.forEach((p: unknown, i: number) => {
      b.declare();
      const field = `${section}[${i}]`;
      if (!isObject(p) || typeof p.name !== 'string' || typeof p.version !== 'string') {
        throw new VouchError('LOCKFILE_MALFORMED', 'package without a name and version', {
          file: file.path,
          field,
        });
      }
      const slash = p.name.indexOf('/');
      if (slash <= 0) {
        b.skip(field, `package name ${p.name} is not vendor/name`);
        return;
      }
      const hashes: Hash[] = [];
      const dist = isObject(p.dist) ? p.dist : {};
      if (typeof dist.shasum === 'string' && /^[0-9a-f]{40}$/i.test(dist.shasum))
        hashes.push({ algorithm: 'SHA-1', value: dist.shasum.toLowerCase() });
      const licenses = Array.isArray(p.license)
        ? p.license.map(String)
        : typeof p.license === 'string'
          ? [p.license]
          : [];
      const properties: Record<string, string> = {};
      const src = isObject(p.source) ? p.source : {};
      let source: Component['source'];
      if (typeof src.reference === 'string' && src.reference) properties['vcs:ref'] = src.reference;
      if (dist.type === 'path' && typeof dist.url === 'string')
        source = { kind: 'file', url: dist.url };
      else if (!isObject(p.dist) && src.type === 'git' && typeof src.url === 'string')
        source = { kind: 'git', url: src.url };
      const ref = b.add({
        ecosystem: 'composer',
        namespace: p.name.slice(0, slash).toLowerCase(),
        name: p.name.slice(slash + 1).toLowerCase(),
        version: p.version,
        scope,
        licenses,
        hashes,
        source,
        properties,
      });
      refs.set(p.name.toLowerCase(), ref);
      if (isObject(p.require))
        edges.push([ref, Object.keys(p.require).map((n) => n.toLowerCase())]);
    });
  }
  for (const [from, names] of edges)
    for (const n of names) {
      const to = refs.get(n);
      if (to) b.depend(from, to);
    }
  return b.build();
}
