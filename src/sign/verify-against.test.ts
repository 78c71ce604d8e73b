// verifyBundleAgainst: one trust set holding keys and keyless identities at
// once, with real keyless bundles from @sigstore/mock's Fulcio, Rekor and TSA.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { makeStatement } from '../core/statement.ts';
import { signStatement } from './bundle.ts';
import { generateKeyPair, loadSigningKey, loadVerificationKey } from './keys.ts';
import { identityToken, type MockSigstore, startMockSigstore } from './testing-keyless.ts';
import type { BundleVerdict, TrustAnchors } from './types.ts';
import { verifyBundle, verifyBundleAgainst } from './verify.ts';

const ISSUER = 'https://token.actions.githubusercontent.com';
const SUBJECT = 'https://github.com/example/repo/.github/workflows/release.yml@refs/heads/main';
const ARTIFACT = Buffer.from('verify against artifact\n');
const HEX = createHash('sha256').update(ARTIFACT).digest('hex');
const DIGEST = { digest: { algorithm: 'sha256' as const, hex: HEX } };
const STATEMENT = makeStatement(
  [{ name: 'a', digest: { sha256: HEX } }],
  'https://example.com/predicate/v1',
  {},
);

const alice = generateKeyPair('ecdsa-p256', undefined);
const bob = generateKeyPair('ed25519', undefined);
const mallory = generateKeyPair('ecdsa-p256', undefined);
const verificationKey = (k: { publicKeyPem: string }, name: string) =>
  loadVerificationKey(k.publicKeyPem, name);
const keySigned = async (k: { privateKeyPem: string }, name: string) =>
  signStatement(STATEMENT, { mode: 'key', key: loadSigningKey(k.privateKeyPem, name) });

const failed = (v: BundleVerdict) =>
  v.checks
    .filter((c) => !c.ok)
    .map((c) => `${c.name}: ${c.detail}`)
    .join(' | ');

describe('verifyBundleAgainst: keys and keyless identities in one trust set', () => {
  let mock: MockSigstore;
  let keyless: object;
  let anchors: TrustAnchors;
  const aliceKey = verificationKey(alice, 'alice.pub');
  const bobKey = verificationKey(bob, 'bob.pub');

  before(async () => {
    mock = await startMockSigstore();
    keyless = await signStatement(STATEMENT, {
      mode: 'keyless',
      identityToken: identityToken({
        iss: ISSUER,
        sub: SUBJECT,
        aud: 'sigstore',
        repository: 'example/repo',
        ref: 'refs/heads/main',
        workflow: 'release',
      }),
      fulcioURL: mock.base,
      rekorURL: mock.base,
      tsaURL: mock.base,
    });
    anchors = {
      keys: [aliceKey, bobKey],
      trustedRoot: mock.trustedRoot,
      identities: [
        { issuer: 'https://accounts.example.com', subject: 'someone@example.com' },
        { issuer: ISSUER, subjectRegExp: 'https://github\\.com/example/repo/.*' },
      ],
    };
  });

  after(() => mock.close());

  test('a key-signed bundle reports the key that verified it, and no trusted time', async () => {
    for (const [k, key] of [
      [alice, aliceKey],
      [bob, bobKey],
    ] as const) {
      const v = verifyBundleAgainst(await keySigned(k, 'k'), 'k.json', DIGEST, anchors);
      assert.equal(v.ok, true, failed(v));
      assert.deepEqual(v.signers, [{ kind: 'key', keyid: key.keyid }]);
      assert.deepEqual(v.timestamps, [], 'no log entry: nothing timestamps it');
      assert.deepEqual(v.statement, STATEMENT);
    }
    const m = verifyBundleAgainst(await keySigned(mallory, 'm'), 'm.json', DIGEST, anchors);
    assert.equal(m.ok, false);
    assert.deepEqual(m.signers, []);
    assert.match(failed(m), /signature: .*2 trusted key/);
  });

  test('a keyless bundle reports its certificate identity, Fulcio claims and verified times', () => {
    const v = verifyBundleAgainst(keyless, 'keyless.json', DIGEST, anchors);
    assert.equal(v.ok, true, failed(v));
    assert.equal(v.signers.length, 1);
    const s = v.signers[0];
    assert.ok(s?.kind === 'certificate');
    assert.equal(s.subject, SUBJECT);
    assert.equal(s.issuer, ISSUER);
    // v1 extensions are raw strings, v2 (.8 and up) DER UTF8Strings: both decoded to text.
    assert.deepEqual(s.extensions, {
      '1.3.6.1.4.1.57264.1.1': ISSUER,
      '1.3.6.1.4.1.57264.1.8': ISSUER,
      '1.3.6.1.4.1.57264.1.4': 'release',
      '1.3.6.1.4.1.57264.1.5': 'example/repo',
      '1.3.6.1.4.1.57264.1.12': 'https://github.com/example/repo',
      '1.3.6.1.4.1.57264.1.6': 'refs/heads/main',
      '1.3.6.1.4.1.57264.1.14': 'refs/heads/main',
    });
    const time = mock.clock.toISOString();
    assert.deepEqual(
      [...(v.timestamps ?? [])].sort((a, b) => a.kind.localeCompare(b.kind)),
      [
        { kind: 'timestamp-authority', time },
        { kind: 'transparency-log', time },
      ],
    );
    // The single-policy verifier says the same, without the extras.
    const single = verifyBundle(keyless, 'keyless.json', DIGEST, {
      mode: 'keyless',
      trustedRoot: mock.trustedRoot,
      identity: { issuer: ISSUER, subject: SUBJECT },
    });
    assert.equal(single.ok, true, failed(single));
    assert.deepEqual(single.signers, [{ kind: 'certificate', subject: SUBJECT, issuer: ISSUER }]);
    assert.equal(single.timestamps, undefined);
  });

  test('a keyless bundle whose identity is not in the set fails, naming how many were tried', () => {
    const others: TrustAnchors = {
      ...anchors,
      identities: [
        { issuer: ISSUER, subjectRegExp: 'https://github\\.com/example/repo' },
        { issuer: 'https://accounts.example.com', subject: SUBJECT },
      ],
    };
    const v = verifyBundleAgainst(keyless, 'keyless.json', DIGEST, others);
    assert.equal(v.ok, false);
    assert.deepEqual(v.signers, []);
    assert.deepEqual(v.timestamps, []);
    assert.match(failed(v), /identity: .*matches none of 2 trusted identities/);

    const keysOnly = verifyBundleAgainst(keyless, 'k', DIGEST, { ...anchors, identities: [] });
    assert.equal(keysOnly.ok, false);
    assert.match(failed(keysOnly), /no keyless identities are trusted/);

    const { trustedRoot: _, ...noRoot } = anchors;
    const rootless = verifyBundleAgainst(keyless, 'k', DIGEST, noRoot);
    assert.equal(rootless.ok, false);
    assert.match(failed(rootless), /trusted-root: no trusted root/);
  });

  test('the artifact binds: another digest fails both kinds', async () => {
    const other = { digest: { algorithm: 'sha256' as const, hex: 'ab'.repeat(32) } };
    for (const b of [keyless, await keySigned(alice, 'a')]) {
      const v = verifyBundleAgainst(b, 'b.json', other, anchors);
      assert.equal(v.ok, false);
      assert.deepEqual(v.signers, []);
      assert.match(failed(v), /subject: statement has no subject/);
    }
  });

  test('a flipped certificate byte fails and reports no signer', () => {
    const b = structuredClone(keyless) as {
      verificationMaterial: { certificate: { rawBytes: string } };
    };
    const der = Buffer.from(b.verificationMaterial.certificate.rawBytes, 'base64');
    const at = der.indexOf(Buffer.from('refs/heads/main'));
    assert.ok(at > 0);
    der[at] = (der[at] as number) ^ 0x01;
    b.verificationMaterial.certificate.rawBytes = der.toString('base64');
    const v = verifyBundleAgainst(b, 'tampered.json', DIGEST, anchors);
    assert.equal(v.ok, false);
    assert.deepEqual(v.signers, []);
    assert.deepEqual(v.timestamps, []);
    assert.match(failed(v), /certificate|signature/i);
  });
});
