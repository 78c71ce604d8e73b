import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { test } from 'node:test';
import {
  type DsseSigner,
  type DsseVerifier,
  decodeBase64,
  envelopeFromJson,
  envelopeToJson,
  pae,
  parseEnvelope,
  signEnvelope,
  verifyEnvelope,
} from './dsse.ts';

// The official DSSE test vector (signing_spec.py docstring in
// shared/vectors/intoto/dsse): ECDSA P-256, signature in IEEE P1363 form.
const OFFICIAL = {
  x: 46950820868899156662930047687818585632848591499744589407958293238635476079160n,
  y: 5640078356564379163099075877009565129882514886557779369047442380624545832820n,
  envelope: {
    payload: 'aGVsbG8gd29ybGQ=',
    payloadType: 'http://example.com/HelloWorld',
    signatures: [
      {
        keyid: '66301bbf',
        sig: 'A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA==',
      },
    ],
  },
};

function b64u(n: bigint): string {
  return Buffer.from(n.toString(16).padStart(64, '0'), 'hex').toString('base64url');
}

const officialKey = createPublicKey({
  key: { kty: 'EC', crv: 'P-256', x: b64u(OFFICIAL.x), y: b64u(OFFICIAL.y) },
  format: 'jwk',
});
const officialVerifier: DsseVerifier = {
  keyid: 'mykey',
  verify: (m, s) => verify('sha256', m, { key: officialKey, dsaEncoding: 'ieee-p1363' }, s),
};

test('PAE matches the DSSE specification', () => {
  assert.equal(
    pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString(),
    'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
  );
  // Lengths are bytes, not characters.
  assert.equal(pae('t', Buffer.from('é')).toString('latin1'), 'DSSEv1 1 t 2 Ã©');
  // …in the type too, and the body is copied as bytes (not re-encoded).
  const body = Buffer.from([0xff, 0x00, 0x20, 0xc3]);
  const out = pae('tÿpe', body);
  assert.equal(out.subarray(0, 17).toString('utf8'), 'DSSEv1 5 tÿpe 4 ');
  assert.deepEqual(out.subarray(17), body);
  assert.equal(pae('', new Uint8Array()).toString(), 'DSSEv1 0  0 ');
});

test('official DSSE vector verifies; its keyid hint names no trusted key, so every key is tried', () => {
  const env = envelopeFromJson(OFFICIAL.envelope, 'vector');
  const r = verifyEnvelope(env, [officialVerifier]);
  assert.deepEqual(r.verifiedKeyids, ['mykey']);
  assert.equal(env.payload.toString(), 'hello world');
});

test('official DSSE vector: tampered payload, signature, type or key fail', () => {
  const flip = (s: string, i: number) => {
    const b = Buffer.from(s, 'base64');
    b[i] = (b[i] as number) ^ 1;
    return b.toString('base64');
  };
  const sig0 = OFFICIAL.envelope.signatures[0] as { keyid: string; sig: string };
  const cases = {
    payload: { ...OFFICIAL.envelope, payload: flip(OFFICIAL.envelope.payload, 0) },
    signature: { ...OFFICIAL.envelope, signatures: [{ ...sig0, sig: flip(sig0.sig, 10) }] },
    payloadType: { ...OFFICIAL.envelope, payloadType: 'http://example.com/HelloWorle' },
  };
  for (const [name, json] of Object.entries(cases)) {
    const r = verifyEnvelope(envelopeFromJson(json, name), [officialVerifier]);
    assert.deepEqual(r.verifiedKeyids, [], name);
  }
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  const wrongKey: DsseVerifier = {
    keyid: 'other',
    verify: (m, s) => verify('sha256', m, { key: other, dsaEncoding: 'ieee-p1363' }, s),
  };
  assert.deepEqual(
    verifyEnvelope(envelopeFromJson(OFFICIAL.envelope, 'v'), [wrongKey]).verifiedKeyids,
    [],
  );
});

function keySigner(keyid: string) {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const signer: DsseSigner = { keyid, sign: async (m) => sign(null, m, privateKey) };
  const verifier: DsseVerifier = { keyid, verify: (m, s) => verify(null, m, publicKey, s) };
  return { signer, verifier };
}

test('multiple signatures: each trusted key counts once', async () => {
  const a = keySigner('a');
  const b = keySigner('b');
  const env = await signEnvelope('application/vnd.in-toto+json', Buffer.from('{}'), [
    a.signer,
    b.signer,
    a.signer,
  ]);
  const round = parseEnvelope(JSON.stringify(envelopeToJson(env)), 'mem');
  assert.deepEqual(verifyEnvelope(round, [a.verifier, b.verifier]).verifiedKeyids, ['a', 'b']);
  assert.deepEqual(verifyEnvelope(round, [a.verifier]).verifiedKeyids, ['a']);
  // A hint naming a trusted key is honoured: a's signature relabelled as b's does not verify as b.
  const relabelled = {
    ...round,
    signatures: [{ keyid: 'b', sig: round.signatures[0]?.sig as Buffer }],
  };
  assert.deepEqual(verifyEnvelope(relabelled, [a.verifier, b.verifier]).verifiedKeyids, []);
});

test('malformed envelopes are rejected with the file and field', () => {
  const cases: Array<[unknown, string, string]> = [
    [[], 'DSSE_MALFORMED', '/'],
    [{ payload: 'aGk=', signatures: [{ sig: 'aGk=' }] }, 'DSSE_MALFORMED', '/payloadType'],
    [
      { payloadType: 't', payload: 'a$b', signatures: [{ sig: 'aGk=' }] },
      'DSSE_MALFORMED',
      '/payload',
    ],
    [{ payloadType: 't', payload: 'aGk=', signatures: [] }, 'DSSE_NO_SIGNATURES', '/signatures'],
    [
      { payloadType: 't', payload: 'aGk=', signatures: [{ sig: '' }] },
      'DSSE_MALFORMED',
      '/signatures/0/sig',
    ],
    [
      { payloadType: 't', payload: 'aGk=', signatures: [{ keyid: 3, sig: 'aGk=' }] },
      'DSSE_MALFORMED',
      '/signatures/0/keyid',
    ],
  ];
  for (const [json, code, field] of cases) {
    assert.throws(
      () => envelopeFromJson(json, 'env.json'),
      (e: unknown) =>
        (e as { code: string }).code === code &&
        (e as { field: string }).field === field &&
        (e as Error).message.startsWith('env.json'),
      `${code} ${field}`,
    );
  }
  assert.throws(() => parseEnvelope('{"payloadType":"t","payl', 'cut.json'), {
    code: 'JSON_MALFORMED',
  });
});

test('decodeBase64 takes padded, unpadded and URL-safe base64 and refuses anything else', () => {
  const bytes = Buffer.from([0xfb, 0xff, 0x01, 0x61]);
  assert.deepEqual(decodeBase64(bytes.toString('base64'), 'b', '/payload'), bytes);
  assert.deepEqual(decodeBase64('+/8BYQ', 'b', '/payload'), bytes);
  assert.deepEqual(decodeBase64('-_8BYQ==', 'b', '/payload'), bytes);
  assert.deepEqual(decodeBase64('', 'b', '/payload'), Buffer.alloc(0));
  // Node's decoder silently skips these; the fast path must not let them through.
  for (const bad of ['YWJj!', 'YW Jj', 'YWJj\n', 'YWJj=', 'Y', '+/8B-_', 'YWJj====']) {
    assert.throws(
      () => decodeBase64(bad, 'b', '/payload'),
      { code: 'DSSE_MALFORMED', field: '/payload' },
      JSON.stringify(bad),
    );
  }
});
