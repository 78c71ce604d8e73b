// `vouch verify --pack` as a deployment gate: a pack is not signed, so nothing
// in it may choose whom to trust unless the caller pinned it. An attacker's
// pack (their key, their policy, their bundles; or their trusted root) must
// not pass; the owner's pack passes with their own policy or a pin.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  identityToken,
  type MockSigstore,
  startMockSigstore,
} from '../../src/sign/testing-keyless.ts';
import {
  attestTestResultArgs,
  attestTestResultKeylessArgs,
  generateKey,
  isolatedEnv,
  jsonOf,
  sha256,
  show,
  tempDir,
  vouch,
} from './helpers.ts';

const POLICY = (key: string) => `apiVersion: vouch.dev/policy/v1
kind: Policy
metadata:
  name: release
trust:
  signers:
    - name: ci
      key: ${key}
require:
  - name: tested
    predicateType: test-result
    signers: [ci]
`;

describe('verify --pack: whom to trust is never the pack’s to say', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const run = (...args: string[]) => vouch(args, { cwd: dir, env });
  /** The owner's pin of their pack's policy, as `vouch pack --json` reports it. */
  let pin: string;
  /** `vouch verify app.bin --pack <pack>` pinned to the owner's policy. */
  const verifyPinned = (pack: string, ...extra: string[]) =>
    run('verify', 'app.bin', '--pack', pack, '--pack-policy-sha256', pin, ...extra);

  const cleanup: Array<() => Promise<void>> = [];
  after(async () => {
    for (const fn of cleanup) await fn();
  });

  before(async () => {
    dir = await tempDir({ after: (fn) => cleanup.push(fn) });
    env = isolatedEnv(dir);
    await writeFile(join(dir, 'app.bin'), 'release 1\n');
    await writeFile(join(dir, 'result.json'), '{"result":"PASSED"}');
    // The owner: key ci, policy trusting ci, evidence in .vouch.
    await generateKey(dir, env, 'ci');
    await writeFile(join(dir, 'policy.yaml'), POLICY('ci.pub'));
    const attest = await run(...attestTestResultArgs('app.bin', 'result.json'));
    assert.equal(attest.code, 0, show(attest));
    const packed = await run(
      'pack',
      'app.bin',
      '--policy',
      'policy.yaml',
      '-o',
      'app.pack',
      '--json',
    );
    assert.equal(packed.code, 0, show(packed));
    pin = jsonOf(packed).packPolicySha256;
    assert.match(pin, /^[0-9a-f]{64}$/);
    assert.match(
      (await run('pack', 'app.bin', '--policy', 'policy.yaml', '-o', 'again.pack')).stdout,
      new RegExp(`--pack-policy-sha256 ${pin}`),
      'the human output says how to pin',
    );

    // The attacker: own key, own policy trusting it, own evidence about the same artifact.
    const evil = join(dir, 'evil');
    await mkdir(evil);
    await generateKey(evil, env, 'evil');
    await writeFile(join(evil, 'policy.yaml'), POLICY('evil.pub'));
    const evilAttest = await vouch(
      [
        ...attestTestResultArgs('../app.bin', '../result.json', 'evil.key'),
        '--out',
        'evil.sigstore.json',
      ],
      { cwd: evil, env },
    );
    assert.equal(evilAttest.code, 0, show(evilAttest));
    const evilPack = await vouch(
      ['pack', '../app.bin', '--policy', 'policy.yaml', '-o', '../evil.pack', '--json'],
      { cwd: evil, env },
    );
    assert.equal(evilPack.code, 0, show(evilPack));
    assert.notEqual(jsonOf(evilPack).packPolicySha256, pin);
  });

  test('an attacker pack (own key and policy) alone is a usage error that says how to pin', async () => {
    const r = await run('verify', 'app.bin', '--pack', 'evil.pack', '--json');
    assert.equal(r.code, 2, show(r));
    const e = jsonOf(r).error;
    assert.equal(e.code, 'USAGE');
    assert.match(e.message, /not signed/);
    assert.match(e.message, /--policy/);
    assert.match(e.message, /--pack-policy-sha256/);
    // The owner's pack without a pin is refused the same way: no exception for honest packs.
    const own = await run('verify', 'app.bin', '--pack', 'app.pack');
    assert.equal(own.code, 2, show(own));
    assert.match(own.stderr, /USAGE: .*--pack-policy-sha256/);
  });

  test('an attacker pack fails against the caller’s policy, key or pin', async () => {
    const policy = await run('verify', 'app.bin', '--pack', 'evil.pack', '--policy', 'policy.yaml');
    assert.equal(policy.code, 1, show(policy));
    const key = await run('verify', 'app.bin', '--pack', 'evil.pack', '--key', 'ci.pub');
    assert.equal(key.code, 1, show(key));
    const pinned = await verifyPinned('evil.pack', '--json');
    assert.equal(pinned.code, 2, show(pinned));
    assert.equal(jsonOf(pinned).error.code, 'OCI_PACK_POLICY_MISMATCH');
    assert.match(jsonOf(pinned).error.message, new RegExp(`not the pinned ${pin}`));
  });

  test('the owner’s pack passes with their policy, their key, or the pin', async () => {
    for (const flags of [
      ['--policy', 'policy.yaml'],
      ['--key', 'ci.pub'],
      ['--pack-policy-sha256', pin],
      ['--pack-policy-sha256', `sha256:${pin.toUpperCase()}`],
    ]) {
      const r = await run('verify', 'app.bin', '--pack', 'app.pack', '--no-store', ...flags);
      assert.equal(r.code, 0, `${flags.join(' ')}\n${show(r)}`);
    }
    // The pin is reproducible from the owner's own files: sha256sum's lines, sorted by name.
    const lines = ['ci.pub', 'policy.yaml'].map(
      async (f) => `${sha256(await readFile(join(dir, f)))}  ${f}\n`,
    );
    assert.equal(sha256((await Promise.all(lines)).join('')), pin);
    // Another artifact is still not covered by a pinned pack.
    await writeFile(join(dir, 'other.bin'), 'release 2\n');
    const other = await run(
      'verify',
      'other.bin',
      '--pack',
      'app.pack',
      '--pack-policy-sha256',
      pin,
    );
    assert.equal(other.code, 1, show(other));
  });

  test('the pin covers the key files the policy names, not only the policy text', async () => {
    // The owner's policy text, byte for byte, with the attacker's key under its file name.
    const pack = JSON.parse(await readFile(join(dir, 'app.pack'), 'utf8'));
    const evilPack = JSON.parse(await readFile(join(dir, 'evil.pack'), 'utf8'));
    pack.policy.files['ci.pub'] = await readFile(join(dir, 'evil', 'evil.pub'), 'utf8');
    pack.bundles = evilPack.bundles;
    // A pin over the policy's bytes alone would have matched this pack.
    assert.equal(pack.policy.sha256, sha256(await readFile(join(dir, 'policy.yaml'))));
    await writeFile(join(dir, 'swapped.pack'), JSON.stringify(pack));
    const r = await verifyPinned('swapped.pack', '--json');
    assert.equal(r.code, 2, show(r));
    assert.equal(jsonOf(r).error.code, 'OCI_PACK_POLICY_MISMATCH');
    // A file shadowing the policy itself is a malformed pack.
    const shadow = JSON.parse(await readFile(join(dir, 'app.pack'), 'utf8'));
    shadow.policy.files['policy.yaml'] = POLICY('evil.pub');
    await writeFile(join(dir, 'shadow.pack'), JSON.stringify(shadow));
    const s = await verifyPinned('shadow.pack');
    assert.equal(s.code, 2, show(s));
    assert.match(s.stderr, /OCI_PACK_MALFORMED/);
  });

  test('pin usage errors: malformed, with --policy or trust flags, without --pack, pack without policy', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--pack', 'app.pack', '--pack-policy-sha256', 'abc'], /64 hex/],
      [['--pack', 'app.pack', '--pack-policy-sha256', pin, '--policy', 'policy.yaml'], /--policy/],
      [['--pack', 'app.pack', '--pack-policy-sha256', pin, '--key', 'ci.pub'], /--key/],
      [['--pack-policy-sha256', pin, '--key', 'ci.pub'], /needs --pack/],
    ];
    for (const [args, message] of cases) {
      const r = await run('verify', 'app.bin', ...args, '--json');
      assert.equal(r.code, 2, `${args.join(' ')}\n${show(r)}`);
      assert.equal(jsonOf(r).error.code, 'USAGE', show(r));
      assert.match(jsonOf(r).error.message, message);
    }
    const bare = await run('pack', 'app.bin', '-o', 'bare.pack', '--json');
    assert.equal(bare.code, 0, show(bare));
    assert.equal(jsonOf(bare).packPolicySha256, null);
    const none = await verifyPinned('bare.pack');
    assert.equal(none.code, 2, show(none));
    assert.match(none.stderr, /OCI_PACK_POLICY_MISMATCH: .*carries no policy/);
  });
});

describe('verify --pack with keyless trust flags: the pack’s trusted root is not trusted', () => {
  let mock: MockSigstore;
  before(async () => {
    mock = await startMockSigstore();
  });
  after(() => mock.close());

  test('an attacker’s own Sigstore (trusted root in the pack) cannot pass an identity', async (t) => {
    const dir = await tempDir(t);
    const env = isolatedEnv(dir);
    const run = (...args: string[]) => vouch(args, { cwd: dir, env });
    const IDENTITY = 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main';
    const ISSUER = 'https://token.actions.githubusercontent.com';
    await writeFile(join(dir, 'app.bin'), 'release 1\n');
    await writeFile(join(dir, 'result.json'), '{"result":"PASSED"}');
    await writeFile(join(dir, 'evil_root.json'), JSON.stringify(mock.trustedRoot));
    // The attacker's Fulcio issues a certificate for the victim's identity.
    const token = identityToken({ iss: ISSUER, sub: IDENTITY, aud: 'sigstore' });
    const signed = await run(
      ...attestTestResultKeylessArgs('app.bin', token, mock.base, 'result.json'),
    );
    assert.equal(signed.code, 0, show(signed));
    const packed = await run(
      'pack',
      'app.bin',
      '--trusted-root',
      'evil_root.json',
      '-o',
      'evil.pack',
    );
    assert.equal(packed.code, 0, show(packed));
    const trust = ['--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER];
    const r = await run('verify', 'app.bin', '--pack', 'evil.pack', ...trust, '--json');
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /trusted root .*not used/);
    // The same root given by the caller is the caller's choice: then it verifies.
    const mine = await run(
      'verify',
      'app.bin',
      '--pack',
      'evil.pack',
      ...trust,
      '--trusted-root',
      'evil_root.json',
    );
    assert.equal(mine.code, 0, show(mine));
  });
});
