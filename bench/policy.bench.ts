import { createHash } from 'node:crypto';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { makeStatement } from '../src/core/statement.ts';
import { evaluatePolicy, parsePolicy } from '../src/policy/index.ts';
import { generateKeyPair, loadSigningKey, signStatement } from '../src/sign/index.ts';
import { BenchFailure, type Benchmark, bestOf, judge } from './lib.ts';

const BUNDLES = 50;
const SIGNERS = 5;
const HEX = createHash('sha256').update('policy bench artifact').digest('hex');

/**
 * Policy evaluation over 50 key-signed bundles about one artifact, cold: every
 * run verifies every signature again (vouch has no verification cache yet, so
 * there is no warm row), then evaluates three rules (one with minSigners 3,
 * maxAge and a CEL `where`). The peer is @sigstore/verify's Verifier checking
 * the same 50 bundles against the same 5 keys, which is only the signature
 * part of the job. Both sides must accept all 50 bundles before timing.
 */
export const benchmark: Benchmark = {
  name: 'policy',
  async run(options) {
    const base = {
      name: 'policy',
      input: `${BUNDLES} bundles, ${SIGNERS} signers, 3 rules`,
      peer: '@sigstore/verify (signatures only)',
      maxRatio: 1.5,
      target: 'vouch/peer <= 1.5',
    };
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
    const { vouchMs, peerMs } = await bestOf(
      options.runs,
      time(vouchRun),
      time(peerRun),
      options.log,
    );
    return judge(
      base,
      vouchMs,
      peerMs,
      `cold policy evaluation ${vouchMs.toFixed(1)} ms (${((vouchMs * 1000) / BUNDLES).toFixed(0)} µs/bundle) vs @sigstore/verify ${peerMs.toFixed(1)} ms; no warm row: no verification cache yet`,
    );
  },
};
