// The input edge of image subjects: `--image REF`, `--image-digest-file
// FILE[=NAME]` and the digest files builds write (`docker build --iidfile`,
// `skopeo copy --digestfile`, `podman push --digestfile`, the JSON of
// `docker buildx build --metadata-file`). Everything here turns user text or
// build output into a Subject or a clear exit-2 error.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, isAbsolute, normalize } from 'node:path';
import { errorMessage, isVouchError, VouchError } from '../core/errors.ts';
import { isObject, parseJson } from '../core/json.ts';
import type { Subject } from '../core/statement.ts';
import type { OciReference } from '../oci/index.ts';
import { toSlash } from './paths.ts';

/** A file the build writes an image digest to, and the subject name to give that digest. */
export interface ImageDigestFile {
  /** As given: absolute, or relative to the working directory. */
  path: string;
  /**
   * The subject name: `HOST/REPO` for `FILE=oci://HOST/REPO`, else NAME, else
   * the file's name (which the first `image.name` of a buildx metadata file
   * replaces, see `named`).
   */
  name: string;
  /**
   * True when NAME was given: it then wins over the image name a buildx
   * metadata file carries. Absent means false.
   */
  named?: boolean;
}

/** A digest file is `sha256:` + 64 hex and a newline; anything near this size is not one. */
export const MAX_DIGEST_FILE_BYTES = 1024;

/**
 * A buildx metadata file is a few KiB (its provenance and build-info keys can
 * make it tens of KiB); a megabyte is far past any real one.
 */
export const MAX_METADATA_FILE_BYTES = 1024 * 1024;

/** Deep enough for buildx's inlined provenance, shallow enough for any walker. */
const METADATA_MAX_DEPTH = 32;

const DIGEST_FILE = /^[ \t\r\n]*sha256:([0-9a-f]{64})[ \t\r\n]*$/;
const SPEC = '--image-digest-file';

/**
 * The subject name of an image, as cosign and the SLSA container generators
 * write it: the repository reference without tag or digest, `HOST/REPO`.
 */
export function imageSubjectName(ref: OciReference): string {
  return `${ref.registry}/${ref.repository}`;
}

/**
 * The registry client (and node:http/https/tls with it) loads only when an
 * image flag is given: `vouch run` without one starts ~25 ms sooner.
 */
async function parseReference(text: string): Promise<OciReference> {
  return (await import('../oci/index.ts')).parseReference(text);
}

/**
 * `--image oci://HOST[:PORT]/REPO@sha256:HEX` as a subject. A tag alone is
 * refused: a tag can move, and provenance must name what was built.
 *
 * @throws VouchError OCI_REFERENCE_MALFORMED | USAGE (no digest)
 */
export async function imageSubjectFromReference(text: string): Promise<Subject> {
  const ref = await parseReference(text);
  if (!ref.digest) {
    throw new VouchError(
      'USAGE',
      `--image ${JSON.stringify(text)} names ${ref.tag ? 'a tag' : 'no digest'}; give the image digest (oci://HOST/REPO@sha256:HEX) or let the build write it to --image-digest-file`,
      { field: '--image' },
    );
  }
  return {
    name: imageSubjectName(ref),
    digest: { sha256: ref.digest.slice('sha256:'.length) },
  };
}

/**
 * `FILE[=NAME]`, split at the first `=` (so FILE cannot contain one). NAME
 * `oci://HOST/REPO[:TAG]` becomes `HOST/REPO`; any other NAME is used as is;
 * without NAME the subject is named after the file (its path when relative,
 * its base name when absolute: provenance is published, machine paths are not
 * its business).
 *
 * @throws VouchError USAGE | OCI_REFERENCE_MALFORMED
 */
export async function imageDigestFileFromSpec(spec: string): Promise<ImageDigestFile> {
  const eq = spec.indexOf('=');
  const path = eq === -1 ? spec : spec.slice(0, eq);
  const given = eq === -1 ? undefined : spec.slice(eq + 1);
  if (path === '' || path.includes('\0')) {
    throw new VouchError('USAGE', `${SPEC} ${JSON.stringify(spec)}: missing the file`, {
      field: SPEC,
    });
  }
  if (given === undefined) return { path, name: fileSubjectName(path) };
  return { path, name: await nameFrom(given, spec), named: true };
}

function fileSubjectName(path: string): string {
  return isAbsolute(path) ? basename(path) : toSlash(normalize(path));
}

async function nameFrom(given: string, spec: string): Promise<string> {
  if (given.startsWith('oci://')) {
    const ref = await parseReference(given);
    if (ref.digest) {
      throw new VouchError(
        'USAGE',
        `${SPEC} ${JSON.stringify(spec)}: the image name must not carry a digest; the digest is read from the file`,
        { field: SPEC },
      );
    }
    return imageSubjectName(ref);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (given === '' || given.length > 1024 || /[\u0000-\u001f\u007f]/.test(given)) {
    throw new VouchError(
      'USAGE',
      `${SPEC} ${JSON.stringify(spec)}: the name after = must be oci://HOST/REPO or 1 to 1024 printable characters`,
      { field: SPEC },
    );
  }
  return given;
}

/**
 * The digest in a digest file's text: `sha256:` and 64 lower-case hex digits
 * (the OCI digest grammar), optionally surrounded by ASCII white space.
 * A tag, a reference, another algorithm, two digests or anything else is
 * refused, naming the file.
 *
 * @returns the 64 hex digits
 * @throws VouchError DIGEST_MALFORMED
 */
export function parseImageDigest(text: string, file: string): string {
  const m = DIGEST_FILE.exec(text);
  if (m) return m[1] as string;
  const shown = JSON.stringify(text.trim().slice(0, 100));
  let why = `expected sha256:<64 lower-case hex> (as --iidfile and --digestfile write it), got ${shown}`;
  if (text.trim() === '') why = 'the file is empty: the build wrote no image digest';
  else if (/@sha256:[0-9a-f]{64}/.test(text))
    why = `holds an image reference ${shown}, not a bare digest: write only sha256:<hex>, or use --image for a reference`;
  else if (/^[ \t\r\n]*sha256:[0-9A-Fa-f]{64}[ \t\r\n]*$/.test(text))
    why = `${shown}: an OCI digest is lower-case hex`;
  else if (
    /^[ \t\r\n]*[A-Za-z0-9._/-]+(:[0-9]+)?\/[^ \t\r\n]+:[A-Za-z0-9_][A-Za-z0-9_.-]*[ \t\r\n]*$/.test(
      text,
    )
  )
    why = `holds a tag ${shown}, not a digest: a tag can move, provenance must name the digest`;
  throw new VouchError('DIGEST_MALFORMED', `not an image digest file: ${why}`, { file });
}

/** What a digest file holds: the digest, and the image name when the file carries one. */
export interface ImageDigestContent {
  /** The 64 lower-case hex digits of the sha256 digest. */
  sha256: string;
  /** `HOST/REPO` from a buildx metadata file's first `image.name`, when it has one. */
  name?: string;
}

const METADATA_DIGEST = 'containerimage.digest';
const METADATA_CONFIG_DIGEST = 'containerimage.config.digest';
const METADATA_DESCRIPTOR = 'containerimage.descriptor';
const METADATA_NAME = 'image.name';
const OCI_DIGEST = /^sha256:([0-9a-f]{64})$/;

/**
 * A digest file's text in either form a build writes: a bare
 * `sha256:HEX` (see parseImageDigest) or, when the text is a JSON object, a
 * `docker buildx build --metadata-file` document (see parseBuildxMetadata).
 *
 * @throws VouchError DIGEST_MALFORMED, naming `file`
 */
export async function parseImageDigestContent(
  text: string,
  file: string,
): Promise<ImageDigestContent> {
  if (/^[ \t\r\n]*\{/.test(text)) return parseBuildxMetadata(text, file);
  return { sha256: parseImageDigest(text, file) };
}

/**
 * The image digest in the JSON `docker buildx build --metadata-file` writes:
 * `containerimage.digest`, which must be `sha256:` + 64 lower-case hex. The
 * config digest (`containerimage.config.digest`) names no pushable image and
 * is never taken in its place. When `containerimage.descriptor` is there its
 * `digest` must be the same one (for a multi-platform build both name the
 * image index, which is what an admission check resolves a tag to). The name
 * is the repository of the first `image.name` entry (`HOST/REPO[:TAG]`,
 * comma-separated), without its tag; no `image.name`, no name.
 *
 * @throws VouchError DIGEST_MALFORMED, naming `file`
 */
export async function parseBuildxMetadata(text: string, file: string): Promise<ImageDigestContent> {
  const bad = (why: string, cause?: unknown) =>
    new VouchError('DIGEST_MALFORMED', `not a buildx metadata file: ${why}`, { file, cause });
  if (text.length > MAX_METADATA_FILE_BYTES) {
    throw bad(`${text.length} bytes, more than ${MAX_METADATA_FILE_BYTES}`);
  }
  let doc: unknown;
  try {
    doc = parseJson(text, file, {
      maxBytes: MAX_METADATA_FILE_BYTES,
      maxDepth: METADATA_MAX_DEPTH,
    });
  } catch (e) {
    if (isVouchError(e)) throw bad(e.message, e);
    throw e;
  }
  if (!isObject(doc)) throw bad('expected a JSON object');
  const digest = doc[METADATA_DIGEST];
  if (digest === undefined) {
    throw bad(
      METADATA_CONFIG_DIGEST in doc
        ? `no "${METADATA_DIGEST}", only "${METADATA_CONFIG_DIGEST}": a config digest names no image a registry serves; push the image (--push or --output type=image,push=true) so buildx records its digest`
        : `no "${METADATA_DIGEST}": the build exported no image (push it, or give --output type=image)`,
    );
  }
  const sha256 = metadataDigest(digest, `"${METADATA_DIGEST}"`, bad);
  const descriptor = doc[METADATA_DESCRIPTOR];
  if (descriptor !== undefined) {
    if (!isObject(descriptor)) throw bad(`"${METADATA_DESCRIPTOR}" is not an object`);
    const other = metadataDigest(descriptor.digest, `"${METADATA_DESCRIPTOR}".digest`, bad);
    if (other !== sha256) {
      throw bad(
        `"${METADATA_DIGEST}" sha256:${sha256} and "${METADATA_DESCRIPTOR}".digest sha256:${other} disagree: which image was built is not clear`,
      );
    }
  }
  const names = doc[METADATA_NAME];
  if (names === undefined) return { sha256 };
  if (typeof names !== 'string' || names.length > 64 * 1024) {
    throw bad(`"${METADATA_NAME}" is not a string of image names`);
  }
  const first = names.split(',')[0]?.trim() ?? '';
  return { sha256, name: await metadataImageName(first, bad) };
}

function metadataDigest(value: unknown, field: string, bad: (why: string) => VouchError): string {
  if (typeof value !== 'string') throw bad(`${field} is not a string`);
  const m = OCI_DIGEST.exec(value);
  if (!m) {
    throw bad(`${field} ${JSON.stringify(value.slice(0, 100))} is not sha256:<64 lower-case hex>`);
  }
  return m[1] as string;
}

/**
 * `HOST/REPO[:TAG]` as buildx writes it (normalized: Docker Hub names read
 * `docker.io/…`) to `HOST/REPO`. A first component that is no host (no dot,
 * no port, not localhost) is refused rather than guessed at.
 */
async function metadataImageName(
  entry: string,
  bad: (why: string, cause?: unknown) => VouchError,
): Promise<string> {
  const shown = JSON.stringify(entry.slice(0, 200));
  const host = entry.split('/')[0] ?? '';
  if (!entry.includes('/') || !(host.includes('.') || host.includes(':') || host === 'localhost')) {
    throw bad(
      `the first "${METADATA_NAME}" ${shown} is not HOST/REPO[:TAG]; name the image with FILE=oci://HOST/REPO`,
    );
  }
  let ref: OciReference;
  try {
    ref = await parseReference(`oci://${entry}`);
  } catch (e) {
    throw bad(`the first "${METADATA_NAME}" ${shown}: ${errorMessage(e)}`, e);
  }
  if (ref.digest) {
    throw bad(`the first "${METADATA_NAME}" ${shown} carries a digest; expected HOST/REPO[:TAG]`);
  }
  return imageSubjectName(ref);
}

/** What the digest file was when read: its digest (and name) and the stamp of the very file read. */
export interface ImageDigestRead extends ImageDigestContent {
  stamp: string;
}

/**
 * Reads a digest file without blocking on a FIFO or reading a device: opened
 * non-blocking, then it must be a regular file of at most
 * MAX_DIGEST_FILE_BYTES, or MAX_METADATA_FILE_BYTES when it is a buildx
 * metadata JSON object. Symbolic links are followed (the path was named by
 * the user).
 *
 * @throws VouchError FILE_NOT_FOUND | FILE_READ | DIGEST_MALFORMED, naming `shown`
 */
export async function readImageDigestFile(abs: string, shown: string): Promise<ImageDigestRead> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(abs, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new VouchError(
        'FILE_NOT_FOUND',
        'no such file: the command did not write the image digest file',
        { file: shown },
      );
    }
    throw new VouchError('FILE_READ', `cannot open: ${errorMessage(e)}`, { file: shown, cause: e });
  }
  let bytes: Buffer;
  let stamp: string;
  try {
    const st = await fh.stat({ bigint: true });
    if (!st.isFile()) {
      throw new VouchError('FILE_READ', 'not a regular file', { file: shown });
    }
    if (st.size > BigInt(MAX_METADATA_FILE_BYTES)) {
      throw new VouchError(
        'DIGEST_MALFORMED',
        `not an image digest file: ${st.size} bytes, more than ${MAX_METADATA_FILE_BYTES} (a buildx metadata file) or ${MAX_DIGEST_FILE_BYTES} (a digest)`,
        { file: shown },
      );
    }
    // Only a file that grows after the stat reads past its size: the buffer
    // is bounded by the stat, plus one byte to see it grew.
    const buf = Buffer.alloc(Number(st.size) + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > Number(st.size)) {
        throw new VouchError('DIGEST_MALFORMED', 'not an image digest file: it grew while read', {
          file: shown,
        });
      }
    }
    bytes = buf.subarray(0, n);
    stamp = stampString(st);
  } catch (e) {
    if (e instanceof VouchError) throw e;
    throw new VouchError('FILE_READ', `cannot read: ${errorMessage(e)}`, { file: shown, cause: e });
  } finally {
    await fh.close();
  }
  return { ...(await parseImageDigestBytes(bytes, shown)), stamp };
}

async function parseImageDigestBytes(bytes: Buffer, shown: string): Promise<ImageDigestContent> {
  const json = /^[ \t\r\n]*\{/.test(bytes.subarray(0, 64).toString('latin1'));
  if (!json) {
    if (bytes.length > MAX_DIGEST_FILE_BYTES) {
      throw new VouchError(
        'DIGEST_MALFORMED',
        `not an image digest file: ${bytes.length} bytes, more than ${MAX_DIGEST_FILE_BYTES}`,
        { file: shown },
      );
    }
    return { sha256: parseImageDigest(bytes.toString('latin1'), shown) };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (e) {
    throw new VouchError('DIGEST_MALFORMED', 'not a buildx metadata file: not UTF-8', {
      file: shown,
      cause: e,
    });
  }
  return parseBuildxMetadata(text, shown);
}

/** Identity and change times of a file: equal strings mean nobody wrote it in between. */
export function stampString(st: {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}
