// Real Intel TDX evidence from ../shared/vectors/tee/tdx (see MANIFEST.md):
// tdx_prod_quote_SPR_E4.dat (quote v4, production Sapphire Rapids, pinned time
// 2023-07-01), quote_v5_sample.dat (v5, TDX 1.5 body, pinned 2026-02-03), and
// Intel PCS collateral samples. The Intel SGX TCB Signing certificate chain
// that signs that collateral (the TCB-Info-Issuer-Chain header PCS sends) is
// not in the shared vectors: the checks that need it skip, and the others
// assert that collateral signatures fail closed without it. If the chain
// appears in the shared vectors it is loaded from there (never copied here).
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SHARED } from '../../../test/shared.ts';
import { isVouchError } from '../../core/errors.ts';
import { check, failed, flip } from '../testing-verdict.ts';
import type { TeeVerifyOptions } from '../verifier.ts';
import { ChainCache } from '../x509.ts';
import { parseTdxQuote } from './quote.ts';
import { tdxVerifier } from './verifier.ts';

const V = `${SHARED}/vectors/tee/tdx`;
const V4 = readFileSync(`${V}/tdx_prod_quote_SPR_E4.dat`);
const V5 = readFileSync(`${V}/quote_v5_sample.dat`);
const AT4 = new Date('2023-07-01T01:00:00Z');
const AT5 = new Date('2026-02-03T01:00:00Z');
const SKIP_CHAIN =
  'Intel TCB Signing certificate chain not in ../shared/vectors; requested on the issue';

/** PEM text of every certificate in a file whose certificates include the Intel SGX TCB Signing one. */
function tcbSigningChain(): string | undefined {
  for (const dir of [V, join(V, 'roots')]) {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (!statSync(path).isFile()) continue;
      const pems =
        readFileSync(path, 'latin1').match(
          /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----/g,
        ) ?? [];
      const isSigning = (pem: string) => {
        try {
          return /CN=Intel SGX TCB Signing/.test(new X509Certificate(pem).subject);
        } catch {
          return false;
        }
      };
      if (pems.some(isSigning)) {
        const root = readFileSync(join(V, 'roots', 'intel_sgx_root_ca.pem'), 'utf8');
        return `${pems.join('\n')}\n${root}`;
      }
    }
  }
  return undefined;
}
const SIGNING_CHAIN = tcbSigningChain();
const needsChain = { skip: SIGNING_CHAIN ? false : SKIP_CHAIN };
// Without the chain, collateral signatures cannot verify: the verdict must say so.
const NO_CHAIN_FAILS = SIGNING_CHAIN ? [] : ['qe-identity-signature', 'tcb-info-signature'];
const SIGNED_END_V4 = 48 + 584;
const REPORT_DATA_V4 = 48 + 520;
const TD_ATTRIBUTES_V4 = 48 + 120;
const MRTD_V4 = 48 + 136;

const tmp = mkdtempSync(join(tmpdir(), 'vouch-tdx-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
function collateral(name: string, files: string[]): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  for (const f of files) copyFileSync(join(V, f), join(dir, f));
  if (SIGNING_CHAIN) writeFileSync(join(dir, 'issuer-chain.pem'), SIGNING_CHAIN);
  return dir;
}

const COL4 = collateral('col4', ['sample_tcbInfo_response', 'sample_qeIdentity_response']);
const COL5 = collateral('col5', ['sample_tcbinfo_response_v5', 'sample_qeIdentity_response']);
const skip = { insecureSkipCollateral: true };

const v4 = (extra: Partial<TeeVerifyOptions> = {}): TeeVerifyOptions => ({
  at: AT4,
  policy: skip,
  ...extra,
});

describe('tdx: the real quotes', () => {
  const v = tdxVerifier();

  it('v4 verifies to the pinned Intel SGX Root CA at its pinned time', async () => {
    const verdict = await v.verify(V4, v4());
    assert.deepEqual(failed(verdict), []);
    assert.equal(verdict.ok, true);
    assert.match(
      check(verdict, 'pck-chain')?.detail ?? '',
      /Intel SGX PCK Certificate → Intel SGX PCK Platform CA → Intel SGX Root CA/,
    );
    assert.match(check(verdict, 'collateral')?.detail ?? '', /NOT checked/);
    assert.equal(verdict.claims.version, 4);
    assert.equal(verdict.claims.debug, false);
    assert.equal(verdict.claims.fmspc, '50806f000000');
    assert.equal((verdict.claims.rtmrs as string[]).length, 4);
    assert.equal(verdict.claims.ignoredTrailingBytes, 39);
  });

  it('v5 (TDX 1.5 body) verifies at its pinned time', async () => {
    const verdict = await v.verify(V5, { at: AT5, policy: skip });
    assert.deepEqual(failed(verdict), []);
    assert.equal(verdict.claims.version, 5);
    assert.equal(verdict.claims.bodyType, 'TDX 1.5');
    assert.equal(verdict.claims.fmspc, '90c06f000000');
    assert.equal(typeof verdict.claims.mrServiceTd, 'string');
  });

  it('without collateral and without the insecure opt-out, the verdict fails closed', async () => {
    const verdict = await v.verify(V4, { at: AT4 });
    assert.deepEqual(failed(verdict), ['collateral']);
  });

  it('v4 with the PCS collateral: identities match; the TCB level is not supported (as go-tdx-guest finds)', async () => {
    const verdict = await v.verify(V4, { at: AT4, collateralDir: COL4 });
    assert.deepEqual(failed(verdict), [...NO_CHAIN_FAILS, 'tcb-status'].sort());
    if (!SIGNING_CHAIN) {
      assert.match(
        check(verdict, 'tcb-info-signature')?.detail ?? '',
        /does not verify with any certificate in the collateral/,
      );
    }
    assert.equal(check(verdict, 'tcb-info')?.ok, true);
    assert.equal(check(verdict, 'qe-identity')?.ok, true);
    assert.equal(check(verdict, 'qe-tcb-status')?.ok, true);
    assert.equal(check(verdict, 'tdx-module')?.ok, true);
    assert.match(
      check(verdict, 'tcb-status')?.detail ?? '',
      /TEE TCB SVN \[3,0,4,.*TCB not supported/,
    );
  });

  it('v4 collateral signatures verify with the TCB signing chain', needsChain, async () => {
    const verdict = await v.verify(V4, { at: AT4, collateralDir: COL4 });
    assert.match(
      check(verdict, 'tcb-info-signature')?.detail ?? '',
      /Intel SGX TCB Signing → Intel SGX Root CA/,
    );
    assert.equal(check(verdict, 'qe-identity-signature')?.ok, true);
  });

  it('v5 with its TCB info: UpToDate, but collateral signatures fail and the QE identity sample is stale', async () => {
    const verdict = await v.verify(V5, { at: AT5, collateralDir: COL5 });
    // With the chain they fail too: the 2018 TCB signing certificate has expired by 2026.
    assert.deepEqual(failed(verdict), [
      'qe-identity',
      'qe-identity-signature',
      'tcb-info-signature',
    ]);
    assert.equal(check(verdict, 'tcb-status')?.ok, true);
    assert.equal(verdict.claims.tcb?.status, 'UpToDate');
    assert.match(check(verdict, 'qe-identity')?.detail ?? '', /expired at 2026-02-03/);
    assert.match(check(verdict, 'tdx-module')?.detail ?? '', /TDX_01/);
  });

  it('v5: the TCB signing certificate is reported expired at 2026', needsChain, async () => {
    const verdict = await v.verify(V5, { at: AT5, collateralDir: COL5 });
    assert.match(
      check(verdict, 'tcb-info-signature')?.detail ?? '',
      /signature verifies, but .*"Intel SGX TCB Signing" is not valid at 2026/,
    );
  });

  it('is the same verdict with a chain cache', async () => {
    const cache = new ChainCache();
    const c = tdxVerifier({ cache });
    const a = await c.verify(V4, { at: AT4, collateralDir: COL4 });
    const b = await c.verify(V4, { at: AT4, collateralDir: COL4 });
    assert.deepEqual(a, b);
    assert.ok(cache.hits > 0);
  });

  it('detects TDX quotes only', () => {
    assert.equal(v.detect(V4), true);
    assert.equal(v.detect(V5), true);
    assert.equal(v.detect(readFileSync(`${SHARED}/vectors/tee/sev-snp/attestation.bin`)), false);
    assert.equal(v.detect(V4.subarray(0, 100)), false);
  });
});

describe('tdx: tampering fails with a reason', () => {
  const v = tdxVerifier();

  it('a flipped byte in the TD report body (MRTD) breaks the quote signature', async () => {
    assert.deepEqual(failed(await v.verify(flip(V4, MRTD_V4), v4())), ['signature']);
  });

  it('a flipped byte in the header breaks the quote signature', async () => {
    assert.deepEqual(failed(await v.verify(flip(V4, 30), v4())), ['signature']);
  });

  it('a flipped byte in the quote signature fails', async () => {
    assert.deepEqual(failed(await v.verify(flip(V4, SIGNED_END_V4 + 4 + 10), v4())), ['signature']);
  });

  it('a flipped byte in the attestation key fails the quote signature and the QE binding', async () => {
    assert.deepEqual(failed(await v.verify(flip(V4, SIGNED_END_V4 + 4 + 64 + 3), v4())), [
      'qe-report-data',
      'signature',
    ]);
  });

  it('a flipped byte in the QE report fails the PCK signature over it', async () => {
    const qeReport = SIGNED_END_V4 + 4 + 128 + 6;
    assert.deepEqual(failed(await v.verify(flip(V4, qeReport + 20), v4())), [
      'qe-report-signature',
    ]);
  });

  it("the other quote's PCK chain fails the QE report signature", async () => {
    const p4 = parseTdxQuote(V4);
    const p5 = parseTdxQuote(V5);
    const start = V4.indexOf(p4.pckChainPem);
    // Same length chains are needed to splice without re-framing: pad/truncate the PEM text of v5 to v4's size.
    const other = Buffer.alloc(p4.pckChainPem.length, 0x0a);
    const pem5 = p5.pckChainPem.subarray(0, Math.min(p5.pckChainPem.length, other.length));
    pem5.copy(other);
    const swapped = Buffer.concat([
      V4.subarray(0, start),
      other,
      V4.subarray(start + other.length),
    ]);
    const verdict = await v.verify(swapped, v4({ at: AT5 }));
    assert.ok(failed(verdict).includes('qe-report-signature'), JSON.stringify(failed(verdict)));
  });

  it('a wrong root fails the PCK chain', async () => {
    const genoa = readFileSync(`${SHARED}/vectors/tee/sev-snp/roots/ask_ark_genoa.pem`);
    const verdict = await v.verify(V4, v4({ roots: [genoa] }));
    assert.deepEqual(failed(verdict), ['pck-chain']);
  });

  it('a mismatched report_data fails; the right one passes', async () => {
    const rd = V4.subarray(REPORT_DATA_V4, REPORT_DATA_V4 + 64);
    assert.deepEqual(failed(await v.verify(V4, v4({ expectReportData: rd }))), []);
    assert.deepEqual(failed(await v.verify(V4, v4({ expectReportData: Buffer.alloc(64, 7) }))), [
      'report-data',
    ]);
  });

  it('a time outside the PCK validity fails the chain; outside the collateral window fails TCB info', async () => {
    const late = await v.verify(V4, v4({ at: new Date('2053-07-01T01:00:00Z') }));
    assert.deepEqual(failed(late), ['pck-chain']);
    assert.match(
      check(late, 'pck-chain')?.detail ?? '',
      /"Intel SGX PCK Certificate" is not valid at 2053/,
    );
    const stale = await v.verify(V4, { at: new Date('2023-08-01T00:00:00Z'), collateralDir: COL4 });
    assert.ok(failed(stale).includes('tcb-info'));
    assert.match(check(stale, 'tcb-info')?.detail ?? '', /expired at 2023-08-01/);
  });

  it('the debug bit fails under the default policy (and the signature too, as it is signed)', async () => {
    const verdict = await v.verify(flip(V4, TD_ATTRIBUTES_V4), v4());
    assert.deepEqual(failed(verdict), ['debug', 'signature']);
    assert.equal(verdict.claims.debug, true);
  });

  it('an MRTD outside the allow-list fails', async () => {
    const verdict = await v.verify(V4, v4({ policy: { ...skip, measurements: ['00'] } }));
    assert.deepEqual(failed(verdict), ['measurement']);
  });

  function tamperedCollateral(name: string): string {
    const dir = join(tmp, name);
    mkdirSync(dir);
    const text = readFileSync(join(V, 'sample_tcbInfo_response'), 'utf8').replace(
      '"tcbEvaluationDataNumber":15',
      '"tcbEvaluationDataNumber":16',
    );
    assert.ok(text.includes('"tcbEvaluationDataNumber":16'));
    writeFileSync(join(dir, 'tcb.json'), text);
    copyFileSync(join(V, 'sample_qeIdentity_response'), join(dir, 'qe.json'));
    return dir;
  }

  it('collateral without its issuer chain fails both signatures', async () => {
    const noChain = await v.verify(V4, { at: AT4, collateralDir: tamperedCollateral('bad') });
    assert.ok(failed(noChain).includes('tcb-info-signature'));
    assert.ok(failed(noChain).includes('qe-identity-signature'));
  });

  it(
    'tampered collateral fails its signature; the untouched QE identity verifies',
    needsChain,
    async () => {
      const dir = tamperedCollateral('bad-chain');
      writeFileSync(join(dir, 'chain.pem'), SIGNING_CHAIN as string);
      const tampered = await v.verify(V4, { at: AT4, collateralDir: dir });
      assert.ok(failed(tampered).includes('tcb-info-signature'));
      assert.equal(check(tampered, 'qe-identity-signature')?.ok, true);
    },
  );

  it('collateral for another FMSPC is not used', async () => {
    const verdict = await v.verify(V4, { at: AT4, collateralDir: COL5 });
    assert.match(
      check(verdict, 'tcb-info')?.detail ?? '',
      /no TCB info for the PCK's FMSPC 50806f000000/,
    );
  });
});

describe('tdx: malformed quotes are TEE_MALFORMED with the field and offset', () => {
  function malformed(buf: Buffer, field: RegExp): void {
    assert.throws(
      () => parseTdxQuote(buf),
      (e: unknown) => {
        assert.ok(isVouchError(e), String(e));
        assert.equal(e.code, 'TEE_MALFORMED');
        assert.match(e.field ?? '', field);
        assert.match(e.message, /offset \d+/);
        return true;
      },
    );
  }

  it('every truncation of the signed part and the signature data', () => {
    const sigEnd = V4.length - 39;
    for (let n = 0; n < sigEnd; n += 13) malformed(V4.subarray(0, n), /./);
    malformed(V4.subarray(0, 10), /^header\./);
    malformed(V4.subarray(0, 600), /^body\./);
    malformed(V4.subarray(0, sigEnd - 1), /^signature_data_len$/);
  });

  it('wrong versions, key types, TEE types, body types', () => {
    for (const version of [3, 6, 0]) {
      const b = Buffer.from(V4);
      b.writeUInt16LE(version, 0);
      malformed(b, /^header\.version$/);
    }
    const key = Buffer.from(V4);
    key.writeUInt16LE(3, 2);
    malformed(key, /^header\.att_key_type$/);
    const sgx = Buffer.from(V4);
    sgx.writeUInt32LE(0, 4);
    malformed(sgx, /^header\.tee_type$/);
    const body = Buffer.from(V5);
    body.writeUInt16LE(1, 48);
    malformed(body, /^body_descriptor\.type$/);
    const size = Buffer.from(V5);
    size.writeUInt32LE(584, 50);
    malformed(size, /^body_descriptor\.size$/);
  });

  it('lengths that run past their container', () => {
    const sig = Buffer.from(V4);
    sig.writeUInt32LE(0xffffffff, SIGNED_END_V4);
    malformed(sig, /^signature_data_len$/);
    const cert = Buffer.from(V4);
    cert.writeUInt32LE(0x7fffffff, SIGNED_END_V4 + 4 + 128 + 2);
    malformed(cert, /^certification_data\.size$/);
    const type = Buffer.from(V4);
    type.writeUInt16LE(5, SIGNED_END_V4 + 4 + 128);
    malformed(type, /^certification_data\.type$/);
  });

  it('oversized input', () => {
    malformed(Buffer.concat([V4, Buffer.alloc(70 * 1024)]), /^length$/);
  });

  it('a bad collateral directory or file is an input error', async () => {
    await assert.rejects(
      tdxVerifier().verify(V4, { at: AT4, collateralDir: join(tmp, 'missing') }),
      { code: 'FILE_NOT_FOUND' },
    );
    const dir = join(tmp, 'broken');
    mkdirSync(dir);
    writeFileSync(join(dir, 'tcb.json'), '{"tcbInfo": {"id": "TDX"}, "signature": "zz"}');
    await assert.rejects(tdxVerifier().verify(V4, { at: AT4, collateralDir: dir }), {
      code: 'TEE_MALFORMED',
      field: '/signature',
    });
  });
});
