// `select: newest`: a rule judges only the newest verified statement of its
// type and signers. Real signed bundles (keys generated here; keyless ones
// through @sigstore/mock's Fulcio, Rekor and TSA on a local server, so their
// times are verified), judged by parsed policies.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pae } from '../core/dsse.ts';
import { PREDICATE_TYPES } from '../core/predicates.ts';
import { makeStatement, PAYLOAD_TYPE_INTOTO } from '../core/statement.ts';
import { generateKeyPair, loadSigningKey, signStatement } from '../sign/index.ts';
import { identityToken, type MockSigstore, startMockSigstore } from '../sign/testing-keyless.ts';
import type { CandidateBundle } from '../verify/index.ts';
import { evaluatePolicy, type PolicyVerdict, type RuleResult } from './evaluate.ts';
import { parsePolicy } from './parse.ts';
import { indentPem, keylessPolicyText, parsedPolicy } from './testing.ts';

const HEX = createHash('sha256').update('newest artifact\n').digest('hex');
const NOW = new Date('2025-06-01T12:00:00Z');
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const ago = (h: number, from = NOW) => iso(from.getTime() - h * HOUR);

const alice = generateKeyPair('ecdsa-p256', undefined);
const bob = generateKeyPair('ed25519', undefined);
const mallory = generateKeyPair('ecdsa-p256', undefined);

/** An in-toto vulns predicate: no finding (clean) or one with this CVSS score. */
function scan(finishedOn: string | undefined, score?: string) {
  return {
    scanner: {
      uri: 'https://example.com/scanner',
      result: score ? [{ id: 'CVE-2025-1', severity: [{ method: 'CVSSv3', score }] }] : [],
    },
    ...(finishedOn ? { metadata: { scanStartedOn: finishedOn, scanFinishedOn: finishedOn } } : {}),
  };
}

const statementOf = (predicate: unknown, type: string = PREDICATE_TYPES.vuln) =>
  makeStatement([{ name: 'artifact', digest: { sha256: HEX } }], type, predicate);

async function keyed(
  key: { privateKeyPem: string },
  source: string,
  predicate: unknown,
  type?: string,
): Promise<CandidateBundle> {
  const b = await signStatement(statementOf(predicate, type), {
    mode: 'key',
    key: loadSigningKey(key.privateKeyPem, source),
  });
  return { source, json: JSON.stringify(b) };
}

const NO_CRITICAL = 'predicate.scanner.result.all(r, r.severity.all(s, double(s.score) < 9.0))';

function keyPolicyText(rule: string): string {
  return `apiVersion: vouch.dev/policy/v1
kind: Policy
metadata: { name: newest }
trust:
  signers:
    - name: alice
      key: |
        ${indentPem(alice.publicKeyPem)}
    - name: bob
      key: |
        ${indentPem(bob.publicKeyPem)}
require:
${rule}`;
}

const scanRule = (extra = '') => `  - name: no-critical
    predicateType: vuln
    where: ${NO_CRITICAL}
${extra}`;

const keyPolicy = (rule: string) => parsedPolicy(keyPolicyText(rule), { source: 'newest.yaml' });

const evaluate = (
  policy: Awaited<ReturnType<typeof keyPolicy>>,
  bundles: CandidateBundle[],
  now = NOW,
): PolicyVerdict => evaluatePolicy(policy, { subjectDigest: `sha256:${HEX}`, bundles, now });

const rule = (v: PolicyVerdict, name = 'no-critical') =>
  v.rules.find((r) => r.name === name) as RuleResult;
const reasons = (v: PolicyVerdict) =>
  [...v.evidence.flatMap((e) => e.reasons), ...v.rules.flatMap((r) => r.reasons)].join('\n');

describe('select: newest with key-signed evidence (predicate-claimed times)', () => {
  test('an older clean scan and a newer critical one: allowed by default, denied with select newest', async () => {
    const older = await keyed(alice, 'older-clean.json', scan(ago(24)));
    const newer = await keyed(alice, 'newer-critical.json', scan(ago(1), '9.8'));

    const byDefault = evaluate(await keyPolicy(scanRule()), [older, newer]);
    assert.equal(byDefault.decision, 'allow', reasons(byDefault));
    assert.deepEqual(
      rule(byDefault).evidence.map((e) => e.source),
      ['older-clean.json'],
      'the documented default: any passing bundle satisfies the rule',
    );
    assert.equal(rule(byDefault).selected, undefined);
    const explicitAll = evaluate(await keyPolicy(scanRule('    select: all\n')), [older, newer]);
    assert.equal(explicitAll.decision, 'allow', 'select: all is the default');

    const newest = evaluate(await keyPolicy(scanRule('    select: newest\n')), [older, newer]);
    assert.equal(newest.decision, 'deny', reasons(newest));
    const r = rule(newest);
    assert.equal(r.status, 'fail');
    assert.deepEqual(r.evidence, []);
    assert.match(r.summary, /newest only/);
    assert.deepEqual(
      r.selected?.bundles.map((b) => b.source),
      ['newer-critical.json'],
    );
    assert.equal(r.selected?.time, ago(1));
    assert.equal(r.selected?.timeSource, 'predicate');
    assert.equal(r.selected?.timeField, 'predicate.metadata.scanFinishedOn');
    assert.equal(r.selected?.compared, 2);
    // The reason names the chosen bundle, its time and where the time comes from.
    assert.ok(
      r.reasons.includes(
        `newest of 2 verified statement(s): newer-critical.json, at ${ago(1)} (predicate.metadata.scanFinishedOn, claimed by its signer: no verified time)`,
      ),
      r.reasons.join('\n'),
    );
    assert.ok(r.reasons.includes('not judged, older than the newest: older-clean.json'));
    assert.ok(
      r.reasons.some((x) => x.startsWith('newer-critical.json: where expression is false')),
    );

    // Order of the bundles does not matter.
    const swapped = evaluate(await keyPolicy(scanRule('    select: newest\n')), [newer, older]);
    assert.deepEqual(rule(swapped).selected, r.selected);
    assert.equal(swapped.decision, 'deny');
  });

  test('an older critical scan and a newer clean one: select newest allows (the fix is judged)', async () => {
    const older = await keyed(alice, 'older-critical.json', scan(ago(24), '9.8'));
    const newer = await keyed(alice, 'newer-clean.json', scan(ago(1)));
    const v = evaluate(await keyPolicy(scanRule('    select: newest\n')), [older, newer]);
    assert.equal(v.decision, 'allow', reasons(v));
    assert.deepEqual(
      rule(v).evidence.map((e) => e.source),
      ['newer-clean.json'],
    );
  });

  test('a newer bundle that does not verify, or whose signer the policy or rule does not trust, is never the newest', async () => {
    const older = await keyed(alice, 'older-clean.json', scan(ago(24)));
    const untrusted = await keyed(mallory, 'mallory-newer-clean.json', scan(ago(1)));
    const forgedCritical = await keyed(mallory, 'mallory-critical.json', scan(ago(1), '9.8'));
    // A real newer bundle, tampered: its payload says something else than was signed.
    const real = JSON.parse(
      (await keyed(alice, 'tampered.json', scan(ago(1), '9.8'))).json as string,
    );
    real.dsseEnvelope.payload = Buffer.from(
      JSON.stringify(statementOf(scan(ago(0.5), '9.9'))),
    ).toString('base64');
    const tampered = { source: 'tampered.json', json: JSON.stringify(real) };
    const p = await keyPolicy(scanRule('    select: newest\n'));

    const v = evaluate(p, [older, untrusted, forgedCritical, tampered]);
    assert.equal(v.decision, 'allow', reasons(v));
    assert.equal(v.evidence.filter((e) => e.accepted).length, 1);
    assert.deepEqual(
      rule(v).selected?.bundles.map((b) => b.source),
      ['older-clean.json'],
    );
    assert.equal(rule(v).selected?.compared, 1);

    // A trusted signer this rule does not allow: not this rule's evidence, so not its newest.
    const bobCritical = await keyed(bob, 'bob-critical.json', scan(ago(1), '9.8'));
    const onlyAlice = await keyPolicy(scanRule('    signers: [alice]\n    select: newest\n'));
    const w = evaluate(onlyAlice, [older, bobCritical]);
    assert.equal(w.decision, 'allow', reasons(w));
    assert.deepEqual(
      rule(w).selected?.bundles.map((b) => b.source),
      ['older-clean.json'],
    );
    // Allowed, the same bundle is the newest and denies.
    const any = evaluate(p, [older, bobCritical]);
    assert.equal(any.decision, 'deny');
    assert.deepEqual(
      rule(any).selected?.bundles.map((b) => b.source),
      ['bob-critical.json'],
    );
  });

  test('fails closed: a tie, a statement without a usable time, a time in the future', async () => {
    const p = await keyPolicy(scanRule('    select: newest\n'));
    const t = ago(1);
    const a = await keyed(alice, 'a.json', scan(t));
    const b = await keyed(alice, 'b.json', { ...scan(t), note: 'another statement' });
    const tie = evaluate(p, [a, b]);
    assert.equal(tie.decision, 'deny', 'both are clean, but which is newest is unknown');
    assert.equal(rule(tie).selected, undefined);
    assert.match(
      rule(tie).reasons.join('\n'),
      new RegExp(
        `newest cannot be determined: (a\\.json and b\\.json|b\\.json and a\\.json) are different statements with the same time ${t}`,
      ),
    );

    const untimed = await keyed(alice, 'untimed.json', scan(undefined));
    const noTime = evaluate(p, [a, untimed]);
    assert.equal(noTime.decision, 'deny');
    assert.match(
      rule(noTime).reasons.join('\n'),
      /newest cannot be determined among 2 verified statements: untimed\.json has no usable time \(no verified signing time and no predicate time field\)/,
    );
    // Alone, it is the newest there is: judged, and the verdict says it has no time.
    const alone = evaluate(p, [untimed]);
    assert.equal(alone.decision, 'allow', reasons(alone));
    assert.equal(rule(alone).selected?.timeSource, 'none');
    assert.equal(rule(alone).selected?.time, undefined);
    assert.match(
      rule(alone).reasons.join('\n'),
      /untimed\.json \(the only one; it has no usable time\)/,
    );

    const future = await keyed(alice, 'future.json', scan(iso(NOW.getTime() + 2 * HOUR)));
    const ahead = evaluate(p, [a, future]);
    assert.equal(ahead.decision, 'deny');
    assert.match(
      rule(ahead).reasons.join('\n'),
      /future\.json has no usable time \(.*is in the future\)/,
    );

    const garbage = await keyed(alice, 'garbage.json', scan('yesterday'));
    assert.match(
      rule(evaluate(p, [a, garbage])).reasons.join('\n'),
      /garbage\.json has no usable time \(.*"yesterday" is not a time\)/,
    );
  });

  test('minSigners counts the signers of the newest statement only', async () => {
    const rule2 = scanRule('    select: newest\n    minSigners: 2\n');
    const p = await keyPolicy(rule2);
    const cleanOld = scan(ago(24));
    const oldByAlice = await keyed(alice, 'old-alice.json', cleanOld);
    const oldByBob = await keyed(bob, 'old-bob.json', cleanOld);
    // The same statement, signed by two signers: one statement, two signers.
    const both = evaluate(p, [oldByAlice, oldByBob]);
    assert.equal(both.decision, 'allow', reasons(both));
    assert.equal(rule(both).selected?.compared, 1);
    assert.deepEqual(
      rule(both)
        .selected?.bundles.map((b) => b.source)
        .sort(),
      ['old-alice.json', 'old-bob.json'],
    );
    // A newer clean statement signed by alice alone is the newest: 1 of 2 signers.
    const newerByAlice = await keyed(alice, 'new-alice.json', scan(ago(1)));
    const v = evaluate(p, [oldByAlice, oldByBob, newerByAlice]);
    assert.equal(v.decision, 'deny', reasons(v));
    assert.deepEqual(
      rule(v).selected?.bundles.map((b) => b.source),
      ['new-alice.json'],
    );
    assert.match(
      rule(v).reasons.join('\n'),
      /1 distinct signer identity \(alice\) over 1 bundle\(s\); need 2/,
    );
    // Without select newest the older statement's two signers satisfy it.
    const all = evaluate(await keyPolicy(scanRule('    minSigners: 2\n')), [
      oldByAlice,
      oldByBob,
      newerByAlice,
    ]);
    assert.equal(all.decision, 'allow', reasons(all));
  });

  test('hostile statements: a number JSON reads as Infinity is not a crash; the bundle stands alone', async () => {
    // Signed bytes that JSON.parse reads with Infinity in them (JSON.stringify cannot write 1e400).
    const key = loadSigningKey(alice.privateKeyPem, 'alice');
    const template = JSON.parse((await keyed(alice, 'x', scan(ago(1)))).json as string);
    const text = JSON.stringify(statementOf(scan(ago(1), '9.8'))).replace(
      '"scanner":{',
      '"huge":1e400,"scanner":{',
    );
    const payload = Buffer.from(text, 'utf8');
    template.dsseEnvelope.payload = payload.toString('base64');
    template.dsseEnvelope.signatures[0].sig = (
      await key.sign(pae(PAYLOAD_TYPE_INTOTO, payload))
    ).toString('base64');
    const hostile = { source: 'infinity.json', json: JSON.stringify(template) };
    const older = await keyed(alice, 'older-clean.json', scan(ago(24)));
    const v = evaluate(await keyPolicy(scanRule('    select: newest\n')), [older, hostile]);
    assert.equal(v.evidence.find((e) => e.source === 'infinity.json')?.accepted, true, reasons(v));
    assert.equal(v.decision, 'deny', reasons(v));
    assert.equal(rule(v).selected?.statement, v.evidence[1]?.digest, 'keyed by its bundle');
  });

  test('parse: a bad select value or select on anyOf is a problem with its line', async () => {
    const lineOf = (text: string, needle: string) =>
      text.split('\n').findIndex((l) => l.includes(needle)) + 1;
    const badText = keyPolicyText(scanRule('    select: latest\n'));
    const bad = await parsePolicy(badText, { source: 'bad.yaml' });
    assert.equal(bad.ok, false);
    const problems = bad.ok ? [] : bad.problems;
    assert.deepEqual(
      problems.map((x) => [x.path, x.line, x.message]),
      [
        [
          '/require/0/select',
          lineOf(badText, 'select: latest'),
          'must be one of "all", "newest", not "latest"',
        ],
      ],
    );
    const compositeText = keyPolicyText(`  - name: scans
    select: newest
    anyOf:
      - { name: v, predicateType: vuln }
`);
    const composite = await parsePolicy(compositeText, { source: 'composite.yaml' });
    assert.equal(composite.ok, false);
    assert.deepEqual(
      composite.ok ? [] : composite.problems.map((x) => [x.path, x.line, x.message]),
      [
        [
          '/require/0/select',
          lineOf(compositeText, 'select: newest'),
          'select belongs on an evidence rule, not on anyOf',
        ],
      ],
    );
  });
});

describe('select: newest with keyless evidence (verified times)', () => {
  let mock: MockSigstore;
  let dir: string;
  let first: number;
  /** Clean, claims the newer scan time, but its verified time is the earlier. */
  let cleanClaimsNewer: string;
  /** Critical, claims an old scan time, but the log and TSA saw it an hour later. */
  let criticalClaimsOlder: string;
  /** Key-signed, no verified time: only its claim. */
  let keyedClean: string;
  const ISSUER = 'https://token.actions.githubusercontent.com';
  const SUBJECT = 'https://github.com/example/scanner/.github/workflows/scan.yml@refs/heads/main';

  const keyless = async (predicate: unknown) =>
    JSON.stringify(
      await signStatement(statementOf(predicate), {
        mode: 'keyless',
        identityToken: identityToken({ iss: ISSUER, sub: SUBJECT, aud: 'sigstore' }),
        fulcioURL: mock.base,
        rekorURL: mock.base,
        tsaURL: mock.base,
      }),
    );

  before(async () => {
    mock = await startMockSigstore();
    dir = mkdtempSync(join(tmpdir(), 'vouch-policy-newest-'));
    writeFileSync(join(dir, 'trusted_root.json'), JSON.stringify(mock.trustedRoot));
    first = mock.clock.getTime();
    cleanClaimsNewer = await keyless(scan(iso(first)));
    mock.clock.setTime(first + HOUR);
    criticalClaimsOlder = await keyless(scan(iso(first - 24 * HOUR), '9.8'));
    keyedClean = JSON.stringify(
      await signStatement(statementOf(scan(iso(first + 2 * HOUR))), {
        mode: 'key',
        key: loadSigningKey(alice.privateKeyPem, 'alice'),
      }),
    );
  });

  after(async () => {
    await mock.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const policy = (extra: string) =>
    parsedPolicy(
      keylessPolicyText(
        `    - name: scanner
      keyless: { issuer: "${ISSUER}", subject: "${SUBJECT}" }
    - name: alice
      key: |
        ${indentPem(alice.publicKeyPem)}
`,
        `require:\n${scanRule(extra)}`,
      ),
      { source: 'keyless.yaml', baseDir: dir },
    );

  test('the verified time decides, not the time the predicate claims', async () => {
    const now = new Date(first + 3 * HOUR);
    const bundles = [
      { source: 'clean-claims-newer.json', json: cleanClaimsNewer },
      { source: 'critical-claims-older.json', json: criticalClaimsOlder },
    ];
    const v = evaluate(await policy('    select: newest\n'), bundles, now);
    assert.equal(v.decision, 'deny', reasons(v));
    const r = rule(v);
    assert.deepEqual(
      r.selected?.bundles.map((b) => b.source),
      ['critical-claims-older.json'],
    );
    assert.equal(r.selected?.time, iso(first + HOUR));
    assert.ok(
      r.selected?.timeSource === 'transparency-log' ||
        r.selected?.timeSource === 'timestamp-authority',
      r.selected?.timeSource,
    );
    assert.match(
      r.reasons.join('\n'),
      new RegExp(
        `newest of 2 verified statement\\(s\\): critical-claims-older\\.json, at ${iso(first + HOUR).replace(/\./g, '\\.')} \\((transparency log|RFC 3161 timestamp)\\)`,
      ),
    );
    // Had the claims decided, the clean one would be the newest.
    assert.ok(
      Date.parse(iso(first)) > Date.parse(iso(first - 24 * HOUR)),
      'the clean scan claims the later time',
    );
    // The default judges any: the clean one passes.
    assert.equal(evaluate(await policy(''), bundles, now).decision, 'allow');
  });

  test('a claimed time is compared with verified ones when a statement has no verified time', async () => {
    const now = new Date(first + 3 * HOUR);
    const v = evaluate(
      await policy('    select: newest\n'),
      [
        { source: 'critical-claims-older.json', json: criticalClaimsOlder },
        { source: 'keyed-clean.json', json: keyedClean },
      ],
      now,
    );
    // keyed-clean claims first+2h (no verified time), later than the critical scan's verified first+1h.
    assert.equal(v.decision, 'allow', reasons(v));
    assert.deepEqual(
      rule(v).selected?.bundles.map((b) => b.source),
      ['keyed-clean.json'],
    );
    assert.equal(rule(v).selected?.timeSource, 'predicate');
  });
});
