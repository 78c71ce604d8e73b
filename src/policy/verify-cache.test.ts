// The verification cache: real bundles signed at test time, real policies,
// the real verifier wrapped in a counter (how many signature checks ran, not
// how long they took). A wrong cache would serve "verified" for bytes, trust
// or an artifact it never checked, or freeze a time-dependent verdict.
import assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PREDICATE_TYPES } from '../core/predicates.ts';
import { makeStatement } from '../core/statement.ts';
import {
  generateKeyPair,
  loadSigningKey,
  signStatement,
  verificationKeyFromKeyObject,
  verifyBundleAgainst,
} from '../sign/index.ts';
import { identityToken, type MockSigstore, startMockSigstore } from '../sign/testing-keyless.ts';
import type { CandidateBundle } from '../verify/index.ts';
import { evaluatePolicy, type PolicyVerdict } from './evaluate.ts';
import type { Policy } from './model.ts';
import { indentPem, keylessPolicyText, parsedPolicy } from './testing.ts';
import { type BundleVerifier, VerificationCache } from './verify-cache.ts';

const HEX = createHash('sha256').update('cached artifact\n').digest('hex');
const OTHER_HEX = createHash('sha256').update('another artifact\n').digest('hex');
const NOW = new Date('2025-06-01T12:00:00Z');
const DAY = 86_400_000;

const alice = generateKeyPair('ecdsa-p256', undefined);
const bob = generateKeyPair('ed25519', undefined);
async function signed(
  key: { privateKeyPem: string },
  options: { hex?: string; finishedOn?: string; builder?: string } = {},
): Promise<string> {
  const st = makeStatement(
    [{ name: 'artifact', digest: { sha256: options.hex ?? HEX } }],
    PREDICATE_TYPES.slsaprovenance,
    {
      buildDefinition: { buildType: 'https://vouch.dev/build/v1', externalParameters: {} },
      runDetails: {
        builder: { id: options.builder ?? 'https://ci.example/builder' },
        metadata: { finishedOn: options.finishedOn ?? '2025-06-01T11:00:00Z' },
      },
    },
  );
  const b = await signStatement(st, { mode: 'key', key: loadSigningKey(key.privateKeyPem, 'k') });
  return JSON.stringify(b);
}

/** A policy whose one signer `ci` is `key`; `signerExtra` is YAML under it. */
async function policy(
  keys: Array<{ publicKeyPem: string }>,
  options: { signerExtra?: string; maxAge?: string } = {},
): Promise<Policy> {
  const signers = keys
    .map(
      (k, i) => `    - name: ci${i === 0 ? '' : i}
      key: |
        ${indentPem(k.publicKeyPem)}
${i === 0 ? (options.signerExtra ?? '') : ''}`,
    )
    .join('');
  const text = `apiVersion: vouch.dev/policy/v1
kind: Policy
metadata:
  name: cache
trust:
  signers:
${signers}require:
  - name: provenance
    predicateType: slsaprovenance
${options.maxAge ? `    maxAge: ${options.maxAge}\n` : ''}`;
  return parsedPolicy(text, { source: 'cache.yaml' });
}

/** A cache over the real verifier, counting how often it really verifies. */
function counted(options: { maxEntries?: number; maxBytes?: number } = {}) {
  const counter = { calls: 0 };
  const verify: BundleVerifier = (...args) => {
    counter.calls++;
    return verifyBundleAgainst(...args);
  };
  return { cache: new VerificationCache({ ...options, verify }), counter };
}

const bundles = (...json: unknown[]): CandidateBundle[] =>
  json.map((j, i) => ({ source: `b${i}.json`, json: j }));

function evaluate(
  p: Policy,
  json: unknown[],
  cache: VerificationCache | undefined,
  options: { now?: Date; hex?: string } = {},
): PolicyVerdict {
  return evaluatePolicy(p, {
    subjectDigest: `sha256:${options.hex ?? HEX}`,
    bundles: bundles(...json),
    now: options.now ?? NOW,
    ...(cache ? { verificationCache: cache } : {}),
  });
}

const reasons = (v: PolicyVerdict) =>
  [...v.evidence.flatMap((e) => e.reasons), ...v.rules.flatMap((r) => r.reasons)].join('\n');

/** One base64 character of the field changed, in the middle (never padding bits). */
function flipOne(bundleText: string, field: 'sig' | 'payload'): string {
  const m = new RegExp(`"${field}":"([A-Za-z0-9+/=]+)"`).exec(bundleText);
  assert.ok(m?.[1], `no ${field} in the bundle`);
  const at = (m.index ?? 0) + field.length + 4 + 8;
  const c = bundleText[at] as string;
  const flipped = `${bundleText.slice(0, at)}${c === 'A' ? 'B' : 'A'}${bundleText.slice(at + 1)}`;
  assert.equal(flipped.length, bundleText.length);
  assert.equal([...flipped].filter((x, i) => x !== bundleText[i]).length, 1);
  return flipped;
}

describe('verification cache: hits only for the same bytes, trust and artifact', () => {
  test('same bytes and same trust: verified once, then hits; verdicts equal uncached ones', async () => {
    const p = await policy([alice]);
    const json = await signed(alice);
    const { cache, counter } = counted();
    const uncached = evaluate(p, [json], undefined);
    assert.equal(uncached.decision, 'allow', reasons(uncached));
    for (let i = 0; i < 3; i++) assert.deepEqual(evaluate(p, [json], cache), uncached);
    assert.equal(counter.calls, 1);
    assert.deepEqual(
      { hits: cache.stats.hits, misses: cache.stats.misses, entries: cache.stats.entries },
      { hits: 2, misses: 1, entries: 1 },
    );
    // The same policy parsed again (new key objects, same key) is the same trust.
    const again = evaluate(await policy([alice]), [json], cache);
    assert.equal(again.decision, 'allow');
    assert.equal(counter.calls, 1);
    // The same bytes as a Buffer, or parsed (keyed by its JSON text), under
    // another name: a hit that reports the caller's source.
    const v = evaluatePolicy(p, {
      subjectDigest: `sha256:${HEX}`,
      bundles: [
        { source: 'as-buffer.json', json: Buffer.from(json) },
        { source: 'as-object.json', json: JSON.parse(json) },
      ],
      now: NOW,
      verificationCache: cache,
    });
    assert.equal(counter.calls, 1);
    assert.deepEqual(
      v.evidence.map((e) => [e.source, e.accepted]),
      [
        ['as-buffer.json', true],
        ['as-object.json', true],
      ],
    );
    assert.deepEqual(v.rules[0]?.evidence.map((e) => e.source).sort(), [
      'as-buffer.json',
      'as-object.json',
    ]);
  });

  test('one changed byte in the signature or payload: a miss, verification fails, never cached', async () => {
    const p = await policy([alice]);
    const json = await signed(alice);
    const { cache, counter } = counted();
    assert.equal(evaluate(p, [json], cache).decision, 'allow');
    assert.equal(counter.calls, 1);
    let calls = 1;
    for (const field of ['sig', 'payload'] as const) {
      const tampered = flipOne(json, field);
      for (let round = 0; round < 2; round++) {
        const v = evaluate(p, [tampered], cache);
        calls++;
        assert.equal(
          counter.calls,
          calls,
          `${field} round ${round}: the failure must not be cached`,
        );
        assert.equal(v.decision, 'deny');
        assert.equal(v.evidence[0]?.accepted, false);
        assert.match(reasons(v), /signature does not verify|statement|payload/);
      }
    }
    assert.equal(cache.stats.entries, 1);
    // The good bundle is still a hit beside the tampered ones.
    assert.equal(evaluate(p, [json, flipOne(json, 'sig')], cache).decision, 'allow');
    assert.equal(counter.calls, calls + 1);
  });

  test('other trust (another key): a miss, and the verdict follows the new trust', async () => {
    const json = await signed(alice);
    const { cache, counter } = counted();
    const trustsAlice = await policy([alice]);
    const trustsBob = await policy([bob]);
    assert.equal(evaluate(trustsAlice, [json], cache).decision, 'allow');
    assert.equal(counter.calls, 1);

    const byBob = evaluate(trustsBob, [json], cache);
    assert.equal(counter.calls, 2, 'another key is another fingerprint');
    assert.equal(byBob.decision, 'deny');
    assert.match(reasons(byBob), /signature does not verify with any of 1 trusted key/);

    // bob added beside alice: another fingerprint again, verified again, passes.
    const both = evaluate(await policy([bob, alice]), [json], cache);
    assert.equal(counter.calls, 3);
    assert.equal(both.decision, 'allow', reasons(both));
    assert.deepEqual(
      both.evidence[0]?.signers.map((s) => s.name),
      ['ci1'],
    );

    // Back to alice alone: still cached; bob alone: still not (failures are not kept).
    assert.equal(evaluate(trustsAlice, [json], cache).decision, 'allow');
    assert.equal(counter.calls, 3);
    assert.equal(evaluate(trustsBob, [json], cache).decision, 'deny');
    assert.equal(counter.calls, 4);
  });

  test('another artifact digest: a miss, and evidence about this one is not replayed for it', async () => {
    const p = await policy([alice]);
    const json = await signed(alice);
    const { cache, counter } = counted();
    assert.equal(evaluate(p, [json], cache).decision, 'allow');
    const replay = evaluate(p, [json], cache, { hex: OTHER_HEX });
    assert.equal(counter.calls, 2);
    assert.equal(replay.decision, 'deny');
    assert.match(reasons(replay), new RegExp(`no subject with sha256:${OTHER_HEX}`));
    // Upper-case hex is the same digest to the verifier, so the same entry.
    evaluate(p, [json], cache, { hex: HEX.toUpperCase() });
    assert.equal(counter.calls, 2);
  });

  test('a key is its public key, not only its keyid: a key claiming the same keyid misses', async () => {
    const json = await signed(alice);
    const { cache, counter } = counted();
    const real = verificationKeyFromKeyObject(createPublicKey(alice.publicKeyPem), 'alice');
    const carol = generateKeyPair('ecdsa-p256', undefined);
    const other = verificationKeyFromKeyObject(createPublicKey(carol.publicKeyPem), 'carol');
    // A hand-made key object: carol's key (same algorithm) under alice's keyid.
    const impostor = { ...other, keyid: real.keyid };
    const artifact = { digest: { algorithm: 'sha256' as const, hex: HEX } };
    assert.equal(cache.forTrust({ keys: [real], identities: [] })(json, 'a', artifact).ok, true);
    const v = cache.forTrust({ keys: [impostor], identities: [] })(json, 'a', artifact);
    assert.equal(counter.calls, 2);
    assert.equal(v.ok, false);
  });

  test('what a caller gets cannot change what later hits see', async () => {
    const p = await policy([alice]);
    const json = await signed(alice);
    const { cache } = counted();
    const verify = cache.forTrust({
      keys: p.trust.signers.flatMap((s) => (s.kind === 'key' ? [s.key] : [])),
      identities: [],
    });
    const artifact = { digest: { algorithm: 'sha256' as const, hex: HEX } };
    const first = verify(json, 'a.json', artifact);
    assert.equal(first.ok, true);
    // The miss returned the verifier's own object: changing it is harmless.
    (first.statement as { predicateType: string }).predicateType = 'https://evil.example/';
    first.signers.length = 0;
    const hit = verify(json, 'b.json', artifact);
    assert.equal(hit.source, 'b.json');
    assert.equal(hit.statement?.predicateType, PREDICATE_TYPES.slsaprovenance);
    assert.equal(hit.signers.length, 1);
    // A hit is frozen below its top level.
    assert.throws(() => hit.checks.push({ name: 'x', ok: false, detail: '' }), TypeError);
    assert.throws(() => {
      (hit.statement as { predicateType: string }).predicateType = 'x';
    }, TypeError);
  });

  test('text that has no exact bytes (a lone surrogate) is verified without the cache', async () => {
    const p = await policy([alice]);
    const json = await signed(alice);
    const { cache, counter } = counted();
    const odd = json.replace('"mediaType"', '"mediaType\uD800"');
    evaluate(p, [odd], cache);
    evaluate(p, [odd], cache);
    assert.equal(counter.calls, 2);
    assert.equal(cache.stats.uncacheable, 2);
    assert.equal(cache.stats.entries, 0);
  });
});

describe('verification cache: time is judged on every evaluation', () => {
  test('a revocation time the clock passes between two evaluations denies, though the crypto is cached', async () => {
    // A key signature with no log entry has no trusted time: judged as signed now.
    const p = await policy([alice], {
      signerExtra: '      revoked: { at: 2025-06-01T12:30:00Z }\n',
    });
    const json = await signed(alice);
    const { cache, counter } = counted();
    const before = evaluate(p, [json], cache, { now: NOW });
    assert.equal(before.decision, 'allow', reasons(before));
    const afterRevocation = evaluate(p, [json], cache, { now: new Date('2025-06-01T13:00:00Z') });
    assert.equal(counter.calls, 1, 'the second evaluation is a cache hit');
    assert.equal(afterRevocation.decision, 'deny');
    assert.match(reasons(afterRevocation), /signer ci: revoked at 2025-06-01T12:30:00\.000Z/);
  });

  test('a policy that revokes the key (same key, same cache) denies at once', async () => {
    const json = await signed(alice);
    const { cache, counter } = counted();
    assert.equal(evaluate(await policy([alice]), [json], cache).decision, 'allow');
    const revoked = await policy([alice], {
      signerExtra: '      revoked: { at: 2025-06-01T00:00:00Z, reason: leaked }\n',
    });
    const v = evaluate(revoked, [json], cache);
    assert.equal(counter.calls, 1);
    assert.equal(v.decision, 'deny');
    assert.match(reasons(v), /revoked at 2025-06-01T00:00:00\.000Z \(leaked\)/);
    const expired = await policy([alice], {
      signerExtra: '      validUntil: 2025-05-01T00:00:00Z\n',
    });
    assert.match(reasons(evaluate(expired, [json], cache)), /expired at 2025-05-01/);
    assert.equal(counter.calls, 1);
  });

  test('maxAge: the same cached evidence is fresh, then stale as the clock moves', async () => {
    const p = await policy([alice], { maxAge: '1d' });
    const json = await signed(alice, { finishedOn: '2025-06-01T11:00:00Z' });
    const { cache, counter } = counted();
    assert.equal(evaluate(p, [json], cache, { now: NOW }).decision, 'allow');
    const later = evaluate(p, [json], cache, { now: new Date(NOW.getTime() + 2 * DAY) });
    assert.equal(counter.calls, 1);
    assert.equal(later.decision, 'deny');
    assert.match(reasons(later), /stale, 2\.0d old .*maxAge 1d/);
    // And a policy without maxAge, same trust: allowed from the same entry.
    assert.equal(
      evaluate(await policy([alice]), [json], cache, { now: new Date(NOW.getTime() + 2 * DAY) })
        .decision,
      'allow',
    );
    assert.equal(counter.calls, 1);
  });
});

describe('verification cache: bounds', () => {
  test('entry bound: the least recently used entry is evicted', async () => {
    const p = await policy([alice]);
    const [a, b, c] = await Promise.all(
      ['a', 'b', 'c'].map((x) => signed(alice, { builder: `https://ci.example/${x}` })),
    );
    const { cache, counter } = counted({ maxEntries: 2 });
    evaluate(p, [a], cache);
    evaluate(p, [b], cache);
    evaluate(p, [a], cache); // a is now the most recently used
    assert.equal(counter.calls, 2);
    evaluate(p, [c], cache); // evicts b
    assert.equal(counter.calls, 3);
    assert.deepEqual([cache.stats.entries, cache.stats.evictions], [2, 1]);
    evaluate(p, [a], cache);
    evaluate(p, [c], cache);
    assert.equal(counter.calls, 3, 'a and c are still cached');
    const v = evaluate(p, [b], cache);
    assert.equal(counter.calls, 4, 'b was evicted: verified again');
    assert.equal(v.decision, 'allow');
  });

  test('byte bound: entries are evicted by size, and a bundle over the bound is never kept', async () => {
    const p = await policy([alice]);
    const all = await Promise.all(
      ['a', 'b', 'c'].map((x) => signed(alice, { builder: `https://ci.example/${x}` })),
    );
    const [a, b, c] = all as [string, string, string];
    // Room for two entries (bundle bytes + key), not three.
    const longest = Math.max(...all.map((j) => Buffer.byteLength(j)));
    const { cache, counter } = counted({ maxBytes: Math.floor(longest * 2.5) });
    evaluate(p, [a], cache);
    evaluate(p, [b], cache);
    evaluate(p, [c], cache);
    assert.equal(counter.calls, 3);
    assert.equal(cache.stats.entries, 2);
    assert.ok(cache.stats.bytes <= longest * 2.5);
    evaluate(p, [b, c], cache);
    assert.equal(counter.calls, 3);
    evaluate(p, [a], cache);
    assert.equal(counter.calls, 4, 'a was evicted first');

    const tiny = counted({ maxBytes: 100 });
    evaluate(p, [a], tiny.cache);
    evaluate(p, [a], tiny.cache);
    assert.equal(tiny.counter.calls, 2);
    assert.equal(tiny.cache.stats.entries, 0);
  });
});

describe('verification cache: keyless bundles (mock Fulcio, Rekor, TSA)', () => {
  const ISSUER = 'https://token.actions.githubusercontent.com';
  const SUBJECT = 'https://github.com/example/repo/.github/workflows/release.yml@refs/heads/main';
  let mock: MockSigstore;
  let dir: string;
  let json: string;

  before(async () => {
    mock = await startMockSigstore();
    dir = mkdtempSync(join(tmpdir(), 'vouch-verify-cache-'));
    writeFileSync(join(dir, 'trusted_root.json'), JSON.stringify(mock.trustedRoot));
    const st = makeStatement(
      [{ name: 'artifact', digest: { sha256: HEX } }],
      PREDICATE_TYPES.slsaprovenance,
      {
        buildDefinition: { buildType: 'https://vouch.dev/build/v1', externalParameters: {} },
        runDetails: { builder: { id: 'https://ci.example/builder' } },
      },
    );
    json = JSON.stringify(
      await signStatement(st, {
        mode: 'keyless',
        identityToken: identityToken({ iss: ISSUER, sub: SUBJECT, aud: 'sigstore' }),
        fulcioURL: mock.base,
        rekorURL: mock.base,
        tsaURL: mock.base,
      }),
    );
  });

  after(async () => {
    await mock.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function keylessPolicy(subject: string, extra = ''): Promise<Policy> {
    const signers = `    - name: ci
      keyless:
        issuer: ${ISSUER}
        subject: ${subject}
`;
    const require = `${extra}require:
  - name: provenance
    predicateType: slsaprovenance
`;
    return parsedPolicy(keylessPolicyText(signers, require), {
      source: 'keyless.yaml',
      baseDir: dir,
    });
  }

  test('the cached verified signing time is judged against revocation on every call', async () => {
    const signedAt = mock.clock.getTime();
    const now = new Date(signedAt + 30 * DAY);
    const iso = (ms: number) => new Date(ms).toISOString();
    const { cache, counter } = counted();
    const ok = evaluate(await keylessPolicy(SUBJECT), [json], cache, { now });
    assert.equal(ok.decision, 'allow', reasons(ok));
    assert.equal(ok.evidence[0]?.signedAt, iso(signedAt));
    // Revoked after it was signed: still valid (the signed time, not now, counts).
    const later = await keylessPolicy(SUBJECT, `      revoked: { at: ${iso(signedAt + DAY)} }\n`);
    assert.equal(evaluate(later, [json], cache, { now }).decision, 'allow');
    // Revoked before it was signed: denied, from the same cached verification.
    const earlier = await keylessPolicy(SUBJECT, `      revoked: { at: ${iso(signedAt - DAY)} }\n`);
    const denied = evaluate(earlier, [json], cache, { now });
    assert.equal(denied.decision, 'deny');
    assert.match(reasons(denied), /revoked at/);
    assert.equal(counter.calls, 1);
    // Another trusted identity is other trust: verified again, and refused.
    const other = evaluate(await keylessPolicy(SUBJECT.replace('main', 'dev')), [json], cache, {
      now,
    });
    assert.equal(counter.calls, 2);
    assert.equal(other.decision, 'deny');
    assert.equal(other.evidence[0]?.accepted, false);
  });
});
