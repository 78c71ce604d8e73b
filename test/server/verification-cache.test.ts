// The admission gate keeps one verification cache across evaluations: when a
// cached verdict expires (or is not cached at all), the evidence is fetched
// and the rules run again, but the signatures are not checked again; what
// depends on the clock (maxAge here) still decides.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { AdmissionGate, StoreEvidenceSource } from '../../src/server/index.ts';
import { DirectoryStore } from '../../src/store/index.ts';
import { hexOf, makePolicy, provenanceBundle, review, tempDir, workload } from './helpers.ts';

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
