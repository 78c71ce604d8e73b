import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { PREDICATE_TYPES } from '../core/predicates.ts';
import { makeStatement } from '../core/statement.ts';
import { generateKeyPair, loadSigningKey, signStatement } from '../sign/index.ts';
import type { CandidateBundle } from '../verify/index.ts';
import { compileWhere } from './cel.ts';
import { evaluatePolicy, type PolicyVerdict, type RuleResult } from './evaluate.ts';
import type { Policy } from './model.ts';
import { parsePolicy } from './parse.ts';
import { indentPem, parsedPolicy } from './testing.ts';
import { verificationSummary } from './vsa.ts';

const ARTIFACT = Buffer.from('the artifact\n');
const HEX = createHash('sha256').update(ARTIFACT).digest('hex');
const OTHER_HEX = createHash('sha256').update('another artifact').digest('hex');
const NOW = new Date('2025-06-01T12:00:00Z');

const alice = generateKeyPair('ecdsa-p256', undefined);
const bob = generateKeyPair('ed25519', undefined);
const mallory = generateKeyPair('ecdsa-p256', undefined);

function provenance(finishedOn = '2025-06-01T11:00:00Z', builder = 'https://ci.example/builder') {
  return {
    buildDefinition: { buildType: 'https://vouch.dev/build/v1', externalParameters: {} },
    runDetails: { builder: { id: builder }, metadata: { finishedOn } },
  };
}

async function bundle(
  key: { privateKeyPem: string },
  source: string,
  options: { hex?: string; type?: string; predicate?: unknown } = {},
): Promise<CandidateBundle> {
  const st = makeStatement(
    [{ name: 'artifact', digest: { sha256: options.hex ?? HEX } }],
    options.type ?? PREDICATE_TYPES.slsaprovenance,
    options.predicate ?? provenance(),
  );
  const b = await signStatement(st, {
    mode: 'key',
    key: loadSigningKey(key.privateKeyPem, source),
  });
  return { source, json: JSON.stringify(b) };
}

/** A policy trusting alice and bob by inline PEM; `extra` is YAML appended under the root. */
async function policy(require: string, extra = '', signerExtra = { alice: '', bob: '' }) {
  const text = `apiVersion: vouch.dev/policy/v1
kind: Policy
metadata:
  name: test
trust:
  signers:
    - name: alice
      key: |
        ${indentPem(alice.publicKeyPem)}
${signerExtra.alice}    - name: bob
      key: |
        ${indentPem(bob.publicKeyPem)}
${signerExtra.bob}require:
${require}${extra}`;
  return parsedPolicy(text, { source: 'test.yaml' });
}

const PROVENANCE_RULE = `  - name: provenance
    predicateType: slsaprovenance
`;

function evaluate(p: Policy, bundles: CandidateBundle[], now = NOW): PolicyVerdict {
  return evaluatePolicy(p, { subjectDigest: `sha256:${HEX}`, bundles, now });
}

function rule(v: PolicyVerdict, name: string): RuleResult {
  const find = (rs: RuleResult[]): RuleResult | undefined => {
    for (const r of rs) {
      if (r.name === name) return r;
      const c = r.children && find(r.children);
      if (c) return c;
    }
    return undefined;
  };
  const r = find(v.rules);
  assert.ok(r, `no rule ${name}`);
  return r;
}

const allReasons = (v: PolicyVerdict) =>
  [
    ...v.evidence.flatMap((e) => e.reasons),
    ...v.rules.flatMap(function walk(r): string[] {
      return [...r.reasons, ...(r.children ?? []).flatMap(walk)];
    }),
  ].join('\n');

describe('evaluatePolicy: allow', () => {
  test('a verified provenance bundle by a trusted key allows, listing the evidence used', async () => {
    const p = await policy(PROVENANCE_RULE);
    const v = evaluate(p, [await bundle(alice, 'a.json')]);
    assert.equal(v.decision, 'allow', allReasons(v));
    const r = rule(v, 'provenance');
    assert.equal(r.status, 'pass');
    assert.equal(r.evidence.length, 1);
    assert.equal(r.evidence[0]?.source, 'a.json');
    assert.deepEqual(r.evidence[0]?.signers, ['alice']);
    assert.equal(v.evidence[0]?.timeSource, 'none');
  });
});

describe('evaluatePolicy: attacks that must deny', () => {
  test('unsigned evidence: a bare Statement, and a bundle with its signature removed', async () => {
    const p = await policy(PROVENANCE_RULE);
    const st = makeStatement(
      [{ name: 'a', digest: { sha256: HEX } }],
      PREDICATE_TYPES.slsaprovenance,
      provenance(),
    );
    const good = JSON.parse((await bundle(alice, 'x')).json as string);
    good.dsseEnvelope.signatures = [];
    const v = evaluate(p, [
      { source: 'statement.json', json: JSON.stringify(st) },
      { source: 'stripped.json', json: JSON.stringify(good) },
    ]);
    assert.equal(v.decision, 'deny');
    assert.deepEqual(
      v.evidence.map((e) => e.accepted),
      [false, false],
    );
    assert.match(v.evidence[0]?.reasons.join() ?? '', /bundle-format/);
    assert.match(rule(v, 'provenance').reasons.join(), /no verified evidence of type/);
  });

  test('a signer outside trust', async () => {
    const p = await policy(PROVENANCE_RULE);
    const v = evaluate(p, [await bundle(mallory, 'm.json')]);
    assert.equal(v.decision, 'deny');
    assert.match(
      v.evidence[0]?.reasons.join() ?? '',
      /signature does not verify with any of 2 trusted key/,
    );
  });

  test('a signer trusted by the policy but not allowed by the rule', async () => {
    const p = await policy(`${PROVENANCE_RULE}    signers: [bob]\n`);
    const v = evaluate(p, [await bundle(alice, 'a.json')]);
    assert.equal(v.decision, 'deny');
    assert.match(
      rule(v, 'provenance').reasons.join(),
      /signed by alice, not by a signer this rule allows \(bob\)/,
    );
  });

  test('an expired key (validUntil before now) rejects its untimestamped evidence', async () => {
    const p = await policy(PROVENANCE_RULE, '', {
      alice: '      validUntil: 2025-01-01T00:00:00Z\n',
      bob: '',
    });
    const v = evaluate(p, [await bundle(alice, 'a.json')]);
    assert.equal(v.decision, 'deny');
    assert.match(
      v.evidence[0]?.reasons.join() ?? '',
      /signer alice: expired at 2025-01-01T00:00:00.000Z \(no trusted signing time, judged as signed now/,
    );
    // The same policy one day before expiry allows: the failure is the expiry.
    assert.equal(
      evaluate(p, [await bundle(alice, 'a.json')], new Date('2024-12-31T00:00:00Z')).decision,
      'allow',
    );
  });

  test('a revoked key: untimestamped evidence is judged as signed now and rejected', async () => {
    const p = await policy(PROVENANCE_RULE, '', {
      alice: '      revoked:\n        at: 2025-05-01T00:00:00Z\n        reason: laptop stolen\n',
      bob: '',
    });
    const v = evaluate(p, [await bundle(alice, 'a.json')]);
    assert.equal(v.decision, 'deny');
    assert.match(
      v.evidence[0]?.reasons.join() ?? '',
      /revoked at 2025-05-01T00:00:00.000Z \(laptop stolen\)/,
    );
    assert.equal(
      evaluate(p, [await bundle(alice, 'a.json')], new Date('2025-04-30T00:00:00Z')).decision,
      'allow',
    );
  });

  test('evidence about another digest replayed for this one', async () => {
    const p = await policy(PROVENANCE_RULE);
    const v = evaluate(p, [await bundle(alice, 'other.json', { hex: OTHER_HEX })]);
    assert.equal(v.decision, 'deny');
    assert.match(
      v.evidence[0]?.reasons.join() ?? '',
      new RegExp(`subject: statement has no subject with sha256:${HEX}`),
    );
  });

  test('stale evidence past maxAge (predicate time), and fresh evidence within it', async () => {
    const p = await policy(`${PROVENANCE_RULE}    maxAge: 7d\n`);
    const stale = await bundle(alice, 'old.json', {
      predicate: provenance('2025-05-01T00:00:00Z'),
    });
    const v = evaluate(p, [stale]);
    assert.equal(v.decision, 'deny');
    assert.match(
      rule(v, 'provenance').reasons.join(),
      /old.json: stale, 31.5d old \(predicate.runDetails.metadata.finishedOn 2025-05-01T00:00:00Z\), maxAge 7d/,
    );
    const fresh = await bundle(alice, 'new.json', {
      predicate: provenance('2025-05-30T00:00:00Z'),
    });
    const ok = evaluate(p, [fresh]);
    assert.equal(ok.decision, 'allow', allReasons(ok));
    assert.equal(rule(ok, 'provenance').evidence[0]?.time, '2025-05-30T00:00:00.000Z');
  });

  test('maxAge with no trusted time and no predicate time denies', async () => {
    const p = await policy(`  - name: tests\n    predicateType: test-result\n    maxAge: 1d\n`);
    const v = evaluate(p, [
      await bundle(alice, 't.json', {
        type: PREDICATE_TYPES['test-result'],
        predicate: { result: 'PASSED' },
      }),
    ]);
    assert.equal(v.decision, 'deny');
    assert.match(
      rule(v, 'tests').reasons.join(),
      /no trusted signing time and no predicate time field/,
    );
  });

  test('the same signer counted twice toward minSigners counts once; two distinct signers pass', async () => {
    const p = await policy(`${PROVENANCE_RULE}    minSigners: 2\n`);
    const twice = evaluate(p, [
      await bundle(alice, 'a1.json'),
      await bundle(alice, 'a2.json', { predicate: provenance('2025-06-01T11:30:00Z') }),
    ]);
    assert.equal(twice.decision, 'deny');
    const r = rule(twice, 'provenance');
    assert.equal(r.evidence.length, 2, 'both bundles were verified and used');
    assert.match(
      r.reasons.join(),
      /1 distinct signer identity \(alice\) over 2 bundle\(s\); need 2/,
    );
    const two = evaluate(p, [await bundle(alice, 'a.json'), await bundle(bob, 'b.json')]);
    assert.equal(two.decision, 'allow', allReasons(two));
  });

  test('one key listed under two signer names still counts once', async () => {
    const text = `apiVersion: vouch.dev/policy/v1
kind: Policy
trust:
  signers:
    - name: alice
      key: |
        ${indentPem(alice.publicKeyPem)}
    - name: alice-again
      key: |
        ${indentPem(alice.publicKeyPem)}
require:
  - name: provenance
    predicateType: slsaprovenance
    minSigners: 2
`;
    const r = await parsePolicy(text);
    assert.ok(r.ok);
    const v = evaluate(r.policy, [await bundle(alice, 'a.json')]);
    assert.equal(v.decision, 'deny');
    assert.match(
      rule(v, 'provenance').reasons.join(),
      /1 distinct signer identity \(alice\/alice-again\)/,
    );
  });

  test('a CEL expression that errors denies, even when another bundle would satisfy it', async () => {
    const p = await policy(
      `${PROVENANCE_RULE}    where: predicate.runDetails.builder.id.startsWith("https://ci.example/")\n`,
    );
    const good = await bundle(alice, 'good.json');
    assert.equal(evaluate(p, [good]).decision, 'allow');
    const broken = await bundle(bob, 'broken.json', { predicate: { runDetails: {} } });
    const v = evaluate(p, [good, broken]);
    assert.equal(v.decision, 'deny');
    assert.match(
      rule(v, 'provenance').reasons.join(),
      /broken.json: where expression failed \(denies\): .*builder/,
    );
  });

  test('a where expression that is false does not count the bundle', async () => {
    const p = await policy(
      `${PROVENANCE_RULE}    where: predicate.runDetails.builder.id == "https://trusted.example/"\n`,
    );
    const v = evaluate(p, [await bundle(alice, 'a.json')]);
    assert.equal(v.decision, 'deny');
    assert.match(rule(v, 'provenance').reasons.join(), /where expression is false/);
  });

  test('a looping expression runs out of its cost budget and denies', async () => {
    const doubling = `[[1,2,3,4,5,6,7,8]]${'.map(x, x + x)'.repeat(20)}[0].all(y, y > 0)`;
    const p = await policy(`${PROVENANCE_RULE}    where: "${doubling}"\n`);
    const started = Date.now();
    const v = evaluate(p, [await bundle(alice, 'a.json')]);
    assert.equal(v.decision, 'deny');
    assert.match(rule(v, 'provenance').reasons.join(), /cost over the limit/);
    assert.ok(Date.now() - started < 5000);
  });

  test('all reasons are reported, not just the first', async () => {
    const p = await policy(
      `${PROVENANCE_RULE}    maxAge: 1d\n  - name: sbom\n    predicateType: cyclonedx\n`,
    );
    const v = evaluate(p, [
      await bundle(mallory, 'm.json'),
      await bundle(alice, 'old.json', { predicate: provenance('2025-01-01T00:00:00Z') }),
    ]);
    assert.equal(v.decision, 'deny');
    const text = allReasons(v);
    assert.match(text, /signature does not verify/);
    assert.match(text, /old.json: stale/);
    assert.match(text, /no verified evidence of type https:\/\/cyclonedx.org\/bom/);
  });
});

describe('composition and exceptions', () => {
  const SCANS = `  - name: scanned
    anyOf:
      - name: vulns
        predicateType: vuln
      - name: vex
        predicateType: openvex
`;
  test('anyOf passes with one alternative, allOf needs all', async () => {
    const p = await policy(`${PROVENANCE_RULE}${SCANS}`);
    const prov = await bundle(alice, 'p.json');
    const vex = await bundle(alice, 'v.json', {
      type: PREDICATE_TYPES.openvex,
      predicate: { statements: [] },
    });
    const v = evaluate(p, [prov, vex]);
    assert.equal(v.decision, 'allow', allReasons(v));
    assert.equal(rule(v, 'vulns').status, 'fail');
    assert.equal(rule(v, 'scanned').status, 'pass');
    const all = await policy(
      `  - name: both\n    allOf:\n      - name: p\n        predicateType: slsaprovenance\n      - name: s\n        predicateType: spdx\n`,
    );
    const d = evaluate(all, [prov]);
    assert.equal(d.decision, 'deny');
    assert.match(rule(d, 'both').reasons.join(), /1 of 2 rule\(s\) passed; need all.*s failed/);
  });

  test('an active exception turns a failing rule into pass-with-exception; an expired one does nothing', async () => {
    const exc = (expires: string) => `exceptions:
  - rule: sbom
    owner: alice@example.com
    reason: SBOM generator broken, INC-42
    expires: ${expires}
`;
    const req = `${PROVENANCE_RULE}  - name: sbom\n    predicateType: cyclonedx\n`;
    const prov = await bundle(alice, 'p.json');
    const active = evaluate(await policy(req, exc('2025-07-01T00:00:00Z')), [prov]);
    assert.equal(active.decision, 'allow', allReasons(active));
    assert.equal(rule(active, 'sbom').status, 'pass-with-exception');
    assert.equal(rule(active, 'sbom').exception?.owner, 'alice@example.com');
    const expired = evaluate(await policy(req, exc('2025-05-01T00:00:00Z')), [prov]);
    assert.equal(expired.decision, 'deny');
    assert.equal(rule(expired, 'sbom').status, 'fail');
    assert.match(
      rule(expired, 'sbom').reasons.join(),
      /expired at 2025-05-01T00:00:00Z: no effect/,
    );
  });
});

describe('parsePolicy: strict', () => {
  test('unknown fields are errors naming the field path and line', async () => {
    const text = `apiVersion: vouch.dev/policy/v1
kind: Policy
trust:
  signers:
    - name: ci
      keyless:
        issuer: https://token.actions.githubusercontent.com
        subjct: https://github.com/o/r/.github/workflows/r.yml@refs/heads/main
require:
  - name: p
    predicateType: slsaprovenance
    minSigner: 2
colour: blue
`;
    const r = await parsePolicy(text, { source: 'p.yaml' });
    assert.equal(r.ok, false);
    assert.ok(!r.ok);
    const byPath = Object.fromEntries(r.problems.map((p) => [p.path, p]));
    assert.equal(byPath['/trust/signers/0/keyless/subjct']?.line, 8);
    assert.match(
      byPath['/trust/signers/0/keyless/subjct']?.message ?? '',
      /unknown field "subjct"/,
    );
    assert.equal(byPath['/require/0/minSigner']?.line, 12);
    assert.equal(byPath['/colour']?.line, 13);
  });

  test('meaning errors: unknown signer, missing key file, bad CEL, both key and keyless, exception for no rule', async () => {
    const text = `apiVersion: vouch.dev/policy/v1
kind: Policy
trust:
  signers:
    - name: ci
      key: no/such/key.pub
    - name: both
      key: x.pub
      keyless: { issuer: i, subject: s }
require:
  - name: p
    predicateType: slsaprovenance
    signers: [nobody]
    where: "predicate.("
exceptions:
  - { rule: q, owner: me, reason: r, expires: 2030-01-01T00:00:00Z }
`;
    const r = await parsePolicy(text, { baseDir: '/nonexistent' });
    assert.ok(!r.ok);
    const msgs = r.problems.map((p) => `${p.path} ${p.message}`).join('\n');
    assert.match(msgs, /\/trust\/signers\/0\/key cannot read key file no\/such\/key.pub/);
    assert.match(msgs, /\/trust\/signers\/1 give exactly one of key and keyless/);
    assert.match(msgs, /\/require\/0\/signers\/0 no signer named nobody/);
    assert.match(msgs, /\/require\/0\/where CEL syntax error/);
    assert.match(msgs, /\/exceptions\/0\/rule no rule named q/);
  });

  test('a YAML alias bomb is refused, not expanded', async () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 0; i < 12; i++) {
      const prev = String.fromCharCode(97 + i);
      const next = String.fromCharCode(98 + i);
      lines.push(`${next}: &${next} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const r = await parsePolicy(`${lines.join('\n')}\n`);
    assert.ok(!r.ok);
    assert.match(r.problems[0]?.message ?? '', /alias|Excessive/i);
  });

  test('the policy digest is the sha256 of the exact file bytes', async () => {
    const p = await policy(PROVENANCE_RULE);
    assert.match(p.digest, /^sha256:[0-9a-f]{64}$/);
  });
});

describe('CEL limits', () => {
  test('nesting and length are refused when the policy is read', () => {
    const deep = compileWhere('[1].all(a, [1].all(b, [1].all(c, [1].all(d, true))))');
    assert.ok(!deep.ok);
    assert.match(deep.error, /nested 4 deep/);
    assert.ok(!compileWhere(`${'1 + '.repeat(2000)}1 == 1`).ok);
  });
  test('an error absorbed by || still denies when it was the cost budget', () => {
    const c = compileWhere(
      `[[1,2,3,4,5,6,7,8]]${'.map(x, x + x)'.repeat(20)}[0].all(y, y > 0) || true`,
    );
    assert.ok(c.ok);
    const r = c.where.evaluate({
      predicate: {},
      statement: {},
      subject: {},
      signers: [],
      now: NOW.toISOString(),
    });
    assert.equal(r.ok, false);
  });
  test('every binding an expression reads is bound, whichever it reads', () => {
    const bindings = {
      predicate: { x: 1 },
      statement: { predicateType: 'https://t/', predicate: { x: 1 } },
      subject: { name: 'app' },
      signers: [{ name: 's0', identity: 'key:k' }],
      now: '2025-01-01T00:00:00Z',
    };
    const cases: Array<[string, boolean]> = [
      ['predicate.x == 1', true],
      ['.predicate.x == 1', true],
      ['statement.predicate.x == 1 && statement.predicateType == "https://t/"', true],
      ['subject.name == "app"', true],
      ['signers.exists(s, s.name == "s0")', true],
      ['has(statement.predicate) && size(signers) == 1', true],
      ['timestamp(now) > timestamp("2024-01-01T00:00:00Z")', true],
      // A comprehension variable named like a binding shadows it; the binding still reads.
      ['[2].all(statement, statement == 2) && statement.predicate.x == 1', true],
      ['statement.predicate.x == 2', false],
    ];
    for (const [text, want] of cases) {
      const c = compileWhere(text);
      assert.ok(c.ok, text);
      assert.deepEqual(c.where.evaluate(bindings), { ok: true, value: want }, text);
    }
    // An unbound name is an error (denies), as before.
    const c = compileWhere('other.x == 1');
    assert.ok(c.ok);
    assert.equal(c.where.evaluate(bindings).ok, false);
  });
  test('regular expressions run in linear time', () => {
    const c = compileWhere("predicate.s.matches('^(a+)+$')");
    assert.ok(c.ok);
    const started = Date.now();
    const r = c.where.evaluate({
      predicate: { s: `${'a'.repeat(50_000)}b` },
      statement: {},
      subject: {},
      signers: [],
      now: '',
    });
    assert.deepEqual(r, { ok: true, value: false });
    assert.ok(Date.now() - started < 2000);
  });
});

describe('verification summary', () => {
  test('a VSA v1 statement about the artifact, bound to the policy digest, listing the bundles used', async () => {
    const p = await policy(PROVENANCE_RULE);
    const b = await bundle(alice, 'a.json');
    const v = evaluate(p, [b, await bundle(mallory, 'm.json')]);
    const st = verificationSummary(v, {
      resourceUri: 'file:app.bin',
      policyUri: 'file:policy.yaml',
    });
    assert.equal(st.predicateType, 'https://slsa.dev/verification_summary/v1');
    assert.deepEqual(st.subject, [{ name: 'file:app.bin', digest: { sha256: HEX } }]);
    // biome-ignore lint/suspicious/noExplicitAny: reading the predicate
    const pred = st.predicate as any;
    assert.equal(pred.verifier.id, 'https://vouch.dev/verifier/v1');
    assert.equal(pred.verificationResult, 'PASSED');
    assert.equal(pred.policy.digest.sha256, p.digest.slice(7));
    const bundleSha = createHash('sha256')
      .update(b.json as string)
      .digest('hex');
    assert.deepEqual(pred.inputAttestations, [{ uri: 'a.json', digest: { sha256: bundleSha } }]);
    assert.deepEqual(pred.verifiedLevels, []);
    assert.equal(pred['https://vouch.dev/vsa/v1/verdict'].dropped[0].source, 'm.json');
  });
});
