import { VouchError } from '../../core/errors.ts';
import { isObject, parseJson } from '../../core/json.ts';
import { ResultBuilder } from '../builder.ts';
import type { Hash, ReaderResult } from '../model.ts';
import type { Reader, SourceFile } from '../reader.ts';

/**
 * NuGet packages.lock.json version 1 and 2: one section per target framework
 * (and runtime), the same package in several merges into one component.
 * `Direct`, `Transitive` and `CentralTransitive` entries are packages;
 * `Project` entries are project references of the same solution, emitted
 * without a version (the lockfile records none) as workspace components.
 * `contentHash` is the base64 SHA-512 of the .nupkg.
 */
export const nugetLockReader: Reader = {
  name: 'nuget-lock',
  matches: (path) => /(^|\/)packages\.lock\.json$/.test(path),
  read,
};

const TYPES = new Set(['Direct', 'Transitive', 'CentralTransitive', 'Project']);

async function read(file: SourceFile): Promise<ReaderResult> {
  const doc = parseJson((await file.bytes()).toString('utf8'), file.path);
  if (!isObject(doc) || !isObject(doc.dependencies)) {
    throw new VouchError('LOCKFILE_MALFORMED', 'not a packages.lock.json: no dependencies object', {
      file: file.path,
    });
  }
  if (doc.version !== 1 && doc.version !== 2) {
    throw new VouchError(
      'LOCKFILE_UNSUPPORTED',
      `packages.lock.json version ${String(doc.version)} (this reader knows 1 and 2)`,
      { file: file.path, field: 'version' },
    );
  }
  const b = new ResultBuilder(file.path, 'nuget-lock', `packages.lock.json v${doc.version}`);
  for (const [tfm, entries] of Object.entries(doc.dependencies)) {
    if (!isObject(entries)) {
      throw new VouchError('LOCKFILE_MALFORMED', 'target framework section is not an object', {
        file: file.path,
        field: `dependencies.${tfm}`,
      });
    }
    const refs = new Map<string, string>();
    const edges: Array<[string, string[]]> = [];
    for (const [name, e] of Object.entries(entries)) {
      b.declare();
      const field = `dependencies.${tfm}.${name}`;
      if (!isObject(e) || typeof e.type !== 'string' || !TYPES.has(e.type)) {
        const t = isObject(e) ? String(e.type) : typeof e;
        throw new VouchError('LOCKFILE_UNSUPPORTED', `entry type ${t}`, { file: file.path, field });
      }
      let ref: string;
      if (e.type === 'Project') {
        ref = b.add({ ecosystem: 'nuget', name, version: '', source: { kind: 'workspace' } });
      } else {
        if (typeof e.resolved !== 'string') {
          throw new VouchError('LOCKFILE_MALFORMED', 'package entry without resolved version', {
            file: file.path,
            field,
          });
        }
        const hashes: Hash[] = [];
        if (typeof e.contentHash === 'string' && /^[A-Za-z0-9+/]+={0,2}$/.test(e.contentHash)) {
          const raw = Buffer.from(e.contentHash, 'base64');
          if (raw.length === 64) hashes.push({ algorithm: 'SHA-512', value: raw.toString('hex') });
        }
        const properties: Record<string, string> = { 'nuget:type': e.type };
        ref = b.add({ ecosystem: 'nuget', name, version: e.resolved, hashes, properties });
      }
      refs.set(name.toLowerCase(), ref);
      if (isObject(e.dependencies)) edges.push([ref, Object.keys(e.dependencies)]);
    }
    for (const [from, names] of edges)
      for (const n of names) {
        const to = refs.get(n.toLowerCase());
        if (to) b.depend(from, to);
      }
  }
  return b.build();
}
