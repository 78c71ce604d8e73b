import { VouchError } from '../../core/errors.ts';
import { isObject, parseJson } from '../../core/json.ts';
import { ResultBuilder } from '../builder.ts';
import type { Hash, ReaderResult, Scope } from '../model.ts';
import type { Reader, SourceFile } from '../reader.ts';
import { pypiHash, pypiName } from './python-name.ts';

/** Pipfile.lock (pipfile-spec 6): `default` → required, `develop` → dev. */
export const pipfileLockReader: Reader = {
  name: 'pipfile-lock',
  matches: (path) => /(^|\/)Pipfile\.lock$/.test(path),
  read,
};

const SECTIONS: ReadonlyArray<[string, Scope]> = [
  ['default', 'required'],
  ['develop', 'dev'],
];

async function read(file: SourceFile): Promise<ReaderResult> {
  const doc = parseJson((await file.bytes()).toString('utf8'), file.path);
  if (!isObject(doc) || !isObject(doc._meta)) {
    throw new VouchError('LOCKFILE_MALFORMED', 'not a Pipfile.lock: no _meta object', {
      file: file.path,
    });
  }
  const spec = doc._meta['pipfile-spec'];
  if (spec !== 6) {
    throw new VouchError(
      'LOCKFILE_UNSUPPORTED',
      `pipfile-spec ${String(spec)} (this reader knows 6)`,
      {
        file: file.path,
        field: '_meta.pipfile-spec',
      },
    );
  }
  const b = new ResultBuilder(file.path, 'pipfile-lock', 'Pipfile.lock pipfile-spec 6');
  for (const [section, scope] of SECTIONS) {
    const entries = doc[section];
    if (entries === undefined) continue;
    if (!isObject(entries)) {
      throw new VouchError('LOCKFILE_MALFORMED', `${section} is not an object`, {
        file: file.path,
        field: section,
      });
    }
    for (const [name, e] of Object.entries(entries)) {
      b.declare();
      const entry = `${section}.${name}`;
      if (!isObject(e)) {
        throw new VouchError('LOCKFILE_MALFORMED', 'entry is not an object', {
          file: file.path,
          field: entry,
        });
      }
      const version = typeof e.version === 'string' ? /^===?(.+)$/.exec(e.version)?.[1] : undefined;
      if (version === undefined) {
        const what = ['git', 'hg', 'svn', 'bzr', 'path', 'file'].find(
          (k) => typeof e[k] === 'string',
        );
        b.skip(
          entry,
          what
            ? `${what} requirement (${String(e[what])}): no package version`
            : 'no pinned version',
        );
        continue;
      }
      const hashes: Hash[] = [];
      for (const h of Array.isArray(e.hashes) ? e.hashes : []) {
        const hash = typeof h === 'string' ? pypiHash(h) : undefined;
        if (hash) hashes.push(hash);
      }
      hashes.sort((x, y) => (x.value < y.value ? -1 : 1));
      const properties: Record<string, string> = {};
      if (typeof e.markers === 'string') properties['python:markers'] = e.markers;
      if (Array.isArray(e.extras)) properties['python:extras'] = e.extras.join(',');
      if (typeof e.index === 'string') properties['python:index'] = e.index;
      b.add({ ecosystem: 'pypi', name: pypiName(name), version, scope, hashes, properties });
    }
  }
  return b.build();
}
