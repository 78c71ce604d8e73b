// cosign's --certificate-github-workflow-* flags on `vouch verify`, against
// real public-good bundles (../shared/vectors/MANIFEST.md): sigstore-python's
// bundle_v3_github.whl (signed by trailofbits/rfc8785.py's release workflow)
// and the conformance beacon's DSSE bundle carry GitHub Actions extensions;
// sigstore-js's bundles are signed by an e-mail identity and carry none.
// The --pack path (shared with oci:// targets) runs against the mock Sigstore.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  identityToken,
  type MockSigstore,
  startMockSigstore,
} from '../../src/sign/testing-keyless.ts';
import {
  attestTestResultKeylessArgs,
  isolatedEnv,
  jsonOf,
  show,
  tempDir,
  VECTORS,
  vouch,
} from './helpers.ts';

const SIGSTORE = join(VECTORS, 'sigstore');
const PUBLIC_GOOD = join(SIGSTORE, 'public-good', 'trusted_root.json');
const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

const WHL = join(SIGSTORE, 'sigstore-python', 'assets', 'bundle_v3_github.whl');
const WHL_TRUST = [
  '--certificate-identity',
  'https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2',
  '--certificate-oidc-issuer',
  GITHUB_ISSUER,
];
/** Read from the certificate's extensions (legacy .2–.6 and DER .12–.20 agree). */
const WHL_CLAIMS: Record<string, string> = {
  'certificate-github-workflow-repository': 'trailofbits/rfc8785.py',
  'certificate-github-workflow-ref': 'refs/tags/v0.1.2',
  'certificate-github-workflow-sha': 'd8b4a6445f38c48b9137a8099706d9b8073146e4',
  'certificate-github-workflow-name': 'release',
  'certificate-github-workflow-trigger': 'release',
};

const BEACON_CASES = join(SIGSTORE, 'conformance', 'bundle-verify');
const BEACON = join(BEACON_CASES, 'happy-path-intoto-in-dsse-v3', 'bundle.sigstore.json');
const BEACON_REPO = 'sigstore-conformance/extremely-dangerous-public-oidc-beacon';

const EMAIL_BUNDLE = join(SIGSTORE, 'sigstore-js', 'bundles', 'bundleV03-dsse.sigstore');

const skip = [WHL, BEACON, EMAIL_BUNDLE].every(existsSync) ? false : `no vectors at ${SIGSTORE}`;

const flagArgs = (claims: Record<string, string>) =>
  Object.entries(claims).flatMap(([flag, value]) => [`--${flag}`, value]);

type Check = { name: string; ok: boolean; detail: string };

async function verifyWhl(t: Parameters<typeof tempDir>[0], extra: string[]) {
  const dir = await tempDir(t);
  const args = ['verify', WHL, '--bundle', `${WHL}.sigstore`, '--no-store'];
  args.push(...WHL_TRUST, '--trusted-root', PUBLIC_GOOD, ...extra);
  return vouch(args, { cwd: dir, env: isolatedEnv(dir) });
}

describe('verify --certificate-github-workflow-*: real public-good bundles', { skip }, () => {
  test('all five claims of the rfc8785.py release certificate pass, each as its own check', async (t) => {
    const r = await verifyWhl(t, [...flagArgs(WHL_CLAIMS), '--json']);
    assert.equal(r.code, 0, show(r));
    const checks: Check[] = jsonOf(r).bundles[0].checks;
    for (const [flag, value] of Object.entries(WHL_CLAIMS)) {
      const c = checks.find((x) => x.name === flag);
      assert.ok(c, `check ${flag} in ${checks.map((x) => x.name)}`);
      assert.equal(c.ok, true, c.detail);
      assert.ok(c.detail.includes(JSON.stringify(value)), c.detail);
    }
    // The DER extension is the one reported when both hold the claim.
    const repo = checks.find((x) => x.name === 'certificate-github-workflow-repository');
    assert.match(repo?.detail ?? '', /1\.3\.6\.1\.4\.1\.57264\.1\.12\)/);
  });

  for (const [flag, wrong] of [
    ['certificate-github-workflow-repository', 'trailofbits/rfc8785'],
    ['certificate-github-workflow-ref', 'refs/heads/main'],
    ['certificate-github-workflow-sha', '0000000000000000000000000000000000000000'],
    ['certificate-github-workflow-name', 'Release'],
    ['certificate-github-workflow-trigger', 'push'],
  ] as const) {
    test(`a wrong --${flag} fails with exit 1 naming the flag, expected and actual`, async (t) => {
      // The other four stay right: only this one can be the reason.
      const claims = { ...WHL_CLAIMS, [flag]: wrong };
      const text = await verifyWhl(t, flagArgs(claims));
      assert.equal(text.code, 1, show(text));
      const actual = WHL_CLAIMS[flag] as string;
      const line = text.stdout.split('\n').find((l) => l.trim().startsWith(`${flag}:`));
      assert.ok(line, `a line naming ${flag} in:\n${text.stdout}`);
      assert.ok(line.includes(`expected`) && line.includes(JSON.stringify(wrong)), line);
      assert.ok(line.includes(JSON.stringify(actual)), line);

      const json = jsonOf(await verifyWhl(t, [...flagArgs(claims), '--json']));
      assert.equal(json.ok, false);
      assert.deepEqual(json.bundles[0].signers, []);
      const failed = (json.bundles[0].checks as Check[]).filter((c) => !c.ok).map((c) => c.name);
      assert.deepEqual(failed, [flag]);
    });
  }

  test('the repository matches the DER source-repository URL without https://github.com/ only', async (t) => {
    const url = await verifyWhl(t, [
      '--certificate-github-workflow-repository',
      'https://github.com/trailofbits/rfc8785.py',
      '--json',
    ]);
    assert.equal(url.code, 1, show(url));
    const c = (jsonOf(url).bundles[0].checks as Check[]).find(
      (x) => x.name === 'certificate-github-workflow-repository',
    );
    assert.equal(c?.ok, false);
    // Both extensions are named with what they hold.
    assert.match(
      c?.detail ?? '',
      /"trailofbits\/rfc8785\.py" \(extension 1\.3\.6\.1\.4\.1\.57264\.1\.12\), "trailofbits\/rfc8785\.py" \(extension 1\.3\.6\.1\.4\.1\.57264\.1\.5\)/,
    );
  });

  test('the conformance beacon DSSE bundle: its own claims pass, a workflow name is compared exactly', async (t) => {
    const dir = await tempDir(t);
    const run = (...extra: string[]) =>
      vouch(
        [
          'verify',
          join(BEACON_CASES, 'a.txt'),
          '--bundle',
          BEACON,
          '--no-store',
          '--certificate-identity',
          `https://github.com/${BEACON_REPO}/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main`,
          '--certificate-oidc-issuer',
          GITHUB_ISSUER,
          '--trusted-root',
          PUBLIC_GOOD,
          '--certificate-github-workflow-repository',
          BEACON_REPO,
          '--certificate-github-workflow-ref',
          'refs/heads/main',
          '--certificate-github-workflow-trigger',
          'workflow_dispatch',
          ...extra,
        ],
        { cwd: dir, env: isolatedEnv(dir) },
      );
    const ok = await run('--certificate-github-workflow-name', 'Extremely dangerous OIDC beacon');
    assert.equal(ok.code, 0, show(ok));
    const caseDiffers = await run(
      '--certificate-github-workflow-name',
      'extremely dangerous OIDC beacon',
    );
    assert.equal(caseDiffers.code, 1, show(caseDiffers));
    assert.match(caseDiffers.stdout, /certificate-github-workflow-name: expected/);
  });

  test('a certificate without GitHub extensions (e-mail identity) fails the check, not passes it', async (t) => {
    const dir = await tempDir(t);
    const run = (...extra: string[]) =>
      vouch(
        [
          'verify',
          join(SIGSTORE, 'sigstore-js', 'bundles', 'statement.json'),
          '--bundle',
          EMAIL_BUNDLE,
          '--no-store',
          '--certificate-identity',
          'brian@dehamer.com',
          '--certificate-oidc-issuer',
          'https://github.com/login/oauth',
          '--trusted-root',
          PUBLIC_GOOD,
          '--json',
          ...extra,
        ],
        { cwd: dir, env: isolatedEnv(dir) },
      );
    // Sanity: the bundle verifies without the claim flags (artifact = its DSSE payload's subject).
    const plain = await run();
    const plainChecks: Check[] = jsonOf(plain).bundles[0].checks;
    const identity = plainChecks.find((c) => c.name === 'identity');
    assert.equal(identity?.ok, true, show(plain));
    for (const [flag, value] of Object.entries(WHL_CLAIMS)) {
      const r = await run(`--${flag}`, value);
      assert.equal(r.code, 1, show(r));
      const c = (jsonOf(r).bundles[0].checks as Check[]).find((x) => x.name === flag);
      assert.equal(c?.ok, false);
      assert.match(
        c?.detail ?? '',
        /the certificate has no .* extension \(1\.3\.6\.1\.4\.1\.57264\.1\./,
      );
      assert.deepEqual(jsonOf(r).bundles[0].signers, []);
    }
  });
});

describe('verify --certificate-github-workflow-*: usage', () => {
  test('needs keyless trust; refuses --key, --policy and an empty value (exit 2)', async (t) => {
    const dir = await tempDir(t);
    const env = isolatedEnv(dir);
    await writeFile(join(dir, 'app.bin'), 'x\n');
    await writeFile(join(dir, 'k.pub'), 'not read\n');
    const run = (...args: string[]) => vouch(['verify', 'app.bin', ...args], { cwd: dir, env });
    const repo = ['--certificate-github-workflow-repository', 'acme/app'];
    const keyless = [
      '--certificate-identity',
      'x@example.com',
      '--certificate-oidc-issuer',
      'https://i',
    ];

    const alone = await run(...repo);
    assert.equal(alone.code, 2, show(alone));
    assert.match(alone.stderr, /--certificate-github-workflow-repository needs keyless trust/);
    const withKey = await run('--key', 'k.pub', ...repo);
    assert.equal(withKey.code, 2, show(withKey));
    assert.match(withKey.stderr, /--key and --certificate-\* flags exclude each other/);
    const withPolicy = await run('--policy', 'p.yaml', ...repo);
    assert.equal(withPolicy.code, 2, show(withPolicy));
    assert.match(
      withPolicy.stderr,
      /--certificate-github-workflow-repository and --policy exclude/,
    );
    const empty = await run(...keyless, '--certificate-github-workflow-sha', '');
    assert.equal(empty.code, 2, show(empty));
    assert.match(empty.stderr, /--certificate-github-workflow-sha needs a value/);

    const help = await vouch(['verify', '--help'], { cwd: dir, env });
    for (const flag of Object.keys(WHL_CLAIMS)) assert.ok(help.stdout.includes(`--${flag}`), flag);
  });
});

describe('verify --pack with --certificate-github-workflow-* (the oci:// trust path)', () => {
  let mock: MockSigstore;
  before(async () => {
    mock = await startMockSigstore();
  });
  after(() => mock.close());

  test('claims from the mock Fulcio certificate pass; a wrong one fails with exit 1', async (t) => {
    const dir = await tempDir(t);
    const env = isolatedEnv(dir);
    const run = (...args: string[]) => vouch(args, { cwd: dir, env });
    const IDENTITY = 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main';
    await writeFile(join(dir, 'app.bin'), 'release 1\n');
    await writeFile(join(dir, 'result.json'), '{"result":"PASSED"}');
    await writeFile(join(dir, 'root.json'), JSON.stringify(mock.trustedRoot));
    const token = identityToken({
      iss: GITHUB_ISSUER,
      sub: IDENTITY,
      aud: 'sigstore',
      repository: 'acme/app',
      ref: 'refs/heads/main',
      sha: 'a'.repeat(40),
      workflow: 'release',
      event_name: 'push',
    });
    const signed = await run(
      ...attestTestResultKeylessArgs('app.bin', token, mock.base, 'result.json'),
    );
    assert.equal(signed.code, 0, show(signed));
    const packed = await run('pack', 'app.bin', '-o', 'app.pack');
    assert.equal(packed.code, 0, show(packed));
    const verify = (...claims: string[]) =>
      run(
        'verify',
        'app.bin',
        '--pack',
        'app.pack',
        '--trusted-root',
        'root.json',
        '--certificate-identity',
        IDENTITY,
        '--certificate-oidc-issuer',
        GITHUB_ISSUER,
        ...claims,
      );
    const ok = await verify(
      '--certificate-github-workflow-repository',
      'acme/app',
      '--certificate-github-workflow-ref',
      'refs/heads/main',
      '--certificate-github-workflow-sha',
      'a'.repeat(40),
      '--certificate-github-workflow-name',
      'release',
      '--certificate-github-workflow-trigger',
      'push',
    );
    assert.equal(ok.code, 0, show(ok));
    const wrong = await verify('--certificate-github-workflow-repository', 'evil/app');
    assert.equal(wrong.code, 1, show(wrong));
    assert.match(
      wrong.stdout,
      /certificate-github-workflow-repository: expected workflow repository "evil\/app", certificate has "acme\/app"/,
    );
  });
});
