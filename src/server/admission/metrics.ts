import type { VerificationCacheStats } from '../../policy/index.ts';
import { Counter, CounterFunc, Gauge, Histogram, MetricsRegistry } from '../metrics.ts';

/** The webhook's series. Names are a contract for dashboards and alerts (docs/admission.md). */
export class AdmissionMetrics {
  readonly registry = new MetricsRegistry();
  readonly decisions = this.registry.add(
    new Counter('vouch_admission_decisions_total', 'Admission decisions by result and reason.'),
  );
  readonly latency = this.registry.add(
    new Histogram(
      'vouch_admission_duration_seconds',
      'Time from request parsed to response ready.',
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    ),
  );
  readonly cacheHits = this.registry.add(
    new Counter('vouch_admission_cache_hits_total', 'Image verdicts served from the cache.'),
  );
  readonly cacheMisses = this.registry.add(
    new Counter('vouch_admission_cache_misses_total', 'Image verdicts evaluated (cache miss).'),
  );
  readonly coalesced = this.registry.add(
    new Counter(
      'vouch_admission_coalesced_total',
      'Image verifications that joined one already running for the same digest.',
    ),
  );
  readonly sourceCalls = this.registry.add(
    new Counter(
      'vouch_admission_evidence_requests_total',
      'Calls to the evidence source, by operation (resolve a tag, fetch evidence) and outcome.',
    ),
  );

  /**
   * `verification` reads the verification cache's counts (signature checks
   * remembered across evaluations), each scrape.
   */
  constructor(
    inFlight: () => number,
    cacheSize: () => number,
    verification: () => VerificationCacheStats,
  ) {
    this.registry.add(
      new Gauge('vouch_admission_in_flight', 'Admission requests being decided now.', inFlight),
    );
    this.registry.add(
      new Gauge('vouch_admission_cache_entries', 'Verdicts held in the cache.', cacheSize),
    );
    this.registry.add(
      new CounterFunc(
        'vouch_verification_cache_hits_total',
        'Bundle verifications answered from the verification cache.',
        () => verification().hits,
      ),
    );
    this.registry.add(
      new CounterFunc(
        'vouch_verification_cache_misses_total',
        'Bundle verifications run because no cache entry matched.',
        () => verification().misses,
      ),
    );
    this.registry.add(
      new CounterFunc(
        'vouch_verification_cache_uncacheable_total',
        'Bundle verifications run without a cache lookup: input the cache cannot key exactly.',
        () => verification().uncacheable,
      ),
    );
    this.registry.add(
      new CounterFunc(
        'vouch_verification_cache_evictions_total',
        'Verification cache entries dropped to stay within its entry and byte limits.',
        () => verification().evictions,
      ),
    );
    this.registry.add(
      new Gauge(
        'vouch_verification_cache_entries',
        'Passed bundle verifications held in the verification cache.',
        () => verification().entries,
      ),
    );
    this.registry.add(
      new Gauge(
        'vouch_verification_cache_bytes',
        'Bytes the verification cache holds, counted as the bundle bytes each entry was verified from.',
        () => verification().bytes,
      ),
    );
  }
}
