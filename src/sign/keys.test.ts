import assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SHARED } from '../../test/shared.ts';
import { canonicalizeOlpc } from '../core/canonical.ts';
import { envelopeFromJson, pae, verifyEnvelope } from '../core/dsse.ts';
import { isVouchError } from '../core/errors.ts';
import { generateKeyPair, loadSigningKey, loadVerificationKey } from './keys.ts';
import { openssl, opensslKeys, opensslVerifies, PASSPHRASE, withTempDir } from './testkit.ts';

const VECTORS = `${SHARED}/vectors`;
const MESSAGE = pae('application/vnd.in-toto+json', Buffer.from('{"hello":"world"}'));

function spkiSha256(publicPem: string): string {
  return createHash('sha256')
    .update(createPublicKey(publicPem).export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/** Asserts a VouchError with `code` whose message names `file` and leaks no PEM body. */
function assertVouchError(fn: () => unknown, code: string, file: string, pem?: string): Error {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(isVouchError(caught), `expected a VouchError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.file, file);
  assert.ok(caught.message.includes(file), `message should name ${file}: ${caught.message}`);
  if (pem) {
    for (const line of pem.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))) {
      assert.ok(
        !caught.message.includes(line.slice(0, 16)),
        'message must not contain key material',
      );
    }
  }
  return caught;
}

describe('keys made by openssl', () => {
  const keys = opensslKeys();

  for (const k of keys) {
    test(`${k.name}: loads, signs with the right hash, verifies`, () => {
      assert.ok(
        k.pem.startsWith(`-----BEGIN ${k.label}-----`),
        'openssl wrote the intended format',
      );
      const key = loadSigningKey(k.pem, 'key.pem', k.passphrase);
      assert.equal(key.algorithm, k.algorithm);
      assert.equal(key.keyid, spkiSha256(k.publicPem));
      assert.equal(key.publicKeyPem, k.publicPem);
      return key.sign(MESSAGE).then((sig) => {
        // openssl, not Node, judges the signature, with the hash the algorithm demands.
        assert.ok(opensslVerifies(k.algorithm, k.publicPem, MESSAGE, sig), 'openssl verifies');
        if (k.algorithm.startsWith('ecdsa')) assert.equal(sig[0], 0x30, 'ECDSA signature is DER');
        if (k.algorithm === 'ecdsa-p384') {
          assert.ok(
            !opensslVerifies('ecdsa-p256', k.publicPem, MESSAGE, sig),
            'P-384 is not signed over SHA-256',
          );
        }
        const vk = loadVerificationKey(k.publicPem, 'key.pub');
        assert.equal(vk.algorithm, k.algorithm);
        assert.equal(vk.keyid, key.keyid);
        assert.equal(vk.verify(MESSAGE, sig), true);
        const tampered = Buffer.from(MESSAGE);
        tampered.writeUInt8(tampered.readUInt8(tampered.length - 2) ^ 1, tampered.length - 2);
        assert.equal(vk.verify(tampered, sig), false);
      });
    });
  }

  test('encrypted keys: missing and wrong passphrase are distinct KEY_PASSPHRASE errors', () => {
    for (const k of keys.filter((x) => x.passphrase !== undefined)) {
      const missing = assertVouchError(
        () => loadSigningKey(k.pem, 'enc.pem'),
        'KEY_PASSPHRASE',
        'enc.pem',
        k.pem,
      );
      assert.match(missing.message, /needs a passphrase: set VOUCH_PASSPHRASE/);
      const wrong = assertVouchError(
        () => loadSigningKey(k.pem, 'enc.pem', 'not the passphrase'),
        'KEY_PASSPHRASE',
        'enc.pem',
        k.pem,
      );
      assert.match(wrong.message, /wrong passphrase/);
    }
  });

  test('a plain RSA key signs PSS on request, and verification falls back to PSS', async () => {
    const rsa = keys.find((k) => k.label === 'RSA PRIVATE KEY' && !k.passphrase);
    assert.ok(rsa);
    const key = loadSigningKey(rsa.pem, 'rsa.pem', undefined, { rsaPadding: 'pss' });
    assert.equal(key.algorithm, 'rsa-pss');
    const sig = await key.sign(MESSAGE);
    assert.ok(opensslVerifies('rsa-pss', rsa.publicPem, MESSAGE, sig));
    assert.ok(!opensslVerifies('rsa-pkcs1v15', rsa.publicPem, MESSAGE, sig), 'it really is PSS');
    assert.equal(loadVerificationKey(rsa.publicPem, 'rsa.pub').verify(MESSAGE, sig), true);
  });

  test('verification keys from a PKCS#1 RSA public key and from a certificate', () => {
    const rsa = keys.find((k) => k.label === 'RSA PRIVATE KEY' && !k.passphrase);
    const ec = keys.find((k) => k.name === 'P-256 PKCS#8');
    assert.ok(rsa && ec);
    withTempDir((dir) => {
      writeFileSync(join(dir, 'rsa.pem'), rsa.pem);
      const pkcs1 = openssl(['rsa', '-in', join(dir, 'rsa.pem'), '-RSAPublicKey_out']).toString();
      assert.match(pkcs1, /BEGIN RSA PUBLIC KEY/);
      assert.equal(loadVerificationKey(pkcs1, 'rsa1.pub').keyid, spkiSha256(rsa.publicPem));

      writeFileSync(join(dir, 'ec.pem'), ec.pem);
      const cert = openssl([
        'req',
        '-x509',
        '-new',
        '-key',
        join(dir, 'ec.pem'),
        '-subj',
        '/CN=vouch test',
        '-days',
        '1',
      ]).toString();
      const vk = loadVerificationKey(cert, 'cert.pem');
      assert.equal(vk.algorithm, 'ecdsa-p256');
      assert.equal(vk.keyid, spkiSha256(ec.publicPem));
    });
  });

  test('a public key where a private key is expected says what it found', () => {
    const ec = keys[0];
    assert.ok(ec);
    const e = assertVouchError(
      () => loadSigningKey(ec.publicPem, 'oops.pem'),
      'KEY_MALFORMED',
      'oops.pem',
    );
    assert.match(e.message, /expected a PEM private key .*found "PUBLIC KEY"/);
  });
});

describe('generateKeyPair', () => {
  for (const algorithm of ['ecdsa-p256', 'ecdsa-p384', 'ed25519'] as const) {
    for (const passphrase of [undefined, PASSPHRASE]) {
      test(`${algorithm}, ${passphrase ? 'encrypted' : 'unencrypted'}`, async () => {
        const pair = generateKeyPair(algorithm, passphrase);
        assert.equal(pair.keyid, spkiSha256(pair.publicKeyPem));
        assert.match(pair.keyid, /^[0-9a-f]{64}$/);
        const label = passphrase ? 'ENCRYPTED PRIVATE KEY' : 'PRIVATE KEY';
        assert.ok(pair.privateKeyPem.startsWith(`-----BEGIN ${label}-----`));
        const key = loadSigningKey(pair.privateKeyPem, 'gen.pem', passphrase);
        assert.equal(key.algorithm, algorithm);
        assert.equal(key.keyid, pair.keyid);
        const sig = await key.sign(MESSAGE);
        assert.ok(opensslVerifies(algorithm, pair.publicKeyPem, MESSAGE, sig));
        if (passphrase) {
          withTempDir((dir) => {
            const file = join(dir, 'k.pem');
            writeFileSync(file, pair.privateKeyPem);
            // PBES2 with AES-256-CBC, readable by openssl with the passphrase.
            const asn1 = openssl(['asn1parse', '-in', file]).toString();
            assert.match(asn1, /PBES2/);
            assert.match(asn1, /aes-256-cbc/);
            const pub = openssl([
              'pkey',
              '-in',
              file,
              '-passin',
              `pass:${passphrase}`,
              '-pubout',
            ]).toString();
            assert.equal(pub, pair.publicKeyPem);
          });
          assertVouchError(
            () => loadSigningKey(pair.privateKeyPem, 'gen.pem'),
            'KEY_PASSPHRASE',
            'gen.pem',
          );
        }
      });
    }
  }

  test('two calls give different keys', () => {
    assert.notEqual(
      generateKeyPair('ed25519', undefined).keyid,
      generateKeyPair('ed25519', undefined).keyid,
    );
  });

  test('an empty passphrase is refused rather than silently encrypting with nothing', () => {
    assert.throws(() => generateKeyPair('ecdsa-p256', ''), { code: 'USAGE' });
  });
});

describe('rejected keys', () => {
  test('malformed and non-PEM input: KEY_MALFORMED naming the file', () => {
    const garbage =
      '-----BEGIN PRIVATE KEY-----\nTUlJQkFBQUFBQUFBQUFBQUFBQUFBQUFB\n-----END PRIVATE KEY-----\n';
    const e1 = assertVouchError(
      () => loadSigningKey(garbage, 'bad.pem'),
      'KEY_MALFORMED',
      'bad.pem',
      garbage,
    );
    assert.match(e1.message, /PRIVATE KEY/);
    const e2 = assertVouchError(
      () => loadSigningKey('hello', 'notpem.txt'),
      'KEY_MALFORMED',
      'notpem.txt',
    );
    assert.match(e2.message, /expected a PEM private key/);
    const e3 = assertVouchError(
      () => loadVerificationKey('', 'empty.pub'),
      'KEY_MALFORMED',
      'empty.pub',
    );
    assert.match(e3.message, /expected a PEM public key/);
    const truncated = garbage.slice(0, 40);
    assertVouchError(() => loadSigningKey(truncated, 'cut.pem'), 'KEY_MALFORMED', 'cut.pem');
  });

  test("the conformance suite's corrupted key.pub is KEY_MALFORMED", () => {
    const file = `${VECTORS}/sigstore/conformance/bundle-verify/managed-key-wrong-key_fail/key.pub`;
    assertVouchError(
      () => loadVerificationKey(readFileSync(file, 'utf8'), file),
      'KEY_MALFORMED',
      file,
    );
  });

  const unsupported: Array<[string, string[], RegExp]> = [
    [
      'P-521',
      ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521'],
      /ECDSA P-521/,
    ],
    [
      'secp256k1',
      ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:secp256k1'],
      /secp256k1/,
    ],
    ['Ed448', ['genpkey', '-algorithm', 'ed448'], /ED448/],
    [
      'RSA 1024',
      ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024'],
      /RSA 1024-bit/,
    ],
  ];
  for (const [name, args, re] of unsupported) {
    test(`${name}: KEY_UNSUPPORTED saying which`, () => {
      const pem = openssl(args).toString();
      const e = assertVouchError(
        () => loadSigningKey(pem, 'k.pem'),
        'KEY_UNSUPPORTED',
        'k.pem',
        pem,
      );
      assert.match(e.message, re);
      const pub = withTempDir((dir) => {
        writeFileSync(join(dir, 'k.pem'), pem);
        return openssl(['pkey', '-in', join(dir, 'k.pem'), '-pubout']).toString();
      });
      assertVouchError(() => loadVerificationKey(pub, 'k.pub'), 'KEY_UNSUPPORTED', 'k.pub');
    });
  }

  test('DSA: KEY_UNSUPPORTED', () => {
    const e = withTempDir((dir) => {
      const params = join(dir, 'p.pem');
      openssl([
        'genpkey',
        '-genparam',
        '-algorithm',
        'DSA',
        '-pkeyopt',
        'dsa_paramgen_bits:2048',
        '-out',
        params,
      ]);
      const pem = openssl(['genpkey', '-paramfile', params]).toString();
      return assertVouchError(
        () => loadSigningKey(pem, 'dsa.pem'),
        'KEY_UNSUPPORTED',
        'dsa.pem',
        pem,
      );
    });
    assert.match(e.message, /DSA keys are not supported/);
  });
});

describe('official vectors', () => {
  test('DSSE signing_spec.py vector (P-256, P1363 signature) verifies; a changed payload does not', () => {
    // Public point from the docstring of shared/vectors/intoto/dsse/signing_spec.py.
    const x = 46950820868899156662930047687818585632848591499744589407958293238635476079160n;
    const y = 5640078356564379163099075877009565129882514886557779369047442380624545832820n;
    const b64url = (n: bigint) =>
      Buffer.from(n.toString(16).padStart(64, '0'), 'hex').toString('base64url');
    const spki = createPublicKey({
      key: { kty: 'EC', crv: 'P-256', x: b64url(x), y: b64url(y) },
      format: 'jwk',
    })
      .export({ type: 'spki', format: 'pem' })
      .toString();
    const text = readFileSync(`${VECTORS}/intoto/dsse/signing_spec.py`, 'utf8');
    const sig = /'sig': '([A-Za-z0-9+/=]+)'/.exec(text)?.[1];
    assert.ok(sig, 'signature found in the docstring');
    const envelope = envelopeFromJson(
      {
        payloadType: 'http://example.com/HelloWorld',
        payload: 'aGVsbG8gd29ybGQ=',
        signatures: [{ keyid: '66301bbf', sig }],
      },
      'signing_spec.py',
    );
    const key = loadVerificationKey(spki, 'vector.pub');
    assert.deepEqual(verifyEnvelope(envelope, [key]).verifiedKeyids, [key.keyid]);
    envelope.payload = Buffer.from('hello world!');
    assert.deepEqual(verifyEnvelope(envelope, [key]).verifiedKeyids, []);
  });

  test('in-toto-golang demo.layout: RSA-PSS signature by a plain RSA key (alice.pub)', () => {
    const dir = `${VECTORS}/intoto/in-toto-golang`;
    const layout = JSON.parse(readFileSync(`${dir}/demo.layout`, 'utf8'));
    const key = loadVerificationKey(readFileSync(`${dir}/alice.pub`, 'utf8'), 'alice.pub');
    assert.equal(key.algorithm, 'rsa-pkcs1v15');
    const signed = Buffer.from(canonicalizeOlpc(layout.signed), 'utf8');
    const sig = Buffer.from(layout.signatures[0].sig, 'hex');
    assert.equal(key.verify(signed, sig), true);
    assert.equal(key.verify(Buffer.concat([signed, Buffer.from(' ')]), sig), false);
  });
});
