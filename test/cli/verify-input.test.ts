// `vouch verify --bundle` with bad bundles, each derived from a real one made in
// the test. Malformed input is exit 2 (BUNDLE_MALFORMED naming the file and
// problem); a well-formed bundle that does not verify is exit 1 with the failed
// check in the verdict.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateKey, isolatedEnv, jsonOf, sha256, show, tempDir, vouch } from './helpers.ts';

interface Bundle {
  mediaType: string;
  dsseEnvelope: { payload: string; payloadType: string; signatures: unknown[] };
  [k: string]: unknown;
}

async function setup(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  const { key, pub } = await generateKey(dir, env);
  await writeFile(join(dir, 'app.bin'), 'artifact bytes\n');
  await writeFile(join(dir, 'other.bin'), 'other bytes\n');
  await writeFile(join(dir, 'p.json'), '{"ok":true}\n');
  for (const [file, out] of [
    ['app.bin', 'good.sigstore.json'],
    ['other.bin', 'about-other.sigstore.json'],
  ] as const) {
    const r = await vouch(
      [
        'attest',
        file,
        '--predicate-type',
        'custom',
        '--predicate',
        'p.json',
        '--key',
        key,
        '--no-store',
        '--out',
        out,
      ],
      { cwd: dir, env },
    );
    assert.equal(r.code, 0, show(r));
  }
  const text = await readFile(join(dir, 'good.sigstore.json'), 'utf8');
  const variant = async (name: string, change: (b: Bundle) => void) => {
    const b = JSON.parse(text) as Bundle;
    change(b);
    await writeFile(join(dir, name), JSON.stringify(b));
    return name;
  };
  const verify = (bundle: string, ...more: string[]) =>
    vouch(['verify', 'app.bin', '--no-store', '--key', pub, '--bundle', bundle, ...more], {
      cwd: dir,
      env,
    });
  return { dir, env, text, variant, verify };
}

test('the unmodified bundle verifies (the baseline the variants break)', async (t) => {
  const { verify } = await setup(t);
  const r = await verify('good.sigstore.json', '--json');
  assert.equal(r.code, 0, show(r));
  assert.equal(jsonOf(r).ok, true);
});

test('malformed bundles are input errors: exit 2, BUNDLE_MALFORMED naming file and problem', async (t) => {
  const { dir, text, variant, verify } = await setup(t);
  await writeFile(join(dir, 'truncated.json'), text.slice(0, 120));
  await writeFile(join(dir, 'not-json.json'), 'this is not json\n');
  await writeFile(join(dir, 'array.json'), '[]\n');
  const cases: Array<[string, RegExp]> = [
    [
      'truncated.json',
      /truncated\.json: not valid JSON: unexpected end of input.*line 1, column 121/,
    ],
    [
      'not-json.json',
      /not-json\.json: not valid JSON: unexpected character "t" at line 1, column 1/,
    ],
    ['array.json', /array\.json: \/: bundle is not a JSON object/],
    [
      await variant('media-type.json', (b) => {
        b.mediaType = 'application/vnd.example+json';
      }),
      /media-type\.json: \/mediaType: unsupported media type "application\/vnd\.example\+json"/,
    ],
    [
      await variant('no-signatures.json', (b) => {
        b.dsseEnvelope.signatures = [];
      }),
      // A JSON pointer into the file as written: no protobuf oneof ("content") in it.
      /no-signatures\.json: \/dsseEnvelope\/signatures: /,
    ],
    [
      await variant('no-content.json', (b) => {
        delete (b as Partial<Bundle>).dsseEnvelope;
      }),
      /no-content\.json: /,
    ],
  ];
  for (const [file, message] of cases) {
    const human = await verify(file);
    assert.equal(human.code, 2, `${file}: ${show(human)}`);
    assert.match(human.stderr, /error BUNDLE_MALFORMED: /, file);
    assert.match(human.stderr, message, file);
    assert.equal(human.stdout, '', file);

    const json = await verify(file, '--json');
    assert.equal(json.code, 2, `${file}: ${show(json)}`);
    const { error } = jsonOf(json);
    assert.equal(error.code, 'BUNDLE_MALFORMED', file);
    assert.equal(error.file, file);
    assert.match(error.message, message, file);
  }
});

test('well-formed bundles that do not verify: exit 1, the failed check in the verdict', async (t) => {
  const { variant, verify } = await setup(t);
  const reencode = (b: Bundle, f: (statement: Record<string, unknown>) => void) => {
    const st = JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString('utf8'));
    f(st);
    b.dsseEnvelope.payload = Buffer.from(JSON.stringify(st)).toString('base64');
  };
  const cases: Array<[string, string, RegExp]> = [
    [
      await variant('payload-type.json', (b) => {
        b.dsseEnvelope.payloadType = 'text/plain';
      }),
      'payload-type',
      /payloadType is "text\/plain", expected application\/vnd\.in-toto\+json/,
    ],
    [
      await variant('other-digest.json', (b) =>
        reencode(b, (st) => {
          (st.subject as [{ digest: { sha256: string } }])[0].digest.sha256 = sha256('x');
        }),
      ),
      'subject',
      /statement has no subject with sha256:/,
    ],
    [
      await variant('edited-predicate.json', (b) =>
        reencode(b, (st) => {
          st.predicate = { ok: false };
        }),
      ),
      'signature',
      /does not verify with any of 1 trusted key/,
    ],
    // Correctly signed, but about another artifact: the signature holds, the subject does not.
    ['about-other.sigstore.json', 'subject', /statement has no subject with sha256:/],
  ];
  for (const [file, check, detail] of cases) {
    const r = await verify(file, '--json');
    assert.equal(r.code, 1, `${file}: ${show(r)}`);
    const verdict = jsonOf(r);
    assert.equal(verdict.ok, false, file);
    assert.equal(verdict.bundles.length, 1, file);
    const [b] = verdict.bundles;
    assert.equal(b.ok, false, file);
    assert.equal(b.source, file);
    assert.equal(b.statement, undefined, `${file}: an unverified statement is not reported`);
    const failed = b.checks.find((c: { name: string }) => c.name === check);
    assert.ok(failed, `${file}: no ${check} check in ${JSON.stringify(b.checks)}`);
    assert.equal(failed.ok, false, file);
    assert.match(failed.detail, detail, file);

    const human = await verify(file);
    assert.equal(human.code, 1, file);
    assert.match(human.stdout, new RegExp(`✗ ${file.replace('.', '\\.')}`));
    assert.match(human.stdout, /^NOT VERIFIED: 0 of 1 bundle/m);
  }
  // DSSE signs PAE(payloadType, payload): a changed payloadType breaks the signature too.
  const pt = jsonOf(await verify('payload-type.json', '--json'));
  assert.equal(
    pt.bundles[0].checks.find((c: { name: string }) => c.name === 'signature').ok,
    false,
  );
  const other = jsonOf(await verify('about-other.sigstore.json', '--json'));
  assert.equal(
    other.bundles[0].checks.find((c: { name: string }) => c.name === 'signature').ok,
    true,
  );
});

test('one bad bundle among good ones: the good one still decides, the bad one is reported', async (t) => {
  const { variant, verify } = await setup(t);
  const bad = await variant('bad-payload.json', (b) => {
    b.dsseEnvelope.payloadType = 'text/plain';
  });
  const r = await verify(bad, '--bundle', 'good.sigstore.json', '--json');
  assert.equal(r.code, 0, show(r));
  const v = jsonOf(r);
  assert.deepEqual(
    v.bundles.map((b: { source: string; ok: boolean }) => [b.source, b.ok]),
    [
      ['bad-payload.json', false],
      ['good.sigstore.json', true],
    ],
  );
});

test('verify input errors: missing artifact, missing bundle, bad digest, no trust', async (t) => {
  const { dir, env } = await setup(t);
  const cases: Array<[string[], string, RegExp]> = [
    [['verify', 'absent.bin', '--key', 'k.pub'], 'FILE_NOT_FOUND', /absent\.bin/],
    [
      ['verify', 'app.bin', '--key', 'k.pub', '--bundle', 'absent.json'],
      'FILE_NOT_FOUND',
      /absent\.json/,
    ],
    [['verify', 'app.bin', '--key', 'absent.pub'], 'FILE_NOT_FOUND', /absent\.pub/],
    [['verify', 'app.bin', '--key', 'p.json'], 'KEY_MALFORMED', /p\.json/],
    [['verify', 'app.bin'], 'USAGE', /say whom to trust/],
    [['verify', '--key', 'k.pub'], 'USAGE', /exactly one/],
    [['verify', `sha512:${'ab'.repeat(64)}`, '--key', 'k.pub'], 'USAGE', /only sha256/],
    [
      ['verify', 'app.bin', '--key', 'k.pub', '--type', 'nosuch'],
      'STATEMENT_UNKNOWN_TYPE',
      /^--type: unknown predicate type "nosuch"/,
    ],
  ];
  for (const [args, code, message] of cases) {
    const r = await vouch([...args, '--json'], { cwd: dir, env });
    assert.equal(r.code, 2, `${args.join(' ')}: ${show(r)}`);
    const { error } = jsonOf(r);
    assert.equal(error.code, code, args.join(' '));
    assert.match(error.message, message, args.join(' '));
  }
});
