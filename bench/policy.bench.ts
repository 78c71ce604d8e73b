import { createHash } from 'node:crypto';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { makeStatement } from '../src/core/statement.ts';
import { evaluatePolicy, parsePolicy, VerificationCache } from '../src/policy/index.ts';
import { generateKeyPair, loadSigningKey, signStatement } from '../src/sign/index.ts';
import { BenchFailure, type Benchmark, bestOf, judge } from './lib.ts';

const BUNDLES = 50;
const SIGNERS = 5;
const HEX = createHash('sha256').update('policy bench artifact').digest('hex');

/**
 * Policy evaluation over 50 key-signed bundles about one artifact, evaluating
 * three rules (one with minSigners 3, maxAge and a CEL `where`), twice:
 * cold (every run verifies every signature again) and warm (the same
 * bundles, with a VerificationCache already holding their verifications, so
 * only the bundle hashes, signer validity and the rules are computed). The
 * peer is @sigstore/verify's Verifier checking the same 50 bundles against
 * the same 5 keys, which is only the signature part of the job; it is timed
 * beside each side in the same run. Both sides must accept all 50 bundles
 * before timing, the warm verdict must equal the cold one, and the warm runs
 * must not have verified anything. The row is the cold ratio; the warm ratio
 * is in the note and fails the row when over its target.
 */
export const benchmark: Benchmark = {
  name: 'policy',
  async run(options) {
    const base = {
      name: 'policy',
      input: `${BUNDLES} bundles, ${SIGNERS} signers, 3 rules`,
      peer: '@sigstore/verify (signatures only)',
      maxRatio: 1.5,
      target: 'cold vouch/peer <= 1.5; warm <= 0.35',
    };
    const WARM_MAX_RATIO = 0.35;
    const keys = Array.from({ length: SIGNERS }, () => generateKeyPair('ecdsa-p256', undefined));
    const now = new Date();
    const bundles: Array<{ source: string; json: string }> = [];
    for (let i = 0; i < BUNDLES; i++) {
      const k = keys[i % SIGNERS] as (typeof keys)[number];
      const st = makeStatement(
        [{ name: 'app', digest: { sha256: HEX } }],
        i % 2 === 0
          ? 'https://slsa.dev/provenance/v1'
          : 'https://in-toto.io/attestation/test-result/v0.1',
        i % 2 === 0
          ? {
              buildDefinition: { buildType: 'https://vouch.dev/bench/v1', externalParameters: {} },
              runDetails: {
                builder: { id: 'https://ci.example/' },
                metadata: { finishedOn: now.toISOString() },
              },
            }
          : { result: 'PASSED', passedTests: [`t${i}`] },
      );
      const b = await signStatement(st, {
        mode: 'key',
        key: loadSigningKey(k.privateKeyPem, 'bench'),
      });
      bundles.push({ source: `b${i}.json`, json: JSON.stringify(b) });
    }
    const indent = (pem: string) => pem.trim().replace(/\n/g, '\n        ');
    const policyText = `apiVersion: vouch.dev/policy/v1
kind: Policy
trust:
  signers:
${keys.map((k, i) => `    - name: s${i}\n      key: |\n        ${indent(k.publicKeyPem)}\n`).join('')}require:
  - name: provenance
    predicateType: slsaprovenance
    minSigners: 3
    maxAge: 1d
    where: predicate.runDetails.builder.id == "https://ci.example/"
  - name: tests
    predicateType: test-result
    where: predicate.result == "PASSED"
  - name: either
    anyOf:
      - { name: sbom, predicateType: cyclonedx }
      - { name: tests-again, predicateType: test-result }
`;
    const parsed = await parsePolicy(policyText);
    if (!parsed.ok)
      throw new BenchFailure(`bench policy does not parse: ${JSON.stringify(parsed.problems)}`);
    const policy = parsed.policy;
    const vouchRun = () => evaluatePolicy(policy, { subjectDigest: `sha256:${HEX}`, bundles, now });
    const v = vouchRun();
    if (!v.ok || v.evidence.some((e) => !e.accepted))
      throw new BenchFailure(
        `vouch denied the bench evidence: ${JSON.stringify(v.rules).slice(0, 600)}`,
      );

    const root = TrustedRoot.fromJSON({
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [],
      certificateAuthorities: [],
      ctlogs: [],
      timestampAuthorities: [],
    });
    const byKeyid = new Map(
      policy.trust.signers.map((s) =>
        s.kind === 'key' ? [s.key.keyid, s.key.publicKey] : ['', undefined],
      ),
    );
    const verifier = new Verifier(
      toTrustMaterial(root, (hint: string) => {
        const publicKey = byKeyid.get(hint);
        if (!publicKey) throw new Error(`unknown key ${hint}`);
        return { publicKey, validFor: () => true };
      }),
      { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 },
    );
    const peerRun = () => {
      for (const b of bundles) verifier.verify(toSignedEntity(bundleFromJSON(JSON.parse(b.json))));
    };
    peerRun();

    const time = (f: () => unknown) => async () => {
      const start = process.hrtime.bigint();
      f();
      return Number(process.hrtime.bigint() - start) / 1e6;
    };
    options.log('cold: every signature verified on every run');
    const { vouchMs, peerMs } = await bestOf(
      options.runs,
      time(vouchRun),
      time(peerRun),
      options.log,
    );

    const cache = new VerificationCache();
    const warmRun = () =>
      evaluatePolicy(policy, {
        subjectDigest: `sha256:${HEX}`,
        bundles,
        now,
        verificationCache: cache,
      });
    const warmVerdict = warmRun();
    if (JSON.stringify(warmVerdict) !== JSON.stringify(v))
      throw new BenchFailure('the warm verdict differs from the cold one');
    const verified = cache.stats.misses;
    if (verified !== BUNDLES || cache.stats.entries !== BUNDLES)
      throw new BenchFailure(
        `warming the cache verified ${verified} bundles and kept ${cache.stats.entries}; expected ${BUNDLES}`,
      );
    options.log('warm: the same bundles, verifications cached');
    const warm = await bestOf(options.runs, time(warmRun), time(peerRun), options.log);
    if (cache.stats.misses !== verified || cache.stats.uncacheable !== 0)
      throw new BenchFailure(
        `warm runs verified again: ${cache.stats.misses - verified} misses, ${cache.stats.uncacheable} uncacheable`,
      );
    const warmRatio = warm.vouchMs / warm.peerMs;

    // The cache's own share of warm: the 50 lookups alone, with the trust
    // anchors evaluatePolicy builds for this key-only policy (same fingerprint).
    const lookup = cache.forTrust({
      keys: policy.trust.signers.flatMap((s) => (s.kind === 'key' ? [s.key] : [])),
      identities: [],
    });
    const artifact = { digest: { algorithm: 'sha256' as const, hex: HEX } };
    const lookups = () => {
      for (const b of bundles) lookup(b.json, b.source, artifact);
    };
    const lookupMs = (await bestOf(options.runs, time(lookups), time(lookups), () => {})).vouchMs;
    if (cache.stats.misses !== verified)
      throw new BenchFailure('the lookup timing verified again: the trust fingerprint differs');

    const perBundle = (ms: number) => `${((ms * 1000) / BUNDLES).toFixed(0)} µs/bundle`;
    const result = judge(
      base,
      vouchMs,
      peerMs,
      `cold ${vouchMs.toFixed(1)} ms (${perBundle(vouchMs)}) vs @sigstore/verify ${peerMs.toFixed(1)} ms: ratio ${(vouchMs / peerMs).toFixed(3)} (<= ${base.maxRatio}); warm ${warm.vouchMs.toFixed(2)} ms (${perBundle(warm.vouchMs)}) vs @sigstore/verify ${warm.peerMs.toFixed(1)} ms: ratio ${warmRatio.toFixed(3)} (<= ${WARM_MAX_RATIO}), of which cache lookups ${lookupMs.toFixed(2)} ms (${perBundle(lookupMs)}) and the rest is the rules`,
    );
    if (warmRatio > WARM_MAX_RATIO) {
      result.status = 'fail';
      result.note = `warm ratio over its target; ${result.note}`;
    }
    return result;
  },
};
