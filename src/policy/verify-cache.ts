import { createHash, type KeyObject } from 'node:crypto';
import {
  type ArtifactInput,
  type BundleVerdict,
  type KeylessIdentity,
  type TrustAnchors,
  verifyBundleAgainst,
} from '../sign/index.ts';

/** The verifier a cache wraps; `verifyBundleAgainst` unless a test injects a counting one. */
export type BundleVerifier = (
  bundleJson: unknown,
  source: string,
  artifact: ArtifactInput,
  anchors: TrustAnchors,
) => BundleVerdict;

/** Verifies one bundle against the trust the function was made for. */
export type TrustedVerifier = (
  bundleJson: unknown,
  source: string,
  artifact: ArtifactInput,
) => BundleVerdict;

export interface VerificationCacheOptions {
  /** Most entries kept (least recently used dropped first); default 10,000. */
  maxEntries?: number;
  /**
   * Most bytes kept, counted as the size of the bundle bytes each entry was
   * verified from (the verdict it holds, with the parsed Statement, is of the
   * same order); default 64 MiB. A bundle larger than this is never cached.
   */
  maxBytes?: number;
  verify?: BundleVerifier;
}

export interface VerificationCacheStats {
  hits: number;
  /** Verifications run because no entry matched (passed or failed). */
  misses: number;
  /** Verifications run without a lookup: input the cache cannot key exactly. */
  uncacheable: number;
  evictions: number;
  entries: number;
  bytes: number;
}

interface Entry {
  /** Deep-frozen; `source` is the caller's and is set on every hit. */
  verdict: BundleVerdict;
  size: number;
}

export const DEFAULT_MAX_ENTRIES = 10_000;
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Remembers passed bundle verifications, in memory only, so a long-lived
 * process (the admission webhook) does not check the same signatures again
 * for every evaluation.
 *
 * What is cached is only what `verifyBundleAgainst` computes, and that never
 * reads the clock: signatures, the certificate chain and SCT at the log's or
 * TSA's signed time, log and timestamp proofs, the subject digest. The key is
 * everything that result depends on: sha256 of the exact bundle bytes, a
 * fingerprint of the trust anchors (keys by keyid, algorithm and SPKI;
 * keyless identities; the trusted root's JSON) and the artifact digest (or
 * the sha256 of the artifact bytes) checked. The verifier is always given
 * exactly the bytes and trust material that were hashed, so a key can never
 * stand for input it was not computed from.
 *
 * What is never cached: failed verifications (a miss every time), and
 * anything time-dependent — signer validity windows and revocation, maxAge,
 * exceptions, CEL `now` — which the policy evaluator applies on every call
 * to the verified signing times held in the verdict. Nothing is written to
 * disk: a writable cache file would let whoever can write it forge "verified".
 */
export class VerificationCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #verify: BundleVerifier;
  /** SPKI DER (base64) per key: a KeyObject never changes, exporting it is not free. */
  readonly #spki = new WeakMap<KeyObject, string>();
  #bytes = 0;
  #hits = 0;
  #misses = 0;
  #uncacheable = 0;
  #evictions = 0;

  constructor(options: VerificationCacheOptions = {}) {
    this.#maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    if (!(this.#maxEntries >= 0) || !(this.#maxBytes >= 0))
      throw new RangeError('maxEntries and maxBytes must be non-negative numbers');
    this.#verify = options.verify ?? verifyBundleAgainst;
  }

  get stats(): VerificationCacheStats {
    return {
      hits: this.#hits,
      misses: this.#misses,
      uncacheable: this.#uncacheable,
      evictions: this.#evictions,
      entries: this.#entries.size,
      bytes: this.#bytes,
    };
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  /**
   * A verifier for one set of trust anchors, fingerprinted now: make it once
   * per evaluation, not once per bundle, and do not change `anchors` after.
   */
  forTrust(anchors: TrustAnchors): TrustedVerifier {
    const trust = normalizeTrust(anchors, this.#spki);
    if (trust === undefined) {
      return (json, source, artifact) => {
        this.#uncacheable++;
        return this.#verify(json, source, artifact, anchors);
      };
    }
    return (json, source, artifact) => this.#lookup(json, source, artifact, trust);
  }

  #lookup(
    json: unknown,
    source: string,
    artifact: ArtifactInput,
    trust: { anchors: TrustAnchors; fingerprint: string },
  ): BundleVerdict {
    const content = bundleContent(json);
    const subject = artifactKey(artifact);
    if (content === undefined || subject === undefined) {
      this.#uncacheable++;
      return this.#verify(json, source, artifact, trust.anchors);
    }
    // Two fixed-length hex digests, then the artifact: unambiguous.
    const key = `${sha256(content)}${trust.fingerprint}${subject}`;
    const hit = this.#entries.get(key);
    if (hit) {
      this.#hits++;
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return { ...hit.verdict, source };
    }
    this.#misses++;
    const verdict = this.#verify(content, source, artifact, trust.anchors);
    if (verdict.ok) this.#store(key, verdict, Buffer.byteLength(content) + key.length);
    return verdict;
  }

  #store(key: string, verdict: BundleVerdict, size: number): void {
    if (size > this.#maxBytes || this.#maxEntries < 1) return;
    // A frozen copy: callers may not change what later hits will see.
    const frozen = deepFreeze(structuredClone(verdict));
    this.#entries.set(key, { verdict: frozen, size });
    this.#bytes += size;
    for (const [k, e] of this.#entries) {
      if (this.#entries.size <= this.#maxEntries && this.#bytes <= this.#maxBytes) break;
      this.#entries.delete(k);
      this.#bytes -= e.size;
      this.#evictions++;
    }
  }
}

/** Text is hashed as UTF-8, the bytes the verifier decodes it from. */
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/**
 * The exact content verified and hashed: a Buffer as given, text as is (its
 * UTF-8 bytes are hashed), a parsed value as its JSON text. Undefined when
 * text has no exact bytes: a lone surrogate encodes like U+FFFD.
 */
function bundleContent(json: unknown): Buffer | string | undefined {
  if (Buffer.isBuffer(json)) return json;
  if (typeof json === 'string') return json.isWellFormed() ? json : undefined;
  if (typeof json !== 'object' || json === null) return undefined;
  let text: string | undefined;
  try {
    text = JSON.stringify(json);
  } catch {
    return undefined;
  }
  return text?.isWellFormed() ? text : undefined;
}

/** What the verifier binds the bundle to, as it reads it (hex compared lower-case). */
function artifactKey(artifact: ArtifactInput): string | undefined {
  if (artifact === undefined) return 'none';
  if ('bytes' in artifact)
    return Buffer.isBuffer(artifact.bytes) ? `bytes:${sha256(artifact.bytes)}` : undefined;
  const hex = artifact.digest?.hex;
  if (artifact.digest?.algorithm !== 'sha256' || typeof hex !== 'string') return undefined;
  return hex.isWellFormed() ? `sha256:${hex.toLowerCase()}` : undefined;
}

/**
 * The anchors the verifier will be given, rebuilt from what is fingerprinted
 * (identities with only the fields verification reads, the trusted root
 * re-read from its JSON text), with the fingerprint. Undefined when some part
 * cannot be fingerprinted exactly: then nothing is cached.
 */
function normalizeTrust(
  anchors: TrustAnchors,
  spkiMemo: WeakMap<KeyObject, string>,
): { anchors: TrustAnchors; fingerprint: string } | undefined {
  const keys: Array<[string, string, string]> = [];
  for (const k of anchors.keys) {
    if (typeof k.keyid !== 'string' || typeof k.algorithm !== 'string') return undefined;
    let spki = spkiMemo.get(k.publicKey);
    if (spki === undefined) {
      try {
        spki = k.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
      } catch {
        return undefined;
      }
      spkiMemo.set(k.publicKey, spki);
    }
    keys.push([k.keyid, k.algorithm, spki]);
  }
  const identities: KeylessIdentity[] = [];
  for (const i of anchors.identities) {
    const { issuer, subject, subjectRegExp } = i;
    const text = (v: unknown) => typeof v === 'string' && v.isWellFormed();
    if (!text(issuer)) return undefined;
    if (subject !== undefined && !text(subject)) return undefined;
    if (subjectRegExp !== undefined && !text(subjectRegExp)) return undefined;
    const copy: KeylessIdentity = { issuer };
    if (subject !== undefined) copy.subject = subject;
    if (subjectRegExp !== undefined) copy.subjectRegExp = subjectRegExp;
    identities.push(copy);
  }
  let rootText: string | null = null;
  if (anchors.trustedRoot !== undefined) {
    if (typeof anchors.trustedRoot !== 'object' || anchors.trustedRoot === null) return undefined;
    try {
      rootText = JSON.stringify(anchors.trustedRoot) ?? null;
    } catch {
      return undefined;
    }
    if (rootText === null || !rootText.isWellFormed()) return undefined;
  }
  const fingerprint = sha256(JSON.stringify({ keys, identities, root: rootText }));
  const normalized: TrustAnchors = { keys: [...anchors.keys], identities };
  if (rootText !== null) normalized.trustedRoot = JSON.parse(rootText);
  return { anchors: normalized, fingerprint };
}

function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  if (ArrayBuffer.isView(value)) return value;
  for (const v of Object.values(value)) deepFreeze(v);
  return Object.freeze(value);
}
