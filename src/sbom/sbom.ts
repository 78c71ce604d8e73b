import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { VouchError } from '../core/errors.ts';
import { statPath } from '../core/stat.ts';
import { makeStatement, type Statement, type Subject } from '../core/statement.ts';
import type { Sbom } from './model.ts';
import { READERS } from './readers/index.ts';
import { isOffered, type ScanOptions, scanDirectory, scanFile, scanSources } from './scan.ts';
import { jsonText } from './writers/common.ts';
import { FORMATS, type FormatName, type SbomFormat } from './writers/index.ts';

/** What a path given to `vouch sbom` is. */
export type SbomTarget =
  | { kind: 'directory'; path: string }
  | { kind: 'file'; path: string }
  | { kind: 'image'; path: string };

/**
 * An OCI image layout directory (it has an `oci-layout` file), an extracted
 * `docker save` directory, or a `.tar` archive (`docker save`, OCI archive) is
 * an image; any other directory is a source tree; any other file is one
 * lockfile.
 *
 * @throws VouchError FILE_NOT_FOUND | FILE_READ
 */
export async function detectTarget(path: string): Promise<SbomTarget> {
  const abs = resolve(path);
  const st = await statPath(abs, path);
  if (st.isDirectory()) {
    return (await isImageDirectory(abs))
      ? { kind: 'image', path: abs }
      : { kind: 'directory', path: abs };
  }
  if (/\.tar$/i.test(abs)) return { kind: 'image', path: abs };
  return { kind: 'file', path: abs };
}

/**
 * An OCI layout has `oci-layout`; an extracted `docker save` archive has a
 * `manifest.json` that is an array of `{ Config, Layers }` (a web app's
 * manifest.json is an object, so a source tree is not mistaken for an image).
 */
async function isImageDirectory(dir: string): Promise<boolean> {
  const layout = await stat(join(dir, 'oci-layout')).catch(() => undefined);
  if (layout?.isFile()) return true;
  const manifest = await stat(join(dir, 'manifest.json')).catch(() => undefined);
  if (!manifest?.isFile() || manifest.size > 1024 * 1024) return false;
  try {
    const value: unknown = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    const first: unknown = Array.isArray(value) ? value[0] : undefined;
    return typeof first === 'object' && first !== null && 'Config' in first && 'Layers' in first;
  } catch {
    return false;
  }
}

/**
 * The SBOM of a directory, a lockfile or an image (see detectTarget).
 *
 * @throws VouchError from the scan (see scanDirectory), and openImage's errors for a bad
 *   image (IMAGE_*, ARCHIVE_*).
 */
export async function generateSbom(path: string, options: ScanOptions = {}): Promise<Sbom> {
  const target = await detectTarget(path);
  switch (target.kind) {
    case 'directory':
      return scanDirectory(target.path, options);
    case 'file':
      return scanFile(target.path, options);
    case 'image':
      return scanImage(target.path, options);
  }
}

async function scanImage(path: string, options: ScanOptions): Promise<Sbom> {
  // Loaded on demand: scanning a directory never pays for the image code.
  const { openImage } = await import('./image/index.ts');
  const readers = options.readers ?? READERS;
  const image = await openImage(path, {
    // Keep the bytes of what a reader will read while each layer is verified (one pass).
    capture: (p) => isOffered(p) && readers.some((r) => r.matches(p)),
  });
  return scanSources(image.files(), image.subject, options);
}

/** An SBOM written in one format: the JSON value, its bytes, and its predicate type. */
export interface RenderedSbom {
  format: FormatName;
  predicateType: string;
  document: Record<string, unknown>;
  /** The document's bytes: byte-identical for the same SBOM. */
  text: string;
}

/**
 * @throws VouchError USAGE for an unknown format name.
 */
export function renderSbom(
  sbom: Sbom,
  format: FormatName | string = FORMATS[0]?.name ?? '',
): RenderedSbom {
  const f = formatByName(format);
  const document = f.toJson(sbom);
  return { format: f.name, predicateType: f.predicateType, document, text: jsonText(document) };
}

/**
 * @throws VouchError USAGE
 */
export function formatByName(name: string): SbomFormat {
  const f = FORMATS.find((x) => x.name === name);
  if (!f) {
    throw new VouchError(
      'USAGE',
      `unknown SBOM format ${JSON.stringify(name)}: use ${FORMATS.map((x) => x.name).join(' or ')}`,
      { field: '--format' },
    );
  }
  return f;
}

/**
 * The in-toto Statement of an SBOM attestation: the document is the
 * predicate, its predicate type says the format (https://cyclonedx.org/bom,
 * https://spdx.dev/Document), and the subject is the artifact it describes.
 */
export function sbomStatement(rendered: RenderedSbom, subject: Subject): Statement {
  return makeStatement([subject], rendered.predicateType, rendered.document);
}
