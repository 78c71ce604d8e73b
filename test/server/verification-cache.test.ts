// The admission gate keeps one verification cache across evaluations: when a
// cached verdict expires (or is not cached at all), the evidence is fetched
// and the rules run again, but the signatures are not checked again; what
// depends on the clock (maxAge here) still decides.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parsePolicy, VerificationCache } from '../../src/policy/index.ts';
import { AdmissionGate, StoreEvidenceSource } from '../../src/server/index.ts';
import { DirectoryStore } from '../../src/store/index.ts';
import {
  admit,
  alice,
  hexOf,
  https,
  makePolicy,
  makeTls,
  provenanceBundle,
  type RunningWebhook,
  review,
  startWebhook,
  tempDir,
  workload,
} from './helpers.ts';

const T0 = Date.parse('2026-03-01T12:00:00Z');

// biome-ignore lint/suspicious/noExplicitAny: the answer body is AdmissionReview JSON
const res = (a: { body: unknown }) => (a.body as any).response;

describe('admission gate: verification cache', () => {
  test('re-evaluations reuse the signature checks, and maxAge still turns ALLOW into DENY', async (t) => {
    const hex = hexOf('verification-cached image');
    const dir = join(await tempDir(t), 'store');
    await new DirectoryStore(dir).put(
      await provenanceBundle(hex, { finishedOn: new Date(T0 - 30 * 60_000).toISOString() }),
    );
    let now = T0;
    const gate = new AdmissionGate({
      policy: await makePolicy({ maxAge: '1h' }),
      source: new StoreEvidenceSource(dir),
      mode: 'enforce',
      timeoutMs: 8000,
      maxInFlight: 8,
      // No verdict caching: every review evaluates the policy again.
      cacheTtlMs: 0,
      denyCacheTtlMs: 0,
      now: () => new Date(now),
    });
    const rv = () => review(workload('Pod', { containers: [`r.example/app@sha256:${hex}`] }));
    const fetches = () => gate.metrics.sourceCalls.get({ op: 'fetch', outcome: 'ok' });

    assert.equal(res(await gate.review(rv())).allowed, true);
    now = T0 + 10 * 60_000;
    assert.equal(res(await gate.review(rv())).allowed, true);
    assert.equal(fetches(), 2, 'the verdict was evaluated twice');
    assert.equal(gate.verificationCache.stats.misses, 1);
    assert.equal(gate.verificationCache.stats.hits, 1);

    now = T0 + 31 * 60_000;
    const stale = await gate.review(rv());
    assert.equal(res(stale).allowed, false);
    assert.match(res(stale).status.message, /stale, 1\.0h old .* maxAge 1h/);
    assert.deepEqual(
      [fetches(), gate.verificationCache.stats.hits, gate.verificationCache.stats.misses],
      [3, 2, 1],
    );
  });
});

/** The unlabelled samples of a /metrics body, name → value, and each name's `# TYPE`. */
async function scrape(
  hook: RunningWebhook,
): Promise<{ values: Map<string, number>; types: Map<string, string>; help: Set<string> }> {
  const r = await https(hook, 'GET', '/metrics');
  assert.equal(r.status, 200);
  const values = new Map<string, number>();
  const types = new Map<string, string>();
  const help = new Set<string>();
  for (const line of r.text.split('\n')) {
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t) types.set(t[1] as string, t[2] as string);
    const h = /^# HELP (\S+) \S/.exec(line);
    if (h) help.add(h[1] as string);
    const v = /^([a-z_]+) (\S+)$/.exec(line);
    if (v) values.set(v[1] as string, Number(v[2]));
  }
  return { values, types, help };
}

const VC = 'vouch_verification_cache';

describe('admission server: verification cache on /metrics', () => {
  test('hits, misses, uncacheable checks and evictions are counters, entries and bytes gauges, as the cache counts them', async (t) => {
    const dir = await tempDir(t);
    const store = join(dir, 'store');
    const a = hexOf('metrics image a');
    const b = hexOf('metrics image b');
    await new DirectoryStore(store).put(await provenanceBundle(a));
    await new DirectoryStore(store).put(await provenanceBundle(b));
    // One entry at most: verifying b after a evicts a.
    const verificationCache = new VerificationCache({ maxEntries: 1 });
    const hook = await startWebhook(t, await makeTls(dir), {
      policy: await makePolicy(),
      source: new StoreEvidenceSource(store),
      verificationCache,
      // No verdict caching: every review evaluates the policy, so every review verifies.
      cacheTtlMs: 0,
      denyCacheTtlMs: 0,
    });
    const pod = (hex: string) =>
      review(workload('Pod', { containers: [`r.example/app@sha256:${hex}`] }));
    const allowed = async (hex: string, via: RunningWebhook = hook) =>
      // biome-ignore lint/suspicious/noExplicitAny: AdmissionReview JSON
      assert.equal(((await admit(via, pod(hex))).json as any).response.allowed, true);
    const series = async () => {
      const { values } = await scrape(hook);
      return [
        'hits_total',
        'misses_total',
        'uncacheable_total',
        'evictions_total',
        'entries',
        'bytes',
      ].map((n) => values.get(`${VC}_${n}`));
    };

    const first = await scrape(hook);
    for (const n of ['hits_total', 'misses_total', 'uncacheable_total', 'evictions_total'])
      assert.equal(first.types.get(`${VC}_${n}`), 'counter', n);
    for (const n of ['entries', 'bytes']) assert.equal(first.types.get(`${VC}_${n}`), 'gauge', n);
    for (const n of first.types.keys()) assert.ok(first.help.has(n), `# HELP ${n}`);
    assert.deepEqual(await series(), [0, 0, 0, 0, 0, 0]);

    await allowed(a);
    const bytesA = verificationCache.stats.bytes;
    assert.ok(bytesA > 1000, `one bundle's bytes, got ${bytesA}`);
    assert.deepEqual(await series(), [0, 1, 0, 0, 1, bytesA]);

    await allowed(a);
    assert.deepEqual(await series(), [1, 1, 0, 0, 1, bytesA]);

    await allowed(b);
    const bytesB = verificationCache.stats.bytes;
    assert.ok(bytesB > 1000, `one bundle's bytes, got ${bytesB}`);
    assert.deepEqual(await series(), [1, 2, 0, 1, 1, bytesB]);

    // a was evicted: verified again (a miss), evicting b.
    await allowed(a);
    assert.deepEqual(await series(), [1, 3, 0, 2, 1, bytesA]);

    // A policy whose trust the cache cannot fingerprint exactly (a keyless
    // issuer that is not well-formed text, which YAML's \u escapes can give):
    // each of its checks runs without a lookup. Another webhook over the same
    // cache, so the first one's /metrics counts them: one per review.
    const odd = await parsePolicy(
      `apiVersion: vouch.dev/policy/v1
kind: Policy
metadata:
  name: odd
trust:
  signers:
    - name: alice
      key: |
        ${alice.publicKeyPem.trimEnd().split('\n').join('\n        ')}
    - name: ci
      keyless:
        issuer: "https://issuer.example/\\uD800"
        subject: build
require:
  - name: provenance
    predicateType: slsaprovenance
`,
      { source: 'odd.yaml' },
    );
    assert.ok(odd.ok, JSON.stringify(odd));
    const oddHook = await startWebhook(t, await makeTls(dir), {
      policy: odd.policy,
      source: new StoreEvidenceSource(store),
      verificationCache,
      cacheTtlMs: 0,
      denyCacheTtlMs: 0,
    });
    await allowed(a, oddHook);
    await allowed(b, oddHook);
    assert.deepEqual(await series(), [1, 3, 2, 2, 1, bytesA]);
    assert.deepEqual(verificationCache.stats, {
      hits: 1,
      misses: 3,
      uncacheable: 2,
      evictions: 2,
      entries: 1,
      bytes: bytesA,
    });
  });
});
