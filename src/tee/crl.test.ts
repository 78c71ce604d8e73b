// CRL parsing and the revocation check. Real Intel CRLs from
// ../shared/vectors/tee/tdx (rootcrl.der: Intel SGX Root CA CRL, 2023-04-03 to
// 2024-04-02; pckcrl: PCK Platform CA CRL, 2023-06-08 to 2023-07-08, 44
// serials), checked against the PCK chain embedded in the real v4 quote.
// Generated chains and CRLs come from the openssl command line
// (./testing-crl.ts), with fresh keys each run.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SHARED } from '../../test/shared.ts';
import { isVouchError } from '../core/errors.ts';
import { type Crl, checkRevocation, crlSignedBy, parseCrls, readCrlDir } from './crl.ts';
import { intelSgxRootCa } from './roots/index.ts';
import { parseTdxQuote } from './tdx/quote.ts';
import { issue, makeCrl, makeRoot, revoke } from './testing-crl.ts';
import { flip } from './testing-verdict.ts';
import { parseCertificates, verifyChain } from './x509.ts';

const V = `${SHARED}/vectors/tee/tdx`;
const ROOT_CRL = readFileSync(`${V}/rootcrl.der`);
const PCK_CRL = readFileSync(`${V}/pckcrl`);
// Inside both CRLs' windows: an hour after the PCK CRL's thisUpdate.
const AT = new Date('2023-06-08T08:27:52Z');

const tmp = mkdtempSync(join(tmpdir(), 'vouch-crl-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function realPath(): X509Certificate[] {
  const quote = parseTdxQuote(readFileSync(`${V}/tdx_prod_quote_SPR_E4.dat`));
  const certs = parseCertificates(quote.pckChainPem, 'pck');
  const chain = verifyChain(certs[0] as X509Certificate, certs.slice(1), [intelSgxRootCa()], AT);
  assert.equal(chain.ok, true, chain.detail);
  return chain.path;
}
const PATH = realPath();
const realCrls = (): Crl[] => [
  ...parseCrls(ROOT_CRL, 'rootcrl.der'),
  ...parseCrls(PCK_CRL, 'pckcrl'),
];
function malformedNaming(fn: () => unknown, file: string, why: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isVouchError(e), String(e));
    assert.equal(e.code, 'TEE_MALFORMED');
    assert.equal(e.exitCode, 2);
    assert.equal(e.file, file);
    assert.ok(e.message.startsWith(`${file}: CRL `), e.message);
    assert.match(e.message, why);
    return true;
  });
}

describe('crl: the real Intel CRLs', () => {
  it('parse: issuer, window, and the 44 serials of the PCK CRL', () => {
    const [root, pck] = realCrls() as [Crl, Crl];
    assert.equal(root.thisUpdate.toISOString(), '2023-04-03T10:22:51.000Z');
    assert.equal(root.nextUpdate?.toISOString(), '2024-04-02T10:22:51.000Z');
    assert.equal(root.revoked.size, 0);
    assert.equal(pck.revoked.size, 44);
    assert.ok(pck.revoked.has('6fc34e5023e728923435d61aa4b83c618166ad35'));
    assert.deepEqual(pck.algorithm, { kind: 'ecdsa', hash: 'sha256' });
  });

  it('each verifies with its issuer in the quote chain, and not with the other', () => {
    const [root, pck] = realCrls() as [Crl, Crl];
    const [leaf, platformCa, rootCa] = PATH as [X509Certificate, X509Certificate, X509Certificate];
    assert.equal(crlSignedBy(root, rootCa), true);
    assert.equal(crlSignedBy(pck, platformCa), true);
    assert.equal(crlSignedBy(pck, rootCa), false);
    assert.equal(crlSignedBy(root, leaf), false);
  });

  it('the real chain is not revoked at a time inside both windows', () => {
    const c = checkRevocation(PATH, realCrls(), { at: AT, require: true });
    assert.equal(c.ok, true, c.detail);
    assert.equal(c.level, undefined);
    assert.match(c.detail, /"Intel SGX PCK Certificate" not listed in pckcrl/);
    assert.match(c.detail, /"Intel SGX PCK Platform CA" not listed in rootcrl\.der/);
  });

  it('PEM and hex-encoded DER (as Intel PCS may send them) parse to the same CRL', () => {
    const pem = `-----BEGIN X509 CRL-----\n${PCK_CRL.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END X509 CRL-----\n`;
    const fromPem = parseCrls(Buffer.from(pem), 'pck.pem');
    const fromHex = parseCrls(Buffer.from(`${PCK_CRL.toString('hex')}\n`), 'pck.hex');
    for (const [c] of [fromPem, fromHex]) {
      assert.ok(c);
      assert.deepEqual(c.tbs, (parseCrls(PCK_CRL, 'x')[0] as Crl).tbs);
      assert.equal(c.revoked.size, 44);
      assert.equal(crlSignedBy(c, PATH[1] as X509Certificate), true);
    }
  });

  it('a flipped byte in the signature fails, naming the file', () => {
    // The signature's last byte (s of the ECDSA signature) is the CRL's last byte.
    const bad = parseCrls(flip(PCK_CRL, PCK_CRL.length - 1), 'pckcrl');
    const c = checkRevocation(PATH, [...parseCrls(ROOT_CRL, 'rootcrl.der'), ...bad], { at: AT });
    assert.equal(c.ok, false);
    assert.equal(c.level, undefined);
    assert.match(
      c.detail,
      /CRL pckcrl of "Intel SGX PCK Platform CA": its signature does not verify/,
    );
  });

  it('a flipped byte in the signed list fails too', () => {
    // Inside the first revoked serial: still parses, no longer verifies.
    const at = PCK_CRL.indexOf(Buffer.from('6fc34e5023e728923435d61aa4b83c618166ad35', 'hex'));
    assert.ok(at > 0);
    const bad = parseCrls(flip(PCK_CRL, at + 5), 'pckcrl');
    assert.equal((bad[0] as Crl).revoked.has('6fc34e5023e728923435d61aa4b83c618166ad35'), false);
    const c = checkRevocation(PATH, bad, { at: AT });
    assert.equal(c.ok, false);
    assert.match(c.detail, /signature does not verify/);
  });

  it('expired or not yet issued at --at fails, naming the file', () => {
    const late = checkRevocation(PATH, realCrls(), { at: new Date('2023-07-09T00:00:00Z') });
    assert.equal(late.ok, false);
    assert.match(
      late.detail,
      /CRL pckcrl .*expired at 2023-07-09T00:00:00\.000Z \(nextUpdate 2023-07-08T07:27:52\.000Z\)/,
    );
    assert.doesNotMatch(late.detail, /rootcrl\.der/);
    const early = checkRevocation(PATH, realCrls(), { at: new Date('2023-04-01T00:00:00Z') });
    assert.equal(early.ok, false);
    assert.match(early.detail, /CRL rootcrl\.der .*not yet valid/);
    assert.match(early.detail, /CRL pckcrl .*not yet valid/);
  });

  it('a CRL naming the PCK Platform CA but signed by another key fails', () => {
    const rogue = makeRoot(
      join(tmp, 'rogue'),
      '/CN=Intel SGX PCK Platform CA/O=Intel Corporation/L=Santa Clara/ST=CA/C=US',
    );
    const crl = parseCrls(makeCrl(rogue, '20230608000000Z', '20230708000000Z'), 'rogue.crl');
    assert.ok((crl[0] as Crl).issuer.length > 0);
    const c = checkRevocation(PATH, [...parseCrls(ROOT_CRL, 'rootcrl.der'), ...crl], { at: AT });
    assert.equal(c.ok, false);
    assert.match(
      c.detail,
      /CRL rogue\.crl of "Intel SGX PCK Platform CA": its signature does not verify/,
    );
  });

  it('no CRL is a warning, not a pass; required, it is a failure', () => {
    const none = checkRevocation(PATH, [], { at: AT });
    assert.deepEqual(none, {
      name: 'revocation',
      ok: false,
      level: 'warning',
      detail: 'not checked (no CRL in collateral)',
    });
    const required = checkRevocation(PATH, [], { at: AT, require: true });
    assert.equal(required.ok, false);
    assert.equal(required.level, undefined);
    assert.match(
      required.detail,
      /no CRL in the collateral for "Intel SGX PCK Certificate", "Intel SGX PCK Platform CA"/,
    );
    // Only the root CRL: the CA is checked, the PCK is not.
    const half = checkRevocation(PATH, parseCrls(ROOT_CRL, 'rootcrl.der'), { at: AT });
    assert.equal(half.level, 'warning');
    assert.match(
      half.detail,
      /"Intel SGX PCK Platform CA" not listed in rootcrl\.der; not checked for "Intel SGX PCK Certificate"/,
    );
    const halfRequired = checkRevocation(PATH, parseCrls(ROOT_CRL, 'rootcrl.der'), {
      at: AT,
      require: true,
    });
    assert.equal(halfRequired.ok, false);
    assert.equal(halfRequired.level, undefined);
  });
});

describe('crl: a generated chain (openssl)', () => {
  const root = makeRoot(join(tmp, 'root'), '/CN=Test Root CA');
  const inter = issue(root, join(tmp, 'inter'), '/CN=Test Intermediate CA', '0x1001', { ca: true });
  const leaf = issue(inter, join(tmp, 'leaf'), '/CN=Test Leaf', '0x00ABCDEF01');
  const certs = [leaf, inter, root].map((c) => new X509Certificate(c.cert));
  const at = new Date('2024-01-15T00:00:00Z');
  const path = verifyChain(
    certs[0] as X509Certificate,
    [certs[1] as X509Certificate],
    [certs[2] as X509Certificate],
    new Date(),
  ).path;
  const rootCrl = parseCrls(makeCrl(root, '20240101000000Z', '20240201000000Z'), 'root.crl');
  const cleanInterCrl = parseCrls(
    makeCrl(inter, '20240101000000Z', '20240201000000Z'),
    'clean.crl',
  );
  revoke(inter, leaf);
  const interCrl = parseCrls(makeCrl(inter, '20240101000000Z', '20240201000000Z'), 'inter.crl');

  it('the path is leaf, intermediate, root', () => {
    assert.equal(path.length, 3);
  });

  it('a CRL listing the leaf serial: revoked', () => {
    const c = checkRevocation(path, [...rootCrl, ...interCrl], { at });
    assert.equal(c.ok, false);
    assert.match(c.detail, /"Test Leaf" \(serial abcdef01\) is revoked: listed in CRL inter\.crl/);
  });

  it('the same chain with a CRL that lists nothing passes', () => {
    const c = checkRevocation(path, [...rootCrl, ...cleanInterCrl], { at });
    assert.equal(c.ok, true, c.detail);
  });

  it('a revoked intermediate, listed by the root', () => {
    const root2 = makeRoot(join(tmp, 'root2'), '/CN=Test Root CA 2');
    const inter2 = issue(root2, join(tmp, 'inter2'), '/CN=Test Intermediate CA 2', '0x77', {
      ca: true,
    });
    revoke(root2, inter2);
    const p = [new X509Certificate(inter2.cert), new X509Certificate(root2.cert)];
    const c = checkRevocation(
      p,
      parseCrls(makeCrl(root2, '20240101000000Z', '20240201000000Z'), 'r2.crl'),
      { at },
    );
    assert.equal(c.ok, false);
    assert.match(c.detail, /"Test Intermediate CA 2" \(serial 77\) is revoked/);
  });

  it('an RSA-PSS SHA-384 CRL (as AMD KDS signs with the ARK) listing the ASK: revoked; ASK-only scope', () => {
    const ark = makeRoot(join(tmp, 'ark'), '/CN=ARK-Test', 'rsa-pss');
    const ask = issue(ark, join(tmp, 'ask'), '/CN=SEV-Test', '0x0a', { ca: true, kind: 'p384' });
    const vcek = issue(ask, join(tmp, 'vcek'), '/CN=SEV-VCEK', '0x0b', { kind: 'p384' });
    const p = [vcek, ask, ark].map((c) => new X509Certificate(c.cert));
    const clean = parseCrls(makeCrl(ark, '20240101000000Z', '20240201000000Z'), 'clean-ark.crl');
    assert.deepEqual((clean[0] as Crl).algorithm, {
      kind: 'rsa-pss',
      hash: 'sha384',
      saltLength: 48,
    });
    const scope = { at, subjects: p.slice(1, -1), require: true };
    const ok = checkRevocation(p, clean, scope);
    assert.equal(ok.ok, true, ok.detail);
    assert.match(ok.detail, /^"SEV-Test" not listed in clean-ark\.crl$/);
    revoke(ark, ask);
    const listed = parseCrls(makeCrl(ark, '20240101000000Z', '20240201000000Z'), 'ark.crl');
    const c = checkRevocation(p, listed, scope);
    assert.equal(c.ok, false);
    assert.match(c.detail, /"SEV-Test" \(serial 0a\) is revoked: listed in CRL ark\.crl/);
  });

  it('a CRL of an unrelated CA is ignored', () => {
    const other = makeRoot(join(tmp, 'other'), '/CN=Unrelated CA');
    const c = checkRevocation(
      path,
      parseCrls(makeCrl(other, '20240101000000Z', '20240201000000Z'), 'o.crl'),
      { at },
    );
    assert.equal(c.level, 'warning');
  });
});

describe('crl: hostile bytes are TEE_MALFORMED naming the file', () => {
  it('truncated', () => {
    for (const n of [1, 2, 10, 100, PCK_CRL.length - 1])
      malformedNaming(
        () => parseCrls(PCK_CRL.subarray(0, n), 'pckcrl'),
        'pckcrl',
        /DER|SEQUENCE|not/,
      );
  });
  it('garbage, empty, trailing bytes, a PEM without a CRL, odd hex', () => {
    malformedNaming(
      () => parseCrls(Buffer.from('hello world'), 'junk.crl'),
      'junk.crl',
      /is not a CRL/,
    );
    malformedNaming(() => parseCrls(Buffer.alloc(0), 'empty.crl'), 'empty.crl', /is empty/);
    malformedNaming(
      () => parseCrls(Buffer.concat([PCK_CRL, Buffer.from([0])]), 't.crl'),
      't.crl',
      /trailing/,
    );
    malformedNaming(
      () =>
        parseCrls(
          Buffer.from('-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n'),
          'c.crl',
        ),
      'c.crl',
      /no PEM "X509 CRL"/,
    );
    malformedNaming(() => parseCrls(Buffer.from('abc'), 'h.crl'), 'h.crl', /is not a CRL/);
    malformedNaming(
      () => parseCrls(Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), 'l.crl'),
      'l.crl',
      /DER/,
    );
    malformedNaming(
      () => parseCrls(Buffer.alloc(5 * 1024 * 1024, 0x30), 'big.crl'),
      'big.crl',
      /limit/,
    );
  });
  it('a certificate is not a CRL', () => {
    malformedNaming(
      () => parseCrls((PATH[0] as X509Certificate).raw, 'cert.crl'),
      'cert.crl',
      /tbsCertList.signature differs/,
    );
  });
  it('every single-byte truncation or flip of the header either parses or is TEE_MALFORMED', () => {
    for (let i = 0; i < 200; i++) {
      try {
        parseCrls(flip(ROOT_CRL, i), 'f.crl');
      } catch (e) {
        assert.ok(isVouchError(e) && e.code === 'TEE_MALFORMED', String(e));
      }
    }
  });
});

describe('crl: readCrlDir', () => {
  it('reads files named *crl*, leaves the rest, and names a bad one', () => {
    const dir = join(tmp, 'col');
    mkdirSync(dir);
    writeFileSync(join(dir, 'rootcrl.der'), ROOT_CRL);
    writeFileSync(join(dir, 'pckcrl'), PCK_CRL.toString('hex'));
    writeFileSync(join(dir, 'tcbinfo.json'), '{}');
    assert.deepEqual(
      readCrlDir(dir).map((c) => [c.file.slice(dir.length + 1), c.revoked.size]),
      [
        ['pckcrl', 44],
        ['rootcrl.der', 0],
      ],
    );
    writeFileSync(join(dir, 'milan.crl'), PCK_CRL.subarray(0, 50));
    malformedNaming(() => readCrlDir(dir), join(dir, 'milan.crl'), /DER|runs past/);
  });
  it('a missing directory is FILE_NOT_FOUND', () => {
    assert.throws(
      () => readCrlDir(join(tmp, 'nope')),
      (e: unknown) => isVouchError(e) && e.code === 'FILE_NOT_FOUND',
    );
  });
});
