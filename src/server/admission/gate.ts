import { errorMessage, isVouchError } from '../../core/errors.ts';
import {
  evaluatePolicy,
  type Policy,
  type PolicyVerdict,
  VerificationCache,
} from '../../policy/index.ts';
import { Coalescer, VerdictCache } from './cache.ts';
import type { EvidenceSource } from './evidence.ts';
import { newerEvidenceCanDeny, trustVersion, verdictExpiry } from './expiry.ts';
import { type ImageReference, imageMatcher, parseImage } from './image.ts';
import { Limiter } from './limiter.ts';
import {
  clip,
  failingRules,
  joinCapped,
  MAX_MESSAGE,
  MAX_REASON,
  MAX_WARNING,
  MAX_WARNINGS,
} from './message.ts';
import { AdmissionMetrics } from './metrics.ts';
import { ADMISSION_API_VERSION, type AdmissionRequest, imagesOf, parseReview } from './review.ts';

export type AdmissionMode = 'enforce' | 'warn';

export interface GateOptions {
  policy: Policy;
  source: EvidenceSource;
  /** `enforce` denies; `warn` allows and returns warnings plus an audit annotation. */
  mode: AdmissionMode;
  /** Whole-request budget; exceeding it denies. Keep it below the webhook's timeoutSeconds. */
  timeoutMs: number;
  /** Requests decided at once; more are denied at once as overloaded. */
  maxInFlight: number;
  /** Only these namespaces are gated (empty: all). */
  namespaces?: readonly string[];
  /** Never gated (allowed without checks). */
  excludeNamespaces?: readonly string[];
  /** Globs over `registry/repository`; images matching none are not checked (empty: all). */
  images?: readonly string[];
  /** Longest an allow verdict is cached even when no rule would change sooner. */
  cacheTtlMs?: number;
  /** Longest a deny verdict is cached: new evidence pushed after a denial is seen this soon. */
  denyCacheTtlMs?: number;
  cacheMaxEntries?: number;
  /**
   * Passed signature checks kept across evaluations (in memory; validity,
   * revocation and rules are judged again each time). Default: one per gate.
   */
  verificationCache?: VerificationCache;
  /** The clock verdicts are evaluated and cached by (tests move it). */
  now?: () => Date;
  /** One structured line per decision. */
  log?: (line: Record<string, unknown>) => void;
}

/** Why an image (or a whole request) was allowed or denied; metric label values. */
export type DecisionReason =
  | 'verified'
  | 'not-selected'
  | 'namespace-excluded'
  | 'not-gated'
  | 'no-images'
  | 'policy'
  | 'tag'
  | 'image-malformed'
  | 'evidence-unavailable'
  | 'digest-mismatch'
  | 'timeout'
  | 'overloaded'
  | 'object-malformed'
  | 'review-malformed';

export interface ImageDecision {
  image: string;
  /** Every place the object names the image, comma-separated (`spec.containers[0].image, …`). */
  field: string;
  digest?: string;
  /** The tag that was resolved to `digest`, when the Pod named a tag. */
  resolvedFrom?: string;
  ok: boolean;
  reason: DecisionReason;
  /** Failing rules and reasons (empty when ok). */
  reasons: string[];
  cached?: boolean;
}

export interface AdmissionDecision {
  uid?: string;
  /** What the response says (warn mode allows what enforce would deny). */
  allowed: boolean;
  /** What enforce mode would have said. */
  wouldAllow: boolean;
  reason: DecisionReason;
  message: string;
  images: ImageDecision[];
  warnings: string[];
}

/** An HTTP answer: status code and JSON body. */
export interface GateAnswer {
  status: number;
  body: unknown;
  decision?: AdmissionDecision;
}

const DEFAULT_CACHE_TTL = 5 * 60_000;
const DEFAULT_DENY_TTL = 10_000;

/**
 * The admission decision, independent of HTTP: AdmissionReview in, answer out.
 * Never throws and never allows by error: every failure path is a denial
 * with a reason (or, when no uid can be echoed, an HTTP 400).
 */
export class AdmissionGate {
  readonly options: GateOptions;
  readonly metrics: AdmissionMetrics;
  readonly cache: VerdictCache;
  readonly verificationCache: VerificationCache;
  readonly limiter: Limiter;
  readonly trustVersion: string;
  readonly #coalescer = new Coalescer<PolicyVerdict>();
  readonly #selected: (name: string) => boolean;
  readonly #now: () => Date;
  /** The policy has a `select: newest` rule: an allow is cached no longer than a deny. */
  readonly #newerCanDeny: boolean;

  constructor(options: GateOptions) {
    this.options = options;
    this.cache = new VerdictCache(options.cacheMaxEntries);
    this.verificationCache = options.verificationCache ?? new VerificationCache();
    this.limiter = new Limiter(options.maxInFlight);
    this.metrics = new AdmissionMetrics(
      () => this.limiter.inUse,
      () => this.cache.size,
      () => this.verificationCache.stats,
    );
    this.trustVersion = trustVersion(options.policy);
    this.#newerCanDeny = newerEvidenceCanDeny(options.policy);
    this.#selected = imageMatcher(options.images ?? []);
    this.#now = options.now ?? (() => new Date());
  }

  /** Decides one AdmissionReview body (already JSON-parsed). */
  async review(body: unknown): Promise<GateAnswer> {
    const started = performance.now();
    const parsed = parseReview(body);
    if (!parsed.ok) {
      if (parsed.uid === undefined) {
        this.metrics.decisions.inc({ result: 'invalid', reason: 'review-malformed' });
        this.#log({
          uid: null,
          allowed: false,
          reason: 'review-malformed',
          message: parsed.message,
        });
        return { status: 400, body: { error: 'invalid AdmissionReview', message: parsed.message } };
      }
      return this.#answer(
        started,
        undefined,
        this.#whole(
          parsed.uid,
          false,
          'review-malformed',
          `malformed AdmissionReview: ${parsed.message}`,
        ),
      );
    }
    const req = parsed.request;
    const release = this.limiter.tryAcquire();
    if (!release) {
      return this.#answer(
        started,
        req,
        this.#whole(
          req.uid,
          false,
          'overloaded',
          `overloaded: ${this.limiter.max} admission requests already in flight; retry`,
        ),
      );
    }
    try {
      return this.#answer(started, req, await this.#decide(req));
    } finally {
      release();
    }
  }

  async #decide(req: AdmissionRequest): Promise<AdmissionDecision> {
    const { namespaces = [], excludeNamespaces = [] } = this.options;
    if (
      excludeNamespaces.includes(req.namespace) ||
      (namespaces.length > 0 && !namespaces.includes(req.namespace))
    )
      return this.#whole(
        req.uid,
        true,
        'namespace-excluded',
        `namespace ${req.namespace} is not gated`,
      );
    const found = imagesOf(req);
    if ('error' in found)
      return this.#whole(
        req.uid,
        false,
        'object-malformed',
        `cannot read the images: ${found.error}`,
      );
    if (!found.gated) return this.#whole(req.uid, true, 'not-gated', found.why);
    if (found.images.length === 0) return this.#whole(req.uid, true, 'no-images', 'no images');

    // Each distinct image once (named by every place it is used); all of them at the same time.
    const unique = new Map<string, string>();
    for (const i of found.images) {
      const seen = unique.get(i.image);
      unique.set(i.image, seen === undefined ? i.field : `${seen}, ${i.field}`);
    }
    const budget = AbortSignal.timeout(this.options.timeoutMs);
    const settled = new Map<string, ImageDecision>();
    const work = Promise.all(
      [...unique].map(async ([image, field]) => {
        const d = await this.#image(image, field, budget);
        settled.set(image, d);
      }),
    );
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.options.timeoutMs);
    });
    const outcome = await Promise.race([work.then(() => 'done' as const), timedOut]);
    clearTimeout(timer);
    const images = [...unique].map(
      ([image, field]): ImageDecision => settled.get(image) ?? this.#timedOut({ image, field }),
    );
    if (outcome === 'timeout') work.catch(() => {});
    return this.#combine(req.uid, images);
  }

  async #image(image: string, field: string, signal: AbortSignal): Promise<ImageDecision> {
    const base = { image, field };
    let ref: ImageReference;
    try {
      ref = parseImage(image);
    } catch (e) {
      return {
        ...base,
        ok: false,
        reason: 'image-malformed',
        reasons: [clip(errorMessage(e), MAX_REASON)],
      };
    }
    if (!this.#selected(ref.name))
      return { ...base, ok: true, reason: 'not-selected', reasons: [] };
    let digest = ref.digest;
    let resolvedFrom: string | undefined;
    if (digest === undefined) {
      if (this.options.policy.requireDigest)
        return {
          ...base,
          ok: false,
          reason: 'tag',
          reasons: [
            `image is not pinned by digest (tag ${ref.tag}); policy ${this.options.policy.name} requires a digest (requireDigest: true): use ${ref.name}@sha256:…`,
          ],
        };
      try {
        digest = await this.options.source.resolve(ref, signal);
        this.metrics.sourceCalls.inc({ op: 'resolve', outcome: 'ok' });
      } catch (e) {
        this.metrics.sourceCalls.inc({ op: 'resolve', outcome: 'error' });
        if (signal.aborted) return this.#timedOut(base);
        return {
          ...base,
          ok: false,
          reason: 'evidence-unavailable',
          reasons: [clip(`cannot resolve tag ${ref.tag}: ${errorMessage(e)}`, MAX_REASON)],
        };
      }
      resolvedFrom = ref.tag;
    }
    const withDigest =
      resolvedFrom === undefined ? { ...base, digest } : { ...base, digest, resolvedFrom };
    let verdict: PolicyVerdict;
    let cached = false;
    try {
      const r = await this.verify(ref, digest, signal);
      verdict = r.verdict;
      cached = r.cached;
    } catch (e) {
      if (signal.aborted) return this.#timedOut(withDigest);
      const mismatch = isVouchError(e) && e.code === 'OCI_DIGEST_MISMATCH';
      return {
        ...withDigest,
        ok: false,
        reason: mismatch ? 'digest-mismatch' : 'evidence-unavailable',
        reasons: [clip(`evidence for ${digest} unavailable: ${errorMessage(e)}`, MAX_REASON)],
      };
    }
    if (verdict.subject !== digest) {
      return {
        ...withDigest,
        ok: false,
        reason: 'digest-mismatch',
        reasons: [`verdict is about ${verdict.subject}, not the image digest ${digest}`],
      };
    }
    return verdict.ok
      ? { ...withDigest, ok: true, reason: 'verified', reasons: [], cached }
      : { ...withDigest, ok: false, reason: 'policy', reasons: failingRules(verdict), cached };
  }

  /**
   * The policy verdict about one digest: from the cache when still valid,
   * else from one verification shared by every concurrent request for the
   * same (digest, policy digest, trust version).
   */
  async verify(
    ref: ImageReference,
    digest: string,
    signal: AbortSignal,
  ): Promise<{ verdict: PolicyVerdict; cached: boolean }> {
    const { policy } = this.options;
    const key = `${digest}|${policy.digest}|${this.trustVersion}`;
    const hit = this.cache.get(key, this.#now().getTime());
    if (hit) {
      this.metrics.cacheHits.inc();
      return { verdict: hit.verdict, cached: true };
    }
    this.metrics.cacheMisses.inc();
    // Joined only with the same repository: a digest named in a hanging
    // registry must not hold up admissions pulling it from a working one.
    const { promise, joined } = this.#coalescer.run(`${key}|${ref.name}`, async () => {
      // The shared work has its own budget: one caller giving up must not fail the others.
      const own = AbortSignal.timeout(this.options.timeoutMs);
      let fetched: Awaited<ReturnType<EvidenceSource['fetch']>>;
      try {
        fetched = await this.options.source.fetch(ref, digest, own);
        this.metrics.sourceCalls.inc({ op: 'fetch', outcome: 'ok' });
      } catch (e) {
        this.metrics.sourceCalls.inc({ op: 'fetch', outcome: 'error' });
        throw e;
      }
      if (fetched.digest !== digest)
        throw new Error(`evidence source answered for ${fetched.digest}, not ${digest}`);
      const now = this.#now();
      const verdict = evaluatePolicy(policy, {
        subjectDigest: digest,
        bundles: fetched.candidates,
        now,
        verificationCache: this.verificationCache,
      });
      const t = now.getTime();
      let expires = verdictExpiry(policy, verdict, t, this.options.cacheTtlMs ?? DEFAULT_CACHE_TTL);
      // Evidence pushed meanwhile is seen soon: after a deny, and after an
      // allow that a newer statement can overturn (select: newest).
      if (!verdict.ok || this.#newerCanDeny)
        expires = Math.min(expires, t + (this.options.denyCacheTtlMs ?? DEFAULT_DENY_TTL));
      this.cache.set(key, { verdict, expires });
      return verdict;
    });
    if (joined) this.metrics.coalesced.inc();
    const aborted = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    aborted.catch(() => {});
    return { verdict: await Promise.race([promise, aborted]), cached: false };
  }

  #timedOut(base: { image: string; field: string; digest?: string }): ImageDecision {
    return {
      ...base,
      ok: false,
      reason: 'timeout',
      reasons: [
        `not decided within the ${this.options.timeoutMs} ms budget (evidence source ${this.options.source.description} slow or down): denied`,
      ],
    };
  }

  #combine(uid: string, images: ImageDecision[]): AdmissionDecision {
    const denied = images.filter((i) => !i.ok);
    const wouldAllow = denied.length === 0;
    const reason: DecisionReason =
      denied[0]?.reason ??
      (images.every((i) => i.reason === 'not-selected') ? 'not-selected' : 'verified');
    const policy = `policy ${this.options.policy.name} (${this.options.policy.digest.slice(0, 19)}…)`;
    const name = (i: ImageDecision) =>
      i.digest && i.resolvedFrom !== undefined
        ? `${i.image} (resolved to ${i.digest})`
        : i.digest && !i.image.includes(i.digest)
          ? `${i.image} (${i.digest})`
          : i.image;
    let message: string;
    if (wouldAllow) {
      const checked = images.filter((i) => i.reason === 'verified');
      message = `vouch: ${checked.length} image(s) satisfy ${policy}${checked.length ? `: ${checked.map(name).join(', ')}` : ''}`;
    } else {
      const lines = [`vouch: ${denied.length} of ${images.length} image(s) denied by ${policy}:`];
      for (const i of denied) {
        lines.push(`- ${name(i)} [${i.field}]:`);
        for (const r of i.reasons) lines.push(`  - ${r}`);
      }
      message = joinCapped(lines, MAX_MESSAGE);
    }
    const warnings: string[] = [];
    if (!wouldAllow && this.options.mode === 'warn') {
      for (const i of denied) {
        warnings.push(
          clip(
            `vouch (warn mode): ${name(i)} would be denied: ${i.reasons.join('; ')}`,
            MAX_WARNING,
          ),
        );
      }
    }
    return {
      uid,
      allowed: wouldAllow || this.options.mode === 'warn',
      wouldAllow,
      reason,
      message,
      images,
      warnings: warnings.slice(0, MAX_WARNINGS),
    };
  }

  /** A decision about the whole request (no per-image work). */
  #whole(uid: string, allow: boolean, reason: DecisionReason, text: string): AdmissionDecision {
    const warn = this.options.mode === 'warn' && !allow;
    return {
      uid,
      allowed: allow || warn,
      wouldAllow: allow,
      reason,
      message: clip(`vouch: ${text}`, MAX_MESSAGE),
      images: [],
      warnings: warn ? [clip(`vouch (warn mode): would be denied: ${text}`, MAX_WARNING)] : [],
    };
  }

  #answer(started: number, req: AdmissionRequest | undefined, d: AdmissionDecision): GateAnswer {
    const response: Record<string, unknown> = { uid: d.uid, allowed: d.allowed };
    if (!d.allowed) response.status = { code: 403, reason: 'Forbidden', message: d.message };
    else response.status = { code: 200, message: d.message };
    if (d.warnings.length > 0) response.warnings = d.warnings;
    const annotations: Record<string, string> = {
      decision: d.wouldAllow ? 'allow' : 'deny',
      mode: this.options.mode,
      reason: d.reason,
    };
    const digests = d.images.filter((i) => i.digest).map((i) => `${i.image}=${i.digest}`);
    if (digests.length > 0) annotations.digests = clip(digests.join(','), 2000);
    if (!d.wouldAllow) annotations.message = clip(d.message, 1000);
    response.auditAnnotations = annotations;
    const ms = performance.now() - started;
    this.metrics.latency.observe(ms / 1000);
    this.metrics.decisions.inc({
      result: d.allowed ? (d.wouldAllow ? 'allow' : 'warn') : 'deny',
      reason: d.reason,
    });
    this.#log({
      uid: d.uid ?? null,
      namespace: req?.namespace ?? null,
      kind: req ? `${req.group ? `${req.group}/` : ''}${req.kind}` : null,
      name: req?.name ?? null,
      operation: req?.operation ?? null,
      images: d.images.map((i) => i.image),
      digests: d.images.map((i) => i.digest ?? null),
      allowed: d.allowed,
      wouldAllow: d.wouldAllow,
      mode: this.options.mode,
      reason: d.reason,
      reasons: d.images
        .flatMap((i) => i.reasons.map((r) => `${i.image}: ${r}`))
        .concat(d.images.length === 0 && !d.wouldAllow ? [d.message] : []),
      cached: d.images.filter((i) => i.cached).length,
      ms: Math.round(ms * 100) / 100,
    });
    return {
      status: 200,
      body: { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response },
      decision: d,
    };
  }

  #log(fields: Record<string, unknown>): void {
    this.options.log?.({ time: new Date().toISOString(), msg: 'admission', ...fields });
  }
}
