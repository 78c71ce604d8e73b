// Keyless signing through the CLI, end to end against @sigstore/mock's Fulcio,
// Rekor and TSA on a local socket (src/sign/testing-keyless.ts): where the
// token comes from (GitHub Actions, GitLab's SIGSTORE_ID_TOKEN,
// --identity-token as a value or a file), what is said when there is none or
// Fulcio refuses it, the bundle written, and its offline verification with
// the mock's trusted root.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  identityToken,
  type MockSigstore,
  startMockSigstore,
  tokenClaims,
} from '../../src/sign/testing-keyless.ts';
import { isolatedEnv, jsonOf, show, tempDir, vouch } from './helpers.ts';

const ISSUER = 'https://token.actions.githubusercontent.com';
const IDENTITY = 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main';
const claims = (extra: Record<string, unknown> = {}) => tokenClaims(ISSUER, IDENTITY, extra);

describe('keyless signing through the CLI (mock Fulcio, Rekor, TSA)', () => {
  let mock: MockSigstore;
  before(async () => {
    mock = await startMockSigstore();
  });
  after(() => mock.close());

  /** A project with app.bin and a predicate, and an attest command against the mock. */
  async function project(t: Parameters<typeof tempDir>[0], env: NodeJS.ProcessEnv = {}) {
    const dir = await tempDir(t);
    await writeFile(join(dir, 'app.bin'), 'release 1\n');
    await writeFile(join(dir, 'p.json'), '{}');
    await writeFile(join(dir, 'root.json'), JSON.stringify(mock.trustedRoot));
    const run = (...args: string[]) => vouch(args, { cwd: dir, env: isolatedEnv(dir, env) });
    const services = ['--fulcio-url', mock.base, '--rekor-url', mock.base];
    /** `vouch attest app.bin` with p.json as a custom predicate, signed as `signing` says. */
    const attestWith = (...signing: string[]) =>
      run('attest', 'app.bin', '--predicate-type', 'custom', '--predicate', 'p.json', ...signing);
    const attest = (...extra: string[]) =>
      attestWith('--keyless', ...services, '--no-store', ...extra);
    const verify = (bundle: string, ...trust: string[]) =>
      run(
        'verify',
        'app.bin',
        '--no-store',
        '--bundle',
        bundle,
        '--trusted-root',
        'root.json',
        '--json',
        ...trust,
      );
    return { dir, run, attest, attestWith, verify };
  }

  test('GitHub Actions: the job token (audience sigstore) gives a v0.3 bundle that verifies offline', async (t) => {
    const gha = mock.githubActions(identityToken(claims()));
    const p = await project(t, { GITHUB_ACTIONS: 'true', ...gha });
    const before = mock.requests.length;
    const r = await p.attest('--tsa-url', mock.base, '--out', 'app.sigstore.json');
    assert.equal(r.code, 0, show(r));
    const asked = mock.requests.slice(before).filter((u) => u.startsWith('/github-oidc'));
    assert.equal(asked.length, 1, `${mock.requests}`);
    const query = new URL(asked[0] as string, 'http://x').searchParams;
    assert.equal(query.get('audience'), 'sigstore');
    assert.equal(query.get('api-version'), '2.0', 'GitHub’s own query is kept');

    const bundle = JSON.parse(await readFile(join(p.dir, 'app.sigstore.json'), 'utf8'));
    assert.equal(bundle.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    const vm = bundle.verificationMaterial;
    assert.ok(vm.certificate?.rawBytes, 'a single leaf certificate');
    assert.equal(vm.x509CertificateChain, undefined, 'v0.3 has no chain');
    assert.equal(vm.tlogEntries.length, 1);
    const entry = vm.tlogEntries[0];
    assert.equal(entry.kindVersion.kind, 'dsse');
    assert.ok(entry.inclusionProof?.checkpoint?.envelope, 'inclusion proof with checkpoint');
    assert.ok(
      entry.inclusionPromise?.signedEntryTimestamp,
      'inclusion promise as Rekor returns it',
    );
    assert.equal(vm.timestampVerificationData?.rfc3161Timestamps?.length, 1);

    const exact = await p.verify(
      'app.sigstore.json',
      '--certificate-identity',
      IDENTITY,
      '--certificate-oidc-issuer',
      ISSUER,
    );
    assert.equal(exact.code, 0, show(exact));
    const v = jsonOf(exact).bundles[0];
    assert.deepEqual(v.signers, [{ kind: 'certificate', subject: IDENTITY, issuer: ISSUER }]);
    const names = v.checks.map((c: { name: string }) => c.name);
    for (const n of ['certificate', 'transparency-log', 'timestamp', 'identity', 'issuer'])
      assert.ok(names.includes(n), `check ${n} in ${names}`);

    const regexp = await p.verify(
      'app.sigstore.json',
      '--certificate-identity-regexp',
      'https://github\\.com/acme/.*@refs/heads/main',
      '--certificate-oidc-issuer',
      ISSUER,
    );
    assert.equal(regexp.code, 0, show(regexp));

    const failedCheck = (r: Awaited<ReturnType<typeof p.verify>>, name: string) => {
      assert.equal(r.code, 1, show(r));
      const c = jsonOf(r).bundles[0].checks.find((x: { name: string }) => x.name === name);
      assert.equal(c?.ok, false, show(r));
      return c.detail as string;
    };
    const issuer = await p.verify(
      'app.sigstore.json',
      '--certificate-identity',
      IDENTITY,
      '--certificate-oidc-issuer',
      'https://gitlab.com',
    );
    assert.match(failedCheck(issuer, 'issuer'), /gitlab\.com/);
    const identity = await p.verify(
      'app.sigstore.json',
      '--certificate-identity',
      IDENTITY.replace('acme', 'evil'),
      '--certificate-oidc-issuer',
      ISSUER,
    );
    assert.match(failedCheck(identity, 'identity'), /evil/);
    const partial = await p.verify(
      'app.sigstore.json',
      '--certificate-identity-regexp',
      'acme',
      '--certificate-oidc-issuer',
      ISSUER,
    );
    assert.equal(partial.code, 1, show(partial));

    // Tampering: a flipped byte in the certificate, the signature, the payload.
    const trust = ['--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER];
    const flip = (b64: string, at: number) => {
      const bytes = Buffer.from(b64, 'base64');
      bytes[at % bytes.length] = (bytes[at % bytes.length] as number) ^ 1;
      return bytes.toString('base64');
    };
    const tampered = {
      certificate: (b: typeof bundle) => {
        b.verificationMaterial.certificate.rawBytes = flip(
          b.verificationMaterial.certificate.rawBytes,
          200,
        );
      },
      signature: (b: typeof bundle) => {
        b.dsseEnvelope.signatures[0].sig = flip(b.dsseEnvelope.signatures[0].sig, 10);
      },
      payload: (b: typeof bundle) => {
        const s = JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString('utf8'));
        s.predicate = { forged: true };
        b.dsseEnvelope.payload = Buffer.from(JSON.stringify(s)).toString('base64');
      },
      timestamp: (b: typeof bundle) => {
        const ts = b.verificationMaterial.timestampVerificationData.rfc3161Timestamps[0];
        ts.signedTimestamp = flip(ts.signedTimestamp, 60);
        // With the log entry gone too, only the timestamp could vouch for the time.
        b.verificationMaterial.tlogEntries = [];
      },
    };
    for (const [name, change] of Object.entries(tampered)) {
      const b = structuredClone(bundle);
      change(b);
      await writeFile(join(p.dir, `${name}.json`), JSON.stringify(b));
      const r = await p.verify(`${name}.json`, ...trust);
      assert.ok(r.code === 1 || r.code === 2, `${name}: ${show(r)}`);
      assert.notEqual(r.code, 0, name);
    }
  });

  test('GitLab: SIGSTORE_ID_TOKEN; --identity-token as a value or as a file (as cosign)', async (t) => {
    const token = identityToken(
      claims({
        iss: 'https://gitlab.com',
        sub: 'https://gitlab.com/g/app//.gitlab-ci.yml@refs/heads/main',
      }),
    );
    const gitlab = await project(t, { GITLAB_CI: 'true', SIGSTORE_ID_TOKEN: token });
    const r1 = await gitlab.attest('--out', 'gl.json');
    assert.equal(r1.code, 0, show(r1));
    const v1 = await gitlab.verify(
      'gl.json',
      '--certificate-identity',
      'https://gitlab.com/g/app//.gitlab-ci.yml@refs/heads/main',
      '--certificate-oidc-issuer',
      'https://gitlab.com',
    );
    assert.equal(v1.code, 0, show(v1));

    const p = await project(t);
    const value = await p.attest('--identity-token', identityToken(claims()), '--out', 'v.json');
    assert.equal(value.code, 0, show(value));
    await writeFile(join(p.dir, 'token.txt'), `${identityToken(claims())}\n`);
    const file = await p.attest('--identity-token', 'token.txt', '--out', 'f.json');
    assert.equal(file.code, 0, show(file));
    const v2 = await p.verify(
      'f.json',
      '--certificate-identity',
      IDENTITY,
      '--certificate-oidc-issuer',
      ISSUER,
    );
    assert.equal(v2.code, 0, show(v2));
  });

  test('no token: exit 2 IDENTITY_TOKEN_MISSING naming where a token would come from, no network', async (t) => {
    const cases: Array<[NodeJS.ProcessEnv, RegExp[]]> = [
      [{}, [/--identity-token/, /SIGSTORE_ID_TOKEN/, /id-token: write/]],
      [{ GITHUB_ACTIONS: 'true' }, [/GitHub Actions/, /id-token: write/]],
      [
        { GITHUB_ACTIONS: 'true', ACTIONS_ID_TOKEN_REQUEST_URL: `${mock.base}/github-oidc?x=1` },
        [/ACTIONS_ID_TOKEN_REQUEST_TOKEN/],
      ],
      [{ GITLAB_CI: 'true' }, [/GitLab/, /id_tokens/, /SIGSTORE_ID_TOKEN/]],
    ];
    for (const [env, messages] of cases) {
      const p = await project(t, env);
      const before = mock.requests.length;
      const r = await p.attest('--json');
      assert.equal(r.code, 2, show(r));
      assert.equal(jsonOf(r).error.code, 'IDENTITY_TOKEN_MISSING', show(r));
      for (const m of messages) assert.match(jsonOf(r).error.message, m, JSON.stringify(env));
      assert.deepEqual(mock.requests.slice(before), [], 'nothing sent to Fulcio');
    }
  });

  test('GitHub refuses the token request: exit 2 naming GitHub’s answer, not a token-parse error', async (t) => {
    const gha = mock.githubActions(identityToken(claims()));
    const p = await project(t, { ...gha, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'wrong' });
    const r = await p.attest('--json');
    assert.equal(r.code, 2, show(r));
    assert.equal(jsonOf(r).error.code, 'IDENTITY_TOKEN_MISSING', show(r));
    assert.match(jsonOf(r).error.message, /GitHub Actions .*401/);
  });

  test('Fulcio refuses an expired token or one for another audience: its answer and why', async (t) => {
    const p = await project(t);
    const expired = await p.attest(
      '--identity-token',
      identityToken(claims({ exp: Math.floor(Date.now() / 1000) - 3600 })),
      '--json',
    );
    assert.equal(expired.code, 2, show(expired));
    const e1 = jsonOf(expired).error;
    assert.equal(e1.code, 'IDENTITY_TOKEN_INVALID', show(expired));
    assert.match(e1.message, /Fulcio .*refused the identity token/);
    assert.match(e1.message, /There was an error processing the identity token/);
    assert.match(e1.message, /expired at \d{4}-/);

    const audience = await p.attest(
      '--identity-token',
      identityToken(claims({ aud: 'other' })),
      '--json',
    );
    assert.equal(audience.code, 2, show(audience));
    assert.equal(jsonOf(audience).error.code, 'IDENTITY_TOKEN_INVALID');
    assert.match(jsonOf(audience).error.message, /audience "other".*sigstore/);
  });

  test('a malformed token is refused without printing it', async (t) => {
    const p = await project(t);
    const secretish = `${Buffer.from('{"alg":"none"}').toString('base64url')}.bm90LWpzb24tc2VjcmV0.c2lnbmF0dXJl`;
    const noSubject = identityToken({ iss: ISSUER, aud: 'sigstore' });
    for (const token of [secretish, noSubject]) {
      const r = await p.attest('--identity-token', token, '--json');
      assert.equal(r.code, 2, show(r));
      assert.equal(jsonOf(r).error.code, 'IDENTITY_TOKEN_INVALID', show(r));
      assert.ok(!r.stdout.includes(token) && !r.stderr.includes(token), show(r));
      assert.ok(!r.stderr.includes('c2lnbmF0dXJl'), 'no part of the token');
    }
  });

  test('usage: an empty --identity-token, keyless flags without --keyless', async (t) => {
    const p = await project(t);
    const empty = await p.attest('--identity-token', '', '--json');
    assert.equal(empty.code, 2, show(empty));
    assert.equal(jsonOf(empty).error.code, 'USAGE');
    const emptyFile = await (async () => {
      await writeFile(join(p.dir, 'empty.txt'), '\n');
      return p.attest('--identity-token', 'empty.txt', '--json');
    })();
    assert.equal(emptyFile.code, 2, show(emptyFile));
    assert.match(jsonOf(emptyFile).error.message, /empty/);
    const missing = await p.attest('--identity-token', 'no-such-token-file', '--json');
    assert.equal(missing.code, 2, show(missing));
    assert.equal(jsonOf(missing).error.code, 'FILE_NOT_FOUND');

    const key = await p.run('keys', 'generate', '--no-passphrase', '--prefix', 'k');
    assert.equal(key.code, 0, show(key));
    for (const flag of ['--identity-token', '--fulcio-url', '--rekor-url', '--tsa-url']) {
      const r = await p.attestWith('--key', 'k.key', '--no-store', flag, 'x', '--json');
      assert.equal(r.code, 2, `${flag}: ${show(r)}`);
      assert.match(jsonOf(r).error.message, /--keyless/);
    }
  });
});
