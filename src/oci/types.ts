/** OCI media types and descriptors this folder reads and writes. */

export const MEDIA_OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MEDIA_OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const MEDIA_DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const MEDIA_DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const MEDIA_OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
/** The Sigstore bundle media type cosign uses as artifactType and layer type. */
export const MEDIA_SIGSTORE_BUNDLE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** Layers of cosign's legacy `sha256-<hex>.att` attestation images. */
export const MEDIA_DSSE_ENVELOPE = 'application/vnd.dsse.envelope.v1+json';

/** Every manifest type `resolve` and `getManifest` accept. */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [
  MEDIA_OCI_MANIFEST,
  MEDIA_OCI_INDEX,
  MEDIA_DOCKER_MANIFEST,
  MEDIA_DOCKER_LIST,
];

/** Annotation keys from cosign's bundle spec (specs/BUNDLE_SPEC.md). */
export const ANNOTATION_BUNDLE_CONTENT = 'dev.sigstore.bundle.content';
export const ANNOTATION_BUNDLE_PREDICATE_TYPE = 'dev.sigstore.bundle.predicateType';

export interface Descriptor {
  mediaType: string;
  /** `sha256:<hex>`. */
  digest: string;
  size: number;
  artifactType?: string | undefined;
  annotations?: Record<string, string> | undefined;
}

/** A manifest as fetched: its exact bytes, their digest, and the parsed JSON. */
export interface FetchedManifest {
  /** `sha256:<hex>` of `bytes` (verified when fetched by digest). */
  digest: string;
  mediaType: string;
  bytes: Buffer;
  json: Record<string, unknown>;
}

/** How a referrer was stored or found. */
export type ReferrersVia = 'referrers-api' | 'tag-schema';
