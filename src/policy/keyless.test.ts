// Keyless signers in policies, end to end: real keyless bundles signed by
// @sigstore/mock's Fulcio, Rekor and TSA (on a local HTTP server), judged by
// a parsed policy that trusts them by issuer, subject and GitHub claims.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PREDICATE_TYPES } from '../core/predicates.ts';
import { makeStatement } from '../core/statement.ts';
import { generateKeyPair, loadSigningKey, signStatement } from '../sign/index.ts';
import { identityToken, type MockSigstore, startMockSigstore } from '../sign/testing-keyless.ts';
import type { CandidateBundle } from '../verify/index.ts';
import { evaluatePolicy, type PolicyVerdict } from './evaluate.ts';
import type { Policy } from './model.ts';
import { indentPem, keylessPolicyText, parsedPolicy } from './testing.ts';

const ISSUER = 'https://token.actions.githubusercontent.com';
const SUBJECT = 'https://github.com/example/repo/.github/workflows/release.yml@refs/heads/main';
const ARTIFACT = Buffer.from('keyless policy artifact\n');
const HEX = createHash('sha256').update(ARTIFACT).digest('hex');
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

const alice = generateKeyPair('ecdsa-p256', undefined);
const STATEMENT = makeStatement(
  [{ name: 'artifact', digest: { sha256: HEX } }],
  PREDICATE_TYPES.slsaprovenance,
  {
    buildDefinition: { buildType: 'https://vouch.dev/build/v1', externalParameters: {} },
    runDetails: { builder: { id: 'https://ci.example/builder' } },
  },
);

const RULE = `require:
  - name: provenance
    predicateType: slsaprovenance
`;

describe('policy: keyless signers end to end', () => {
  let mock: MockSigstore;
  /**
   * Every mock service signs at this time: the certificate, the log entry, the
   * TSA. It is the real time (the mock's root certificates are valid from
   * when they are made), so the evaluation clock is moved instead.
   */
  let SIGNED: Date;
  let SIGNED_ISO: string;
  /** Evaluation a month later: any validity or revocation between then and now matters. */
  let NOW: Date;
  let dir: string;
  /** Signed with GitHub claims (repository, ref) and a TSA timestamp. */
  let github: string;
  /** The same identity signing again (its own certificate, log entry and timestamp). */
  let githubAgain: string;
  /** Signed without GitHub claims and without a TSA: only the log's time. */
  let plain: string;
  /** Key-signed by alice, no log entry: no trusted time. */
  let keyed: string;

  async function keyless(claims: Record<string, unknown>, tsa: boolean): Promise<string> {
    const b = await signStatement(STATEMENT, {
      mode: 'keyless',
      identityToken: identityToken({ iss: ISSUER, sub: SUBJECT, aud: 'sigstore', ...claims }),
      fulcioURL: mock.base,
      rekorURL: mock.base,
      ...(tsa ? { tsaURL: mock.base } : {}),
    });
    return JSON.stringify(b);
  }

  before(async () => {
    mock = await startMockSigstore();
    SIGNED = mock.clock;
    SIGNED_ISO = SIGNED.toISOString();
    NOW = new Date(SIGNED.getTime() + 30 * 24 * HOUR);
    dir = mkdtempSync(join(tmpdir(), 'vouch-policy-keyless-'));
    writeFileSync(join(dir, 'trusted_root.json'), JSON.stringify(mock.trustedRoot));
    const gh = { repository: 'example/repo', ref: 'refs/heads/main', sha: 'a'.repeat(40) };
    github = await keyless(gh, true);
    githubAgain = await keyless(gh, true);
    plain = await keyless({}, false);
    keyed = JSON.stringify(
      await signStatement(STATEMENT, {
        mode: 'key',
        key: loadSigningKey(alice.privateKeyPem, 'alice'),
      }),
    );
  });

  after(async () => {
    await mock.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A policy trusting the mock's root, with `signers` (YAML list items) and `require`. */
  async function policy(signers: string, require = RULE): Promise<Policy> {
    return parsedPolicy(keylessPolicyText(signers, require), {
      source: 'keyless.yaml',
      baseDir: dir,
    });
  }

  const ci = (keyless: string, extra = '') =>
    `    - name: ci
      keyless:
        issuer: ${ISSUER}
${keyless}${extra}`;
  const exact = (subject = SUBJECT) => `        subject: ${subject}\n`;
  const aliceSigner = (extra = '') =>
    `    - name: alice
      key: |
        ${indentPem(alice.publicKeyPem)}
${extra}`;

  const evaluate = (p: Policy, json: string[], now: Date = NOW): PolicyVerdict =>
    evaluatePolicy(p, {
      subjectDigest: `sha256:${HEX}`,
      bundles: json.map((j, i): CandidateBundle => ({ source: `b${i}.json`, json: j })),
      now,
    });
  const reasons = (v: PolicyVerdict) =>
    [...v.evidence.flatMap((e) => e.reasons), ...v.rules.flatMap((r) => r.reasons)].join('\n');

  test('issuer + exact subject allows; another subject or issuer denies', async () => {
    const v = evaluate(await policy(ci(exact())), [github]);
    assert.equal(v.decision, 'allow', reasons(v));
    const e = v.evidence[0];
    assert.equal(e?.accepted, true);
    assert.deepEqual(e?.signers, [{ name: 'ci', identity: `keyless:${ISSUER}|${SUBJECT}` }]);
    assert.deepEqual(v.rules[0]?.evidence[0]?.signers, ['ci']);

    const other = evaluate(await policy(ci(exact(`${SUBJECT.replace('main', 'dev')}`))), [github]);
    assert.equal(other.decision, 'deny');
    assert.equal(other.evidence[0]?.accepted, false);
    assert.match(reasons(other), /certificate subject .*release\.yml@refs\/heads\/main/);

    const issuer = await policy(
      `    - name: ci
      keyless:
        issuer: https://accounts.example.com
${exact()}`,
    );
    const wrongIssuer = evaluate(issuer, [github]);
    assert.equal(wrongIssuer.decision, 'deny');
    assert.match(reasons(wrongIssuer), /issuer/);
  });

  test('subjectRegExp must match the whole SAN: a prefix or suffix match denies', async () => {
    const re = (pattern: string) => policy(ci(`        subjectRegExp: '${pattern}'\n`));
    const whole = evaluate(
      await re(
        'https://github\\.com/example/repo/\\.github/workflows/[a-z]+\\.yml@refs/heads/main',
      ),
      [github],
    );
    assert.equal(whole.decision, 'allow', reasons(whole));
    for (const pattern of [
      // A prefix of the SAN.
      'https://github\\.com/example/repo',
      // A suffix of the SAN.
      'release\\.yml@refs/heads/main',
      // An alternation whose first branch is a prefix: `^a|b$` would take it.
      'https://github\\.com/example/repo|nothing',
    ]) {
      const v = evaluate(await re(pattern), [github]);
      assert.equal(v.decision, 'deny', `${pattern} must not match ${SUBJECT}`);
      assert.equal(v.evidence[0]?.accepted, false);
    }
  });

  test('with several keyless signers, a bundle counts only for the ones it matches', async () => {
    // Verification passes (the certificate matches one trusted identity); the
    // policy must still attribute it only to the signers whose subject fits.
    const p = (rule: string) =>
      policy(
        `${ci(exact())}    - name: release
      keyless:
        issuer: ${ISSUER}
${exact(SUBJECT.replace('release.yml', 'publish.yml'))}    - name: prefix
      keyless:
        issuer: ${ISSUER}
        subjectRegExp: 'https://github\\.com/example/repo'
`,
        `require:
  - name: provenance
    predicateType: slsaprovenance
    signers: [${rule}]
`,
      );
    const mine = evaluate(await p('ci'), [github]);
    assert.equal(mine.decision, 'allow', reasons(mine));
    assert.deepEqual(mine.evidence[0]?.signers, [
      { name: 'ci', identity: `keyless:${ISSUER}|${SUBJECT}` },
    ]);
    for (const other of ['release', 'prefix']) {
      const v = evaluate(await p(other), [github]);
      assert.equal(v.decision, 'deny', `${other} did not sign`);
      assert.match(reasons(v), /not by a signer this rule allows/);
    }
  });

  test('GitHub claims from the Fulcio certificate: matching allows, others deny', async () => {
    const claims = (repository: string, ref: string) =>
      policy(ci(exact(), `        repository: ${repository}\n        ref: ${ref}\n`));
    const ok = evaluate(await claims('example/repo', 'refs/heads/main'), [github]);
    assert.equal(ok.decision, 'allow', reasons(ok));

    const repo = evaluate(await claims('example/other', 'refs/heads/main'), [github]);
    assert.equal(repo.decision, 'deny');
    assert.match(reasons(repo), /signer ci: certificate repository "example\/repo" is not/);

    const ref = evaluate(await claims('example/repo', 'refs/heads/dev'), [github]);
    assert.equal(ref.decision, 'deny');
    assert.match(reasons(ref), /signer ci: certificate ref "refs\/heads\/main" is not/);

    // A certificate without the claims (same issuer and subject) cannot satisfy them.
    const none = evaluate(await claims('example/repo', 'refs/heads/main'), [plain]);
    assert.equal(none.decision, 'deny');
    assert.match(reasons(none), /certificate repository null/);
    // …while the same policy without claims accepts it.
    const bare = evaluate(await policy(ci(exact())), [plain]);
    assert.equal(bare.decision, 'allow', reasons(bare));
  });

  test('the signing time is the verified log or TSA time', async () => {
    const v = evaluate(await policy(ci(exact())), [github, plain]);
    assert.equal(v.evidence[0]?.signedAt, SIGNED_ISO);
    assert.ok(
      ['timestamp-authority', 'transparency-log'].includes(v.evidence[0]?.timeSource ?? ''),
    );
    // Without a TSA, the log's integrated time (from its signed promise) is the time.
    assert.equal(v.evidence[1]?.signedAt, SIGNED_ISO);
    assert.equal(v.evidence[1]?.timeSource, 'transparency-log');
    assert.equal(v.rules[0]?.evidence[0]?.time, SIGNED_ISO);
  });

  test('validUntil and validFrom are judged at the signing time, not now', async () => {
    const validity = async (field: string, ms: number) =>
      evaluate(await policy(ci(exact(), `      ${field}: ${iso(ms)}\n`)), [github, plain]);
    // Expired a month before now, but an hour after signing: allows.
    const after = await validity('validUntil', SIGNED.getTime() + HOUR);
    assert.equal(after.decision, 'allow', reasons(after));
    assert.deepEqual(
      after.evidence.map((e) => e.accepted),
      [true, true],
    );
    const before = await validity('validUntil', SIGNED.getTime() - 1000);
    assert.equal(before.decision, 'deny');
    assert.match(
      reasons(before),
      new RegExp(`signer ci: expired at .* \\(signed at ${SIGNED_ISO.replace(/\./g, '\\.')}\\)`),
    );
    const notYet = await validity('validFrom', SIGNED.getTime() + 1000);
    assert.equal(notYet.decision, 'deny');
    assert.match(reasons(notYet), /not valid before/);
    const since = await validity('validFrom', SIGNED.getTime() - HOUR);
    assert.equal(since.decision, 'allow', reasons(since));
  });

  test('revocation after the signing time keeps timestamped evidence; before it denies', async () => {
    const revoked = (ms: number) =>
      `      revoked:\n        at: ${iso(ms)}\n        reason: leaked\n`;
    const later = evaluate(await policy(ci(exact(), revoked(SIGNED.getTime() + HOUR))), [github]);
    assert.equal(later.decision, 'allow', reasons(later));
    const earlier = evaluate(await policy(ci(exact(), revoked(SIGNED.getTime() - HOUR))), [github]);
    assert.equal(earlier.decision, 'deny');
    assert.match(reasons(earlier), /signer ci: revoked at .* \(leaked\) \(signed at /);

    // The same revocation on a key whose evidence has no trusted time denies:
    // it is judged as signed now, after the revocation.
    const keyRevoked = await policy(aliceSigner(revoked(SIGNED.getTime() + HOUR)));
    const k = evaluate(keyRevoked, [keyed]);
    assert.equal(k.decision, 'deny');
    assert.equal(k.evidence[0]?.timeSource, 'none');
    assert.match(reasons(k), /signer alice: revoked at .*judged as signed now/);
    // …and the key's evidence is fine when the revocation is still ahead.
    const keyLater = await policy(aliceSigner(revoked(NOW.getTime() + HOUR)));
    assert.equal(evaluate(keyLater, [keyed]).decision, 'allow');
  });

  test('minSigners 2: a key and a keyless identity allow; one identity twice denies', async () => {
    const two = `require:
  - name: provenance
    predicateType: slsaprovenance
    minSigners: 2
`;
    const p = await policy(`${aliceSigner()}${ci(exact())}`, two);
    const both = evaluate(p, [keyed, github]);
    assert.equal(both.decision, 'allow', reasons(both));
    assert.match(reasons(both), /2 distinct signer identities \(alice, ci\)/);

    const twice = evaluate(p, [github, githubAgain]);
    assert.deepEqual(
      twice.evidence.map((e) => e.accepted),
      [true, true],
    );
    assert.equal(twice.decision, 'deny');
    assert.match(reasons(twice), /1 distinct signer identity \(ci\) over 2 bundle\(s\); need 2/);

    // Two signer names for the one identity still count once.
    const aliases = await policy(
      `${ci(exact())}    - name: ci-any
      keyless:
        issuer: ${ISSUER}
        subjectRegExp: 'https://github\\.com/example/.*'
`,
      `require:
  - name: provenance
    predicateType: slsaprovenance
    signers: [ci, ci-any]
    minSigners: 2
`,
    );
    const alias = evaluate(aliases, [github, githubAgain]);
    assert.equal(alias.decision, 'deny');
    assert.match(reasons(alias), /1 distinct signer identity \(ci\/ci-any\)/);
  });

  test('a keyless bundle with a flipped certificate byte is dropped with a reason', async () => {
    const p = await policy(ci(exact()));
    const b = JSON.parse(github) as {
      verificationMaterial: { certificate: { rawBytes: string } };
    };
    const der = Buffer.from(b.verificationMaterial.certificate.rawBytes, 'base64');
    // Flip one byte inside the SAN: the certificate still parses, with another subject.
    const at = der.indexOf(Buffer.from('example/repo'));
    assert.ok(at > 0, 'the SAN is in the certificate');
    der[at] = (der[at] as number) ^ 0x01;
    b.verificationMaterial.certificate.rawBytes = der.toString('base64');
    const v = evaluate(p, [JSON.stringify(b), github]);
    assert.equal(v.evidence[0]?.accepted, false);
    assert.deepEqual(v.evidence[0]?.signers, []);
    assert.match(v.evidence[0]?.reasons.join('\n') ?? '', /certificate|signature|sigstore/i);
    assert.equal(v.evidence[1]?.accepted, true, 'the untouched bundle still verifies');
    assert.equal(evaluate(p, [JSON.stringify(b)]).decision, 'deny');
  });
});
