/** Container image references as rules need them: name, tag, digest. */

export interface ImageRef {
  name: string;
  tag: string | undefined;
  digest: string | undefined;
}

export function parseImageRef(ref: string): ImageRef {
  let rest = ref.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { name: rest, tag, digest };
}

/** A digest pin: `sha256:` + 64 hex (or sha512 + 128). */
export function isDigestPinned(ref: ImageRef): boolean {
  return (
    ref.digest !== undefined && /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/.test(ref.digest)
  );
}

/**
 * How an image reference is (not) pinned: 'digest' (good), 'latest' (tag
 * `latest` or none, no digest), 'tag' (a tag but no digest). One verdict per
 * reference, so a rule set reports each image once.
 */
export function pinning(ref: string): 'digest' | 'latest' | 'tag' {
  const r = parseImageRef(ref);
  if (isDigestPinned(r)) return 'digest';
  if (r.tag === undefined || r.tag === 'latest') return 'latest';
  return 'tag';
}
