import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { errorMessage, VouchError } from '../core/errors.ts';
import { isObject, parseJson } from '../core/json.ts';
import { credentialsFor, type RegistryAuth } from './auth.ts';
import { type HttpResponse, httpRequest, parseChallenge } from './http.ts';
import { type OciReference, registryHost } from './reference.ts';
import {
  type Descriptor,
  type FetchedManifest,
  MANIFEST_MEDIA_TYPES,
  MEDIA_OCI_INDEX,
} from './types.ts';

export interface RegistryClientOptions {
  /** Plain HTTP. Allowed only for localhost / 127.0.0.1 / ::1 registries; prints a warning. */
  insecure?: boolean | undefined;
  /** PEM file of extra CA certificates to trust for the registry's TLS (added to Node's roots). */
  caFile?: string | undefined;
  /** Default: docker-config (its `auths` only; credential helpers run only when enabled there). */
  auth?: RegistryAuth | undefined;
  /** Per-request timeout (connect to last byte), default 30 s. */
  timeoutMs?: number | undefined;
  /** Largest manifest or index accepted, default 4 MiB (the distribution spec's limit). */
  maxManifestBytes?: number | undefined;
  /** Largest blob accepted, default 64 MiB. */
  maxBlobBytes?: number | undefined;
  /** Where warnings go (insecure mode); default stderr. */
  warn?: ((message: string) => void) | undefined;
}

/** A manifest PUT's result; `ociSubject` is the registry's OCI-Subject header (referrers API present). */
export interface PushedManifest extends Descriptor {
  ociSubject: string | undefined;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_MANIFEST = 4 * 1024 * 1024;
const DEFAULT_MAX_BLOB = 64 * 1024 * 1024;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1']);

/**
 * An OCI distribution client. Everything fetched by digest is verified
 * against that digest while streaming; sizes are capped as bytes arrive;
 * every request has a timeout. Errors are VouchErrors with OCI_* codes.
 * Safe to share between concurrent callers.
 */
export class RegistryClient {
  readonly #timeoutMs: number;
  readonly #maxManifest: number;
  readonly #maxBlob: number;
  readonly #insecure: boolean;
  readonly #auth: RegistryAuth;
  readonly #ca: string[] | undefined;
  readonly #warn: (message: string) => void;
  /** Authorization header per registry + repository + access, from earlier challenges. */
  readonly #authorization = new Map<string, string>();
  readonly #warned = new Set<string>();

  /** @throws VouchError FILE_READ when caFile cannot be read */
  constructor(options: RegistryClientOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#maxManifest = options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST;
    this.#maxBlob = options.maxBlobBytes ?? DEFAULT_MAX_BLOB;
    this.#insecure = options.insecure ?? false;
    this.#auth = options.auth ?? { kind: 'docker-config' };
    this.#warn = options.warn ?? ((m) => process.stderr.write(`${m}\n`));
    if (options.caFile !== undefined) {
      let pem: string;
      try {
        pem = readFileSync(options.caFile, 'utf8');
      } catch (e) {
        throw new VouchError('FILE_READ', `cannot read CA file: ${errorMessage(e)}`, {
          file: options.caFile,
        });
      }
      if (!pem.includes('-----BEGIN CERTIFICATE-----'))
        throw new VouchError('FILE_READ', 'CA file has no PEM certificate', {
          file: options.caFile,
        });
      this.#ca = [...rootCertificates, pem];
    }
  }

  /**
   * The digest a tag (or digest) reference names now: the sha256 of the
   * manifest bytes the registry serves (never its Docker-Content-Digest
   * header). Resolve once, then use the digest.
   *
   * @throws VouchError OCI_*
   */
  async resolve(ref: OciReference): Promise<string> {
    return (await this.getManifest(ref)).digest;
  }

  /**
   * A manifest or index by tag or digest; by digest, the bytes are verified.
   *
   * @throws VouchError OCI_NOT_FOUND | OCI_TOO_LARGE | OCI_DIGEST_MISMATCH | OCI_MANIFEST_MALFORMED | OCI_*
   */
  async getManifest(ref: OciReference): Promise<FetchedManifest> {
    const found = await this.#getManifest(ref);
    if (!found) throw notFound(`manifest ${describe(ref)}`);
    return found;
  }

  /** Like getManifest, but undefined when the registry says 404. */
  async findManifest(ref: OciReference): Promise<FetchedManifest | undefined> {
    return this.#getManifest(ref);
  }

  async #getManifest(ref: OciReference): Promise<FetchedManifest | undefined> {
    const id = ref.digest ?? ref.tag;
    if (!id)
      throw new VouchError('OCI_REFERENCE_MALFORMED', `${describe(ref)} names no tag or digest`);
    const what = `manifest ${describe(ref)}`;
    const res = await this.#send(ref, {
      method: 'GET',
      path: `manifests/${id}`,
      headers: { Accept: MANIFEST_MEDIA_TYPES.join(', ') },
      maxBytes: this.#maxManifest,
      expectDigest: ref.digest,
      what,
    });
    if (res.status === 404) return undefined;
    expectStatus(res, [200], what);
    return parseManifest(res, what, this.#maxManifest);
  }

  /**
   * A blob, verified against `digest` while streaming and capped at
   * `maxBytes` (default: the client's maxBlobBytes).
   *
   * @throws VouchError OCI_NOT_FOUND | OCI_TOO_LARGE | OCI_DIGEST_MISMATCH | OCI_*
   */
  async getBlob(ref: OciReference, digest: string, maxBytes?: number): Promise<Buffer> {
    checkDigest(digest);
    const what = `blob ${digest} in ${ref.registry}/${ref.repository}`;
    const res = await this.#send(ref, {
      method: 'GET',
      path: `blobs/${digest}`,
      maxBytes: Math.min(maxBytes ?? this.#maxBlob, this.#maxBlob),
      expectDigest: digest,
      what,
    });
    if (res.status === 404) throw notFound(what);
    expectStatus(res, [200], what);
    return res.body;
  }

  /**
   * Uploads a blob (POST, then one PUT), skipping it when the registry has it.
   *
   * @throws VouchError OCI_*
   */
  async pushBlob(ref: OciReference, bytes: Uint8Array, mediaType: string): Promise<Descriptor> {
    const digest = sha256Digest(bytes);
    const what = `upload of blob ${digest} to ${ref.registry}/${ref.repository}`;
    const desc: Descriptor = { mediaType, digest, size: bytes.length };
    const head = await this.#send(ref, {
      method: 'HEAD',
      path: `blobs/${digest}`,
      maxBytes: 0,
      what,
      push: true,
    });
    if (head.status === 200) return desc;
    const start = await this.#send(ref, {
      method: 'POST',
      path: 'blobs/uploads/',
      maxBytes: 64 * 1024,
      what,
      push: true,
      body: new Uint8Array(0),
    });
    expectStatus(start, [202], what);
    const location = header(start, 'location');
    if (!location) throw registryError(`${what}: registry gave no upload Location`);
    const url = new URL(location, this.#base(ref));
    if (url.origin !== this.#base(ref).origin)
      throw registryError(`${what}: upload Location ${url.origin} is not the registry's origin`);
    url.searchParams.set('digest', digest);
    const put = await this.#send(ref, {
      method: 'PUT',
      url,
      headers: { 'Content-Type': 'application/octet-stream' },
      body: bytes,
      maxBytes: 64 * 1024,
      what,
      push: true,
    });
    expectStatus(put, [201, 204], what);
    return desc;
  }

  /**
   * PUTs a manifest under its digest, or under `tag` when given.
   *
   * @throws VouchError OCI_*
   */
  async pushManifest(
    ref: OciReference,
    bytes: Uint8Array,
    mediaType: string,
    tag?: string,
  ): Promise<PushedManifest> {
    const digest = sha256Digest(bytes);
    if (bytes.length > this.#maxManifest)
      throw new VouchError(
        'OCI_TOO_LARGE',
        `manifest ${digest} is larger than ${this.#maxManifest} bytes`,
      );
    const what = `upload of manifest ${digest} to ${ref.registry}/${ref.repository}${tag ? `:${tag}` : ''}`;
    const res = await this.#send(ref, {
      method: 'PUT',
      path: `manifests/${tag ?? digest}`,
      headers: { 'Content-Type': mediaType },
      body: bytes,
      maxBytes: 64 * 1024,
      what,
      push: true,
    });
    expectStatus(res, [201, 200, 204], what);
    return { mediaType, digest, size: bytes.length, ociSubject: header(res, 'oci-subject') };
  }

  /**
   * Referrers of `digest` in the repository of `ref`: the OCI 1.1 referrers
   * API when the registry has it, else the `sha256-<hex>` tag-schema index.
   * Filtered by `artifactType` when given (also client-side: a registry may
   * ignore the filter).
   *
   * @throws VouchError OCI_MANIFEST_MALFORMED | OCI_*
   */
  async referrers(ref: OciReference, digest: string, artifactType?: string): Promise<Descriptor[]> {
    return (await this.referrersWithSource(ref, digest, artifactType)).descriptors;
  }

  /** referrers(), also saying where the list came from. */
  async referrersWithSource(
    ref: OciReference,
    digest: string,
    artifactType?: string,
  ): Promise<{ descriptors: Descriptor[]; via: 'referrers-api' | 'tag-schema' }> {
    checkDigest(digest);
    const what = `referrers of ${digest} in ${ref.registry}/${ref.repository}`;
    const query = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : '';
    const res = await this.#send(ref, {
      method: 'GET',
      path: `referrers/${digest}${query}`,
      headers: { Accept: MEDIA_OCI_INDEX },
      maxBytes: this.#maxManifest,
      what,
    });
    let descriptors: Descriptor[];
    let via: 'referrers-api' | 'tag-schema';
    const type = header(res, 'content-type') ?? '';
    if (res.status === 200 && type.startsWith(MEDIA_OCI_INDEX)) {
      descriptors = indexDescriptors(parseManifest(res, what, this.#maxManifest), what);
      via = 'referrers-api';
    } else if (
      res.status === 404 ||
      res.status === 200 ||
      res.status === 400 ||
      res.status === 405
    ) {
      // 404 (or a non-index answer) is a registry without the API: the tag schema.
      const tag = `sha256-${digest.slice('sha256:'.length)}`;
      const index = await this.findManifest({ ...ref, tag, digest: undefined });
      descriptors = index ? indexDescriptors(index, `referrers tag ${tag}`) : [];
      via = 'tag-schema';
    } else {
      expectStatus(res, [200], what);
      throw registryError(what);
    }
    if (artifactType) descriptors = descriptors.filter((d) => d.artifactType === artifactType);
    return { descriptors, via };
  }

  #base(ref: OciReference): URL {
    const host = registryHost(ref);
    if (this.#insecure) {
      if (!LOCAL_HOSTS.has(host))
        throw new VouchError(
          'OCI_REGISTRY_ERROR',
          `plain HTTP (insecure registry) is allowed only for localhost, 127.0.0.1 and ::1, not ${ref.registry}`,
        );
      if (!this.#warned.has(ref.registry)) {
        this.#warned.add(ref.registry);
        this.#warn(`warning: talking plain HTTP to ${ref.registry} (insecure registry)`);
      }
      return new URL(`http://${ref.registry}/`);
    }
    return new URL(`https://${ref.registry}/`);
  }

  async #send(
    ref: OciReference,
    r: {
      method: 'GET' | 'HEAD' | 'POST' | 'PUT';
      path?: string;
      url?: URL;
      headers?: Record<string, string>;
      body?: Uint8Array;
      maxBytes: number;
      expectDigest?: string | undefined;
      what: string;
      push?: boolean;
    },
  ): Promise<HttpResponse> {
    const base = this.#base(ref);
    let url = r.url ?? new URL(`v2/${ref.repository}/${r.path}`, base);
    const key = `${ref.registry}|${ref.repository}|${r.push ? 'push' : 'pull'}`;
    const send = (u: URL, authorization: string | undefined) =>
      httpRequest({
        method: r.method,
        url: u,
        headers: { ...r.headers, ...(authorization ? { Authorization: authorization } : {}) },
        body: r.body,
        timeoutMs: this.#timeoutMs,
        maxBytes: r.maxBytes,
        ca: this.#ca,
        expectDigest: r.expectDigest,
        what: r.what,
      });
    let authorization =
      this.#authorization.get(key) ??
      (this.#auth.kind === 'bearer' ? `Bearer ${this.#auth.token}` : undefined);
    let res = await send(url, authorization);
    if (res.status === 401) {
      authorization = await this.#answerChallenge(ref, res, r.push ?? false, r.what);
      this.#authorization.set(key, authorization);
      res = await send(url, authorization);
      if (res.status === 401 || res.status === 403)
        throw new VouchError(
          'OCI_AUTH_FAILED',
          `${r.what}: ${ref.registry} refused the credentials (${res.status}${registryMessage(res)})`,
        );
    }
    // Blob downloads may redirect to storage; never carry credentials to another origin.
    for (
      let hops = 0;
      r.method === 'GET' && [301, 302, 303, 307, 308].includes(res.status);
      hops++
    ) {
      const location = header(res, 'location');
      if (!location || hops >= 3) throw registryError(`${r.what}: too many or empty redirects`);
      const next = new URL(location, url);
      if (next.protocol !== 'https:' && !(this.#insecure && next.origin === base.origin))
        throw registryError(`${r.what}: refusing redirect to ${next.protocol}//${next.host}`);
      res = await send(next, next.origin === base.origin ? authorization : undefined);
      url = next;
    }
    if (res.status === 403)
      throw new VouchError(
        'OCI_AUTH_FAILED',
        `${r.what}: ${ref.registry} denied access (403${registryMessage(res)})`,
      );
    return res;
  }

  async #answerChallenge(
    ref: OciReference,
    res: HttpResponse,
    push: boolean,
    what: string,
  ): Promise<string> {
    const challenge = parseChallenge(header(res, 'www-authenticate'));
    const creds = credentialsFor(ref.registry, this.#auth);
    if (challenge?.scheme === 'basic') {
      if (!creds)
        throw new VouchError(
          'OCI_AUTH_FAILED',
          `${what}: ${ref.registry} asks for a login and no credentials are configured (docker config auths)`,
        );
      return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    }
    if (challenge?.scheme !== 'bearer' || !challenge.params.realm)
      throw new VouchError(
        'OCI_AUTH_FAILED',
        `${what}: ${ref.registry} answered 401 without a usable WWW-Authenticate challenge`,
      );
    let realm: URL;
    try {
      realm = new URL(challenge.params.realm);
    } catch {
      throw new VouchError(
        'OCI_AUTH_FAILED',
        `${what}: token realm ${JSON.stringify(challenge.params.realm)} is not a URL`,
      );
    }
    if (
      realm.protocol !== 'https:' &&
      !(
        this.#insecure &&
        realm.protocol === 'http:' &&
        LOCAL_HOSTS.has(realm.hostname.replace(/^\[|\]$/g, ''))
      )
    )
      throw new VouchError(
        'OCI_AUTH_FAILED',
        `${what}: refusing token realm ${realm.origin} (not https)`,
      );
    if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
    realm.searchParams.set('scope', `repository:${ref.repository}:${push ? 'pull,push' : 'pull'}`);
    const tokenRes = await httpRequest({
      method: 'GET',
      url: realm,
      headers: creds
        ? {
            Authorization: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`,
          }
        : {},
      timeoutMs: this.#timeoutMs,
      maxBytes: 1024 * 1024,
      ca: this.#ca,
      what: `token for ${ref.registry}/${ref.repository}`,
    });
    if (tokenRes.status !== 200)
      throw new VouchError(
        'OCI_AUTH_FAILED',
        `${what}: token service ${realm.host} answered ${tokenRes.status}${creds ? '' : ' (no credentials configured)'}`,
      );
    let body: unknown;
    try {
      body = parseJson(tokenRes.body.toString('utf8'), `token from ${realm.host}`, { maxDepth: 8 });
    } catch (e) {
      throw new VouchError('OCI_AUTH_FAILED', `${what}: ${errorMessage(e)}`);
    }
    const token = isObject(body) ? (body.token ?? body.access_token) : undefined;
    if (typeof token !== 'string' || token === '' || /[\r\n]/.test(token))
      throw new VouchError('OCI_AUTH_FAILED', `${what}: token service ${realm.host} gave no token`);
    return `Bearer ${token}`;
  }
}

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHashHex(bytes)}`;
}

function createHashHex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function describe(ref: OciReference): string {
  return `${ref.registry}/${ref.repository}${ref.digest ? `@${ref.digest}` : ref.tag ? `:${ref.tag}` : ''}`;
}

function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function checkDigest(digest: string): void {
  if (!DIGEST.test(digest))
    throw new VouchError(
      'DIGEST_MALFORMED',
      `not a sha256 digest: ${JSON.stringify(digest.slice(0, 80))}`,
    );
}

function notFound(what: string): VouchError {
  return new VouchError('OCI_NOT_FOUND', `${what}: not found in the registry`);
}

function registryError(message: string): VouchError {
  return new VouchError('OCI_REGISTRY_ERROR', message);
}

function registryMessage(res: HttpResponse): string {
  try {
    const body = JSON.parse(res.body.subarray(0, 4096).toString('utf8'));
    const first = body?.errors?.[0];
    if (first && typeof first.code === 'string')
      return `: ${first.code}${typeof first.message === 'string' ? ` ${first.message.slice(0, 200)}` : ''}`;
  } catch {
    // not a registry error document
  }
  return '';
}

function expectStatus(res: HttpResponse, ok: readonly number[], what: string): void {
  if (ok.includes(res.status)) return;
  if (res.status === 404) throw notFound(what);
  if (res.status === 401 || res.status === 403)
    throw new VouchError('OCI_AUTH_FAILED', `${what}: ${res.status}${registryMessage(res)}`);
  throw registryError(`${what}: registry answered ${res.status}${registryMessage(res)}`);
}

function parseManifest(res: HttpResponse, what: string, maxBytes: number): FetchedManifest {
  const malformed = (why: string) => new VouchError('OCI_MANIFEST_MALFORMED', `${what}: ${why}`);
  let json: unknown;
  try {
    json = parseJson(res.body.toString('utf8'), what, { maxBytes, maxDepth: 16 });
  } catch (e) {
    throw malformed(errorMessage(e).replace(`${what}: `, ''));
  }
  if (!isObject(json)) throw malformed('not a JSON object');
  if (json.schemaVersion !== 2)
    throw malformed(`schemaVersion is ${JSON.stringify(json.schemaVersion)}, not 2`);
  const contentType = (header(res, 'content-type') ?? '').split(';')[0]?.trim() ?? '';
  const mediaType = typeof json.mediaType === 'string' ? json.mediaType : contentType;
  if (!MANIFEST_MEDIA_TYPES.includes(mediaType))
    throw malformed(`unsupported media type ${JSON.stringify(mediaType)}`);
  return { digest: res.digest, mediaType, bytes: res.body, json };
}

/** Descriptors of an index, each checked for shape. */
export function indexDescriptors(index: FetchedManifest, what: string): Descriptor[] {
  const manifests = index.json.manifests;
  if (
    index.mediaType !== MEDIA_OCI_INDEX &&
    index.mediaType !== 'application/vnd.docker.distribution.manifest.list.v2+json'
  )
    throw new VouchError(
      'OCI_MANIFEST_MALFORMED',
      `${what}: expected an image index, got ${index.mediaType}`,
    );
  if (!Array.isArray(manifests))
    throw new VouchError('OCI_MANIFEST_MALFORMED', `${what}: index has no manifests array`);
  return manifests.map((m, i) => parseDescriptor(m, `${what}: /manifests/${i}`));
}

/** A descriptor from untrusted JSON. @throws VouchError OCI_MANIFEST_MALFORMED */
export function parseDescriptor(value: unknown, where: string): Descriptor {
  const bad = (why: string) => new VouchError('OCI_MANIFEST_MALFORMED', `${where}: ${why}`);
  if (!isObject(value)) throw bad('descriptor is not an object');
  const { mediaType, digest, size, artifactType, annotations } = value;
  if (typeof mediaType !== 'string') throw bad('descriptor has no mediaType');
  if (typeof digest !== 'string' || !DIGEST.test(digest))
    throw bad(`descriptor digest ${JSON.stringify(digest)} is not sha256:<hex>`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
    throw bad('descriptor size is not a non-negative integer');
  const out: Descriptor = { mediaType, digest, size };
  if (typeof artifactType === 'string') out.artifactType = artifactType;
  if (isObject(annotations)) {
    const a: Record<string, string> = {};
    for (const [k, v] of Object.entries(annotations)) if (typeof v === 'string') a[k] = v;
    out.annotations = a;
  }
  return out;
}
