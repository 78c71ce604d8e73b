// The verification cache never skips a rule: a verdict is served only until
// the earliest time any rule could decide otherwise. Coalescing and the
// in-flight bound, at the gate (no HTTP timing involved).
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parsePolicy } from '../../src/policy/index.ts';
import { trustVersion, verdictExpiry } from '../../src/server/admission/index.ts';
import { AdmissionGate, StoreEvidenceSource } from '../../src/server/index.ts';
import { DirectoryStore } from '../../src/store/index.ts';
import {
  alice,
  hexOf,
  makePolicy,
  provenanceBundle,
  review,
  type TestContext,
  tempDir,
  workload,
} from './helpers.ts';

const T0 = Date.parse('2026-03-01T12:00:00Z');

async function storeWith(t: TestContext, hex: string, finishedOn: string) {
  const dir = join(await tempDir(t), 'store');
  await new DirectoryStore(dir).put(await provenanceBundle(hex, { finishedOn }));
  return dir;
}

// biome-ignore lint/suspicious/noExplicitAny: the answer body is AdmissionReview JSON
const res = (a: { body: unknown }) => (a.body as any).response;

describe('verdict cache', () => {
  test('a cached ALLOW whose evidence passes its maxAge becomes DENY (the rule runs again)', async (t) => {
    const hex = hexOf('fresh image');
    // Built 30 min before T0; maxAge 1h: allowed until T0 + 30 min.
    const dir = await storeWith(t, hex, new Date(T0 - 30 * 60_000).toISOString());
    let now = T0;
    const gate = new AdmissionGate({
      policy: await makePolicy({ maxAge: '1h' }),
      source: new StoreEvidenceSource(dir),
      mode: 'enforce',
      timeoutMs: 8000,
      maxInFlight: 8,
      cacheTtlMs: 24 * 3600_000,
      now: () => new Date(now),
    });
    const rv = () => review(workload('Pod', { containers: [`r.example/app@sha256:${hex}`] }));
    const fetches = () => gate.metrics.sourceCalls.get({ op: 'fetch', outcome: 'ok' });

    assert.equal(res(await gate.review(rv())).allowed, true);
    assert.equal(fetches(), 1);
    now = T0 + 29 * 60_000;
    const cached = await gate.review(rv());
    assert.equal(res(cached).allowed, true);
    assert.equal(cached.decision?.images[0]?.cached, true);
    assert.equal(fetches(), 1, 'a cache hit makes no evidence request');
    assert.equal(gate.metrics.cacheHits.get(), 1);

    now = T0 + 31 * 60_000;
    const after = await gate.review(rv());
    assert.equal(res(after).allowed, false);
    assert.match(res(after).status.message, /stale, 1\.0h old .* maxAge 1h/);
    assert.equal(after.decision?.images[0]?.cached, false);
    assert.equal(fetches(), 2);
  });

  test('expiry is the earliest of evidence maxAge, exception expiry and signer validity', async () => {
    const indent = (pem: string) => pem.trim().replace(/\n/g, '\n        ');
    const text = (validUntil: string, exceptionExpires: string) => `apiVersion: vouch.dev/policy/v1
kind: Policy
metadata:
  name: p
trust:
  signers:
    - name: alice
      key: |
        ${indent(alice.publicKeyPem)}
      validUntil: ${validUntil}
require:
  - name: provenance
    predicateType: slsaprovenance
    maxAge: 2h
exceptions:
  - rule: provenance
    owner: sec@example.com
    reason: migration
    expires: ${exceptionExpires}
`;
    const verdict = {
      rules: [
        {
          name: 'provenance',
          status: 'pass',
          evidence: [{ time: new Date(T0 - 3600_000).toISOString() }],
        },
      ],
    } as never;
    const at = async (validUntil: string, exc: string) => {
      const r = await parsePolicy(text(validUntil, exc), { source: 'p.yaml' });
      assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
      return verdictExpiry(r.policy, verdict, T0, 24 * 3600_000);
    };
    // Evidence an hour old, maxAge 2h: T0 + 1h, unless something earlier.
    assert.equal(await at('2027-01-01T00:00:00Z', '2027-01-01T00:00:00Z'), T0 + 3600_000);
    assert.equal(await at('2026-03-01T12:10:00Z', '2027-01-01T00:00:00Z'), T0 + 10 * 60_000 + 1);
    assert.equal(await at('2027-01-01T00:00:00Z', '2026-03-01T12:05:00Z'), T0 + 5 * 60_000);
  });

  test('under select: newest a cached ALLOW is re-evaluated soon: a newer failing statement overturns it', async (t) => {
    const hex = hexOf('rescanned image');
    const dir = join(await tempDir(t), 'store');
    const store = new DirectoryStore(dir);
    await store.put(
      await provenanceBundle(hex, { finishedOn: new Date(T0 - 3600_000).toISOString() }),
    );
    let now = T0;
    const gate = new AdmissionGate({
      policy: await makePolicy({
        rule: [
          'select: newest',
          'where: predicate.runDetails.builder.id == "https://ci.example/builder"',
        ],
      }),
      source: new StoreEvidenceSource(dir),
      mode: 'enforce',
      timeoutMs: 8000,
      maxInFlight: 8,
      cacheTtlMs: 24 * 3600_000,
      denyCacheTtlMs: 10_000,
      now: () => new Date(now),
    });
    const rv = () => review(workload('Pod', { containers: [`r.example/app@sha256:${hex}`] }));
    assert.equal(res(await gate.review(rv())).allowed, true);
    await store.put(
      await provenanceBundle(hex, {
        finishedOn: new Date(T0 - 60_000).toISOString(),
        builderId: 'https://attacker.example/',
      }),
    );
    now = T0 + 9_000;
    assert.equal(res(await gate.review(rv())).allowed, true, 'still the cached allow');
    now = T0 + 10_000;
    const after = res(await gate.review(rv()));
    assert.equal(after.allowed, false, 'the newer statement decides');
    assert.match(after.status.message, /newest of 2/);
  });

  test('the key includes the trust version: another key under the same name is another version', async () => {
    const a = await makePolicy();
    const b = await makePolicy();
    assert.equal(trustVersion(a), trustVersion(b));
    const other = (await makePolicy()).trust.signers.map((s) => ({ ...s, validUntil: T0 }));
    assert.notEqual(trustVersion({ ...a, trust: { signers: other } }), trustVersion(a));
  });

  test('a cached DENY is re-evaluated soon, so evidence pushed after a denial is seen', async (t) => {
    const hex = hexOf('late evidence');
    const dir = join(await tempDir(t), 'store');
    // An empty store that is there: a missing one is "unavailable", never cached.
    await mkdir(dir);
    const store = new DirectoryStore(dir);
    let now = T0;
    const gate = new AdmissionGate({
      policy: await makePolicy(),
      source: new StoreEvidenceSource(dir),
      mode: 'enforce',
      timeoutMs: 8000,
      maxInFlight: 8,
      denyCacheTtlMs: 10_000,
      now: () => new Date(now),
    });
    const rv = () => review(workload('Pod', { containers: [`r.example/app@sha256:${hex}`] }));
    assert.equal(res(await gate.review(rv())).allowed, false);
    await store.put(await provenanceBundle(hex));
    assert.equal(res(await gate.review(rv())).allowed, false, 'still the cached deny');
    now = T0 + 10_000;
    assert.equal(res(await gate.review(rv())).allowed, true);
  });
});

describe('coalescing and the in-flight bound', () => {
  test('concurrent admissions of one digest share one evidence request and one evaluation', async (t) => {
    const hex = hexOf('popular image');
    const dir = await storeWith(t, hex, new Date().toISOString());
    const gate = new AdmissionGate({
      policy: await makePolicy(),
      source: new StoreEvidenceSource(dir),
      mode: 'enforce',
      timeoutMs: 8000,
      maxInFlight: 64,
    });
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        gate.review(
          review(workload('Deployment', { containers: [`r.example/app@sha256:${hex}`] })),
        ),
      ),
    );
    for (const a of answers) assert.equal(res(a).allowed, true);
    assert.equal(gate.metrics.sourceCalls.get({ op: 'fetch', outcome: 'ok' }), 1);
    assert.equal(gate.metrics.cacheMisses.get(), 20);
    assert.equal(gate.metrics.coalesced.get(), 19);
  });

  test('beyond maxInFlight, requests are denied at once as overloaded, with their uid', async (t) => {
    const hex = hexOf('flooded image');
    const dir = await storeWith(t, hex, new Date().toISOString());
    const gate = new AdmissionGate({
      policy: await makePolicy(),
      source: new StoreEvidenceSource(dir),
      mode: 'enforce',
      timeoutMs: 8000,
      maxInFlight: 3,
    });
    const reviews = Array.from({ length: 50 }, (_, i) =>
      review(workload('Pod', { containers: [`r.example/app@sha256:${hex}`] }), { uid: `uid-${i}` }),
    );
    const answers = await Promise.all(reviews.map((r) => gate.review(r)));
    const overloaded = answers.filter((a) => /overloaded/.test(res(a).status.message));
    assert.equal(overloaded.length, 47);
    assert.equal(answers.filter((a) => res(a).allowed).length, 3);
    answers.forEach((a, i) => {
      assert.equal(res(a).uid, `uid-${i}`);
    });
    assert.equal(gate.limiter.inUse, 0);
    // And once the flood is over, it serves again.
    assert.equal(res(await gate.review(reviews[0] as object)).allowed, true);
  });
});
