import { VouchError } from '../core/errors.ts';
import type { RegistryAuth } from './auth.ts';
import type { OciReference } from './reference.ts';
import type { Descriptor, FetchedManifest } from './types.ts';

export interface RegistryClientOptions {
  /** Plain HTTP. Allowed only for localhost / 127.0.0.1 / ::1 registries; prints a warning. */
  insecure?: boolean | undefined;
  /** PEM file of extra CA certificates to trust for the registry's TLS. */
  caFile?: string | undefined;
  /** Default: docker-config (the auths section only; never runs credential helpers). */
  auth?: RegistryAuth | undefined;
  /** Per-request timeout (connect + whole response), default 30 s. */
  timeoutMs?: number | undefined;
  /** Largest manifest or index accepted, default 4 MiB (the distribution spec's limit). */
  maxManifestBytes?: number | undefined;
  /** Largest blob accepted, default 64 MiB. */
  maxBlobBytes?: number | undefined;
  /** Where warnings go (insecure mode); default stderr. */
  warn?: ((message: string) => void) | undefined;
}

/**
 * An OCI distribution client. Everything fetched by digest is verified
 * against that digest while streaming; sizes are capped before buffering;
 * every request has a timeout. Errors are VouchErrors with OCI_* codes.
 */
export class RegistryClient {
  readonly options: RegistryClientOptions;
  constructor(options: RegistryClientOptions = {}) {
    this.options = options;
  }
  /** The digest a tag (or digest) reference names now. Resolve once, then use the digest. */
  async resolve(_ref: OciReference): Promise<string> {
    throw notYet();
  }
  /** A manifest or index by tag or digest (verified when by digest). */
  async getManifest(_ref: OciReference): Promise<FetchedManifest> {
    throw notYet();
  }
  /** A blob, verified against `digest` while streaming. */
  async getBlob(_ref: OciReference, _digest: string, _maxBytes?: number): Promise<Buffer> {
    throw notYet();
  }
  /** Uploads a blob (monolithic POST+PUT), skipping it when the registry has it. */
  async pushBlob(_ref: OciReference, _bytes: Uint8Array, _mediaType: string): Promise<Descriptor> {
    throw notYet();
  }
  /** PUTs a manifest under its digest, or under `tag` when given. */
  async pushManifest(
    _ref: OciReference,
    _bytes: Uint8Array,
    _mediaType: string,
    _tag?: string,
  ): Promise<Descriptor> {
    throw notYet();
  }
  /**
   * Referrers of `digest` in the repository of `ref`: the referrers API when
   * the registry has it, else the `sha256-<hex>` tag schema index.
   */
  async referrers(
    _ref: OciReference,
    _digest: string,
    _artifactType?: string,
  ): Promise<Descriptor[]> {
    throw notYet();
  }
}

function notYet(): VouchError {
  return new VouchError('OCI_REGISTRY_ERROR', 'not implemented yet');
}
