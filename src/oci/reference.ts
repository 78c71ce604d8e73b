import { VouchError } from '../core/errors.ts';

/** A parsed `oci://host[:port]/repo[:tag|@sha256:…]` reference. */
export interface OciReference {
  /** `host[:port]`, lower-case host. */
  registry: string;
  /** Repository path, e.g. `team/app`. */
  repository: string;
  /** The tag, when the reference names one (and no digest). */
  tag?: string | undefined;
  /** `sha256:<hex>`, when the reference names a digest. */
  digest?: string | undefined;
}

/** An OciReference known to name a digest. */
export type DigestReference = OciReference & { digest: string };

const SCHEME = 'oci://';
// distribution/reference grammar (lower-case path components, separators . _ __ -+).
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

export function isOciReference(text: string): boolean {
  return text.startsWith(SCHEME);
}

/**
 * Parses `oci://host[:port]/repo[:tag|@sha256:…]`. The registry host is
 * always explicit (no Docker Hub default): an evidence decision must say
 * exactly where it looked. A reference with both a tag and a digest keeps
 * the digest only (the tag is informational, as in Docker).
 *
 * @throws VouchError OCI_REFERENCE_MALFORMED
 */
export function parseReference(text: string): OciReference {
  const bad = (why: string) =>
    new VouchError(
      'OCI_REFERENCE_MALFORMED',
      `${why}: expected oci://host[:port]/repo[:tag|@sha256:HEX], got ${JSON.stringify(text.slice(0, 200))}`,
    );
  if (text.length > 2048) throw bad('reference too long');
  if (!text.startsWith(SCHEME)) throw bad('missing oci:// scheme');
  const rest = text.slice(SCHEME.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) throw bad('missing registry host or repository');
  const registry = rest.slice(0, slash);
  if (!HOST.test(registry)) throw bad(`invalid registry host ${JSON.stringify(registry)}`);
  const port = /:([0-9]+)$/.exec(registry)?.[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535))
    throw bad(`invalid port ${port}`);
  let path = rest.slice(slash + 1);
  let digest: string | undefined;
  let tag: string | undefined;
  const at = path.indexOf('@');
  if (at !== -1) {
    digest = path.slice(at + 1);
    path = path.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(`invalid digest ${JSON.stringify(digest)}`);
  }
  const lastSlash = path.lastIndexOf('/');
  const colon = path.lastIndexOf(':');
  if (colon > lastSlash) {
    const t = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!TAG.test(t)) throw bad(`invalid tag ${JSON.stringify(t)}`);
    if (digest === undefined) tag = t;
  }
  if (path === '' || path.length > 255) throw bad('invalid repository');
  for (const c of path.split('/')) {
    if (!COMPONENT.test(c)) throw bad(`invalid repository component ${JSON.stringify(c)}`);
  }
  return { registry: registry.toLowerCase(), repository: path, tag, digest };
}

/** The reference as `oci://host/repo@digest` or `oci://host/repo:tag`. */
export function formatReference(ref: OciReference): string {
  const base = `oci://${ref.registry}/${ref.repository}`;
  if (ref.digest) return `${base}@${ref.digest}`;
  if (ref.tag) return `${base}:${ref.tag}`;
  return base;
}

/** The same repository at another digest. */
export function withDigest(ref: OciReference, digest: string): DigestReference {
  return { registry: ref.registry, repository: ref.repository, digest };
}

/** The host without the port, for "is this localhost" checks. */
export function registryHost(ref: OciReference): string {
  const m = /^(\[[^\]]+\]|[^:]+)/.exec(ref.registry);
  return (m?.[1] ?? ref.registry).replace(/^\[|\]$/g, '');
}
