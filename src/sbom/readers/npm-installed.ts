import { isObject } from '../../core/json.ts';
import { ResultBuilder } from '../builder.ts';
import type { ReaderResult } from '../model.ts';
import type { Reader, SourceFile } from '../reader.ts';
import { npmInput, parseLockJson } from './js-common.ts';

/**
 * An installed npm package's own manifest, `node_modules/[@scope/]name/package.json`
 * (at any nesting depth), for a `node_modules` tree no lockfile describes:
 * global installs (`/usr/lib/node_modules/npm` and the packages bundled in
 * it), and images that copied `node_modules` without a lockfile. Which
 * manifests are offered is the walkers' rule (scan.ts `installedManifestWanted`);
 * the reader reads one: its `name`, `version` and licence.
 */
export const npmInstalledReader: Reader = {
  name: 'npm-installed',
  matches: (path) => INSTALLED_MANIFEST.test(path),
  read,
};

/** `…node_modules/name/package.json` or `…node_modules/@scope/name/package.json`. */
const INSTALLED_MANIFEST = /(^|\/)node_modules\/(?:@[^/.][^/]*\/)?[^/.@][^/]*\/package\.json$/;

async function read(file: SourceFile): Promise<ReaderResult> {
  const doc = parseLockJson((await file.bytes()).toString('utf8'), file.path);
  const b = new ResultBuilder(file.path, 'npm-installed', 'installed package.json');
  b.declare();
  const name = isObject(doc) ? doc.name : undefined;
  const version = isObject(doc) ? doc.version : undefined;
  if (!isObject(doc)) b.skip(file.path, 'package.json is not an object');
  else if (typeof name !== 'string' || name === '') b.skip(file.path, 'no "name"');
  else if (typeof version !== 'string' || version === '') b.skip(name, 'no "version"');
  else b.add(npmInput(name, version, { licenses: licensesOf(doc) }));
  return b.build();
}

/** `license: "MIT"`, `license: { type }`, or the old `licenses: [{ type }]`. */
function licensesOf(doc: Record<string, unknown>): string[] {
  const one = (v: unknown): string | undefined => {
    const s = isObject(v) ? v.type : v;
    return typeof s === 'string' && s.trim() !== '' && s.length <= 200 ? s.trim() : undefined;
  };
  const single = one(doc.license);
  if (single) return [single];
  if (!Array.isArray(doc.licenses)) return [];
  return doc.licenses.map(one).filter((s): s is string => s !== undefined);
}
