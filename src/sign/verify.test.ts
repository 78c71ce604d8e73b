import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { X509Certificate } from '@sigstore/core';
import { SHARED } from '../../test/shared.ts';
import { isVouchError } from '../core/errors.ts';
import { loadVerificationKey } from './keys.ts';
import { asSigstoreJsReadsIt, loadSigstoreJsFixture } from './testing-sigstore-js.ts';
import { loadTrustedRoot, publicGoodTrustedRoot } from './trusted-root.ts';
import type { BundleVerdict, KeylessIdentity, TrustPolicy } from './types.ts';
import { parseBundle, verifyBundle } from './verify.ts';

const SIGSTORE = `${SHARED}/vectors/sigstore`;
const CONFORMANCE = `${SIGSTORE}/conformance/bundle-verify`;
const PUBLIC_GOOD_FILE = `${SIGSTORE}/public-good/trusted_root.json`;
const DEFAULT_IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const DEFAULT_ISSUER = 'https://token.actions.githubusercontent.com';

/**
 * Conformance cases sigstore-js 4 cannot get right, with the reason. Empty
 * today: every case reaches its expected outcome. A case listed here must
 * keep reaching the WRONG outcome, so the table cannot go stale.
 */
const EXPECTED_UNSUPPORTED: Record<string, string> = {};

function failedChecks(v: BundleVerdict): string {
  return v.checks
    .filter((c) => !c.ok)
    .map((c) => `${c.name}: ${c.detail}`)
    .join(' | ');
}

const readOptional = (dir: string, name: string) =>
  existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8').trim() : undefined;

describe('sigstore-conformance bundle-verify', () => {
  const publicGood = JSON.parse(readFileSync(PUBLIC_GOOD_FILE, 'utf8'));
  const cases = readdirSync(CONFORMANCE, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();

  test('the suite is all there', () => {
    assert.ok(cases.length >= 45, `found ${cases.length} cases`);
    for (const name of Object.keys(EXPECTED_UNSUPPORTED)) assert.ok(cases.includes(name), name);
  });

  for (const name of cases) {
    test(name, () => {
      const dir = join(CONFORMANCE, name);
      const mustPass = !name.endsWith('_fail');
      const trustedRootText = readOptional(dir, 'trusted_root.json');
      const trustedRoot = trustedRootText ? JSON.parse(trustedRootText) : publicGood;
      const artifactFile = existsSync(join(dir, 'artifact'))
        ? join(dir, 'artifact')
        : join(CONFORMANCE, 'a.txt');
      const keyPem = readOptional(dir, 'key.pub');

      let outcome = false;
      let why = '';
      let policy: TrustPolicy | undefined;
      try {
        policy = keyPem
          ? { mode: 'key', keys: [loadVerificationKey(keyPem, join(dir, 'key.pub'))], trustedRoot }
          : {
              mode: 'keyless',
              trustedRoot,
              identity: {
                subject: readOptional(dir, 'identity') ?? DEFAULT_IDENTITY,
                issuer: readOptional(dir, 'issuer') ?? DEFAULT_ISSUER,
              },
            };
      } catch (e) {
        // An unreadable trusted key is a failure to verify, with exit 2.
        assert.ok(isVouchError(e) && e.code === 'KEY_MALFORMED', String(e));
        outcome = false;
        why = e.message;
      }
      if (policy) {
        // Bundle text, not parsed JSON: the malformed-JSON case must fail inside verifyBundle.
        const text = readFileSync(join(dir, 'bundle.sigstore.json'), 'utf8');
        const v = verifyBundle(text, name, { bytes: readFileSync(artifactFile) }, policy);
        outcome = v.ok;
        why = failedChecks(v);
        assert.equal(v.checks.length > 0, true);
        assert.equal(
          v.ok,
          v.checks.every((c) => c.ok),
          'ok is exactly "every check passed"',
        );
      }
      const result = outcome;
      if (name in EXPECTED_UNSUPPORTED) {
        assert.notEqual(result, mustPass, `now handled: remove ${name} from EXPECTED_UNSUPPORTED`);
      } else {
        assert.equal(result, mustPass, `expected ${mustPass ? 'PASS' : 'FAIL'}; ${why}`);
      }
    });
  }
});

/** Identity and issuer read from the leaf certificate, as a user would copy them. */
function identityOf(bundle: { verificationMaterial: unknown }): {
  subject: string;
  issuer: string;
} {
  const vm = bundle.verificationMaterial as {
    certificate?: { rawBytes: string };
    x509CertificateChain?: { certificates: Array<{ rawBytes: string }> };
  };
  const raw = vm.certificate?.rawBytes ?? vm.x509CertificateChain?.certificates[0]?.rawBytes ?? '';
  const cert = X509Certificate.parse(Buffer.from(raw, 'base64'));
  const v2 = cert.extension('1.3.6.1.4.1.57264.1.8');
  const issuer = v2
    ? v2.valueObj.subs[0]?.value.toString('ascii')
    : cert.extension('1.3.6.1.4.1.57264.1.1')?.value.toString('ascii');
  assert.ok(cert.subjectAltName && issuer);
  return { subject: cert.subjectAltName, issuer };
}

describe('real public-good bundles from sigstore-js', () => {
  const dir = `${SIGSTORE}/sigstore-js/bundles`;
  const files = readdirSync(dir).filter((f) => f.endsWith('.sigstore'));
  const trustedRoot = publicGoodTrustedRoot();

  test('there are v0.1, v0.2 and v0.3 bundles', () => {
    const types = new Set(
      files.map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')).mediaType),
    );
    assert.ok(types.size >= 4, [...types].join(', '));
  });

  for (const f of files) {
    test(`${f} parses and verifies keylessly; the statement comes back`, () => {
      const bundle = JSON.parse(readFileSync(join(dir, f), 'utf8'));
      assert.doesNotThrow(() => parseBundle(bundle, f));
      const identity = identityOf(bundle);
      // These DSSE bundles are about an npm tarball we do not have: no artifact,
      // so the subject is reported as not compared, and everything else is verified.
      const v = verifyBundle(bundle, f, undefined, { mode: 'keyless', trustedRoot, identity });
      assert.equal(v.ok, true, failedChecks(v));
      assert.deepEqual(v.signers, [{ kind: 'certificate', ...identity }]);
      assert.equal(v.statement?.subject[0]?.name, 'pkg:npm/sigstore@1.0.0');
      for (const name of ['certificate', 'transparency-log', 'signature', 'identity', 'issuer']) {
        assert.ok(
          v.checks.some((c) => c.name === name && c.ok),
          `check ${name} passed`,
        );
      }
      // The right statement digest is accepted, a wrong one is not.
      const sha512 = v.statement?.subject[0]?.digest.sha512;
      assert.match(sha512 ?? '', /^[0-9a-f]{128}$/);
      const wrong = verifyBundle(
        bundle,
        f,
        { digest: { algorithm: 'sha256', hex: '00'.repeat(32) } },
        {
          mode: 'keyless',
          trustedRoot,
          identity,
        },
      );
      assert.equal(wrong.ok, false);
    });
  }

  test('v0.1: an inclusion proof without a checkpoint is left out and the signed promise decides; later versions refuse it', () => {
    const read = (name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8'));
    // As sigstore-python 1.x wrote them (CPython's release bundles): no checkpoint.
    const v01 = read('bundleV01-dsse-with-proof.sigstore');
    delete v01.verificationMaterial.tlogEntries[0].inclusionProof.checkpoint;
    const identity = identityOf(v01);
    const v = verifyBundle(v01, 'v01', undefined, { mode: 'keyless', trustedRoot, identity });
    assert.equal(v.ok, true, failedChecks(v));
    // Without the promise nothing the log signed is left: refused.
    delete v01.verificationMaterial.tlogEntries[0].inclusionPromise;
    assert.throws(() => parseBundle(v01, 'v01'), { code: 'BUNDLE_MALFORMED' });
    // A tampered promise fails, so the promise really is what is checked.
    const tampered = read('bundleV01-dsse-with-proof.sigstore');
    const entry = tampered.verificationMaterial.tlogEntries[0];
    delete entry.inclusionProof.checkpoint;
    entry.integratedTime = String(Number(entry.integratedTime) + 1);
    const t = verifyBundle(tampered, 'v01-tampered', undefined, {
      mode: 'keyless',
      trustedRoot,
      identity,
    });
    assert.equal(t.ok, false);
    assert.equal(t.checks.find((c) => c.name === 'transparency-log')?.ok, false, failedChecks(t));
    const v03 = read('bundleV03-intoto.sigstore');
    delete v03.verificationMaterial.tlogEntries[0].inclusionProof.checkpoint;
    assert.throws(() => parseBundle(v03, 'v03'), {
      code: 'BUNDLE_MALFORMED',
      field: '/verificationMaterial/tlogEntries/0/inclusionProof/checkpoint',
    });
  });

  const f = 'bundleV03-intoto.sigstore';
  const bundle = () => JSON.parse(readFileSync(join(dir, f), 'utf8'));

  test('a flipped certificate byte fails', () => {
    const b = bundle();
    const identity = identityOf(b);
    const der = Buffer.from(b.verificationMaterial.certificate.rawBytes, 'base64');
    der.writeUInt8(der.readUInt8(der.length - 20) ^ 0x01, der.length - 20); // inside the CA's signature
    b.verificationMaterial.certificate.rawBytes = der.toString('base64');
    const v = verifyBundle(b, f, undefined, { mode: 'keyless', trustedRoot, identity });
    assert.equal(v.ok, false);
    assert.ok(
      v.checks.some((c) => !c.ok && c.name === 'certificate'),
      failedChecks(v),
    );
  });

  test('wrong identity, wrong issuer, identity by anchored regexp', () => {
    const b = bundle();
    const { subject, issuer } = identityOf(b);
    const policy = (identity: KeylessIdentity): TrustPolicy => ({
      mode: 'keyless',
      trustedRoot,
      identity,
    });
    const wrongSubject = verifyBundle(b, f, undefined, policy({ subject: `x${subject}`, issuer }));
    assert.equal(wrongSubject.ok, false);
    assert.deepEqual(
      wrongSubject.checks.filter((c) => !c.ok).map((c) => c.name),
      ['identity'],
    );

    const wrongIssuer = verifyBundle(
      b,
      f,
      undefined,
      policy({ subject, issuer: 'https://accounts.google.com' }),
    );
    assert.equal(wrongIssuer.ok, false);
    assert.deepEqual(
      wrongIssuer.checks.filter((c) => !c.ok).map((c) => c.name),
      ['issuer'],
    );

    assert.equal(
      verifyBundle(b, f, undefined, policy({ subjectRegExp: '.*@dehamer\\.com', issuer })).ok,
      true,
    );
    // Anchored: a pattern matching only part of the subject is not enough.
    assert.equal(
      verifyBundle(b, f, undefined, policy({ subjectRegExp: 'dehamer', issuer })).ok,
      false,
    );
    assert.equal(
      verifyBundle(b, f, undefined, policy({ issuer })).ok,
      false,
      'a subject is required',
    );
  });

  test('a keyless bundle is not accepted by a key policy, and vice versa', () => {
    const anyKey = loadVerificationKey(
      readFileSync(`${CONFORMANCE}/managed-key-happy-path/key.pub`, 'utf8'),
      'key.pub',
    );
    const v = verifyBundle(bundle(), f, undefined, { mode: 'key', keys: [anyKey] });
    assert.equal(v.ok, false);
    assert.ok(v.checks.some((c) => c.name === 'verification-material' && !c.ok));

    const keyBundle = readFileSync(
      `${CONFORMANCE}/managed-key-happy-path/bundle.sigstore.json`,
      'utf8',
    );
    const k = verifyBundle(keyBundle, 'k', undefined, {
      mode: 'keyless',
      trustedRoot,
      identity: { subject: 'x', issuer: 'y' },
    });
    assert.equal(k.ok, false);
    assert.ok(k.checks.some((c) => c.name === 'verification-material' && !c.ok));
  });
});

describe('sigstore-python bundles and trusted roots', () => {
  const assets = `${SIGSTORE}/sigstore-python/assets`;
  const stagingDir = `${assets}/staging-tuf/targets`;
  const stagingFile = readdirSync(stagingDir).find((f) => f.endsWith('.trusted_root.json'));
  assert.ok(stagingFile, 'the staging trusted root is in the vectors');
  const staging = JSON.parse(readFileSync(join(stagingDir, stagingFile), 'utf8'));
  const tsaRoot = {
    ...staging,
    // As sigstore-python's TestVerifierWithTimestamp: staging plus the test TSA.
    timestampAuthorities: [JSON.parse(readFileSync(`${assets}/tsa/ca.json`, 'utf8'))],
  };
  const roots: Record<string, unknown> = {
    staging,
    'public-good': JSON.parse(readFileSync(PUBLIC_GOOD_FILE, 'utf8')),
    'staging+tsa': tsaRoot,
    'staging-2026': JSON.parse(
      readFileSync(`${CONFORMANCE}/rekor2-dsse-happy-path/trusted_root.json`, 'utf8'),
    ),
  };
  // [bundle, artifact, trusted root, expected]: outcomes from the vectors'
  // MANIFEST and sigstore-python's tests/test_verifier.py and test_models.py
  // (null_policy there: the identity is read from the certificate here).
  const cases: Array<[string, string | undefined, string, 'PASS' | 'FAIL']> = [
    ['bundle.txt.sigstore', 'bundle.txt', 'staging', 'PASS'],
    ['bundle_v3.txt.sigstore', 'bundle_v3.txt', 'staging', 'PASS'],
    ['bundle_v3_alt.txt.sigstore', 'bundle_v3_alt.txt', 'staging', 'PASS'],
    ['staging-rekor-v2.txt.sigstore.json', 'staging-rekor-v2.txt', 'staging', 'PASS'],
    ['integration/bundle_v3.txt.sigstore', 'integration/bundle_v3.txt', 'staging', 'PASS'],
    ['bundle_v3_github.whl.sigstore', 'bundle_v3_github.whl', 'public-good', 'PASS'],
    ['tsa/bundle.txt.sigstore', 'tsa/bundle.txt', 'staging+tsa', 'PASS'],
    // Signed 2026-05 through log2026-1.ctfe.sigstage.dev, which the 2025
    // staging root above predates (sigstore-python fetches a fresh one
    // online): checked against the newer staging root of the conformance suite.
    ['a.dsse.staging-rekor-v2.txt.sigstore.json', undefined, 'staging-2026', 'PASS'],
    ['integration/Python-3.12.5.tgz.sigstore', undefined, 'public-good', 'PASS'],
    ['bundle_cve_2022_36056.txt.sigstore', 'bundle_cve_2022_36056.txt', 'staging', 'FAIL'],
    ['bundle_invalid_version.txt.sigstore', 'bundle_invalid_version.txt', 'staging', 'FAIL'],
    ['bundle_no_cert_v1.txt.sigstore', 'bundle_no_cert_v1.txt', 'staging', 'FAIL'],
    ['bundle_no_log_entry.txt.sigstore', 'bundle_no_log_entry.txt', 'staging', 'FAIL'],
    ['bundle_no_checkpoint.txt.sigstore', 'bundle_no_checkpoint.txt', 'staging', 'FAIL'],
    [
      'bundle_v3_no_signed_time.txt.sigstore.json',
      'bundle_v3_no_signed_time.txt',
      'staging',
      'FAIL',
    ],
    ['tsa/bundle.duplicate.sigstore', 'tsa/bundle.txt', 'staging+tsa', 'FAIL'],
    ['tsa/bundle.many_timestamp.sigstore', 'tsa/bundle.txt', 'staging+tsa', 'FAIL'],
    ['tsa/bundle.txt.late_timestamp.sigstore', 'tsa/bundle.txt', 'staging+tsa', 'FAIL'],
  ];
  /**
   * Cases that reach the wrong outcome, with the reason. Each must keep
   * reaching it, so the table cannot go stale.
   */
  const wrongOutcome: Record<string, string> = {
    'integration/Python-3.12.5.tgz.sigstore':
      'a message signature over the CPython 3.12.5 tarball, which is not in the vectors: verifying it needs the artifact bytes (its checkpoint-less v0.1 inclusion proof is left out and its promise is checked, see the sigstore-js v0.1 test)',
  };

  test('every bundle in the assets has a case', () => {
    const bundles = (dir: string, prefix: string) =>
      readdirSync(dir)
        .filter((f) => /\.sigstore(\.json)?$/.test(f))
        .map((f) => `${prefix}${f}`);
    const all = [
      ...bundles(assets, ''),
      ...bundles(`${assets}/integration`, 'integration/'),
      ...bundles(`${assets}/tsa`, 'tsa/'),
    ].sort();
    assert.deepEqual(all, cases.map((c) => c[0]).sort());
  });

  for (const [name, artifactName, root, expected] of cases) {
    test(`${name}: ${expected}`, () => {
      const text = readFileSync(join(assets, name), 'utf8');
      let identity: KeylessIdentity = { subject: 'no certificate', issuer: 'none' };
      try {
        identity = identityOf(JSON.parse(text));
      } catch {
        // Malformed, or no certificate: the verdict must say so.
      }
      const artifact = artifactName
        ? { bytes: readFileSync(join(assets, artifactName)) }
        : undefined;
      const v = verifyBundle(text, name, artifact, {
        mode: 'keyless',
        trustedRoot: roots[root],
        identity,
      });
      assert.equal(v.ok, v.checks.length > 0 && v.checks.every((c) => c.ok));
      const mustPass = expected === 'PASS';
      if (name in wrongOutcome) {
        assert.notEqual(v.ok, mustPass, `now handled: remove ${name} from wrongOutcome`);
      } else {
        assert.equal(v.ok, mustPass, `expected ${expected}; ${failedChecks(v)}`);
      }
    });
  }

  describe('RFC 3161 timestamps, as sigstore-go and sigstore-python count them', () => {
    const tsaBundle = () => JSON.parse(readFileSync(`${assets}/tsa/bundle.txt.sigstore`, 'utf8'));
    const artifact = { bytes: readFileSync(`${assets}/tsa/bundle.txt`) };
    const check = (b: { verificationMaterial: unknown }, name: string) => {
      const v = verifyBundle(JSON.stringify(b), name, artifact, {
        mode: 'keyless',
        trustedRoot: roots['staging+tsa'],
        identity: identityOf(b),
      });
      return { v, timestamp: v.checks.find((c) => c.name === 'timestamp') };
    };

    test('one timestamp that does not verify is left out, not a veto: the other and the log time count', () => {
      const { v, timestamp } = check(tsaBundle(), 'tsa/bundle.txt.sigstore');
      assert.equal(v.ok, true, failedChecks(v));
      assert.match(
        timestamp?.detail ?? '',
        /1 RFC 3161 timestamp\(s\) \(1 more could not be verified/,
      );
    });

    test('with only the bad timestamp and no signed log time, nothing vouches for the time: refused', () => {
      const b = tsaBundle();
      const vm = b.verificationMaterial;
      // [1] is the timestamp whose message imprint is not this signature's.
      vm.timestampVerificationData.rfc3161Timestamps = [
        vm.timestampVerificationData.rfc3161Timestamps[1],
      ];
      const alone = check(b, 'bad-timestamp-only');
      assert.equal(alone.v.ok, true, "the log entry's signed integrated time still counts");
      delete vm.tlogEntries[0].inclusionPromise;
      const none = check(b, 'bad-timestamp-no-promise');
      assert.equal(none.v.ok, false);
      assert.equal(none.timestamp?.ok, false);
    });

    test('a repeated timestamp and more than 32 are refused by name', () => {
      const dup = check(
        JSON.parse(readFileSync(`${assets}/tsa/bundle.duplicate.sigstore`, 'utf8')),
        'dup',
      );
      assert.equal(dup.v.ok, false);
      assert.match(
        dup.timestamp?.detail ?? '',
        /duplicate RFC 3161 timestamp: .*\[2\] repeats \[0\]/,
      );
      const many = check(
        JSON.parse(readFileSync(`${assets}/tsa/bundle.many_timestamp.sigstore`, 'utf8')),
        'many',
      );
      assert.equal(many.v.ok, false);
      assert.match(many.timestamp?.detail ?? '', /too many RFC 3161 timestamps: 33, at most 32/);
      // The good bundle's valid timestamp twice is still a duplicate, not two sources of time.
      const b = tsaBundle();
      const ts = b.verificationMaterial.timestampVerificationData.rfc3161Timestamps;
      ts.push(ts[0]);
      assert.match(check(b, 'twice').timestamp?.detail ?? '', /duplicate/);
    });

    test('a timestamp after the certificate expired is verified, kept, and fails the certificate', () => {
      const late = check(
        JSON.parse(readFileSync(`${assets}/tsa/bundle.txt.late_timestamp.sigstore`, 'utf8')),
        'late',
      );
      assert.equal(late.v.ok, false);
      assert.equal(
        late.v.checks.find((c) => c.name === 'certificate')?.ok,
        false,
        failedChecks(late.v),
      );
    });
  });

  test('trusted roots: v1 files load; a bad media type or a CA file is TRUSTED_ROOT_MALFORMED', async () => {
    const dir = `${assets}/trusted_root`;
    for (const f of ['trustedroot.v1.json', 'trustedroot.v1.local_tlog_ed25519_rekor-tiles.json'])
      assert.ok(await loadTrustedRoot(join(dir, f)), f);
    for (const f of [
      'trustedroot.badtype.json',
      'certificate_authority.json',
      'certificate_authority.empty.json',
      'certificate_authority.missingroot.json',
    ]) {
      await assert.rejects(loadTrustedRoot(join(dir, f)), {
        code: 'TRUSTED_ROOT_MALFORMED',
        file: join(dir, f),
      });
    }
  });
});

describe('key-signed bundles with log entries', () => {
  const dir = `${CONFORMANCE}/managed-key-happy-path`;
  const key = loadVerificationKey(readFileSync(`${dir}/key.pub`, 'utf8'), 'key.pub');
  const text = readFileSync(`${dir}/bundle.sigstore.json`, 'utf8');
  const artifact = { bytes: readFileSync(`${CONFORMANCE}/a.txt`) };

  test('entries are verified against the trusted root when one is given', () => {
    const v = verifyBundle(text, 'b', artifact, {
      mode: 'key',
      keys: [key],
      trustedRoot: publicGoodTrustedRoot(),
    });
    assert.equal(v.ok, true, failedChecks(v));
    assert.match(
      v.checks.find((c) => c.name === 'transparency-log')?.detail ?? '',
      /1 log entry verified/,
    );
  });

  test('a tampered entry is rejected even though the key signature is fine', () => {
    const b = JSON.parse(text);
    const entry = b.verificationMaterial.tlogEntries[0];
    entry.integratedTime = String(Number(entry.integratedTime) + 1);
    const v = verifyBundle(b, 'b', artifact, {
      mode: 'key',
      keys: [key],
      trustedRoot: publicGoodTrustedRoot(),
    });
    assert.equal(v.ok, false);
    assert.ok(v.checks.some((c) => c.name === 'signature' && c.ok));
    assert.ok(
      v.checks.some((c) => c.name === 'transparency-log' && !c.ok),
      failedChecks(v),
    );
  });

  test('message signature: digest-only input cannot verify a key signature, and says so', () => {
    const hex = createHash('sha256').update(artifact.bytes).digest('hex');
    const v = verifyBundle(
      text,
      'b',
      { digest: { algorithm: 'sha256', hex } },
      {
        mode: 'key',
        keys: [key],
      },
    );
    assert.equal(v.ok, false);
    assert.ok(
      v.checks.some((c) => c.name === 'artifact-digest' && c.ok),
      'the digest itself matches',
    );
    assert.match(failedChecks(v), /needs the artifact bytes/);
  });
});

describe('bad input', () => {
  const good = readFileSync(
    `${CONFORMANCE}/happy-path-v0.3-new-mediaType/bundle.sigstore.json`,
    'utf8',
  );
  const cases: Array<[string, string, RegExp]> = [
    ['truncated JSON', good.slice(0, good.length / 2), /not valid JSON/],
    ['not JSON', 'this is not json', /not valid JSON/],
    [
      'wrong media type',
      good.replace('bundle.v0.3+json', 'bundle.v0.9+json'),
      /unsupported media type/,
    ],
    ['an array', '[]', /not a JSON object/],
    [
      'no content',
      JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' }),
      /not a valid Sigstore bundle/,
    ],
  ];
  for (const [name, text, re] of cases) {
    test(`${name}: parseBundle throws BUNDLE_MALFORMED naming the file; verifyBundle returns a failed verdict`, () => {
      assert.throws(
        () => parseBundle(text, 'evidence/x.sigstore.json'),
        (e: unknown) =>
          isVouchError(e) &&
          e.code === 'BUNDLE_MALFORMED' &&
          e.file === 'evidence/x.sigstore.json' &&
          e.message.startsWith('evidence/x.sigstore.json') &&
          re.test(e.message),
      );
      const v = verifyBundle(text, 'evidence/x.sigstore.json', undefined, {
        mode: 'key',
        keys: [],
      });
      assert.equal(v.ok, false);
      assert.equal(v.source, 'evidence/x.sigstore.json');
      assert.equal(v.checks[0]?.name, 'bundle-format');
      assert.match(v.checks[0]?.detail ?? '', re);
    });
  }

  test('the field is named for a structural problem', () => {
    const b = JSON.parse(good);
    b.verificationMaterial.tlogEntries[0].logIndex = '-1';
    assert.throws(() => parseBundle(b, 'f.json'), {
      code: 'BUNDLE_MALFORMED',
      field: '/verificationMaterial/tlogEntries/0/logIndex',
    });
  });
});

describe('trusted roots', () => {
  test('publicGoodTrustedRoot is the embedded public-good root, offline', () => {
    assert.deepEqual(publicGoodTrustedRoot(), JSON.parse(readFileSync(PUBLIC_GOOD_FILE, 'utf8')));
  });

  test('loadTrustedRoot reads a valid root and rejects malformed ones naming file and field', async () => {
    assert.ok(await loadTrustedRoot(PUBLIC_GOOD_FILE));
    const missingStart = `${CONFORMANCE}/trust-root-tlog-missing-validity-start_fail/trusted_root.json`;
    await assert.rejects(loadTrustedRoot(missingStart), {
      code: 'TRUSTED_ROOT_MALFORMED',
      file: missingStart,
      field: '/tlogs/1/publicKey/validFor/start',
    });
    const dir = mkdtempSync(join(tmpdir(), 'vouch-root-'));
    try {
      const f = join(dir, 'root.json');
      writeFileSync(f, JSON.stringify({ mediaType: 'application/json' }));
      await assert.rejects(loadTrustedRoot(f), {
        code: 'TRUSTED_ROOT_MALFORMED',
        file: f,
        field: '/mediaType',
      });
      writeFileSync(f, '{"mediaType":');
      await assert.rejects(loadTrustedRoot(f), { code: 'JSON_MALFORMED', file: f });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a malformed trusted root in a policy is a failed check, not a throw', () => {
    const text = readFileSync(
      `${CONFORMANCE}/happy-path-v0.3-new-mediaType/bundle.sigstore.json`,
      'utf8',
    );
    const v = verifyBundle(
      text,
      'b',
      { bytes: readFileSync(`${CONFORMANCE}/a.txt`) },
      {
        mode: 'keyless',
        trustedRoot: { mediaType: 'nope' },
        identity: { subject: DEFAULT_IDENTITY, issuer: DEFAULT_ISSUER },
      },
    );
    assert.equal(v.ok, false);
    assert.ok(v.checks.some((c) => c.name === 'trusted-root' && !c.ok));
  });
});

describe('sigstore-js unit-test fixtures (ts-fixtures)', () => {
  const dir = `${SIGSTORE}/sigstore-js/ts-fixtures`;
  // sigstore-js/packages/{client,verify}/src/__tests__/, at the MANIFEST's commit.
  const CLIENT_TEST = 'client sigstore.test.ts';
  const VERIFIER_TEST = 'verify verifier.test.ts';
  /** The fixtures' signer, as verifier.test.ts's matching policy names it. */
  const signer: KeylessIdentity = {
    subject: 'brian@dehamer.com',
    issuer: 'https://github.com/login/oauth',
  };

  /** What each fixture module is; a module with bundles has a case for each. */
  const modules: Record<string, string> = {
    'client__bundles_valid.ts': 'bundles, artifact, publicKeys',
    'client__bundles_invalid.ts': 'bundles',
    'client__trust.ts': 'trusted root of the client__ bundles',
    'verify__bundles.ts': 'bundles, ARTIFACT, PUBLIC_KEY',
    'verify__trust.ts': 'trusted root of the verify__ bundles',
    'verify__certs.ts':
      "no bundle: CA/leaf certificates for sigstore-js's own X.509 chain unit tests (x509/cert.test.ts, key/certificate.test.ts); without their private keys no bundle or timestamp can be made, so vouch's certificate check cannot be reached with them",
  };

  interface Case {
    /** `module#export.path`, optionally ` (variant)`. */
    name: string;
    expected: 'PASS' | 'FAIL';
    /** The sigstore-js test that gives the outcome. */
    source: string;
    /** Key-signed: the key the sigstore-js test trusts (`module#export.path`). */
    key?: string;
    /** Message signatures: the artifact the sigstore-js test passes (the fixture's, or this text). */
    artifact?: 'fixture' | { text: string };
    mediaType?: string;
    /** For FAIL: exactly the checks that must fail, so it fails for sigstore-js's reason. */
    failing?: string[];
  }
  const V = 'client__bundles_valid.ts#';
  const I = 'client__bundles_invalid.ts#';
  const B = 'verify__bundles.ts#';
  const cases: Case[] = [
    {
      name: `${V}v1.messageSignature.withSigningCert`,
      expected: 'PASS',
      artifact: 'fixture',
      source: `${CLIENT_TEST}: valid v0.1 message signature bundle with signing certificate`,
    },
    {
      name: `${V}v1.dsse.withSigningCert`,
      expected: 'PASS',
      source: `${CLIENT_TEST}: valid v0.1 DSSE bundle with signing certificate`,
    },
    {
      name: `${V}v1.dsse.withPublicKey`,
      expected: 'PASS',
      key: `${V}publicKeys.key-1`,
      source: `${CLIENT_TEST}: valid v0.1 DSSE bundle with public key (keySelector: publicKeys[hint])`,
    },
    {
      name: `${V}v2.messageSignature.withSigningCert`,
      expected: 'PASS',
      artifact: 'fixture',
      source: `${CLIENT_TEST}: valid v0.2 message signature bundle with signing certificate`,
    },
    {
      name: `${V}v3.messageSignature.withSigningCert`,
      expected: 'PASS',
      artifact: 'fixture',
      source: `${CLIENT_TEST}: valid v0.3 message signature bundle with signing certificate`,
    },
    {
      name: `${V}v3.dsse.withSigningCert`,
      expected: 'PASS',
      source: `${CLIENT_TEST}: valid v0.3 dsse bundle with signing certificate`,
    },
    {
      name: `${V}v1.messageSignature.withSigningCert (empty artifact)`,
      expected: 'FAIL',
      artifact: { text: '' },
      failing: ['artifact-digest', 'signature'],
      source: `${CLIENT_TEST}: signature mismatch (SIGNATURE_ERROR)`,
    },
    {
      name: `${V}v3.messageSignature.withSigningCert (media type v0.4)`,
      expected: 'PASS',
      artifact: 'fixture',
      mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.4',
      source: `${CLIENT_TEST}: the bundle is newer than v0.3 (a v0.4 of v0.3's shape)`,
    },
    {
      name: `${I}v1.messageSignature.invalidExpiredCert`,
      expected: 'FAIL',
      artifact: 'fixture',
      failing: ['certificate'],
      source: `${CLIENT_TEST}: tlog timestamp outside the certificate's validity (CERTIFICATE_ERROR)`,
    },
    {
      name: `${I}v1.dsse.invalidBadSignature`,
      expected: 'FAIL',
      // The altered payload no longer matches the log entry, checked before the signature.
      failing: ['payload-type', 'transparency-log'],
      source: `${CLIENT_TEST} #createVerifier: the bundle is invalid (payload altered)`,
    },
    {
      name: `${B}V1.MESSAGE_SIGNATURE.WITH_SIGNING_CERT`,
      expected: 'PASS',
      artifact: 'fixture',
      source: `${VERIFIER_TEST}: the certificate-signed message signature bundle is valid`,
    },
    {
      name: `${B}V1.MESSAGE_SIGNATURE.WITH_PUBLIC_KEY`,
      expected: 'PASS',
      artifact: 'fixture',
      key: `${B}PUBLIC_KEY`,
      source: `${VERIFIER_TEST}: the key-signed message signature bundle is valid`,
    },
    {
      name: `${B}V1.MESSAGE_SIGNATURE.WITH_SIGNING_CERT (not the artifact)`,
      expected: 'FAIL',
      artifact: { text: 'not the artifact' },
      failing: ['artifact-digest', 'signature'],
      source: `${VERIFIER_TEST}: the bundle signature cannot be verified (SIGNATURE_ERROR)`,
    },
    {
      name: `${B}V1.DSSE.WITH_SIGNING_CERT.TLOG_INTOTO`,
      expected: 'PASS',
      source:
        'verify tlog/intoto.test.ts: "when everything is valid" (the same signature and log entry as client v1.dsse.withSigningCert)',
    },
    {
      name: `${B}V1.DSSE.WITH_SIGNING_CERT.TLOG_DSSE`,
      expected: 'PASS',
      source: `${VERIFIER_TEST}: the certificate-signed DSSE bundle is valid`,
    },
    {
      name: `${B}V3.DSSE.WITH_SIGNING_CERT.TLOG_DSSEV002`,
      expected: 'PASS',
      source: `${VERIFIER_TEST}: the certificate-signed Rekor v2 DSSE bundle is valid`,
    },
    {
      name: `${B}V3.MESSAGE_SIGNATURE.WITH_SIGNING_CERT`,
      expected: 'PASS',
      artifact: 'fixture',
      source: `${VERIFIER_TEST}: the certificate-signed message signature v3 bundle is valid (tlogThreshold 0, tsaThreshold 1)`,
    },
    {
      name: `${B}V3.MESSAGE_SIGNATURE.TLOG_HASHEDREKORDV002`,
      expected: 'PASS',
      artifact: 'fixture',
      source: `${VERIFIER_TEST}: the certificate-signed Rekor v2 hashedrekord bundle is valid`,
    },
  ];

  const TEXT_PLAIN =
    'vouch verifies in-toto Statements: a DSSE payload of type text/plain ("hello, world!") is refused; every other check (certificate or key, log entry, signature) passes';
  /**
   * Cases that reach the wrong outcome, with the reason and exactly the
   * checks that fail. Each must keep failing just so: the table cannot go
   * stale, and a deliberate rule cannot hide another failure.
   */
  const wrongOutcome: Record<string, { reason: string; failing: string[] }> = {
    [`${V}v1.dsse.withSigningCert`]: { reason: TEXT_PLAIN, failing: ['payload-type'] },
    [`${V}v1.dsse.withPublicKey`]: { reason: TEXT_PLAIN, failing: ['payload-type'] },
    [`${V}v3.dsse.withSigningCert`]: { reason: TEXT_PLAIN, failing: ['payload-type'] },
    [`${B}V1.DSSE.WITH_SIGNING_CERT.TLOG_INTOTO`]: {
      reason: TEXT_PLAIN,
      failing: ['payload-type'],
    },
    [`${B}V1.DSSE.WITH_SIGNING_CERT.TLOG_DSSE`]: { reason: TEXT_PLAIN, failing: ['payload-type'] },
    [`${B}V3.DSSE.WITH_SIGNING_CERT.TLOG_DSSEV002`]: {
      reason: TEXT_PLAIN,
      failing: ['payload-type'],
    },
    [`${B}V3.MESSAGE_SIGNATURE.WITH_SIGNING_CERT`]: {
      reason:
        'no transparency-log entry, only an RFC 3161 timestamp: sigstore-js passes it only with tlogThreshold 0 (its default, 1, fails it too); vouch requires a log entry for every keyless bundle',
      failing: ['transparency-log'],
    },
    [`${V}v3.messageSignature.withSigningCert (media type v0.4)`]: {
      reason:
        'vouch fails closed on a bundle media type it does not know (v0.1 to v0.3), where sigstore-js reads any newer version as v0.3',
      failing: ['bundle-format'],
    },
  };

  const fixtures: Record<string, Record<string, unknown>> = {};
  before(async () => {
    for (const file of Object.keys(modules))
      fixtures[file] = await loadSigstoreJsFixture(join(dir, file));
  });
  /** `module#a.b.c` in the loaded fixtures. */
  const at = (ref: string): unknown => {
    const [file, path] = ref.split('#') as [string, string];
    let v: unknown = fixtures[file];
    for (const part of path.split('.')) v = (v as Record<string, unknown> | undefined)?.[part];
    assert.ok(v !== undefined, `${ref} is in the fixtures`);
    return v;
  };
  /** Every object with a bundle media type, by `module#path`. */
  const bundlesIn = (file: string): string[] => {
    const out: string[] = [];
    const walk = (v: unknown, path: string[]) => {
      if (typeof v !== 'object' || v === null || Buffer.isBuffer(v)) return;
      const mediaType = (v as { mediaType?: unknown }).mediaType;
      if (typeof mediaType === 'string' && mediaType.includes('sigstore.bundle')) {
        out.push(`${file}#${path.join('.')}`);
        return;
      }
      for (const [k, child] of Object.entries(v)) walk(child, [...path, k]);
    };
    walk(fixtures[file], []);
    return out;
  };
  const rootFor = (name: string) =>
    name.startsWith('verify__')
      ? at('verify__trust.ts#trustedRoot')
      : at('client__trust.ts#trustedRoot');

  test('every fixture module is accounted for, and every bundle in it has a case', () => {
    assert.deepEqual(readdirSync(dir).sort(), Object.keys(modules).sort());
    const all = Object.keys(modules).flatMap(bundlesIn).sort();
    assert.equal(all.length, 15, all.join(', '));
    const covered = new Set(cases.map((c) => c.name.replace(/ \(.*\)$/, '')));
    assert.deepEqual([...covered].sort(), all);
    for (const name of Object.keys(wrongOutcome))
      assert.ok(
        cases.some((c) => c.name === name),
        name,
      );
  });

  test("the fixtures' own trusted roots, as written, are refused: log keys without a validity period", () => {
    // As sigstore-go (ParseTransparencyLogs: "tlog missing public key validity
    // period"); sigstore-js reads the missing start as the beginning of time,
    // and the cases below use the roots read that way (asSigstoreJsReadsIt).
    for (const name of [
      `${V}v1.messageSignature.withSigningCert`,
      `${B}V1.MESSAGE_SIGNATURE.WITH_SIGNING_CERT`,
    ]) {
      const v = verifyBundle(
        JSON.stringify(at(name)),
        name,
        { bytes: at(name.startsWith(B) ? `${B}ARTIFACT` : `${V}artifact`) as Buffer },
        {
          mode: 'keyless',
          trustedRoot: rootFor(name),
          identity: signer,
        },
      );
      assert.equal(v.ok, false, 'now accepted: verify the cases against the roots as written');
      assert.deepEqual(
        v.checks.filter((c) => !c.ok).map((c) => c.name),
        ['trusted-root'],
      );
      assert.match(failedChecks(v), /\/tlogs\/0\/publicKey\/validFor: missing validity period/);
    }
  });

  for (const c of cases) {
    test(`${c.name}: ${c.expected}`, () => {
      const base = c.name.replace(/ \(.*\)$/, '');
      const bundle = structuredClone(at(base)) as { mediaType: string };
      if (c.mediaType) bundle.mediaType = c.mediaType;
      const isVerify = base.startsWith('verify__');
      const fixtureArtifact = at(isVerify ? `${B}ARTIFACT` : `${V}artifact`) as Buffer;
      const artifact =
        c.artifact === 'fixture'
          ? { bytes: fixtureArtifact }
          : c.artifact
            ? { bytes: Buffer.from(c.artifact.text) }
            : undefined;
      const trustedRoot = asSigstoreJsReadsIt(rootFor(base));
      const policy: TrustPolicy = c.key
        ? { mode: 'key', keys: [loadVerificationKey(at(c.key) as string, c.key)], trustedRoot }
        : { mode: 'keyless', trustedRoot, identity: signer };
      // As a bundle file holds it.
      const v = verifyBundle(JSON.stringify(bundle), c.name, artifact, policy);
      assert.equal(v.ok, v.checks.length > 0 && v.checks.every((k) => k.ok));
      const failing = v.checks.filter((k) => !k.ok).map((k) => k.name);
      const wrong = wrongOutcome[c.name];
      if (wrong) {
        assert.notEqual(
          v.ok,
          c.expected === 'PASS',
          `now handled: remove ${c.name} from wrongOutcome`,
        );
        assert.deepEqual(failing, wrong.failing, `${wrong.reason}; ${failedChecks(v)}`);
      } else if (c.expected === 'PASS') {
        assert.equal(v.ok, true, `expected PASS (${c.source}); ${failedChecks(v)}`);
        assert.deepEqual(
          v.signers,
          c.key
            ? [{ kind: 'key', keyid: policy.mode === 'key' ? policy.keys[0]?.keyid : '' }]
            : [{ kind: 'certificate', ...signer }],
        );
      } else {
        assert.deepEqual(
          failing,
          c.failing,
          `expected FAIL (${c.source}) for its reason; ${failedChecks(v)}`,
        );
      }
      if (v.ok || wrong?.reason === TEXT_PLAIN) {
        // Verified for real: the log entries, the signature and (keyless) the
        // certificate, not only the shape.
        const passed = v.checks.filter((k) => k.ok).map((k) => k.name);
        for (const name of ['transparency-log', 'signature', ...(c.key ? [] : ['certificate'])])
          assert.ok(passed.includes(name), `${name} passed: ${passed.join(', ')}`);
      }
    });
  }
});
