// The input edge of image subjects: `--image REF`, `--image-digest-file
// FILE[=NAME]` and the digest files builds write (`docker build --iidfile`,
// `skopeo copy --digestfile`, `podman push --digestfile`…). Everything here
// turns user text or build output into a Subject or a clear exit-2 error.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, isAbsolute, normalize } from 'node:path';
import { errorMessage, VouchError } from '../core/errors.ts';
import type { Subject } from '../core/statement.ts';
import type { OciReference } from '../oci/index.ts';
import { toSlash } from './paths.ts';

/** A file the build writes an image digest to, and the subject name to give that digest. */
export interface ImageDigestFile {
  /** As given: absolute, or relative to the working directory. */
  path: string;
  /** The subject name: `HOST/REPO` for `FILE=oci://HOST/REPO`, else NAME, else the file's name. */
  name: string;
}

/** A digest file is `sha256:` + 64 hex and a newline; anything near this size is not one. */
export const MAX_DIGEST_FILE_BYTES = 1024;

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
  return { path, name: given === undefined ? fileSubjectName(path) : await nameFrom(given, spec) };
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

/** What the digest file was when read: its digest and the stamp of the very file read. */
export interface ImageDigestRead {
  sha256: string;
  stamp: string;
}

/**
 * Reads a digest file without blocking on a FIFO or reading a device: opened
 * non-blocking, then it must be a regular file of at most
 * MAX_DIGEST_FILE_BYTES. Symbolic links are followed (the path was named by
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
  try {
    const st = await fh.stat({ bigint: true });
    if (!st.isFile()) {
      throw new VouchError('FILE_READ', 'not a regular file', { file: shown });
    }
    if (st.size > BigInt(MAX_DIGEST_FILE_BYTES)) {
      throw new VouchError(
        'DIGEST_MALFORMED',
        `not an image digest file: ${st.size} bytes, more than ${MAX_DIGEST_FILE_BYTES}`,
        { file: shown },
      );
    }
    const buf = Buffer.alloc(MAX_DIGEST_FILE_BYTES + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > MAX_DIGEST_FILE_BYTES) {
        throw new VouchError(
          'DIGEST_MALFORMED',
          `not an image digest file: grew past ${MAX_DIGEST_FILE_BYTES} bytes while read`,
          { file: shown },
        );
      }
    }
    return {
      sha256: parseImageDigest(buf.subarray(0, n).toString('latin1'), shown),
      stamp: stampString(st),
    };
  } catch (e) {
    if (e instanceof VouchError) throw e;
    throw new VouchError('FILE_READ', `cannot read: ${errorMessage(e)}`, { file: shown, cause: e });
  } finally {
    await fh.close();
  }
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
