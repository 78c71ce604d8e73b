import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { canonicalize, canonicalizeOlpc } from './canonical.ts';
import { VouchError } from './errors.ts';

const VECTORS = new URL('../../../shared/vectors/intoto/', import.meta.url);

test('RFC 8785 §3.2.2 example canonicalizes byte for byte', () => {
  // The input text of RFC 8785 section 3.2.2, parsed by JSON.parse as any JCS implementation does.
  const input = JSON.parse(
    '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],' +
      '"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",' +
      '"literals":[null,true,false]}',
  );
  assert.equal(
    canonicalize(input),
    '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
      '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
  );
});

test('RFC 8785 §3.2.3 sorts keys by UTF-16 code units', () => {
  const input = JSON.parse(
    '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh",' +
      '"1":"One","\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}',
  );
  // Read the order off the text: Object.keys would move the integer-like key "1" first.
  const text = canonicalize(input);
  const order = ['Carriage Return', 'One', 'Control', 'Latin Small', 'Euro', 'Emoji', 'Hebrew'];
  const positions = order.map((v) => text.indexOf(v));
  assert.ok(positions.every((p) => p > 0));
  assert.deepEqual(
    positions,
    [...positions].sort((a, b) => a - b),
  );
});

test('JCS refuses values JSON cannot carry', () => {
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 10n, () => 1, Symbol('x')]) {
    assert.throws(
      () => canonicalize({ a: [bad] }),
      (e: unknown) =>
        e instanceof VouchError && e.code === 'JSON_NOT_CANONICALIZABLE' && e.field === '/a/0',
    );
  }
});

test('OLPC canonical JSON reproduces the bytes in-toto signed (real link, RSA-PSS)', () => {
  const link = JSON.parse(
    readFileSync(new URL('in-toto-python/demo_files/write-code.776a00e2.link', VECTORS), 'utf8'),
  );
  const signed = Buffer.from(canonicalizeOlpc(link.signed), 'utf8');
  const sig = Buffer.from(link.signatures[0].sig, 'hex');
  const keys = ['alice', 'bob', 'carl'].map((n) =>
    createPublicKey(readFileSync(new URL(`in-toto-python/demo_files/${n}.pub`, VECTORS))),
  );
  const ok = keys.some((key) =>
    verify('sha256', signed, { key, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: -2 }, sig),
  );
  assert.equal(ok, true, 'one of the demo keys must verify the OLPC-canonical link');
  // Tamper: a changed product digest must no longer verify.
  link.signed.products['foo.py'].sha256 = '0'.repeat(64);
  const tampered = Buffer.from(canonicalizeOlpc(link.signed), 'utf8');
  assert.equal(
    keys.some((key) => verify('sha256', tampered, { key, padding: 6, saltLength: -2 }, sig)),
    false,
  );
});

test('OLPC escapes only quote and backslash, and rejects floats', () => {
  const link = JSON.parse(
    readFileSync(new URL('in-toto-golang/canonical-test.link', VECTORS), 'utf8'),
  );
  assert.equal(
    canonicalizeOlpc(link.signed.environment),
    '{"a":"WTF","b":true,"c":false,"d":null,"e":1,"f":"\u001b\uffffF\\\\n\\""}',
  );
  assert.throws(() => canonicalizeOlpc({ x: 1.5 }), { code: 'JSON_NOT_CANONICALIZABLE' });
});
