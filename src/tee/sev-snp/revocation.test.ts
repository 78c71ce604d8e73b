// Revocation for SEV-SNP: AMD KDS's CRL (one per product, signed by the ARK
// with RSA-PSS SHA-384) lists revoked ASKs/ASVKs. The shared vectors hold no
// real AMD CRL, so the real Milan report (go-sev-guest attestation.bin, VCEK
// from KDS) is checked with no CRL, with a CRL that names ARK-Milan but is
// signed by an openssl-generated key, and with a malformed one; the list logic
// itself (an ARK-style PSS CRL listing an ASK) is tested in ../crl.test.ts.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SHARED } from '../../../test/shared.ts';
import { isVouchError } from '../../core/errors.ts';
import { makeCrl, makeRoot } from '../testing-crl.ts';
import type { TeeVerdict, TeeVerifyOptions } from '../verifier.ts';
import { sevSnpVerifier } from './verifier.ts';

const V = `${SHARED}/vectors/tee/sev-snp`;
const REPORT = readFileSync(`${V}/attestation.bin`);
const VCEK = readFileSync(`${V}/vcek.testcer`);
const AT = new Date('2022-09-24T01:00:00Z');
const tmp = mkdtempSync(join(tmpdir(), 'vouch-snp-crl-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const opts = (extra: Partial<TeeVerifyOptions> = {}): TeeVerifyOptions => ({
  at: AT,
  certChain: [VCEK],
  policy: { insecureAllowDebug: true },
  ...extra,
});
const revocation = (v: TeeVerdict) => v.checks.find((c) => c.name === 'revocation');
function dir(name: string, files: Record<string, Buffer | string>): string {
  const d = join(tmp, name);
  mkdirSync(d);
  for (const [f, data] of Object.entries(files)) writeFileSync(join(d, f), data);
  return d;
}

describe('sev-snp: revocation', () => {
  const v = sevSnpVerifier();

  it('no CRL: the report verifies with a warning-level revocation check', async () => {
    const verdict = await v.verify(REPORT, opts());
    assert.equal(verdict.ok, true);
    assert.deepEqual(revocation(verdict), {
      name: 'revocation',
      ok: false,
      level: 'warning',
      detail: 'not checked (no CRL in collateral)',
    });
  });

  it('requireCrl: no CRL fails, naming the ASK it would cover', async () => {
    const verdict = await v.verify(
      REPORT,
      opts({ policy: { insecureAllowDebug: true, requireCrl: true } }),
    );
    assert.equal(verdict.ok, false);
    assert.match(revocation(verdict)?.detail ?? '', /no CRL in the collateral for "SEV-Milan"/);
  });

  it('a CRL that names ARK-Milan but is signed by another key fails', async () => {
    const rogue = makeRoot(
      join(tmp, 'rogue'),
      '/OU=Engineering/C=US/L=Santa Clara/ST=CA/O=Advanced Micro Devices/CN=ARK-Milan',
      'rsa-pss',
    );
    const d = dir('rogue-col', {
      'milan.crl': makeCrl(rogue, '20220901000000Z', '20221001000000Z'),
    });
    const verdict = await v.verify(REPORT, opts({ collateralDir: d }));
    assert.equal(verdict.ok, false);
    assert.match(
      revocation(verdict)?.detail ?? '',
      /milan\.crl of "ARK-Milan": its signature does not verify/,
    );
  });

  it('a CRL of another CA is not a CRL for this chain: still a warning', async () => {
    const other = makeRoot(join(tmp, 'other'), '/CN=ARK-Genoa-not');
    const d = dir('other-col', {
      'genoa.crl': makeCrl(other, '20220901000000Z', '20221001000000Z'),
    });
    const verdict = await v.verify(REPORT, opts({ collateralDir: d }));
    assert.equal(verdict.ok, true);
    assert.equal(revocation(verdict)?.level, 'warning');
  });

  it('a malformed CRL is TEE_MALFORMED naming the file', async () => {
    const d = dir('bad-col', { crl: Buffer.from([0x30, 0x82, 0x01]) });
    await assert.rejects(v.verify(REPORT, opts({ collateralDir: d })), (e: unknown) => {
      assert.ok(isVouchError(e), String(e));
      assert.equal(e.code, 'TEE_MALFORMED');
      assert.ok(e.message.startsWith(`${join(d, 'crl')}: CRL `), e.message);
      return true;
    });
  });
});
