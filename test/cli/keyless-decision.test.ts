// Keyless signing of a verify decision (--sign-decision-keyless) and of a
// vulns scan (--attest-keyless) against a private Sigstore: @sigstore/mock's
// Fulcio, Rekor and TSA on a local socket (src/sign/testing-keyless.ts), named
// with the prefixed keyless flags. Each signed bundle verifies offline with
// the mock's trusted root and the token's identity; token errors surface with
// their codes and name the verb's own flag.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  identityToken,
  type MockSigstore,
  startMockSigstore,
  tokenClaims,
} from '../../src/sign/testing-keyless.ts';
import { pushImage, registrySkip, startRegistry } from '../oci/registry.ts';
import {
  attestTestResultArgs,
  GATE_POLICY,
  generateKey,
  isolatedEnv,
  jsonOf,
  show,
  statementOf,
  tempDir,
  VECTORS,
  type VouchResult,
  vouch,
} from './helpers.ts';

const ISSUER = 'https://gitlab.internal';
const IDENTITY = 'https://gitlab.internal/platform/gate//.gitlab-ci.yml@refs/heads/main';
const claims = (extra: Record<string, unknown> = {}) => tokenClaims(ISSUER, IDENTITY, extra);
const VSA = 'https://slsa.dev/verification_summary/v1';
const VULNS = 'https://in-toto.io/attestation/vulns/v0.1';

describe('keyless decisions and scans against a private Sigstore (mock Fulcio, Rekor, TSA)', () => {
  let mock: MockSigstore;
  before(async () => {
    mock = await startMockSigstore();
  });
  after(() => mock.close());

  /** app.bin attested as tested by ci.key (in the store), gate.yaml, the mock's root. */
  async function project(t: Parameters<typeof tempDir>[0], env: NodeJS.ProcessEnv = {}) {
    const dir = await tempDir(t);
    const run = (...args: string[]) => vouch(args, { cwd: dir, env: isolatedEnv(dir, env) });
    await writeFile(join(dir, 'app.bin'), 'release 1\n');
    await writeFile(join(dir, 'tests.json'), '{"result":"PASSED"}');
    await writeFile(join(dir, 'gate.yaml'), GATE_POLICY());
    await writeFile(join(dir, 'root.json'), JSON.stringify(mock.trustedRoot));
    await generateKey(dir, isolatedEnv(dir), 'ci');
    const attested = await run(...attestTestResultArgs('app.bin'));
    assert.equal(attested.code, 0, show(attested));
    const services = (prefix: string) => [
      `--${prefix}fulcio-url`,
      mock.base,
      `--${prefix}rekor-url`,
      mock.base,
    ];
    const gate = (...extra: string[]) =>
      run(
        'verify',
        'app.bin',
        '--policy',
        'gate.yaml',
        '--sign-decision-keyless',
        ...services('sign-decision-'),
        ...extra,
      );
    /** Offline verification of one bundle with the mock's root and the expected identity. */
    const check = (bundle: string, type: string, identity = IDENTITY) =>
      run(
        'verify',
        'app.bin',
        '--no-store',
        '--bundle',
        bundle,
        '--trusted-root',
        'root.json',
        '--certificate-identity',
        identity,
        '--certificate-oidc-issuer',
        ISSUER,
        '--type',
        type,
        '--json',
      );
    /** What vulns scans: requirements.txt (requests 2.19.0) and the OSV PyPI records imported into `db`. */
    const scanInputs = async (db: string) => {
      await writeFile(join(dir, 'requirements.txt'), 'requests==2.19.0\n');
      const imported = await run(
        'db',
        'import',
        `${VECTORS}/osv-oracle/records-PyPI.jsonl`,
        '--db',
        db,
      );
      assert.equal(imported.code, 0, show(imported));
    };
    return { dir, run, gate, check, services, scanInputs };
  }

  /** The bundle verified, by the mock's Fulcio certificate for IDENTITY, with log entry and timestamp. */
  function assertKeylessVerified(r: VouchResult, predicateType: string, timestamp: boolean) {
    assert.equal(r.code, 0, show(r));
    const b = jsonOf(r).bundles[0];
    assert.equal(b.statement.predicateType, predicateType);
    assert.deepEqual(b.signers, [{ kind: 'certificate', subject: IDENTITY, issuer: ISSUER }]);
    const names = b.checks.map((c: { name: string }) => c.name);
    for (const n of [
      'certificate',
      'transparency-log',
      'identity',
      'issuer',
      ...(timestamp ? ['timestamp'] : []),
    ])
      assert.ok(names.includes(n), `check ${n} in ${names}`);
  }

  /** Requests that reached the mock's Fulcio and Rekor since `from`. */
  const served = (from: number) => {
    const paths = mock.requests.slice(from);
    return {
      fulcio: paths.filter((p) => p === '/api/v2/signingCert').length,
      rekor: paths.filter((p) => p === '/api/v1/log/entries').length,
      tsa: paths.filter((p) => p === '/api/v1/timestamp').length,
    };
  };

  test('verify --sign-decision-keyless: the decision is signed by the private Fulcio/Rekor/TSA and verifies with its root', async (t) => {
    const p = await project(t);
    await writeFile(join(p.dir, 'token.txt'), `${identityToken(claims())}\n`);
    const from = mock.requests.length;
    const r = await p.gate(
      '--sign-decision-identity-token',
      'token.txt',
      '--sign-decision-tsa-url',
      mock.base,
      '--decision-out',
      'decision.json',
      '--json',
    );
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(served(from), { fulcio: 1, rekor: 1, tsa: 1 }, `${mock.requests}`);
    const out = jsonOf(r);
    assert.equal(out.signedDecision.out, 'decision.json');
    assert.match(out.signedDecision.stored, /\.vouch/, 'stored as well');

    const statement = await statementOf(join(p.dir, 'decision.json'));
    assert.equal(statement.predicateType, VSA);
    assert.equal(statement.predicate.verificationResult, 'PASSED');
    assert.equal(statement.predicate.resourceUri, 'file:app.bin');
    assertKeylessVerified(await p.check('decision.json', 'vsa'), VSA, true);

    // Another identity, or the public-good root, does not accept it.
    const other = await p.check('decision.json', 'vsa', IDENTITY.replace('platform', 'evil'));
    assert.equal(other.code, 1, show(other));
    const publicGood = await p.run(
      'verify',
      'app.bin',
      '--no-store',
      '--bundle',
      'decision.json',
      '--trusted-root',
      join(VECTORS, 'sigstore', 'public-good', 'trusted_root.json'),
      '--certificate-identity',
      IDENTITY,
      '--certificate-oidc-issuer',
      ISSUER,
      '--json',
    );
    assert.notEqual(publicGood.code, 0, show(publicGood));

    // Tampered: a forged result in the payload, a flipped signature byte.
    const bundle = JSON.parse(await readFile(join(p.dir, 'decision.json'), 'utf8'));
    const forged = structuredClone(bundle);
    const s = JSON.parse(Buffer.from(forged.dsseEnvelope.payload, 'base64').toString('utf8'));
    s.predicate.verificationResult = 'FAILED';
    forged.dsseEnvelope.payload = Buffer.from(JSON.stringify(s)).toString('base64');
    await writeFile(join(p.dir, 'forged.json'), JSON.stringify(forged));
    const flipped = structuredClone(bundle);
    const sig = Buffer.from(flipped.dsseEnvelope.signatures[0].sig, 'base64');
    sig[10] = (sig[10] as number) ^ 1;
    flipped.dsseEnvelope.signatures[0].sig = sig.toString('base64');
    await writeFile(join(p.dir, 'flipped.json'), JSON.stringify(flipped));
    for (const f of ['forged.json', 'flipped.json']) {
      const v = await p.check(f, 'vsa');
      assert.notEqual(v.code, 0, `${f}: ${show(v)}`);
    }
  });

  test('verify --sign-decision-keyless with the ambient token (SIGSTORE_ID_TOKEN), a FAILED decision too', async (t) => {
    const p = await project(t, { GITLAB_CI: 'true', SIGSTORE_ID_TOKEN: identityToken(claims()) });
    await writeFile(join(p.dir, 'other.bin'), 'untested\n');
    const r = await p.run(
      'verify',
      'other.bin',
      '--policy',
      'gate.yaml',
      '--sign-decision-keyless',
      ...p.services('sign-decision-'),
      '--no-store',
      '--decision-out',
      'refused.json',
    );
    assert.equal(r.code, 1, show(r));
    const statement = await statementOf(join(p.dir, 'refused.json'));
    assert.equal(statement.predicate.verificationResult, 'FAILED');
    const v = await p.run(
      'verify',
      'other.bin',
      '--no-store',
      '--bundle',
      'refused.json',
      '--trusted-root',
      'root.json',
      '--certificate-identity',
      IDENTITY,
      '--certificate-oidc-issuer',
      ISSUER,
      '--json',
    );
    assert.equal(v.code, 0, show(v));
    assert.equal(jsonOf(v).bundles[0].signers[0].subject, IDENTITY);
  });

  test('verify oci:// --sign-decision-keyless: attached to the image and written, verifies with the private root', {
    skip: registrySkip(),
  }, async (t) => {
    const reg = await startRegistry(t);
    const p = await project(t);
    const repo = `oci://${reg.host}/team/app`;
    const digest = await pushImage(t, reg, 'team/app', 'v1', 'tested build\n');
    const ref = `${repo}@${digest}`;
    const attested = await p.run(...attestTestResultArgs(ref), '--insecure-registry');
    assert.equal(attested.code, 0, show(attested));
    const from = mock.requests.length;
    const r = await p.run(
      'verify',
      ref,
      '--policy',
      'gate.yaml',
      '--insecure-registry',
      '--sign-decision-keyless',
      '--sign-decision-identity-token',
      identityToken(claims()),
      ...p.services('sign-decision-'),
      '--attach-decision',
      '--decision-out',
      'image.vsa.json',
      '--json',
    );
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(served(from), { fulcio: 1, rekor: 1, tsa: 0 }, `${mock.requests}`);
    const signed = jsonOf(r).signedDecision;
    assert.equal(signed.resourceUri, ref);
    assert.equal(signed.verificationResult, 'PASSED');
    assert.ok(signed.referrer?.manifest, 'pushed as a referrer');
    const statement = await statementOf(join(p.dir, 'image.vsa.json'));
    assert.equal(statement.predicateType, VSA);
    assert.equal(statement.predicate.resourceUri, ref);

    // A consumer reads the attached decision from the registry with the private root.
    const keyless = ['--trusted-root', 'root.json', '--certificate-oidc-issuer', ISSUER];
    const fromRegistry = await p.run(
      'verify',
      ref,
      '--insecure-registry',
      '--certificate-identity',
      IDENTITY,
      ...keyless,
      '--type',
      'vsa',
      '--json',
    );
    assert.equal(fromRegistry.code, 0, show(fromRegistry));
    const vsa = jsonOf(fromRegistry).bundles.filter(
      (b: { ok: boolean; statement?: { predicateType: string } }) =>
        b.ok && b.statement?.predicateType === VSA,
    );
    assert.equal(vsa.length, 1, show(fromRegistry));
    assert.deepEqual(vsa[0].signers, [{ kind: 'certificate', subject: IDENTITY, issuer: ISSUER }]);
    const stranger = await p.run(
      'verify',
      ref,
      '--insecure-registry',
      '--certificate-identity',
      IDENTITY.replace('platform', 'evil'),
      ...keyless,
      '--type',
      'vsa',
    );
    assert.equal(stranger.code, 1, show(stranger));
  });

  test('vulns --attest-keyless: the scan attestation is signed by the private Sigstore and verifies with its root', async (t) => {
    const p = await project(t, { SOURCE_DATE_EPOCH: '1764000000' });
    await p.scanInputs('db');
    const from = mock.requests.length;
    const r = await p.run(
      'vulns',
      'requirements.txt',
      '--db',
      'db',
      '--subject',
      'app.bin',
      '--attest-keyless',
      '--attest-identity-token',
      identityToken(claims()),
      ...p.services('attest-'),
      '--attest-tsa-url',
      mock.base,
      '--no-store',
      '--out',
      'vulns.sigstore.json',
    );
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(served(from), { fulcio: 1, rekor: 1, tsa: 1 }, `${mock.requests}`);
    const statement = await statementOf(join(p.dir, 'vulns.sigstore.json'));
    assert.equal(statement.predicateType, VULNS);
    const ids = JSON.stringify(statement.predicate);
    assert.match(ids, /CVE-2018-18074/, 'the scan result is what was signed');
    assertKeylessVerified(await p.check('vulns.sigstore.json', 'vuln'), VULNS, true);
    const other = await p.check('vulns.sigstore.json', 'vuln', IDENTITY.replace('gate', 'other'));
    assert.equal(other.code, 1, show(other));
  });

  test('token errors: IDENTITY_TOKEN_MISSING before any work, naming the prefixed flag; IDENTITY_TOKEN_INVALID from Fulcio', async (t) => {
    const p = await project(t);
    const from = mock.requests.length;
    const vulnsArgs = (...extra: string[]) =>
      p.run(
        'vulns',
        'requirements.txt',
        '--db',
        'no-db',
        '--subject',
        'app.bin',
        '--attest-keyless',
        ...p.services('attest-'),
        '--no-store',
        '--out',
        'v.json',
        // The report to a file: stdout holds the error alone.
        '--output',
        'report.json',
        '--json',
        ...extra,
      );
    const missing: Array<[string, VouchResult, RegExp]> = [
      [
        'verify',
        await p.gate('--decision-out', 'd.json', '--json'),
        /--sign-decision-identity-token/,
      ],
      // The registry is never asked: 127.0.0.1:1 listens to nobody.
      [
        'verify oci://',
        await p.run(
          'verify',
          `oci://127.0.0.1:1/team/app@sha256:${'a'.repeat(64)}`,
          '--policy',
          'gate.yaml',
          '--insecure-registry',
          '--sign-decision-keyless',
          ...p.services('sign-decision-'),
          '--decision-out',
          'd.json',
          '--json',
        ),
        /--sign-decision-identity-token/,
      ],
      // Before the scan: there is no requirements.txt nor database here.
      ['vulns', await vulnsArgs(), /--attest-identity-token/],
    ];
    for (const [what, r, flag] of missing) {
      assert.equal(r.code, 2, `${what}: ${show(r)}`);
      const e = jsonOf(r).error;
      assert.equal(e.code, 'IDENTITY_TOKEN_MISSING', `${what}: ${show(r)}`);
      assert.match(e.message, flag, what);
      assert.match(e.message, /SIGSTORE_ID_TOKEN/, what);
      assert.doesNotMatch(
        e.message,
        /(?<!-)--identity-token/,
        `${what}: attest's flag is not this verb's`,
      );
    }
    assert.deepEqual(mock.requests.slice(from), [], 'nothing sent to Fulcio');
    assert.ok(!existsSync(join(p.dir, 'd.json')) && !existsSync(join(p.dir, 'v.json')));

    const expired = identityToken(claims({ exp: Math.floor(Date.now() / 1000) - 3600 }));
    // Now there is something to scan: what fails is Fulcio refusing the token.
    await p.scanInputs('no-db');
    const invalid: Array<[string, VouchResult]> = [
      [
        'verify',
        await p.gate(
          '--sign-decision-identity-token',
          expired,
          '--decision-out',
          'd.json',
          '--json',
        ),
      ],
      ['vulns', await vulnsArgs('--attest-identity-token', expired)],
    ];
    for (const [what, r] of invalid) {
      assert.equal(r.code, 2, `${what}: ${show(r)}`);
      const e = jsonOf(r).error;
      assert.equal(e.code, 'IDENTITY_TOKEN_INVALID', `${what}: ${show(r)}`);
      assert.match(e.message, /Fulcio .*refused the identity token/, what);
      assert.match(e.message, /expired at \d{4}-/, what);
      assert.ok(
        !r.stdout.includes(expired) && !r.stderr.includes(expired),
        `${what}: token printed`,
      );
    }
    assert.ok(!existsSync(join(p.dir, 'd.json')) && !existsSync(join(p.dir, 'v.json')));
  });

  test('usage: keyless flags without the keyless flag, with key signing, without --policy, empty token', async (t) => {
    const p = await project(t);
    await generateKey(p.dir, isolatedEnv(p.dir), 'gate');
    const cases: Array<[string[], RegExp]> = [
      [
        [
          'verify',
          'app.bin',
          '--policy',
          'gate.yaml',
          '--sign-decision-key',
          'gate.key',
          '--sign-decision-fulcio-url',
          mock.base,
        ],
        /--sign-decision-fulcio-url needs --sign-decision-keyless/,
      ],
      [
        ['verify', 'app.bin', '--policy', 'gate.yaml', '--sign-decision-tsa-url', mock.base],
        /--sign-decision-tsa-url needs --sign-decision-keyless/,
      ],
      [
        ['verify', 'app.bin', '--key', 'ci.pub', '--sign-decision-rekor-url', mock.base],
        /--sign-decision-rekor-url needs --policy/,
      ],
      [
        [
          'verify',
          `oci://127.0.0.1:1/team/app@sha256:${'a'.repeat(64)}`,
          '--policy',
          'gate.yaml',
          '--insecure-registry',
          '--sign-decision-key',
          'gate.key',
          '--sign-decision-identity-token',
          'x',
          '--decision-out',
          'd.json',
        ],
        /--sign-decision-identity-token needs --sign-decision-keyless/,
      ],
      [
        [
          'verify',
          'app.bin',
          '--policy',
          'gate.yaml',
          '--sign-decision-keyless',
          '--sign-decision-identity-token',
          ' ',
          '--no-store',
          '--decision-out',
          'd.json',
        ],
        /--sign-decision-identity-token is empty/,
      ],
      [
        [
          'vulns',
          'app.bin',
          '--subject',
          'app.bin',
          '--attest-key',
          'gate.key',
          '--attest-rekor-url',
          mock.base,
        ],
        /--attest-rekor-url needs --attest-keyless/,
      ],
      [
        ['vulns', 'app.bin', '--attest-identity-token', 'x'],
        /--attest-identity-token needs --attest-keyless/,
      ],
      [
        [
          'vulns',
          'app.bin',
          '--subject',
          'app.bin',
          '--attest-keyless',
          '--attest-identity-token',
          '',
        ],
        /--attest-identity-token is empty/,
      ],
      [
        [
          'vulns',
          'app.bin',
          '--subject',
          'app.bin',
          '--attest-key',
          'gate.key',
          '--attest-keyless',
        ],
        /--attest-key and --attest-keyless exclude each other/,
      ],
    ];
    const from = mock.requests.length;
    for (const [args, why] of cases) {
      const r = await p.run(...args, '--json');
      assert.equal(r.code, 2, `${args.join(' ')}: ${show(r)}`);
      assert.equal(jsonOf(r).error.code, 'USAGE', show(r));
      assert.match(jsonOf(r).error.message, why);
      assert.doesNotMatch(r.stderr, /OCI_REGISTRY_UNAVAILABLE/);
    }
    assert.deepEqual(mock.requests.slice(from), []);
    const missingFile = await p.gate(
      '--sign-decision-identity-token',
      'no-such-token',
      '--no-store',
      '--decision-out',
      'd.json',
      '--json',
    );
    assert.equal(missingFile.code, 2, show(missingFile));
    assert.equal(jsonOf(missingFile).error.code, 'FILE_NOT_FOUND');
  });
});
