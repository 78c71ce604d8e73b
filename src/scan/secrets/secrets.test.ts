// Every detector with positive and negative cases. Secret-shaped values are
// assembled at run time (`j(…)`), so this file itself holds none and the
// repository's own scan stays clean.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import { base62, hasCrc32Checksum } from './checksum.ts';
import { shannonEntropy } from './entropy.ts';
import { DETECTORS, redact, scanSecretChunks, scanSecretText } from './index.ts';
import { isPlaceholder } from './placeholder.ts';

const j = (...parts: string[]) => parts.join('');
const scan = (text: string, file = 'config/app.env') =>
  scanSecretText(text, file, { detectors: DETECTORS });
const ids = (text: string, file?: string) => scan(text, file).map((f) => f.ruleId);

/** A GitHub/npm-format token with a valid CRC32 checksum over `random` (30 base62 chars). */
function checksummed(prefix: string, random: string): string {
  return j(prefix, '_', random, base62(crc32(random), 6));
}
const RANDOM30 = 'q7Lm2Xv9Rt4Kp8Zw3Nc6Hd1Jf5Gs0B';
const AWS_SECRET = j(RANDOM30, 'q7Lm2Xv9', '/+');
const FINE_GRAINED = j(
  'github_pat_',
  '11AAQ7Lm2Xv9Rt4Kp8Zw3N',
  '_',
  RANDOM30,
  RANDOM30.slice(0, 29),
);
const ghp = checksummed('ghp', RANDOM30.slice(0, 30));

test('checksum: base62 and the GitHub CRC32 check', () => {
  assert.equal(base62(0, 6), '000000');
  assert.equal(base62(61, 1), 'z');
  assert.equal(base62(62, 2), '10');
  assert.ok(hasCrc32Checksum(ghp));
  // One character changed in the random part: the checksum no longer holds.
  const tampered = j(ghp.slice(0, 10), ghp[10] === 'a' ? 'b' : 'a', ghp.slice(11));
  assert.equal(hasCrc32Checksum(tampered), false);
});

test('entropy and placeholders', () => {
  assert.equal(shannonEntropy('aaaa'), 0);
  assert.equal(shannonEntropy('abcd'), 2);
  for (const p of [
    '${TOKEN}',
    '$TOKEN',
    '{{ .Values.token }}',
    '<token>',
    'xxxxxxxxxxxx',
    'changeme',
    'AKIAIOSFODNN7EXAMPLE',
    '%s',
    'abcdefghijklmnop',
  ]) {
    assert.ok(isPlaceholder(p), p);
  }
  assert.equal(isPlaceholder('q7Lm2Xv9Rt4Kp8Zw'), false);
});

interface Case {
  id: string;
  positive: string[];
  negative: string[];
  file?: string;
}

const pemBody = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ format: 'pem', type: 'pkcs8' })
  .toString();

const CASES: Case[] = [
  {
    id: 'secret/private-key',
    positive: [
      pemBody,
      // A key inside a JSON string, with \n escapes.
      JSON.stringify({ key: pemBody }),
      j(
        '-----BEGIN ',
        'RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0A1B\n\n',
        'MIIEowIBAAKCAQEAq7Lm2Xv9Rt4Kp8Zw3Nc6Hd1Jf5Gs0Bq7Lm2Xv9Rt4Kp8Zw3Nc6Hd1\n',
        'abcdABCD1234\n-----END RSA PRIVATE KEY-----\n',
      ),
    ],
    negative: [
      j("if (pem.includes('-----BEGIN ", "PRIVATE KEY-----')) return true;"),
      j(
        '-----BEGIN ',
        'PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEq7Lm2Xv9Rt4Kp8Zw3Nc6Hd1Jf5Gs0Bq7Lm2Xv9Rt4\n',
      ),
      j('-----BEGIN ', 'PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----'),
    ],
  },
  {
    id: 'secret/aws-access-key-id',
    positive: [j('aws_access_key_id = ', 'AKIA', 'Q7LM2XVZRT4KPAZW')],
    negative: [
      j('AKIA', 'IOSFODNN7EXAMPLE'),
      j('AKIA', 'Q7LM2XVZRT4KPAZ'),
      j('XAKIA', 'Q7LM2XVZRT4KPAZW'),
      // 8 and 9 are not base32.
      j('AKIA', 'Q7LM2XV9RT4KP8ZW'),
    ],
  },
  {
    id: 'secret/aws-secret-access-key',
    positive: [j('aws_secret_access_key = ', AWS_SECRET)],
    negative: [
      j('aws_secret_access_key = ', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCY', 'EXAMPLEKEY'),
      j('secret = ', AWS_SECRET),
      j('aws_secret_access_key = ', 'q7Lm2Xv9Rt4Kp8Zw3Nc6Hd1Jf5Gs0Bq7Lm2Xv9R/+extra'),
    ],
  },
  {
    id: 'secret/github-token',
    positive: [j('token: ', ghp), checksummed('ghs', 'Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0')],
    negative: [
      // Right shape, wrong checksum.
      j('ghp_', 'A1b2C3d4E5f6G7h8I9j0'.repeat(2)),
      j('ghx_', RANDOM30, '000000'),
    ],
  },
  {
    id: 'secret/github-fine-grained-token',
    positive: [FINE_GRAINED],
    negative: [j('github_pat_', 'short')],
  },
  {
    id: 'secret/gitlab-token',
    positive: [j('GITLAB_TOKEN=', 'glpat-', 'q7Lm2Xv9Rt4Kp8Zw3Nc6')],
    negative: [
      j('glpat-', 'xxxxxxxxxxxxxxxxxxxx'),
      j('glpat-', 'abcdefghijklmnopqrst'),
      j('glpat-', 'short'),
    ],
  },
  {
    id: 'secret/slack-token',
    positive: [j('xoxb-', '918273645501-5512398746021-q7Lm2Xv9Rt4Kp8Zw3Nc6Hd1J')],
    negative: [j('xoxb-', 'your-token-here'), j('xoxb-', 'not-a-token-at-all')],
  },
  {
    id: 'secret/stripe-live-key',
    positive: [j('STRIPE_KEY=', 'sk_live_', 'q7Lm2Xv9Rt4Kp8Zw3Nc6Hd1J')],
    negative: [j('sk_test_', 'q7Lm2Xv9Rt4Kp8Zw3Nc6Hd1J'), j('sk_live_', 'short')],
  },
  {
    id: 'secret/google-api-key',
    positive: [j('key=', 'AIza', 'Sy', 'q7Lm2Xv9Rt4Kp8Zw3Nc6Hd1Jf5Gs0Bq7L')],
    negative: [
      j('AIza', 'Sy', 'q7Lm2Xv9Rt4Kp8Zw3Nc6Hd1Jf5Gs0Bq7'),
      j('AIza', 'Sy', 'q7Lm2Xv9Rt4Kp8Zw3Nc6Hd1Jf5Gs0Bq7LX'),
    ],
  },
  {
    id: 'secret/npm-token',
    positive: [j('//registry.npmjs.org/:_authToken=', checksummed('npm', RANDOM30.slice(0, 30)))],
    negative: [j('npm_', 'q7Lm2Xv9Rt4Kp8Zw3Nc6Hd1Jf5Gs0Bq7Lm2X')],
  },
  {
    id: 'secret/pypi-token',
    positive: [
      j(
        'password = ',
        'pypi-AgEIcHlwaS5vcmc',
        'CJDq7Lm2Xv9Rt4Kp8Zw3Nc6Hd1Jf5Gs0Bq7Lm2Xv9Rt4Kp8Zw3Nc6Hd1',
      ),
    ],
    negative: [j('pypi-', 'AgEI'), 'pip install pypi-simple'],
  },
  {
    id: 'secret/jwt',
    positive: [
      j(
        'Authorization: Bearer ',
        Buffer.from('{"alg":"RS256","typ":"JWT"}').toString('base64url'),
        '.',
        Buffer.from('{"sub":"svc-deploy","aud":"prod"}').toString('base64url'),
        '.',
        'q7Lm2Xv9Rt4Kp8Zw3Nc6Hd1Jf5Gs0B',
      ),
    ],
    negative: [
      // Decodes, but to no JSON object.
      j('eyJ', 'hbGciOiJIUzI1Ni', '.', 'eyJ', 'zdWIiOiJ4In0', '.', 'q7Lm2Xv9Rt4Kp8Zw3Nc6'),
      // alg none: not signed.
      j(
        Buffer.from('{"alg":"none"}').toString('base64url'),
        '.',
        Buffer.from('{"sub":"x1234567"}').toString('base64url'),
        '.',
        'q7Lm2Xv9Rt4Kp8Zw3Nc6',
      ),
    ],
  },
  {
    id: 'secret/database-url-password',
    positive: [
      j('DATABASE_URL=postgres://app:', 'q7Lm2Xv9', '@db.prod.internal:5432/app'),
      j('mongodb+srv://svc:', 'Hq7x9Lm2', '@cluster0.mongodb.net/db'),
    ],
    negative: [
      j('postgres://app:', 'q7Lm2Xv9', '@localhost:5432/app'),
      j('postgres://postgres:', 'postgres', '@db:5432/app'),
      j('postgres://app:', '${DB_PASSWORD}', '@db:5432/app'),
      'https://user:pass@example.org/',
    ],
  },
  {
    id: 'secret/generic-assignment',
    positive: [
      j('api_key = "', 'q7Lm2Xv9Rt4Kp8Zw3Nc6', '"'),
      j('{"clientSecret": "', 'Hq7x9Lm2Vb4kQ7Lm2Xv9', '"}'),
      j("PASSWORD: '", 'Zq8v7Hn2Kx4sQ7Lm', "'"),
      // Hex keys are keys when the name does not say digest.
      j('api_key = "', '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', '"'),
    ],
    negative: [
      j('api_key = "', '${API_KEY}', '"'),
      j('token = "', 'accessTokenExpiresIn', '"'),
      j('secretName = "', 'my-app-tls-secret-v2', '"'),
      j('tokenUrl = "', 'https://auth.example.com/oauth2/token', '"'),
      j('password = "', 'aaaaaaaaaaaaaaaa1', '"'),
      j('name = "', 'q7Lm2Xv9Rt4Kp8Zw3Nc6', '"'),
      // A digest of a secret is named as one: not the secret (sha256 of the empty string).
      j('token_hash = "', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', '"'),
      j(
        '"secretSha256": "',
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        '"',
      ),
      j(
        'password_digest: "',
        '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
        '"',
      ),
      j('API_KEY_CHECKSUM="', 'd41d8cd98f00b204e9800998ecf8427e', '"'),
    ],
  },
];

for (const c of CASES) {
  test(`${c.id}: found in positive cases, not in negative ones`, () => {
    for (const p of c.positive) {
      assert.ok(
        ids(p, c.file).includes(c.id),
        `expected ${c.id} in ${JSON.stringify(p.slice(0, 80))}, got ${ids(p, c.file)}`,
      );
    }
    for (const n of c.negative) {
      assert.deepEqual(
        ids(n, c.file).filter((id) => id === c.id),
        [],
        `unexpected ${c.id} in ${JSON.stringify(n.slice(0, 80))}`,
      );
    }
  });
}

test('every detector has a case, a unique id and a global pattern', () => {
  const tested = new Set(CASES.map((c) => c.id));
  for (const d of DETECTORS) {
    assert.ok(tested.has(d.id), `no test cases for ${d.id}`);
    assert.match(d.id, /^secret\/[a-z0-9-]+$/);
    assert.ok(d.pattern.flags.includes('g'), d.id);
    assert.ok(d.description.length > 40, d.id);
  }
  assert.equal(new Set(DETECTORS.map((d) => d.id)).size, DETECTORS.length);
});

test('generic detector: test fixtures are not searched, specific formats still are', () => {
  const line = j('api_key = "', 'q7Lm2Xv9Rt4Kp8Zw3Nc6', '"\ntoken: ', ghp, '\n');
  assert.deepEqual(ids(line, 'test/fixtures/app.env'), ['secret/github-token']);
  assert.deepEqual(ids(line, 'src/app.test.ts'), ['secret/github-token']);
  assert.deepEqual(ids(line, 'src/app.ts'), ['secret/generic-assignment', 'secret/github-token']);
});

test('findings: location, redaction, fingerprint; the secret never appears', () => {
  const text = j('# config\nexport A=1\nexport GITHUB_TOKEN=', ghp, ' OTHER=', ghp, '\n');
  const found = scan(text);
  assert.equal(found.length, 2);
  const [f] = found;
  assert.equal(f?.line, 3);
  assert.equal(f?.column, 21);
  assert.equal(f?.snippet, 'export GITHUB_TOKEN=ghp_******** OTHER=ghp_********');
  assert.match(f?.fingerprint ?? '', /^[0-9a-f]{16}$/);
  assert.equal(found[0]?.fingerprint, found[1]?.fingerprint, 'same secret, same fingerprint');
  assert.ok(!JSON.stringify(found).includes(ghp.slice(4)), 'the secret leaked into a finding');
  assert.ok(!JSON.stringify(found).includes(ghp.slice(8, 20)));
  assert.equal(redact('short'), '********');
  // A specific detector wins over the generic one on the same text.
  assert.deepEqual(ids(j('token = "', ghp, '"')), ['secret/github-token']);
});

test('a private key is reported at its header, its body masked in a one-line JSON snippet', () => {
  const text = JSON.stringify({ a: 1, key: pemBody }, null, 2);
  const [f, ...rest] = scan(text, 'creds.json');
  assert.equal(rest.length, 0);
  assert.equal(f?.ruleId, 'secret/private-key');
  assert.equal(f?.line, 3);
  const body = pemBody.split('\n')[1] ?? '';
  assert.ok(!f?.snippet?.includes(body.slice(8, 40)), f?.snippet);
});

test('streaming gives the same findings as the whole text, across chunk boundaries and huge lines', async () => {
  const filler = `${'const x = 1; // padding line for the chunker\n'.repeat(30_000)}`;
  const longLine = `${'a'.repeat(3 * 1024 * 1024)} ${j('token=', ghp)}\n`;
  const text = j(filler, 'export T=', ghp, '\n', filler, pemBody, filler, longLine, 'tail\n');
  const whole = scan(text, 'big.txt');
  async function* pieces() {
    const buf = Buffer.from(text);
    // Odd-sized chunks split lines and multi-byte characters anywhere.
    for (let i = 0; i < buf.length; i += 65_537) yield buf.subarray(i, i + 65_537);
  }
  const streamed = await scanSecretChunks(pieces(), 'big.txt', { detectors: DETECTORS });
  assert.equal(whole.length, 3);
  assert.deepEqual(streamed, whole);
  assert.deepEqual(
    whole.map((f) => [f.ruleId, f.line]),
    [
      ['secret/github-token', 30_001],
      ['secret/private-key', 60_002],
      ['secret/github-token', 60_002 + pemBody.split('\n').length - 1 + 30_000],
    ],
  );
});
