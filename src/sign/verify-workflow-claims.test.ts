// GitHub Actions claims on a keyless identity (cosign's
// --certificate-github-workflow-* flags): the matcher on decoded Fulcio
// extensions, and verifyBundle / verifyBundleAgainst on sigstore-python's
// bundle_v3_github.whl, a real public-good bundle signed by
// trailofbits/rfc8785.py's release workflow.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { SHARED } from '../../test/shared.ts';
import { publicGoodTrustedRoot } from './trusted-root.ts';
import type { Check, KeylessIdentity } from './types.ts';
import {
  checkWorkflowClaims,
  verifyBundle,
  verifyBundleAgainst,
  WORKFLOW_CLAIMS,
} from './verify.ts';

const oid = (arc: number) => `1.3.6.1.4.1.57264.1.${arc}`;

/** The claims of the whl's certificate, legacy (raw) and DER, as sign decodes them. */
const BOTH: Record<string, string> = {
  [oid(2)]: 'release',
  [oid(3)]: 'd8b4a6445f38c48b9137a8099706d9b8073146e4',
  [oid(4)]: 'release',
  [oid(5)]: 'trailofbits/rfc8785.py',
  [oid(6)]: 'refs/tags/v0.1.2',
  [oid(12)]: 'https://github.com/trailofbits/rfc8785.py',
  [oid(13)]: 'd8b4a6445f38c48b9137a8099706d9b8073146e4',
  [oid(14)]: 'refs/tags/v0.1.2',
  [oid(20)]: 'release',
};
const LEGACY_ONLY = Object.fromEntries(
  Object.entries(BOTH).filter(([k]) => Number(k.split('.').pop()) < 8),
);
const DER_ONLY = Object.fromEntries(
  Object.entries(BOTH).filter(([k]) => Number(k.split('.').pop()) >= 8),
);

const ISSUER = 'https://token.actions.githubusercontent.com';
const SUBJECT =
  'https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2';
const CLAIMS = {
  repository: 'trailofbits/rfc8785.py',
  ref: 'refs/tags/v0.1.2',
  sha: 'd8b4a6445f38c48b9137a8099706d9b8073146e4',
  workflowName: 'release',
  trigger: 'release',
} satisfies Partial<KeylessIdentity>;

function run(identity: Partial<KeylessIdentity>, ext: Record<string, string>) {
  const checks: Check[] = [];
  const ok = checkWorkflowClaims({ issuer: ISSUER, ...identity }, ext, (name, ok, detail) =>
    checks.push({ name, ok, detail }),
  );
  return { ok, checks };
}

describe('checkWorkflowClaims (GitHub Actions claims against Fulcio extensions)', () => {
  test('the table maps each cosign flag to its DER and legacy OIDs', () => {
    assert.deepEqual(
      WORKFLOW_CLAIMS.map((c) => [c.check, c.sources.map((s) => s.oid.split('.').pop())]),
      [
        ['certificate-github-workflow-trigger', ['20', '2']],
        ['certificate-github-workflow-sha', ['13', '3']],
        ['certificate-github-workflow-name', ['4']],
        ['certificate-github-workflow-repository', ['12', '5']],
        ['certificate-github-workflow-ref', ['14', '6']],
      ],
    );
  });

  test('no claims asked: no checks, passes', () => {
    assert.deepEqual(run({}, {}), { ok: true, checks: [] });
  });

  for (const [name, ext] of [
    ['legacy and DER', BOTH],
    ['legacy only (an older Fulcio)', LEGACY_ONLY],
    ['DER only', DER_ONLY],
  ] as const) {
    test(`the five claims on a certificate with ${name} extensions`, () => {
      const { ok, checks } = run(CLAIMS, ext);
      // The workflow name has no DER successor: a DER-only certificate cannot prove it.
      const nameOk = name !== 'DER only';
      assert.equal(ok, nameOk);
      assert.deepEqual(
        checks.map((c) => [c.name, c.ok]),
        [
          ['certificate-github-workflow-trigger', true],
          ['certificate-github-workflow-sha', true],
          ['certificate-github-workflow-name', nameOk],
          ['certificate-github-workflow-repository', true],
          ['certificate-github-workflow-ref', true],
        ],
      );
    });
  }

  test('a wrong value fails with expected and every actual value named', () => {
    const { ok, checks } = run({ repository: 'trailofbits/other' }, BOTH);
    assert.equal(ok, false);
    assert.equal(checks.length, 1);
    assert.equal(
      checks[0]?.detail,
      `expected workflow repository "trailofbits/other", certificate has "trailofbits/rfc8785.py" (extension ${oid(12)}), "trailofbits/rfc8785.py" (extension ${oid(5)})`,
    );
  });

  test('a missing extension fails closed, naming the OIDs looked for', () => {
    const { ok, checks } = run({ ref: 'refs/tags/v0.1.2' }, { [oid(1)]: ISSUER });
    assert.equal(ok, false);
    assert.equal(
      checks[0]?.detail,
      `expected workflow ref "refs/tags/v0.1.2", but the certificate has no workflow ref extension (${oid(14)} or ${oid(6)})`,
    );
  });

  test('matching is exact: no prefix, case folding, or URL form of the repository', () => {
    for (const repository of [
      'trailofbits',
      'TrailOfBits/rfc8785.py',
      'https://github.com/trailofbits/rfc8785.py',
      'trailofbits/rfc8785.py/',
    ])
      assert.equal(run({ repository }, BOTH).ok, false, repository);
    assert.equal(run({ sha: 'd8b4a644' }, BOTH).ok, false);
    assert.equal(run({ ref: 'v0.1.2' }, BOTH).ok, false);
  });

  test('a source-repository URL on another host is not read as owner/repo (GitHub Enterprise: the legacy .5 still matches)', () => {
    const ghes = { [oid(12)]: 'https://ghe.example/acme/app', [oid(5)]: 'acme/app' };
    assert.equal(run({ repository: 'acme/app' }, ghes).ok, true);
    assert.equal(
      run({ repository: 'acme/app' }, { [oid(12)]: 'https://ghe.example/acme/app' }).ok,
      false,
    );
  });
});

const ASSETS = `${SHARED}/vectors/sigstore/sigstore-python/assets`;
const WHL = `${ASSETS}/bundle_v3_github.whl`;

describe('verifyBundle with GitHub Actions claims (real public-good bundle)', {
  skip: existsSync(WHL) ? false : `no vectors at ${ASSETS}`,
}, () => {
  const bundle = () => readFileSync(`${WHL}.sigstore`, 'utf8');
  const artifact = () => ({ bytes: readFileSync(WHL) });
  const keyless = (claims: Partial<KeylessIdentity>) =>
    verifyBundle(bundle(), 'whl', artifact(), {
      mode: 'keyless',
      trustedRoot: publicGoodTrustedRoot(),
      identity: { issuer: ISSUER, subject: SUBJECT, ...claims },
    });

  test('right claims verify; each wrong one fails only its own check', () => {
    const good = keyless(CLAIMS);
    assert.equal(good.ok, true, JSON.stringify(good.checks));
    for (const field of Object.keys(CLAIMS) as Array<keyof typeof CLAIMS>) {
      const bad = keyless({ ...CLAIMS, [field]: 'nope' });
      assert.equal(bad.ok, false);
      assert.deepEqual(bad.signers, []);
      const failed = bad.checks.filter((c) => !c.ok);
      assert.equal(failed.length, 1, JSON.stringify(failed));
      assert.match(failed[0]?.name ?? '', /^certificate-github-workflow-/);
      assert.match(failed[0]?.detail ?? '', /expected .*"nope", certificate has/);
    }
  });

  test('verifyBundleAgainst: an identity whose claims do not match is not the signer', () => {
    const anchors = (repository: string) => ({
      keys: [],
      trustedRoot: publicGoodTrustedRoot(),
      identities: [
        { issuer: ISSUER, subject: SUBJECT, repository },
        {
          issuer: ISSUER,
          subject: 'https://github.com/x/y/.github/workflows/a.yml@refs/heads/main',
        },
      ],
    });
    const ok = verifyBundleAgainst(bundle(), 'whl', artifact(), anchors('trailofbits/rfc8785.py'));
    assert.equal(ok.ok, true);
    assert.equal(ok.signers.length, 1);
    const bad = verifyBundleAgainst(bundle(), 'whl', artifact(), anchors('evil/rfc8785.py'));
    assert.equal(bad.ok, false);
    assert.equal(bad.checks.find((c) => c.name === 'identity')?.ok, false);
  });
});
