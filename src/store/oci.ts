import { createHash } from 'node:crypto';
import { VouchError } from '../core/errors.ts';
import {
  describeBundle,
  fetchEvidence,
  type OciReference,
  pushEvidence,
  type RegistryClient,
  withDigest,
} from '../oci/index.ts';
import type { EvidenceEntry, EvidenceStore } from './store.ts';

export interface OciStoreOptions {
  /** Clock for `storedAt` of entries put through this store; tests pass a fixed one. */
  now?: () => Date;
}

/** `storedAt` of entries read back: a registry keeps no time for a referrer vouch can trust. */
const UNKNOWN_TIME = new Date(0).toISOString();

/**
 * The evidence store over one OCI registry repository: bundles are referrers
 * of the image digests their Statements name (see src/oci/evidence.ts), so
 * cosign and any OCI 1.1 tool see them too.
 *
 * - `put` pushes the bundle as a referrer of every sha256 subject that is an
 *   image (manifest or index) in the repository; subjects that are not are
 *   skipped, and a bundle about no image there is an error (OCI_NOT_FOUND).
 * - `find` reads the referrers of a digest (vouch's, cosign's bundles and
 *   cosign's legacy `.att`); `read` returns the bytes `find` fetched (an id
 *   not found by an earlier `find` on this instance is OCI_NOT_FOUND).
 *
 * As with every store, stored is not trusted: entries are the bundles'
 * unverified claims; callers verify. `storedAt` of entries read back is the
 * Unix epoch (unknown).
 */
export class OciStore implements EvidenceStore {
  readonly #repository: OciReference;
  readonly #client: RegistryClient;
  readonly #now: () => Date;
  readonly #bytes = new Map<string, Buffer>();

  constructor(repository: OciReference, client: RegistryClient, options: OciStoreOptions = {}) {
    this.#repository = { registry: repository.registry, repository: repository.repository };
    this.#client = client;
    this.#now = options.now ?? (() => new Date());
  }

  /** @throws VouchError BUNDLE_MALFORMED | OCI_* */
  async put(bundle: Uint8Array): Promise<EvidenceEntry> {
    const bytes = Buffer.from(bundle);
    const info = describeBundle(bytes);
    const subjects = info.statement?.subject ?? [];
    let pushed = 0;
    for (const s of subjects) {
      const hex = s.digest.sha256;
      if (hex === undefined || !/^[0-9a-f]{64}$/.test(hex)) continue;
      const ref = withDigest(this.#repository, `sha256:${hex}`);
      if (!(await this.#client.findManifest(ref))) continue;
      await pushEvidence(ref, bytes, this.#client);
      pushed++;
    }
    if (pushed === 0)
      throw new VouchError(
        'OCI_NOT_FOUND',
        `no subject of the bundle is an image in ${this.#repository.registry}/${this.#repository.repository}`,
      );
    const id = sha256Hex(bytes);
    this.#bytes.set(id, bytes);
    return entry(id, info, this.#now().toISOString());
  }

  /** @throws VouchError DIGEST_MALFORMED | OCI_* */
  async find(digest: string): Promise<EvidenceEntry[]> {
    if (!/^sha256:[0-9a-f]{64}$/.test(digest))
      throw new VouchError(
        'DIGEST_MALFORMED',
        `an OCI store finds sha256 digests only, not ${JSON.stringify(digest.slice(0, 80))}`,
      );
    const candidates = await fetchEvidence(withDigest(this.#repository, digest), this.#client);
    const out = new Map<string, EvidenceEntry>();
    for (const c of candidates) {
      const bytes = Buffer.from(
        typeof c.json === 'string' ? c.json : JSON.stringify(c.json),
        'utf8',
      );
      const id = sha256Hex(bytes);
      if (out.has(id)) continue;
      this.#bytes.set(id, bytes);
      out.set(id, entry(id, describeBundle(bytes), UNKNOWN_TIME));
    }
    return [...out.values()];
  }

  /** @throws VouchError OCI_NOT_FOUND */
  async read(id: string): Promise<Buffer> {
    const bytes = this.#bytes.get(id);
    if (!bytes)
      throw new VouchError(
        'OCI_NOT_FOUND',
        `bundle ${id} was not found by this store (find the digest first)`,
      );
    return bytes;
  }
}

function sha256Hex(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function entry(
  id: string,
  info: ReturnType<typeof describeBundle>,
  storedAt: string,
): EvidenceEntry {
  return {
    id,
    predicateType: info.predicateType ?? info.content,
    subjects: (info.statement?.subject ?? []).map((s) => ({ name: s.name, digest: s.digest })),
    storedAt,
  };
}
