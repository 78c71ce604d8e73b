// Expected values against the real Milan report (go-sev-guest attestation.bin,
// MANIFEST.md): VMPL 0, GUEST_SVN 0, REPORTED_TCB bootloader=2 tee=0 snp=5
// microcode=68 (TCB_VERSION 0x4405000000000002), zero HOST_DATA / FAMILY_ID /
// IMAGE_ID, no ID block. The real values pass; every changed value fails the
// check named after its field, saying expected and actual.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SHARED } from '../../../test/shared.ts';
import { check, failed } from '../testing-verdict.ts';
import type { TeePolicyOptions } from '../verifier.ts';
import { sevSnpVerifier } from './verifier.ts';

const V = `${SHARED}/vectors/tee/sev-snp`;
const REPORT = readFileSync(`${V}/attestation.bin`);
const VCEK = readFileSync(`${V}/vcek.testcer`);
const AT = new Date('2022-09-24T01:00:00Z');
const REAL_TCB = { bootloader: 2, tee: 0, snp: 5, microcode: 68 };

const v = sevSnpVerifier();
const verify = (policy: TeePolicyOptions) =>
  v.verify(REPORT, { at: AT, certChain: [VCEK], policy: { insecureAllowDebug: true, ...policy } });

describe('sev-snp expectations: the real Milan report', () => {
  it('passes with its own values, one check per expectation', async () => {
    const verdict = await verify({
      minimumTcb: REAL_TCB,
      vmpl: 0,
      minimumGuestSvn: 0,
      hostData: '00'.repeat(32),
      familyId: '00'.repeat(16),
      imageId: '00'.repeat(16),
    });
    assert.deepEqual(failed(verdict), []);
    assert.equal(verdict.ok, true);
    for (const name of ['minimum-tcb', 'vmpl', 'guest-svn', 'host-data', 'family-id', 'image-id'])
      assert.equal(check(verdict, name)?.ok, true, name);
    assert.match(
      check(verdict, 'minimum-tcb')?.detail ?? '',
      /REPORTED_TCB bootloader=2 tee=0 snp=5 microcode=68 meets/,
    );
  });

  it('the raw TCB_VERSION of the report is its own minimum', async () => {
    const verdict = await verify({ minimumTcb: 0x4405000000000002n });
    assert.equal(check(verdict, 'minimum-tcb')?.ok, true);
  });

  it('a minimum one SVN above the report in any single component fails, naming it', async () => {
    for (const c of ['bootloader', 'tee', 'snp', 'microcode'] as const) {
      const verdict = await verify({ minimumTcb: { ...REAL_TCB, [c]: REAL_TCB[c] + 1 } });
      assert.deepEqual(failed(verdict), ['minimum-tcb'], c);
      assert.match(
        check(verdict, 'minimum-tcb')?.detail ?? '',
        new RegExp(`: ${c} ${REAL_TCB[c]} < ${REAL_TCB[c] + 1}$`),
      );
    }
  });

  it('is component-wise: a TCB_VERSION numerically below the report but with a higher bootloader fails', async () => {
    // bootloader 3, microcode 67: 0x4305…03 < 0x4405…02 as integers.
    const min = 0x4305000000000003n;
    assert.ok(min < 0x4405000000000002n);
    const verdict = await verify({ minimumTcb: min });
    assert.deepEqual(failed(verdict), ['minimum-tcb']);
    // Only the bootloader is below; microcode 68 ≥ 67 is not listed.
    assert.match(check(verdict, 'minimum-tcb')?.detail ?? '', /: bootloader 2 < 3$/);
    // And one numerically above with every component at or below the report passes.
    const above = await verify({ minimumTcb: { bootloader: 0, microcode: 68 } });
    assert.equal(check(above, 'minimum-tcb')?.ok, true);
  });

  it('a Turin-only component (fmc) cannot be met by a Milan TCB', async () => {
    const verdict = await verify({ minimumTcb: { fmc: 1 } });
    assert.match(check(verdict, 'minimum-tcb')?.detail ?? '', /a Milan TCB has no fmc/);
    assert.equal(check(await verify({ minimumTcb: { fmc: 0 } }), 'minimum-tcb')?.ok, true);
  });

  it('changed VMPL, GUEST_SVN, HOST_DATA, FAMILY_ID and IMAGE_ID fail with expected and actual', async () => {
    const cases: [TeePolicyOptions, string, RegExp][] = [
      [{ vmpl: 1 }, 'vmpl', /VMPL is 0, expected 1/],
      [{ minimumGuestSvn: 1 }, 'guest-svn', /GUEST_SVN is 0, minimum 1/],
      [{ hostData: `01${'00'.repeat(31)}` }, 'host-data', /HOST_DATA 0{64}, expected 010{62}/],
      [{ familyId: 'ab'.repeat(16) }, 'family-id', /FAMILY_ID is 0{32}, expected (ab){16}/],
      [{ imageId: 'cd'.repeat(16) }, 'image-id', /IMAGE_ID is 0{32}, expected (cd){16}/],
    ];
    for (const [policy, name, detail] of cases) {
      const verdict = await verify(policy);
      assert.deepEqual(failed(verdict), [name]);
      assert.equal(verdict.ok, false);
      assert.match(check(verdict, name)?.detail ?? '', detail);
    }
  });

  it('ID / author key allow-lists fail for a report launched without an ID block', async () => {
    const key = 'ef'.repeat(48);
    const id = await verify({ trustedIdKeyDigests: [key] });
    assert.deepEqual(failed(id), ['id-key-digest']);
    assert.match(check(id, 'id-key-digest')?.detail ?? '', /no ID block/);
    // Even an allow-list holding the zero digest: AUTHOR_KEY_EN is 0.
    const author = await verify({ trustedAuthorKeyDigests: ['00'.repeat(48)] });
    assert.deepEqual(failed(author), ['author-key-digest']);
    assert.match(check(author, 'author-key-digest')?.detail ?? '', /AUTHOR_KEY_EN is 0/);
    // The zero ID key digest is what the report carries: listing it is a (weak) match.
    assert.equal(
      check(await verify({ trustedIdKeyDigests: [key, '00'.repeat(48)] }), 'id-key-digest')?.ok,
      true,
    );
  });

  it('no expectation, no check', async () => {
    const verdict = await verify({});
    for (const name of ['minimum-tcb', 'vmpl', 'guest-svn', 'family-id', 'id-key-digest'])
      assert.equal(check(verdict, name), undefined);
  });
});
