import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { isVouchError } from '../../core/errors.ts';
import { ResultBuilder } from '../builder.ts';
import type { Hash, ReaderResult } from '../model.ts';
import type { Reader, SourceFile } from '../reader.ts';
import { defaultLimits, ZipArchive, type ZipLimits } from './jar-zip.ts';

/**
 * JAR / WAR / EAR (and Spring Boot fat jars), with nested archives
 * (`BOOT-INF/lib/*.jar`, `WEB-INF/lib/*.jar`, EAR modules, any `*.jar`
 * inside) read in memory up to a nesting depth.
 *
 * Each archive is one declared entry. Its identity comes from
 * `META-INF/maven/<g>/<a>/pom.properties` (every one found: a shaded jar
 * carries the poms of what it bundles), else from MANIFEST.MF
 * (Bundle-SymbolicName/Bundle-Version, then Implementation-*), else from a
 * `name-version.jar` file name; an archive with none of these is skipped.
 * The SHA-1 and SHA-256 of an archive's bytes go to the component it
 * identifies when there is exactly one.
 */
export const javaArchiveReader: Reader = {
  name: 'java-archive',
  matches: (path) => /\.(jar|war|ear|hpi|jpi|par|sar|nar)$/i.test(path),
  read,
};

export const MAX_NESTING = 4;

async function read(file: SourceFile): Promise<ReaderResult> {
  return readJavaArchive(await file.bytes(), file.path, defaultLimits());
}

/** @throws VouchError ARCHIVE_MALFORMED | ARCHIVE_TOO_LARGE | PATH_ESCAPE for the outer archive. */
export function readJavaArchive(bytes: Buffer, path: string, limits: ZipLimits): ReaderResult {
  const b = new ResultBuilder(
    path,
    'java-archive',
    `Java archive (${posix.extname(path).slice(1).toLowerCase()})`,
  );
  visit(b, bytes, posix.basename(path), path, 0, limits, undefined);
  return b.build();
}

function visit(
  b: ResultBuilder,
  bytes: Buffer,
  fileName: string,
  where: string,
  depth: number,
  limits: ZipLimits,
  parent: string | undefined,
): void {
  b.declare();
  const zip = new ZipArchive(bytes, where, limits);
  const text = (name: string): string | undefined => {
    const e = zip.entries.find((x) => x.name === name);
    return e ? zip.read(e).toString('utf8') : undefined;
  };
  const hashes: Hash[] = [
    { algorithm: 'SHA-1', value: createHash('sha1').update(bytes).digest('hex') },
    { algorithm: 'SHA-256', value: createHash('sha256').update(bytes).digest('hex') },
  ];
  const properties = { 'java:archive': where };

  const ids: Array<{ group?: string; artifact: string; version: string; how: string }> = [];
  for (const e of zip.entries) {
    if (!/^META-INF\/maven\/[^/]+\/[^/]+\/pom\.properties$/.test(e.name)) continue;
    const props = parseProperties(zip.read(e).toString('latin1'));
    const [, , g, a] = e.name.split('/');
    const version = props.get('version');
    if (version)
      ids.push({
        group: props.get('groupId') ?? g,
        artifact: props.get('artifactId') ?? (a as string),
        version,
        how: 'pom.properties',
      });
  }
  if (ids.length === 0) {
    const mf = text('META-INF/MANIFEST.MF');
    const h = mf ? parseManifest(mf) : new Map<string, string>();
    const bsn = h.get('Bundle-SymbolicName')?.split(';')[0]?.trim();
    const bver = h.get('Bundle-Version');
    const title = h.get('Implementation-Title');
    const iver = h.get('Implementation-Version');
    const vendorId = h.get('Implementation-Vendor-Id');
    if (bsn && bver) {
      const dot = bsn.lastIndexOf('.');
      ids.push(
        vendorId && bsn.startsWith(`${vendorId}.`)
          ? {
              group: vendorId,
              artifact: bsn.slice(vendorId.length + 1),
              version: bver,
              how: 'MANIFEST.MF Bundle-*',
            }
          : dot > 0
            ? {
                group: bsn.slice(0, dot),
                artifact: bsn.slice(dot + 1),
                version: bver,
                how: 'MANIFEST.MF Bundle-*',
              }
            : { artifact: bsn, version: bver, how: 'MANIFEST.MF Bundle-*' },
      );
    } else if (title && iver) {
      const id: { group?: string; artifact: string; version: string; how: string } = {
        artifact: title.replace(/\s+/g, '-'),
        version: iver,
        how: 'MANIFEST.MF Implementation-*',
      };
      if (vendorId) id.group = vendorId;
      ids.push(id);
    } else {
      const m = /^(.+?)-(\d[\w.+-]*)\.[a-z]+$/i.exec(fileName);
      if (m) ids.push({ artifact: m[1] as string, version: m[2] as string, how: 'file name' });
    }
  }

  let self: string | undefined;
  if (ids.length === 0) {
    b.skip(
      where,
      'no pom.properties, no name and version in MANIFEST.MF, no version in the file name',
    );
  } else {
    // The first id stands for this archive in accounting; the others are bundled (shaded) poms.
    ids.forEach((id, i) => {
      if (i > 0) b.declare();
      // A maven purl needs the groupId; a jar known only by name and version is generic.
      const ref = b.add({
        ecosystem: id.group ? 'maven' : 'generic',
        namespace: id.group,
        name: id.artifact,
        version: id.version,
        hashes: ids.length === 1 ? hashes : [],
        properties: { ...properties, 'java:identifiedBy': id.how },
      });
      if (i === 0) self = ref;
      else if (self) b.depend(self, ref);
    });
  }
  if (parent && self) b.depend(parent, self);
  else if (!parent && self) b.root(self);

  for (const e of zip.entries) {
    if (!/\.(jar|war|rar|sar)$/i.test(e.name) || e.name.endsWith('/')) continue;
    const inner = `${where}!/${e.name}`;
    if (depth + 1 > MAX_NESTING) {
      b.declare();
      b.skip(inner, `nested deeper than ${MAX_NESTING} archives`);
      continue;
    }
    let bytes: Buffer;
    try {
      bytes = zip.read(e);
    } catch (err) {
      if (!isVouchError(err)) throw err;
      b.declare();
      b.skip(inner, err.message);
      continue;
    }
    try {
      visit(b, bytes, posix.basename(e.name), inner, depth + 1, limits, self ?? parent);
    } catch (err) {
      // visit fails only before it adds anything (its own nested archives are guarded here),
      // so the entry it declared is skipped; a broken inner jar does not hide the outer one.
      if (!isVouchError(err)) throw err;
      b.skip(inner, err.message);
    }
  }
}

/** java.util.Properties, enough for pom.properties (key=value / key: value, # comments). */
function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (m) out.set(m[1] as string, (m[2] as string).trim());
  }
  return out;
}

/** MANIFEST.MF main section: `Name: value`, continuation lines start with one space. */
function parseManifest(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line === '') break; // end of the main section
    if (line.startsWith(' ') && last) {
      out.set(last, `${out.get(last)}${line.slice(1)}`);
      continue;
    }
    const c = line.indexOf(':');
    if (c <= 0) continue;
    last = line.slice(0, c).trim();
    out.set(last, line.slice(c + 1).trim());
  }
  return out;
}
