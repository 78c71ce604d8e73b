// Revocation of the real TDX v4 quote's PCK chain with the real Intel CRLs
// from ../shared/vectors/tee/tdx (rootcrl.der: Intel SGX Root CA CRL,
// 2023-04-03 to 2024-04-02; pckcrl: PCK Platform CA CRL, 2023-06-08 to
// 2023-07-08), next to the PCS TCB info and QE identity samples.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SHARED } from '../../../test/shared.ts';
import { isVouchError } from '../../core/errors.ts';
import { makeCrl, makeRoot } from '../testing-crl.ts';
import type { TeeVerdict } from '../verifier.ts';
import { tdxVerifier } from './verifier.ts';

const V = `${SHARED}/vectors/tee/tdx`;
const V4 = readFileSync(`${V}/tdx_prod_quote_SPR_E4.dat`);
const V5 = readFileSync(`${V}/quote_v5_sample.dat`);
const PCK_CRL = readFileSync(`${V}/pckcrl`);
// One hour after the PCK CRL's thisUpdate (2023-06-08T07:27:52Z).
const AT = new Date('2023-06-08T08:27:52Z');

const tmp = mkdtempSync(join(tmpdir(), 'vouch-tdx-crl-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
function dir(name: string, files: Record<string, Buffer | string>): string {
  const d = join(tmp, name);
  mkdirSync(d);
  for (const f of ['sample_tcbInfo_response', 'sample_qeIdentity_response'])
    copyFileSync(join(V, f), join(d, f));
  for (const [f, data] of Object.entries(files)) writeFileSync(join(d, f), data);
  return d;
}
const revocation = (v: TeeVerdict) => v.checks.find((c) => c.name === 'revocation');
const REAL = { 'rootcrl.der': readFileSync(`${V}/rootcrl.der`), pckcrl: PCK_CRL };

describe('tdx: revocation with the real Intel CRLs', () => {
  const v = tdxVerifier();

  it('the real chain is not revoked (both CRLs verify, current at --at), even when required', async () => {
    const verdict = await v.verify(V4, {
      at: AT,
      collateralDir: dir('real', REAL),
      policy: { requireCrl: true },
    });
    const c = revocation(verdict);
    assert.equal(c?.ok, true, c?.detail);
    assert.match(c?.detail ?? '', /"Intel SGX PCK Certificate" not listed in .*pckcrl/);
    assert.match(c?.detail ?? '', /"Intel SGX PCK Platform CA" not listed in .*rootcrl\.der/);
    // The check sits right after the chain it is about.
    const names = verdict.checks.map((x) => x.name);
    assert.equal(names.indexOf('revocation'), names.indexOf('pck-chain') + 1);
  });

  it('the PCK CRL as hex text (as PCS sends it) works the same', async () => {
    const verdict = await v.verify(V4, {
      at: AT,
      collateralDir: dir('hex', { ...REAL, pckcrl: PCK_CRL.toString('hex') }),
    });
    assert.equal(revocation(verdict)?.ok, true);
  });

  it('no CRL: a warning that does not fail the verdict; --require-crl makes it fail', async () => {
    const plain = await v.verify(V4, { at: AT, policy: { insecureSkipCollateral: true } });
    assert.equal(plain.ok, true);
    assert.deepEqual(revocation(plain), {
      name: 'revocation',
      ok: false,
      level: 'warning',
      detail: 'not checked (no CRL in collateral)',
    });
    const required = await v.verify(V4, {
      at: AT,
      policy: { insecureSkipCollateral: true, requireCrl: true },
    });
    assert.equal(required.ok, false);
    assert.deepEqual(
      required.checks.filter((c) => !c.ok).map((c) => [c.name, c.level]),
      [['revocation', undefined]],
    );
  });

  it('a flipped byte in the PCK CRL signature fails, naming the file', async () => {
    const bad = Buffer.from(PCK_CRL);
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 1;
    const d = dir('flipped', { ...REAL, pckcrl: bad });
    const verdict = await v.verify(V4, { at: AT, collateralDir: d });
    assert.equal(verdict.ok, false);
    const c = revocation(verdict);
    assert.equal(c?.ok, false);
    assert.equal(c?.level, undefined);
    assert.ok(
      c?.detail.includes(`CRL ${join(d, 'pckcrl')} of "Intel SGX PCK Platform CA"`),
      c?.detail,
    );
    assert.match(c?.detail ?? '', /signature does not verify/);
  });

  it('a PCK CRL signed by another key (openssl CA with the Platform CA name) fails', async () => {
    const rogue = makeRoot(
      join(tmp, 'rogue-ca'),
      '/CN=Intel SGX PCK Platform CA/O=Intel Corporation/L=Santa Clara/ST=CA/C=US',
    );
    const crl = makeCrl(rogue, '20230608000000Z', '20230708000000Z');
    const verdict = await v.verify(V4, {
      at: AT,
      collateralDir: dir('rogue', { ...REAL, pckcrl: crl }),
    });
    assert.match(
      revocation(verdict)?.detail ?? '',
      /pckcrl of "Intel SGX PCK Platform CA": its signature does not verify/,
    );
    assert.equal(revocation(verdict)?.ok, false);
  });

  it('CRLs expired at --at fail (v4 after the PCK CRL nextUpdate; v5 at its pinned 2026 time)', async () => {
    const d = dir('expired', REAL);
    const late = await v.verify(V4, { at: new Date('2023-07-09T00:00:00Z'), collateralDir: d });
    assert.match(
      revocation(late)?.detail ?? '',
      /pckcrl of "Intel SGX PCK Platform CA": it is expired at 2023-07-09/,
    );
    assert.equal(late.ok, false);
    const v5 = await v.verify(V5, { at: new Date('2026-02-03T01:00:00Z'), collateralDir: d });
    assert.equal(revocation(v5)?.ok, false);
    assert.match(
      revocation(v5)?.detail ?? '',
      /rootcrl\.der of "Intel SGX Root CA": it is expired/,
    );
    assert.match(
      revocation(v5)?.detail ?? '',
      /pckcrl of "Intel SGX PCK Platform CA": it is expired/,
    );
  });

  it('a truncated or garbage CRL is TEE_MALFORMED naming the file', async () => {
    for (const [name, data] of [
      ['truncated', PCK_CRL.subarray(0, 100)],
      ['garbage', Buffer.from('<html>rate limited</html>')],
    ] as const) {
      const d = dir(name, { ...REAL, pckcrl: data });
      await assert.rejects(v.verify(V4, { at: AT, collateralDir: d }), (e: unknown) => {
        assert.ok(isVouchError(e), String(e));
        assert.equal(e.code, 'TEE_MALFORMED');
        assert.equal(e.exitCode, 2);
        assert.ok(e.message.startsWith(`${join(d, 'pckcrl')}: CRL `), e.message);
        return true;
      });
    }
  });
});
