import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { bundleFromJSON } from '@sigstore/bundle';
import { pae } from '../core/dsse.ts';
import { makeStatement, type Statement } from '../core/statement.ts';
import { BUNDLE_MEDIA_TYPE, signStatement } from './bundle.ts';
import { loadSigningKey, loadVerificationKey } from './keys.ts';
import { opensslKeys, opensslVerifies } from './testkit.ts';
import type { BundleVerdict, TrustPolicy } from './types.ts';
import { verifyBundle } from './verify.ts';

const ARTIFACT = Buffer.from('the artifact bytes\n');
const ARTIFACT_SHA256 = createHash('sha256').update(ARTIFACT).digest('hex');
const STATEMENT: Statement = makeStatement(
  [{ name: 'artifact.bin', digest: { sha256: ARTIFACT_SHA256 } }],
  'https://example.com/predicate/v1',
  { note: 'round trip' },
);

type BundleJson = {
  mediaType: string;
  verificationMaterial: { publicKey?: { hint: string }; tlogEntries?: unknown[] };
  dsseEnvelope: {
    payload: string;
    payloadType: string;
    signatures: Array<{ sig: string; keyid: string }>;
  };
};

function failed(v: BundleVerdict): string[] {
  return v.checks.filter((c) => !c.ok).map((c) => c.name);
}

describe('signStatement with a key, then verifyBundle', () => {
  const keys = opensslKeys();

  for (const k of keys) {
    test(`${k.name}: bundle v0.3 round trip`, async () => {
      const key = loadSigningKey(k.pem, 'key.pem', k.passphrase);
      const bundle = (await signStatement(STATEMENT, { mode: 'key', key })) as BundleJson;
      assert.equal(bundle.mediaType, BUNDLE_MEDIA_TYPE);
      assert.equal(bundle.verificationMaterial.publicKey?.hint, key.keyid);
      assert.equal(
        bundle.verificationMaterial.tlogEntries?.length ?? 0,
        0,
        'no log entries in key mode',
      );
      assert.equal(bundle.dsseEnvelope.payloadType, 'application/vnd.in-toto+json');
      assert.deepEqual(
        JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString()),
        STATEMENT,
      );
      assert.doesNotThrow(() => bundleFromJSON(bundle));
      // The signature is over the DSSE PAE, as openssl confirms on its own.
      const message = pae(
        bundle.dsseEnvelope.payloadType,
        Buffer.from(bundle.dsseEnvelope.payload, 'base64'),
      );
      const sig = Buffer.from(bundle.dsseEnvelope.signatures[0]?.sig ?? '', 'base64');
      assert.ok(opensslVerifies(key.algorithm, k.publicPem, message, sig));

      const policy: TrustPolicy = {
        mode: 'key',
        keys: [loadVerificationKey(k.publicPem, 'key.pub')],
      };
      for (const artifact of [
        { bytes: ARTIFACT },
        { digest: { algorithm: 'sha256' as const, hex: ARTIFACT_SHA256 } },
      ]) {
        const v = verifyBundle(bundle, 'b.json', artifact, policy);
        assert.deepEqual(failed(v), []);
        assert.equal(v.ok, true);
        assert.deepEqual(v.signers, [{ kind: 'key', keyid: key.keyid }]);
        assert.deepEqual(v.statement, STATEMENT);
      }
    });
  }

  describe('tampering is rejected', async () => {
    const k = keys.find((x) => x.name === 'P-384 PKCS#8');
    const other = keys.find((x) => x.name === 'P-256 PKCS#8');
    assert.ok(k && other);
    const key = loadSigningKey(k.pem, 'key.pem');
    const policy: TrustPolicy = { mode: 'key', keys: [loadVerificationKey(k.publicPem, 'k.pub')] };
    const good = (await signStatement(STATEMENT, { mode: 'key', key })) as BundleJson;
    const copy = (): BundleJson => structuredClone(good);
    const check = (
      b: unknown,
      expectFailed: string,
      artifact: { bytes: Buffer } = { bytes: ARTIFACT },
    ) => {
      const v = verifyBundle(b, 'tampered.json', artifact, policy);
      assert.equal(v.ok, false);
      assert.ok(
        failed(v).includes(expectFailed),
        `expected ${expectFailed} to fail, got ${failed(v).join(',')}`,
      );
      assert.equal(v.statement, undefined);
      assert.deepEqual(v.signers, []);
    };

    test('the untouched bundle verifies (control)', () => {
      assert.equal(verifyBundle(good, 'good.json', { bytes: ARTIFACT }, policy).ok, true);
    });
    test('a byte of the payload flipped', () => {
      const b = copy();
      const payload = Buffer.from(b.dsseEnvelope.payload, 'base64');
      payload[payload.indexOf('round trip')] = 'R'.charCodeAt(0);
      b.dsseEnvelope.payload = payload.toString('base64');
      check(b, 'signature');
    });
    test('a byte of the signature flipped', () => {
      const b = copy();
      const sig = Buffer.from(b.dsseEnvelope.signatures[0]?.sig ?? '', 'base64');
      sig.writeUInt8(sig.readUInt8(sig.length - 3) ^ 0x01, sig.length - 3);
      (b.dsseEnvelope.signatures[0] as { sig: string }).sig = sig.toString('base64');
      check(b, 'signature');
    });
    test('another trusted key', () => {
      const v = verifyBundle(
        good,
        'b.json',
        { bytes: ARTIFACT },
        {
          mode: 'key',
          keys: [loadVerificationKey(other.publicPem, 'other.pub')],
        },
      );
      assert.equal(v.ok, false);
      assert.deepEqual(failed(v), ['signature']);
    });
    test('an artifact the statement is not about', () => {
      check(good, 'subject', { bytes: Buffer.from('another artifact') });
    });
    test('a statement about another digest, validly signed, against our artifact', async () => {
      const st = makeStatement(
        [{ name: 'x', digest: { sha256: 'ab'.repeat(32) } }],
        'https://example.com/p',
        {},
      );
      check(await signStatement(st, { mode: 'key', key }), 'subject');
    });
    test('payloadType changed', () => {
      const b = copy();
      b.dsseEnvelope.payloadType = 'application/json';
      const v = verifyBundle(b, 'b.json', { bytes: ARTIFACT }, policy);
      assert.equal(v.ok, false);
      assert.deepEqual(failed(v).sort(), ['payload-type', 'signature']);
    });
    test('signatures removed', () => {
      const b = copy();
      b.dsseEnvelope.signatures = [];
      check(b, 'bundle-format');
    });
    test('a media type we do not know', () => {
      const b = copy();
      b.mediaType = 'application/vnd.dev.sigstore.bundle.v9.9+json';
      check(b, 'bundle-format');
    });
    test('no trusted keys', () => {
      const v = verifyBundle(good, 'b.json', { bytes: ARTIFACT }, { mode: 'key', keys: [] });
      assert.equal(v.ok, false);
    });
  });
});
