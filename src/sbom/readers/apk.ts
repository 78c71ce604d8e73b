import { VouchError } from '../../core/errors.ts';
import { ResultBuilder } from '../builder.ts';
import type { ReaderResult } from '../model.ts';
import type { Reader } from '../reader.ts';

/**
 * Alpine's installed-package database, `lib/apk/db/installed`: one block of
 * `K:value` lines per package, blocks separated by a blank line
 * (https://wiki.alpinelinux.org/wiki/Apk_spec). Also read by Wolfi and
 * Chainguard images, whose os-release ID becomes the purl namespace.
 */
export const apkReader: Reader = {
  name: 'apk',
  matches(path) {
    return /(^|\/)lib\/apk\/db\/installed$/.test(path);
  },
  async read(file) {
    const text = (await file.bytes()).toString('utf8');
    const distro = file.context?.distro;
    return buildApk(parseApkInstalled(text, file.path), file.path, distro);
  },
};

export interface ApkPackage {
  /** 1-based line of the block's first line. */
  line: number;
  /** First value of each single-valued key (P, V, A, L, o, C, …). */
  fields: Map<string, string>;
}

/**
 * Splits the database into package blocks. Per-file keys (F, R, Z, a, M) are
 * counted but not kept, so a database of a large image stays small in memory.
 *
 * @throws VouchError LOCKFILE_MALFORMED on a line that is not `K:value`
 */
export function parseApkInstalled(text: string, file: string): ApkPackage[] {
  const out: ApkPackage[] = [];
  let current: ApkPackage | undefined;
  const lines = text.split('\n');
  const endsClean = text.length === 0 || text.endsWith('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line === '') {
      current = undefined;
      continue;
    }
    if (line.length < 2 || line[1] !== ':') {
      const truncated = !endsClean && i === lines.length - 1;
      throw new VouchError(
        'LOCKFILE_MALFORMED',
        truncated
          ? `file ends in the middle of a line (truncated?): ${JSON.stringify(line.slice(0, 60))}`
          : `not a "K:value" line: ${JSON.stringify(line.slice(0, 60))}`,
        { file, field: `line ${i + 1}` },
      );
    }
    if (!current) {
      current = { line: i + 1, fields: new Map() };
      out.push(current);
    }
    const key = line[0] as string;
    if ('FRZaMr'.includes(key)) continue;
    if (!current.fields.has(key)) current.fields.set(key, line.slice(2));
  }
  return out;
}

function buildApk(
  pkgs: ApkPackage[],
  file: string,
  distro: { id: string; versionId?: string } | undefined,
): ReaderResult {
  const b = new ResultBuilder(file, 'apk', 'apk installed db');
  const byName = new Map<string, string>();
  const byProvides = new Map<string, string>();
  const present: Array<{ ref: string; pkg: ApkPackage }> = [];
  for (const pkg of pkgs) {
    b.declare();
    const f = pkg.fields;
    const name = f.get('P');
    const version = f.get('V');
    const entry = `${name ?? '?'} (line ${pkg.line})`;
    if (!name) {
      b.skip(entry, 'block has no P: (package name)');
      continue;
    }
    if (!version) {
      b.skip(entry, 'block has no V: (version)');
      continue;
    }
    const qualifiers: Record<string, string> = {};
    const arch = f.get('A');
    if (arch) qualifiers.arch = arch;
    if (distro?.versionId) qualifiers.distro = `${distro.id}-${distro.versionId}`;
    const properties: Record<string, string> = {};
    const origin = f.get('o');
    if (origin) properties['apk:origin'] = origin;
    // As Syft writes it; Alpine's advisories (secdb, OSV) name the origin package.
    if (origin && origin !== name) qualifiers.upstream = origin;
    // C: is the SHA-1 of the package's control segment (apk's identity for
    // the package), not of the .apk file, so it is kept as a fact rather than
    // offered as the component's hash.
    const checksum = f.get('C');
    if (checksum) properties['apk:checksum'] = checksum;
    const commit = f.get('c');
    if (commit) properties['apk:commit'] = commit;
    const license = f.get('L');
    const ref = b.add({
      ecosystem: 'apk',
      namespace: distro?.id ?? 'alpine',
      name,
      version,
      licenses: license ? [license] : [],
      qualifiers,
      properties,
    });
    byName.set(name, ref);
    for (const p of (f.get('p') ?? '').split(/\s+/)) {
      const provided = depName(p);
      if (provided && !byProvides.has(provided)) byProvides.set(provided, ref);
    }
    present.push({ ref, pkg });
  }
  for (const { ref, pkg } of present) {
    for (const d of (pkg.fields.get('D') ?? '').split(/\s+/)) {
      if (d === '' || d.startsWith('!')) continue; // `!name` is a conflict, not a dependency
      const name = depName(d);
      if (!name) continue;
      const target = byName.get(name) ?? byProvides.get(name);
      if (target) b.depend(ref, target);
    }
  }
  return b.build();
}

/** `so:libc.musl-x86_64.so.1`, `musl>=1.2`, `cmd:sh=1.36.1-r5` → the name before any operator. */
function depName(d: string): string | undefined {
  const m = /^([^<>=~!]+)/.exec(d);
  return m ? (m[1] as string) : undefined;
}
