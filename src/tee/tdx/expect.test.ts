// Expected values against the real SPR TDX quote (go-tdx-guest
// tdx_prod_quote_SPR_E4.dat, MANIFEST.md, pinned 2023-07-01): TEE_TCB_SVN
// 03000400…, QE ISVSVN 4, PCESVN 11, zero MRCONFIGID/MROWNER/MROWNERCONFIG,
// TDATTRIBUTES 0000004000000000 (PKS). The real values pass; every changed
// value fails the check named after its field. TCB status acceptance is
// tested on the v5 sample's TCB info with its matched level relabelled: the
// Intel TCB Signing chain is not in the shared vectors (its signature checks
// fail here either way, see verifier.test.ts), but the status decision is
// made, and reported, on its own.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SHARED } from '../../../test/shared.ts';
import { check, failed } from '../testing-verdict.ts';
import type { TeePolicyOptions } from '../verifier.ts';
import { tdxVerifier } from './verifier.ts';

const V = `${SHARED}/vectors/tee/tdx`;
const V4 = readFileSync(`${V}/tdx_prod_quote_SPR_E4.dat`);
const V5 = readFileSync(`${V}/quote_v5_sample.dat`);
const AT4 = new Date('2023-07-01T01:00:00Z');
const AT5 = new Date('2026-02-03T01:00:00Z');
const ZERO48 = '00'.repeat(48);
const RTMRS = [
  '2927da70461cd63266f43230cc1849c03ef25ebe490062a801d8fcc80af42976823adf08f833c1e50b51779c6593f32a',
  '2c700b8ba9b85783f8be9fb9443647bdc0bb3c50747f06297cc6538c25a5f589c4b56d035c59107c6bc5800db2cacb61',
  '8652f0caaba7e215ea442dc36a4499d8fec3362f3a0b2ca151cbe4b3e6466fe59c7368b3c2287fc7c3bf5c924eb4424e',
  ZERO48,
];
const REAL_SVN = [3, 0, 4, ...new Array(13).fill(0)] as number[];
const svnHex = (svn: number[]) => Buffer.from(svn).toString('hex');

const v = tdxVerifier();
const verify = (policy: TeePolicyOptions) =>
  v.verify(V4, { at: AT4, policy: { insecureSkipCollateral: true, ...policy } });

describe('tdx expectations: the real SPR quote', () => {
  it('passes with its own values, one check per expectation', async () => {
    const verdict = await verify({
      minimumTeeTcbSvn: svnHex(REAL_SVN),
      minimumQeSvn: 4,
      minimumPceSvn: 11,
      mrConfigId: ZERO48,
      mrOwner: ZERO48,
      mrOwnerConfig: ZERO48,
      rtmrs: RTMRS,
      tdAttributes: '0000004000000000',
    });
    assert.deepEqual(failed(verdict), []);
    assert.equal(verdict.ok, true);
    const names = verdict.checks.map((c) => c.name);
    for (const name of [
      'tee-tcb-svn',
      'qe-svn',
      'pce-svn',
      'mr-config-id',
      'mr-owner',
      'mr-owner-config',
      'rtmr-0',
      'rtmr-1',
      'rtmr-2',
      'rtmr-3',
      'td-attributes',
    ])
      assert.ok(names.includes(name), name);
    assert.match(check(verdict, 'td-attributes')?.detail ?? '', /\(PKS\)/);
    assert.deepEqual(verdict.claims.teeTcbSvns, REAL_SVN);
    assert.equal(verdict.claims.pceSvn, 11);
  });

  it('a minimum one SVN above the quote in any single component fails, naming it', async () => {
    for (const i of [0, 1, 2, 15]) {
      const min = [...REAL_SVN];
      min[i] = (min[i] as number) + 1;
      const verdict = await verify({ minimumTeeTcbSvn: svnHex(min) });
      assert.deepEqual(failed(verdict), ['tee-tcb-svn'], String(i));
      assert.match(
        check(verdict, 'tee-tcb-svn')?.detail ?? '',
        new RegExp(`: SVN\\[${i}\\] ${REAL_SVN[i]} < ${(REAL_SVN[i] as number) + 1}$`),
      );
    }
  });

  it('is component-wise: 02 00 05… is below 03 00 04… as a number, but SVN[2] is higher', async () => {
    const verdict = await verify({ minimumTeeTcbSvn: svnHex([2, 0, 5, ...REAL_SVN.slice(3)]) });
    assert.deepEqual(failed(verdict), ['tee-tcb-svn']);
    assert.match(check(verdict, 'tee-tcb-svn')?.detail ?? '', /: SVN\[2\] 4 < 5$/);
  });

  it('changed SVN minimums, MR values, an RTMR and TDATTRIBUTES fail with expected and actual', async () => {
    const other = 'ab'.repeat(48);
    const cases: [TeePolicyOptions, string, RegExp][] = [
      [{ minimumQeSvn: 5 }, 'qe-svn', /QE ISVSVN \(QE report\) is 4, minimum 5/],
      [{ minimumPceSvn: 12 }, 'pce-svn', /PCESVN \(PCK certificate\) is 11, minimum 12/],
      [{ mrConfigId: other }, 'mr-config-id', /MRCONFIGID is 0{96}, expected (ab){48}/],
      [{ mrOwner: other }, 'mr-owner', /MROWNER is 0{96}, expected (ab){48}/],
      [{ mrOwnerConfig: other }, 'mr-owner-config', /MROWNERCONFIG is 0{96}, expected (ab){48}/],
      [
        { rtmrs: [undefined, undefined, other, undefined] },
        'rtmr-2',
        /RTMR2 is 8652f0ca.*, expected (ab){48}/,
      ],
      // SEPT_VE_DISABLE required (bit 28): this TD does not set it.
      [
        { tdAttributes: '0000005000000000' },
        'td-attributes',
        /TDATTRIBUTES is 0000004000000000 \(PKS\), expected 0000005000000000 \(SEPT_VE_DISABLE, PKS\)/,
      ],
    ];
    for (const [policy, name, detail] of cases) {
      const verdict = await verify(policy);
      assert.deepEqual(failed(verdict), [name]);
      assert.match(check(verdict, name)?.detail ?? '', detail);
    }
    // Only the RTMRs asked for are checks.
    const one = await verify({ rtmrs: [undefined, RTMRS[1], undefined, undefined] });
    assert.deepEqual(
      one.checks.filter((c) => c.name.startsWith('rtmr-')).map((c) => c.name),
      ['rtmr-1'],
    );
  });
});

describe('tdx: accepting a TCB status other than UpToDate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-tdx-status-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  // The v5 sample's platform meets its first TCB level (UpToDate); relabel it.
  const info = JSON.parse(readFileSync(`${V}/sample_tcbinfo_response_v5`, 'utf8'));
  assert.equal(info.tcbInfo.tcbLevels[0].tcbStatus, 'UpToDate');
  info.tcbInfo.tcbLevels[0].tcbStatus = 'SWHardeningNeeded';
  writeFileSync(join(dir, 'tcbinfo.json'), JSON.stringify(info));
  writeFileSync(
    join(dir, 'qeidentity.json'),
    readFileSync(`${V}/sample_qeIdentity_response`, 'utf8'),
  );

  it('SWHardeningNeeded fails by default and passes only when accepted', async () => {
    const strict = await v.verify(V5, { at: AT5, collateralDir: dir });
    assert.equal(check(strict, 'tcb-status')?.ok, false);
    assert.match(check(strict, 'tcb-status')?.detail ?? '', /SWHardeningNeeded .*not accepted/);
    assert.equal(strict.claims.tcb?.status, 'SWHardeningNeeded');

    const accepted = await v.verify(V5, {
      at: AT5,
      collateralDir: dir,
      policy: { acceptTcbStatus: ['UpToDate', 'SWHardeningNeeded'] },
    });
    assert.equal(check(accepted, 'tcb-status')?.ok, true);
    // The relabelled TCB info no longer matches its signature, and the chain is absent anyway:
    // accepting a status never makes unsigned collateral pass.
    assert.equal(check(accepted, 'tcb-info-signature')?.ok, false);
    assert.equal(accepted.ok, false);

    const other = await v.verify(V5, {
      at: AT5,
      collateralDir: dir,
      policy: { acceptTcbStatus: ['UpToDate', 'OutOfDate'] },
    });
    assert.equal(check(other, 'tcb-status')?.ok, false);
  });
});
