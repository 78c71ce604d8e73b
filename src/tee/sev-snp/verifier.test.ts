// Real AMD SEV-SNP evidence from ../shared/vectors/tee/sev-snp (see MANIFEST.md):
// attestation.bin is a real Milan report (go-sev-guest testdata), vcek.testcer its
// VCEK from AMD KDS, valid 2022-09-24 to 2029-09-24; vcek_turin.der a Turin VCEK.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SHARED } from '../../../test/shared.ts';
import { isVouchError } from '../../core/errors.ts';
import { check, failed, flip } from '../testing-verdict.ts';
import type { TeeVerifyOptions } from '../verifier.ts';
import { ChainCache } from '../x509.ts';
import { parseSnpReport, REPORT_SIZE } from './report.ts';
import { sevSnpVerifier } from './verifier.ts';

const V = `${SHARED}/vectors/tee/sev-snp`;
const REPORT = readFileSync(`${V}/attestation.bin`);
const VCEK = readFileSync(`${V}/vcek.testcer`);
const TURIN_VCEK = readFileSync(`${V}/virtee/vcek_turin.der`);
const GENOA_CHAIN = readFileSync(`${V}/roots/ask_ark_genoa.pem`);
const AT = new Date('2022-09-24T01:00:00Z');
const NONCE = Buffer.from('0102030405', 'hex');

const base = (extra: Partial<TeeVerifyOptions> = {}): TeeVerifyOptions => ({
  at: AT,
  certChain: [VCEK],
  ...extra,
});
function malformed(fn: () => unknown, field: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isVouchError(e), String(e));
    assert.equal(e.code, 'TEE_MALFORMED');
    assert.equal(e.exitCode, 2);
    assert.match(e.field ?? '', field);
    assert.match(e.message, /offset 0x[0-9a-f]+/);
    return true;
  });
}

describe('sev-snp: the real Milan report', () => {
  const v = sevSnpVerifier();

  it('verifies with its VCEK and the pinned Milan ARK; only the debug policy bit fails by default', async () => {
    const verdict = await v.verify(REPORT, base({ expectReportData: NONCE }));
    assert.deepEqual(failed(verdict), ['debug']);
    assert.equal(verdict.ok, false);
    assert.match(check(verdict, 'chain')?.detail ?? '', /SEV-VCEK → SEV-Milan → ARK-Milan/);
    assert.equal(check(verdict, 'tcb')?.ok, true);
    assert.equal(check(verdict, 'chip-id')?.ok, true);
    assert.equal(verdict.claims.product, 'Milan');
    assert.equal(verdict.claims.debug, true);
    assert.equal(verdict.claims.version, 2);
    assert.equal(
      verdict.claims.measurement,
      'b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01',
    );
    assert.deepEqual(verdict.claims.tcb?.components, {
      bootloader: 2,
      tee: 0,
      snp: 5,
      microcode: 68,
    });
    assert.equal(verdict.claims.reportData, `0102030405${'00'.repeat(59)}`);
  });

  it('is ok when the caller accepts a debug guest and pins its measurement and host data', async () => {
    const verdict = await v.verify(
      REPORT,
      base({
        expectReportData: NONCE,
        policy: {
          insecureAllowDebug: true,
          measurements: [
            'B07AF9620F3B839B47996422DDEC6058338951D984E312115131EA82705EAF5B6BDF8A9ECE31A5A608EB0CF2E4872B01',
          ],
          hostData: '00',
        },
      }),
    );
    assert.deepEqual(failed(verdict), []);
    assert.equal(verdict.ok, true);
  });

  it('detects SEV-SNP reports only', () => {
    assert.equal(v.detect(REPORT), true);
    assert.equal(v.detect(REPORT.subarray(1)), false);
    assert.equal(
      v.detect(readFileSync(`${SHARED}/vectors/tee/tdx/tdx_prod_quote_SPR_E4.dat`)),
      false,
    );
  });

  it('gives the same verdict with a chain cache, and the cache is used', async () => {
    const cache = new ChainCache();
    const cached = sevSnpVerifier({ cache });
    const a = await cached.verify(REPORT, base({ policy: { insecureAllowDebug: true } }));
    const b = await cached.verify(REPORT, base({ policy: { insecureAllowDebug: true } }));
    assert.deepEqual(a, b);
    assert.equal(a.ok, true);
    assert.ok(cache.hits > 0);
  });
});

describe('sev-snp: tampering fails with a reason', () => {
  const v = sevSnpVerifier();
  const ok = { insecureAllowDebug: true };

  it('a flipped byte in the measurement breaks the signature', async () => {
    const verdict = await v.verify(flip(REPORT, 0x90), base({ policy: ok }));
    assert.deepEqual(failed(verdict), ['signature']);
  });

  it('a flipped byte in REPORTED_TCB breaks the signature and the TCB match', async () => {
    const verdict = await v.verify(flip(REPORT, 0x187), base({ policy: ok }));
    assert.deepEqual(failed(verdict), ['signature', 'tcb']);
    assert.match(check(verdict, 'tcb')?.detail ?? '', /microcode: report 69, certificate 68/);
  });

  it('a flipped byte in the signature fails', async () => {
    const verdict = await v.verify(flip(REPORT, 0x2a0 + 5), base({ policy: ok }));
    assert.deepEqual(failed(verdict), ['signature']);
  });

  it("another chip's VCEK (Turin) fails signature, chip id and TCB", async () => {
    const verdict = await v.verify(
      REPORT,
      base({ certChain: [TURIN_VCEK], policy: ok, at: new Date('2025-01-01T00:00:00Z') }),
    );
    assert.ok(failed(verdict).includes('signature'));
    assert.ok(failed(verdict).includes('chip-id'));
    assert.equal(verdict.ok, false);
  });

  it('a wrong root (Genoa ARK) breaks the chain', async () => {
    const ark = GENOA_CHAIN.toString().split('-----END CERTIFICATE-----')[1] ?? '';
    const verdict = await v.verify(
      REPORT,
      base({ policy: ok, roots: [Buffer.from(`${ark}-----END CERTIFICATE-----\n`)] }),
    );
    assert.deepEqual(failed(verdict), ['chain']);
    assert.match(check(verdict, 'chain')?.detail ?? '', /no trusted issuer for "SEV-Milan"/);
  });

  it('a mismatched report_data fails', async () => {
    const verdict = await v.verify(
      REPORT,
      base({ policy: ok, expectReportData: Buffer.from('0102030406', 'hex') }),
    );
    assert.deepEqual(failed(verdict), ['report-data']);
  });

  it('a time outside the VCEK validity fails the chain', async () => {
    for (const at of ['2029-09-25T00:00:00Z', '2022-09-23T00:00:00Z']) {
      const verdict = await v.verify(REPORT, base({ policy: ok, at: new Date(at) }));
      assert.deepEqual(failed(verdict), ['chain'], at);
      assert.match(check(verdict, 'chain')?.detail ?? '', /"SEV-VCEK" is not valid at/);
    }
  });

  it('no VCEK: signing key, chain, signature, TCB fail', async () => {
    const verdict = await v.verify(REPORT, { at: AT, policy: ok });
    assert.deepEqual(failed(verdict), ['chain', 'signature', 'signing-key', 'tcb']);
  });

  it('a measurement outside the allow-list, other host data, SMT disallowed', async () => {
    const verdict = await v.verify(
      REPORT,
      base({ policy: { ...ok, measurements: ['00'.repeat(48)], hostData: '01', allowSmt: false } }),
    );
    assert.deepEqual(failed(verdict), ['host-data', 'measurement', 'smt']);
  });
});

describe('sev-snp: malformed reports are TEE_MALFORMED with the field and offset', () => {
  it('truncated and oversized', () => {
    malformed(() => parseSnpReport(REPORT.subarray(0, 1000)), /^length$/);
    malformed(() => parseSnpReport(Buffer.concat([REPORT, Buffer.alloc(1)])), /^length$/);
    for (let n = 0; n < REPORT_SIZE; n += 37)
      malformed(() => parseSnpReport(REPORT.subarray(0, n)), /^length$/);
  });

  it('unknown versions', () => {
    for (const version of [0, 1, 6, 0xffffffff]) {
      const b = Buffer.from(REPORT);
      b.writeUInt32LE(version, 0);
      malformed(() => parseSnpReport(b), /^version$/);
    }
  });

  it('unknown signature algorithm, reserved policy and signer bits, reserved bytes', () => {
    const algo = Buffer.from(REPORT);
    algo.writeUInt32LE(2, 0x34);
    malformed(() => parseSnpReport(algo), /^signature_algo$/);
    const policy = Buffer.from(REPORT);
    policy[0x0a] = 0x09; // clears policy bit 17, reserved-must-be-one
    malformed(() => parseSnpReport(policy), /^policy$/);
    malformed(() => parseSnpReport(flip(REPORT, 0x0f)), /^policy$/); // bit 56: reserved-must-be-zero
    const key = Buffer.from(REPORT);
    key.writeUInt32LE(2 << 2, 0x48);
    malformed(() => parseSnpReport(key), /^signer_info/);
    malformed(() => parseSnpReport(flip(REPORT, 0x4d)), /^reserved$/);
    malformed(() => parseSnpReport(flip(REPORT, 0x190)), /^reserved$/);
    malformed(() => parseSnpReport(flip(REPORT, 0x2a0 + 150)), /^signature\.reserved$/);
    malformed(() => parseSnpReport(flip(REPORT, 0x2a0 + 60)), /^signature\.r$/);
  });

  it('verify rejects a malformed report instead of returning a verdict', async () => {
    await assert.rejects(sevSnpVerifier().verify(REPORT.subarray(0, 100), base()), {
      code: 'TEE_MALFORMED',
    });
  });

  it('a malformed certificate in the chain is TEE_MALFORMED naming it', async () => {
    await assert.rejects(
      sevSnpVerifier().verify(REPORT, base({ certChain: [Buffer.from('not a cert')] })),
      {
        code: 'TEE_MALFORMED',
        field: 'certChain[0]',
      },
    );
  });
});
