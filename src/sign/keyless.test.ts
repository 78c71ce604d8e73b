// Keyless signing end to end against @sigstore/mock's Fulcio, Rekor and TSA,
// served from a local HTTP server (the mock's own helpers patch the network
// with nock; a real socket exercises sigstore-js's HTTP client unchanged).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import * as sigstoreSign from '@sigstore/sign';
import { makeStatement } from '../core/statement.ts';
import { signStatement } from './bundle.ts';
import { identityToken, type MockSigstore, startMockSigstore } from './testing-keyless.ts';
import { DEFAULT_FULCIO_URL, DEFAULT_REKOR_URL, type TrustPolicy } from './types.ts';
import { verifyBundle } from './verify.ts';

const ISSUER = 'https://issuer.example.com';
const SUBJECT = 'https://github.com/example/repo/.github/workflows/release.yml@refs/heads/main';
const ARTIFACT = Buffer.from('keyless artifact');
const STATEMENT = makeStatement(
  [{ name: 'a', digest: { sha256: createHash('sha256').update(ARTIFACT).digest('hex') } }],
  'https://example.com/predicate/v1',
  {},
);

describe('keyless signing with @sigstore/mock', () => {
  let mock: MockSigstore;
  let base: string;
  let trustedRoot: Record<string, unknown>;
  let requests: string[];

  before(async () => {
    mock = await startMockSigstore();
    ({ base, trustedRoot, requests } = mock);
  });

  after(() => mock.close());

  const policy = (issuer = ISSUER, subject = SUBJECT): TrustPolicy => ({
    mode: 'keyless',
    trustedRoot,
    identity: { issuer, subject },
  });

  test('signs with a Fulcio certificate, a Rekor entry and a TSA timestamp, and verifies', async () => {
    const token = identityToken({ iss: ISSUER, sub: SUBJECT, aud: 'sigstore' });
    const bundle = (await signStatement(STATEMENT, {
      mode: 'keyless',
      identityToken: token,
      fulcioURL: base,
      rekorURL: base,
      tsaURL: base,
    })) as {
      mediaType: string;
      verificationMaterial: {
        certificate?: unknown;
        tlogEntries: Array<{ kindVersion: { kind: string } }>;
        timestampVerificationData?: { rfc3161Timestamps: unknown[] };
      };
    };
    assert.deepEqual(requests.sort(), [
      '/api/v1/log/entries',
      '/api/v1/timestamp',
      '/api/v2/signingCert',
    ]);
    assert.equal(bundle.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    assert.ok(bundle.verificationMaterial.certificate, 'a single leaf certificate, as v0.3 wants');
    assert.equal(bundle.verificationMaterial.tlogEntries.length, 1);
    assert.equal(bundle.verificationMaterial.tlogEntries[0]?.kindVersion.kind, 'dsse');
    assert.equal(
      bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps.length,
      1,
    );

    const v = verifyBundle(bundle, 'keyless.json', { bytes: ARTIFACT }, policy());
    assert.equal(
      v.ok,
      true,
      v.checks
        .filter((c) => !c.ok)
        .map((c) => `${c.name}: ${c.detail}`)
        .join(' | '),
    );
    assert.deepEqual(v.signers, [{ kind: 'certificate', subject: SUBJECT, issuer: ISSUER }]);
    assert.deepEqual(v.statement, STATEMENT);

    assert.equal(
      verifyBundle(bundle, 'k', { bytes: ARTIFACT }, policy('https://other.example.com')).ok,
      false,
    );
    assert.equal(
      verifyBundle(bundle, 'k', { bytes: ARTIFACT }, policy(ISSUER, `${SUBJECT}x`)).ok,
      false,
    );
    assert.equal(verifyBundle(bundle, 'k', { bytes: Buffer.from('other') }, policy()).ok, false);
    // Against the real public-good root the mock's CA is not trusted.
    const { publicGoodTrustedRoot } = await import('./trusted-root.ts');
    const pg = verifyBundle(
      bundle,
      'k',
      { bytes: ARTIFACT },
      { ...policy(), trustedRoot: publicGoodTrustedRoot() },
    );
    assert.equal(pg.ok, false);
  });

  test('without a token and outside CI, signing fails with IDENTITY_TOKEN_MISSING', async () => {
    const saved = { ...process.env };
    for (const k of Object.keys(process.env)) {
      if (/^(ACTIONS_ID_TOKEN|GITLAB|CI_|SIGSTORE_ID_TOKEN)/.test(k)) delete process.env[k];
    }
    try {
      await assert.rejects(
        signStatement(STATEMENT, { mode: 'keyless', fulcioURL: base, rekorURL: base }),
        { code: 'IDENTITY_TOKEN_MISSING' },
      );
    } finally {
      process.env = saved;
    }
  });

  test('a Fulcio refusal is SIGNING_FAILED', async () => {
    await assert.rejects(
      signStatement(STATEMENT, {
        mode: 'keyless',
        identityToken: identityToken({ iss: ISSUER, sub: SUBJECT }),
        fulcioURL: `${base}/nowhere`,
        rekorURL: base,
      }),
      { code: 'SIGNING_FAILED' },
    );
  });
});

test('the default keyless endpoints are the ones @sigstore/sign uses', () => {
  assert.equal(DEFAULT_FULCIO_URL, sigstoreSign.DEFAULT_FULCIO_URL);
  assert.equal(DEFAULT_REKOR_URL, sigstoreSign.DEFAULT_REKOR_URL);
});
