import { envelopeFromJson } from '../core/dsse.ts';
import { errorMessage, VouchError } from '../core/errors.ts';
import { isObject, parseJson } from '../core/json.ts';
import { PAYLOAD_TYPE_INTOTO, parseStatement, type Statement } from '../core/statement.ts';
import type { CandidateBundle } from '../verify/index.ts';
import { parseDescriptor, type RegistryClient, sha256Digest } from './client.ts';
import { type DigestReference, formatReference, withDigest } from './reference.ts';
import {
  ANNOTATION_BUNDLE_CONTENT,
  ANNOTATION_BUNDLE_PREDICATE_TYPE,
  type Descriptor,
  type FetchedManifest,
  MEDIA_DSSE_ENVELOPE,
  MEDIA_OCI_EMPTY,
  MEDIA_OCI_INDEX,
  MEDIA_OCI_MANIFEST,
  MEDIA_SIGSTORE_BUNDLE,
  type ReferrersVia,
} from './types.ts';

/** Most referrers read for one digest, and most bundle layers per referrer: beyond, fail closed. */
const MAX_REFERRERS = 256;
const MAX_LAYERS = 64;
/** Largest bundle or DSSE envelope read. */
const MAX_BUNDLE_BYTES = 16 * 1024 * 1024;
/** Parallel manifest/blob fetches per fetchEvidence call. */
const CONCURRENCY = 8;
/** Attempts at the tag-schema read-modify-write before giving up. */
const TAG_SCHEMA_ATTEMPTS = 8;
/** Pauses (plus up to as much jitter) before each read-back of the tag-schema index. */
const SETTLE_MS: readonly number[] = [100, 300];

const EMPTY_CONFIG = Buffer.from('{}');
const COSIGN_CERTIFICATE = 'dev.sigstore.cosign/certificate';
const BUNDLE_TYPE = /^application\/vnd\.dev\.sigstore\.bundle(\.v0\.[1-9][0-9]*)?\+json(;.*)?$/;

/** The tag of the OCI referrers tag schema for a digest: `sha256-<hex>`. */
export function referrersTag(digest: string): string {
  return digest.replace(':', '-');
}

/**
 * Every Sigstore bundle attached to the image digest: bundle referrers
 * (vouch's and cosign's, via the referrers API or its tag schema) and
 * cosign's legacy `sha256-<hex>.att` DSSE layers, each wrapped into a v0.3
 * bundle (see docs/oci.md). Unverified: pass them to verifyArtifact or
 * evaluatePolicy. Sorted by source, so the result is deterministic.
 *
 * Fails closed: a registry that cannot be read, a referrer manifest that is
 * malformed or too large, a blob that does not match its digest all throw;
 * evidence is never silently dropped.
 *
 * @throws VouchError OCI_* | DIGEST_MALFORMED
 */
export async function fetchEvidence(
  ref: DigestReference,
  client: RegistryClient,
): Promise<CandidateBundle[]> {
  const referrers = await client.referrers(ref, ref.digest);
  const bundles = referrers.filter(
    (d) => d.artifactType !== undefined && BUNDLE_TYPE.test(d.artifactType),
  );
  if (bundles.length > MAX_REFERRERS)
    throw new VouchError(
      'OCI_TOO_LARGE',
      `${formatReference(ref)} has ${bundles.length} bundle referrers; at most ${MAX_REFERRERS} are read`,
    );
  const unique = [...new Map(bundles.map((d) => [d.digest, d])).values()];
  const fromReferrers = await pool(unique, async (d) => {
    const manifest = await client.getManifest(withDigest(ref, d.digest));
    const source = formatReference(withDigest(ref, d.digest));
    const layers = manifestLayers(manifest, source).filter((l) => BUNDLE_TYPE.test(l.mediaType));
    return pool(layers, async (l, i) => ({
      source: layers.length === 1 ? source : `${source}#${i}`,
      json: (await client.getBlob(ref, l.digest, MAX_BUNDLE_BYTES)).toString('utf8'),
    }));
  });
  const legacy = await cosignAttestations(ref, client);
  return [...fromReferrers.flat(), ...legacy].sort((a, b) =>
    a.source < b.source ? -1 : a.source > b.source ? 1 : 0,
  );
}

/** cosign's `sha256-<hex>.att` image: one DSSE envelope per layer. */
async function cosignAttestations(
  ref: DigestReference,
  client: RegistryClient,
): Promise<CandidateBundle[]> {
  const tag = `${referrersTag(ref.digest)}.att`;
  const manifest = await client.findManifest({ ...ref, tag, digest: undefined });
  if (!manifest) return [];
  const base = `${formatReference({ ...ref, digest: undefined, tag })}@${manifest.digest}`;
  const layers = manifestLayers(manifest, base).filter((l) => l.mediaType === MEDIA_DSSE_ENVELOPE);
  return pool(layers, async (l, i) => {
    const source = `${base}#${i}`;
    const bytes = await client.getBlob(ref, l.digest, MAX_BUNDLE_BYTES);
    return { source, json: dsseToBundle(bytes, source, l.annotations?.[COSIGN_CERTIFICATE]) };
  });
}

/**
 * Wraps a bare DSSE envelope (a cosign `.att` layer) into a Sigstore v0.3
 * bundle so the verifier can read it: the envelope unchanged, no
 * transparency-log entries, and as verification material either the
 * layer's certificate (cosign's `dev.sigstore.cosign/certificate`
 * annotation, PEM) or an empty public-key hint — which key is trusted is
 * left entirely to the trust policy.
 *
 * @throws VouchError OCI_MANIFEST_MALFORMED when the layer is not a DSSE envelope
 */
export function dsseToBundle(bytes: Buffer, source: string, certificatePem?: string): unknown {
  let envelope: unknown;
  try {
    envelope = parseJson(bytes.toString('utf8'), source, { maxDepth: 8 });
    envelopeFromJson(envelope, source);
  } catch (e) {
    throw new VouchError(
      'OCI_MANIFEST_MALFORMED',
      `${source}: not a DSSE envelope: ${errorMessage(e)}`,
    );
  }
  const env = envelope as {
    payloadType: string;
    payload: string;
    signatures: Array<{ sig: string; keyid?: string }>;
  };
  const der = certificatePem ? pemToDer(certificatePem) : undefined;
  return {
    mediaType: MEDIA_SIGSTORE_BUNDLE,
    verificationMaterial: {
      ...(der
        ? { certificate: { rawBytes: der.toString('base64') } }
        : { publicKey: { hint: '' } }),
      tlogEntries: [],
    },
    dsseEnvelope: {
      payload: env.payload,
      payloadType: env.payloadType,
      signatures: env.signatures.map((s) => ({ sig: s.sig, keyid: s.keyid ?? '' })),
    },
  };
}

function pemToDer(pem: string): Buffer | undefined {
  const m = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(pem);
  return m ? Buffer.from((m[1] as string).replace(/\s+/g, ''), 'base64') : undefined;
}

function manifestLayers(manifest: FetchedManifest, source: string): Descriptor[] {
  if (manifest.mediaType !== MEDIA_OCI_MANIFEST && !manifest.mediaType.includes('manifest.v2'))
    throw new VouchError(
      'OCI_MANIFEST_MALFORMED',
      `${source}: a referrer must be an image manifest, got ${manifest.mediaType}`,
    );
  const layers = manifest.json.layers;
  if (!Array.isArray(layers))
    throw new VouchError('OCI_MANIFEST_MALFORMED', `${source}: manifest has no layers array`);
  if (layers.length > MAX_LAYERS)
    throw new VouchError(
      'OCI_TOO_LARGE',
      `${source}: ${layers.length} layers; at most ${MAX_LAYERS} are read`,
    );
  return layers.map((l, i) => parseDescriptor(l, `${source}: /layers/${i}`));
}

export interface PushedEvidence {
  /** Digest of the referrer manifest. */
  manifest: string;
  /** Digest of the bundle blob. */
  bundle: string;
  via: ReferrersVia;
}

/**
 * Pushes a bundle as an OCI 1.1 referrer of the image digest, in cosign's
 * layout (specs/BUNDLE_SPEC.md): an image manifest with artifactType
 * `application/vnd.dev.sigstore.bundle.v0.3+json`, the empty config, one
 * layer holding the bundle, `subject` = the image, and the bundle's content
 * kind and predicate type as annotations. The manifest carries no creation
 * time, so pushing the same bundle twice gives the same manifest (idempotent).
 *
 * When the registry does not answer the PUT with `OCI-Subject` (no referrers
 * API), the `sha256-<hex>` tag-schema index is updated by read-modify-write,
 * then read back after jittered pauses; when a concurrent writer's stale
 * write dropped our entry, it is merged in again. The distribution protocol
 * has no conditional PUT, so this is the best it allows: a writer stalled
 * between its read and its write for longer than the pauses can still drop
 * an entry; pushing the same bundle again (idempotent) repairs it.
 *
 * @throws VouchError BUNDLE_MALFORMED | OCI_*
 */
export async function pushEvidence(
  ref: DigestReference,
  bundle: Uint8Array,
  client: RegistryClient,
): Promise<PushedEvidence> {
  const info = describeBundle(bundle);
  const subjectManifest = await client.getManifest(ref);
  const subject: Descriptor = {
    mediaType: subjectManifest.mediaType,
    digest: subjectManifest.digest,
    size: subjectManifest.bytes.length,
  };
  const config = await client.pushBlob(ref, EMPTY_CONFIG, MEDIA_OCI_EMPTY);
  const layer = await client.pushBlob(ref, bundle, MEDIA_SIGSTORE_BUNDLE);
  const annotations: Record<string, string> = { [ANNOTATION_BUNDLE_CONTENT]: info.content };
  if (info.predicateType) annotations[ANNOTATION_BUNDLE_PREDICATE_TYPE] = info.predicateType;
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_OCI_MANIFEST,
    artifactType: MEDIA_SIGSTORE_BUNDLE,
    config: { mediaType: MEDIA_OCI_EMPTY, digest: config.digest, size: config.size },
    layers: [
      {
        mediaType: MEDIA_SIGSTORE_BUNDLE,
        digest: layer.digest,
        size: layer.size,
        annotations: {
          'org.opencontainers.image.title': `${referrersTag(layer.digest)}.sigstore.json`,
        },
      },
    ],
    subject,
    annotations,
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const pushed = await client.pushManifest(ref, bytes, MEDIA_OCI_MANIFEST);
  if (pushed.ociSubject === ref.digest)
    return { manifest: pushed.digest, bundle: layer.digest, via: 'referrers-api' };
  await addToTagSchema(
    ref,
    {
      mediaType: MEDIA_OCI_MANIFEST,
      digest: pushed.digest,
      size: pushed.size,
      artifactType: MEDIA_SIGSTORE_BUNDLE,
      annotations,
    },
    client,
  );
  return { manifest: pushed.digest, bundle: layer.digest, via: 'tag-schema' };
}

async function addToTagSchema(
  ref: DigestReference,
  entry: Descriptor,
  client: RegistryClient,
): Promise<void> {
  const tag = referrersTag(ref.digest);
  const at = { ...ref, digest: undefined, tag };
  const listed = async () => {
    // A registry writing the tag at this moment can answer 404 or 5xx for it
    // (distribution's filesystem driver does not replace the tag link
    // atomically): ask once more before taking "no index" for an answer.
    const read = async () => {
      try {
        return await client.findManifest(at);
      } catch (e) {
        if (!(e instanceof VouchError) || e.code !== 'OCI_REGISTRY_ERROR') throw e;
        await sleep(50);
        return client.findManifest(at);
      }
    };
    let current = await read();
    if (!current) {
      await sleep(25);
      current = await read();
    }
    const manifests = current ? indexManifests(current, tag) : [];
    return { manifests, ours: manifests.some((d) => isObject(d) && d.digest === entry.digest) };
  };
  let settled = 0;
  for (let attempt = 0; attempt < TAG_SCHEMA_ATTEMPTS; attempt++) {
    const { manifests, ours } = await listed();
    if (!ours) {
      const index = {
        schemaVersion: 2,
        mediaType: MEDIA_OCI_INDEX,
        manifests: [...manifests, entry],
      };
      await client.pushManifest(ref, Buffer.from(JSON.stringify(index)), MEDIA_OCI_INDEX, tag);
    }
    // Read back after a jittered pause, twice: a writer that read the index
    // before our write and writes after it drops our entry; seeing it still
    // there after the pauses means that window has passed.
    for (; settled < SETTLE_MS.length; settled++) {
      await sleep(SETTLE_MS[settled] as number);
      if (!(await listed()).ours) break;
    }
    if (settled === SETTLE_MS.length) return;
  }
  throw new VouchError(
    'OCI_REGISTRY_ERROR',
    `could not keep ${entry.digest} in the referrers tag ${tag} after ${TAG_SCHEMA_ATTEMPTS} attempts (concurrent writers)`,
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms + Math.floor(Math.random() * ms)));
}

/** The raw manifests of an index, kept as they are (other tools' fields survive the rewrite). */
function indexManifests(index: FetchedManifest, tag: string): unknown[] {
  if (index.mediaType !== MEDIA_OCI_INDEX || !Array.isArray(index.json.manifests))
    throw new VouchError(
      'OCI_MANIFEST_MALFORMED',
      `referrers tag ${tag} does not hold an OCI image index`,
    );
  for (const [i, m] of index.json.manifests.entries())
    parseDescriptor(m, `referrers tag ${tag}: /manifests/${i}`);
  return index.json.manifests;
}

/** What a bundle is, for the referrer's annotations; its Statement's claims, unverified. */
export function describeBundle(bundle: Uint8Array): {
  content: 'dsse-envelope' | 'message-signature';
  predicateType: string | undefined;
  statement: Statement | undefined;
  digest: string;
} {
  const source = 'bundle';
  let json: unknown;
  try {
    json = parseJson(Buffer.from(bundle).toString('utf8'), source);
  } catch (e) {
    throw new VouchError('BUNDLE_MALFORMED', errorMessage(e));
  }
  if (!isObject(json) || typeof json.mediaType !== 'string' || !BUNDLE_TYPE.test(json.mediaType))
    throw new VouchError('BUNDLE_MALFORMED', 'not a Sigstore bundle (mediaType)', {
      field: '/mediaType',
    });
  const digest = sha256Digest(bundle);
  if (json.messageSignature !== undefined)
    return { content: 'message-signature', predicateType: undefined, statement: undefined, digest };
  const envelope = envelopeFromJson(json.dsseEnvelope, source);
  if (envelope.payloadType !== PAYLOAD_TYPE_INTOTO)
    return { content: 'dsse-envelope', predicateType: undefined, statement: undefined, digest };
  const statement = parseStatement(envelope.payload, source);
  return { content: 'dsse-envelope', predicateType: statement.predicateType, statement, digest };
}

/** Maps with at most CONCURRENCY calls in flight, keeping order. */
async function pool<T, R>(
  items: readonly T[],
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  return out;
}
