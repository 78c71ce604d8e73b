import { VouchError } from '../../core/errors.ts';
import { globRegExp } from '../../core/glob.ts';
import { type OciReference, parseReference } from '../../oci/index.ts';

/** A container image as a Pod names it, normalized the way the kubelet's runtime does. */
export interface ImageReference {
  /** The text in the Pod spec. */
  text: string;
  /** `host[:port]`; `docker.io` when the image names none. */
  registry: string;
  /** Repository path; `library/` is added for single-component Docker Hub names. */
  repository: string;
  /** The tag, only when no digest is given (`latest` when neither is). */
  tag?: string | undefined;
  /** `sha256:<hex>` when the image is pinned. */
  digest?: string | undefined;
  /** `registry/repository`, what `--images` globs are matched against. */
  name: string;
}

const MAX_IMAGE_LENGTH = 1024;
const DOCKER_HUB = 'docker.io';

/**
 * Parses a Kubernetes image string (`nginx`, `nginx:1.27`, `ghcr.io/o/app@sha256:…`,
 * `localhost:5000/app:tag@sha256:…`). The first path component is a registry
 * host when it contains `.` or `:` or is `localhost` (the Docker rule).
 * A reference with a tag and a digest is pinned by the digest: that is what
 * the runtime pulls.
 *
 * @throws VouchError OCI_REFERENCE_MALFORMED
 */
export function parseImage(text: string): ImageReference {
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_IMAGE_LENGTH) {
    throw new VouchError(
      'OCI_REFERENCE_MALFORMED',
      `image must be a non-empty string of at most ${MAX_IMAGE_LENGTH} characters`,
    );
  }
  if (/[\s\0]/.test(text) || text.includes('://')) {
    throw new VouchError(
      'OCI_REFERENCE_MALFORMED',
      `invalid image ${JSON.stringify(text.slice(0, 200))}`,
    );
  }
  const slash = text.indexOf('/');
  const first = slash === -1 ? '' : text.slice(0, slash);
  const hasHost =
    first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost');
  let registry = hasHost ? first : DOCKER_HUB;
  let path = hasHost ? text.slice(slash + 1) : text;
  if (registry === 'index.docker.io') registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !path.split('@')[0]?.split(':')[0]?.includes('/')) {
    path = `library/${path}`;
  }
  const oci: OciReference = parseReference(`oci://${registry}/${path}`);
  const ref: ImageReference = {
    text,
    registry: oci.registry,
    repository: oci.repository,
    name: `${oci.registry}/${oci.repository}`,
  };
  if (oci.digest) ref.digest = oci.digest;
  else ref.tag = oci.tag ?? 'latest';
  return ref;
}

/** The `oci://` form the registry client reads. Docker Hub's API host is registry-1.docker.io. */
export function ociReference(ref: ImageReference, digest?: string): OciReference {
  const registry = ref.registry === DOCKER_HUB ? 'registry-1.docker.io' : ref.registry;
  const d = digest ?? ref.digest;
  return d
    ? { registry, repository: ref.repository, digest: d }
    : { registry, repository: ref.repository, tag: ref.tag };
}

/**
 * Compiles `--images` globs into one matcher over `registry/repository`:
 * `*` matches within one path component, `**` across components, `?` one
 * character. Everything else is literal.
 */
export function imageMatcher(patterns: readonly string[]): (name: string) => boolean {
  if (patterns.length === 0) return () => true;
  const res = patterns.map((p) => globRegExp(p, { doubleStarSlashOptional: false, dotAll: false }));
  return (name) => res.some((r) => r.test(name));
}
