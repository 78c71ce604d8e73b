// SEV-SNP across products (Milan, Genoa, Turin), signing keys (VCEK, VLEK)
// and report versions (2, 3, 4, 5).
//
// REAL material (../shared/vectors/tee/sev-snp, see MANIFEST.md): the pinned
// ASK/ASVK/ARK chains for every product, virtee's Turin VCEK
// (virtee/vcek_turin.der, hwID 1e550a8ee5cf9f4d, fmc=0 bl=0 tee=0 snp=0
// ucode=9, valid 2024-11-06..2031-11-06), go-sev-guest's Milan VCEK.
// The vector sources (tests/verify_test.go, tests/testdata.go,
// virtee/tests/certs.rs) embed no report bytes besides attestation.bin (the
// real Milan report, tested in verifier.test.ts); virtee's report_milan.hex
// is not in the vectors. So:
// SYNTHETIC reports (clearly so: built in ./testing.ts at the ABI offsets and
// signed by a P-384 key generated here) test the version 3/4/5 layouts and
// Turin's TCB/CHIP_ID rules through verifySnpReportWithKey (report + key, no
// ARK), and an openssl-made stand-in PKI tests the VLEK/VCEK chain rules
// end to end through the verifier's replaceable trust anchors.
import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SHARED } from '../../../test/shared.ts';
import { isVouchError } from '../../core/errors.ts';
import { AMD_PRODUCTS, amdRootFileName, amdRoots, pinnedRootFile } from '../roots/index.ts';
import { check, failed, flip } from '../testing-verdict.ts';
import { sha256Hex, verifyChain } from '../x509.ts';
import { verifyAmdChain } from './chain.ts';
import { parseSnpReport, productFromCpuid } from './report.ts';
import {
  buildReport,
  makeTestPki,
  type SyntheticReport,
  signReport,
  type TestPki,
  tcbFromBytes,
} from './testing.ts';
import { sevSnpVerifier, verifySnpReportWithKey } from './verifier.ts';

const V = `${SHARED}/vectors/tee/sev-snp`;
const TURIN_VCEK = new X509Certificate(readFileSync(`${V}/virtee/vcek_turin.der`));
const TURIN_VCEK_DER = readFileSync(`${V}/virtee/vcek_turin.der`);
const MILAN_VCEK = new X509Certificate(readFileSync(`${V}/vcek.testcer`));
const TURIN_AT = new Date('2025-06-01T00:00:00Z');
const MILAN_AT = new Date('2022-09-24T01:00:00Z');
const TURIN_HWID = Buffer.from('1e550a8ee5cf9f4d', 'hex');

const fill = (n: number, b: number) => Buffer.alloc(n, b);
function malformed(fn: () => unknown, field: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isVouchError(e), String(e));
    assert.equal(e.code, 'TEE_MALFORMED');
    assert.match(e.field ?? '', field);
    return true;
  });
}

describe('sev-snp: pinned AMD roots per product and key kind (real)', () => {
  const vectors: Record<string, string> = {
    'amd/ask_ark_milan.pem': `${V}/milan.testcer`,
    'amd/ask_ark_milan_vlek.pem': `${V}/milanvlek.testcer`,
    'amd/ask_ark_genoa.pem': `${V}/roots/ask_ark_genoa.pem`,
    'amd/ask_ark_genoa_vlek.pem': `${V}/roots/ask_ark_genoa_vlek.pem`,
    'amd/ask_ark_turin_vcek.pem': `${V}/virtee/cert_chain_turin`,
    'amd/ask_ark_turin_vlek.pem': `${V}/roots/ask_ark_turin_vlek.pem`,
  };

  it('the shipped files are the vectors (KDS cert_chain) byte for byte', () => {
    for (const [name, file] of Object.entries(vectors)) {
      assert.equal(sha256Hex(pinnedRootFile(name)), sha256Hex(readFileSync(file)), name);
    }
  });

  it('every ASK and ASVK verifies to its product ARK; the ARK is self-signed; names per kind', () => {
    for (const product of AMD_PRODUCTS) {
      for (const kind of ['vcek', 'vlek'] as const) {
        const r = amdRoots(product, kind);
        const chain = verifyChain(r.intermediate, [], [r.ark], TURIN_AT);
        assert.equal(chain.ok, true, `${amdRootFileName(product, kind)}: ${chain.detail}`);
        const inter = kind === 'vcek' ? `SEV-${product}` : `SEV-VLEK-${product}`;
        assert.equal(chain.detail, `${inter} → ARK-${product}`);
      }
    }
  });

  it("another product's ARK does not anchor an ASK or ASVK", () => {
    const milan = amdRoots('Milan', 'vcek');
    for (const product of ['Genoa', 'Turin'] as const) {
      for (const kind of ['vcek', 'vlek'] as const) {
        const r = amdRoots(product, kind);
        assert.equal(verifyChain(r.intermediate, [], [milan.ark], TURIN_AT).ok, false);
      }
    }
  });
});

describe('sev-snp: real VCEK chains per product and key kind', () => {
  it('the Turin VCEK chains to the pinned Turin ARK through the Turin ASK', () => {
    const r = verifyAmdChain(TURIN_VCEK, 'vcek', 'Turin', { at: TURIN_AT });
    assert.equal(r.ok, true, r.detail);
    assert.equal(r.detail, 'SEV-VCEK → SEV-Turin → ARK-Turin');
  });

  it('the Turin VCEK presented with the Milan chain fails', () => {
    const pinned = verifyAmdChain(TURIN_VCEK, 'vcek', 'Milan', { at: TURIN_AT });
    assert.equal(pinned.ok, false);
    assert.match(pinned.detail, /no trusted issuer for "SEV-VCEK" \(issuer .*CN=SEV-Turin/);
    // The Milan KDS chain given as the caller's own roots and intermediates: still no path.
    const milan = readFileSync(`${V}/milan.testcer`);
    const certs = milan
      .toString()
      .split(/(?=-----BEGIN CERTIFICATE-----)/)
      .map((p) => new X509Certificate(p));
    const given = verifyAmdChain(TURIN_VCEK, 'vcek', 'Turin', {
      at: TURIN_AT,
      roots: amdRoots('Milan', 'vcek'),
      anchors: [certs[1] as X509Certificate],
      intermediates: [certs[0] as X509Certificate],
    });
    assert.equal(given.ok, false);
  });

  it('a VCEK does not chain through the ASVK (mixing fails), Turin and Milan', () => {
    const turin = verifyAmdChain(TURIN_VCEK, 'vlek', 'Turin', { at: TURIN_AT });
    assert.equal(turin.ok, false);
    assert.match(turin.detail, /"SEV-VCEK"/);
    const milan = verifyAmdChain(MILAN_VCEK, 'vlek', 'Milan', { at: MILAN_AT });
    assert.equal(milan.ok, false);
    assert.equal(verifyAmdChain(MILAN_VCEK, 'vcek', 'Milan', { at: MILAN_AT }).ok, true);
  });

  it('the Turin VCEK is outside its validity before 2024-11-06', () => {
    const r = verifyAmdChain(TURIN_VCEK, 'vcek', 'Turin', { at: new Date('2024-11-01T00:00:00Z') });
    assert.equal(r.ok, false);
    assert.match(r.detail, /"SEV-VCEK" is not valid at/);
  });

  it('a flipped byte in the Turin VCEK breaks its chain', () => {
    const hw = TURIN_VCEK_DER.indexOf(TURIN_HWID);
    assert.ok(hw > 0);
    const bad = new X509Certificate(flip(TURIN_VCEK_DER, hw + 3));
    const r = verifyAmdChain(bad, 'vcek', 'Turin', { at: TURIN_AT });
    assert.equal(r.ok, false);
    assert.match(r.detail, /does not verify with the key of "SEV-Turin"/);
  });
});

// --- synthetic reports ------------------------------------------------------

const KEY = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const OTHER = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const seq = (n: number, from: number) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (from + i) & 0xff));

/** SYNTHETIC v5 Turin report: every field planted with a distinct value. */
const TURIN_V5: SyntheticReport = {
  version: 5,
  guestSvn: 0x11223344,
  policy: 0x1fn | (0x01n << 8n) | (1n << 16n) | (1n << 20n) | (1n << 25n),
  familyId: fill(16, 0xf1),
  imageId: fill(16, 0xe2),
  vmpl: 2,
  currentTcb: tcbFromBytes([1, 2, 3, 4, 0, 0, 0, 0x55]),
  platformInfo: 0xa5n,
  signerInfo: 0x01, // AUTHOR_KEY_EN, SIGNING_KEY 0 = VCEK
  reportData: seq(64, 0),
  measurement: fill(48, 0x4d),
  hostData: fill(32, 0x4e),
  idKeyDigest: fill(48, 0x1d),
  authorKeyDigest: fill(48, 0xad),
  reportId: fill(32, 0x71),
  reportIdMa: fill(32, 0x72),
  reportedTcb: tcbFromBytes([5, 6, 7, 8, 0, 0, 0, 0x99]),
  cpuid: { family: 0x1a, model: 0x02, stepping: 1 },
  chipId: Buffer.concat([Buffer.from('0102030405060708', 'hex'), Buffer.alloc(56)]),
  committedTcb: tcbFromBytes([9, 10, 11, 12, 0, 0, 0, 13]),
  current: [1, 57, 30],
  committed: [1, 55, 21],
  launchTcb: tcbFromBytes([1, 2, 3, 4, 0, 0, 0, 0x44]),
  launchMitVector: 0x0102030405060708n,
  currentMitVector: 0x1122334455667788n,
};

/** SYNTHETIC v3 Genoa report (Milan/Genoa TCB layout, 64-byte CHIP_ID, no mitigation vectors). */
const GENOA_V3: SyntheticReport = {
  version: 3,
  guestSvn: 7,
  policy: 0x00n | (1n << 19n), // DEBUG
  vmpl: 0,
  currentTcb: tcbFromBytes([3, 0, 0, 0, 0, 0, 0x14, 0xd1]),
  reportedTcb: tcbFromBytes([7, 0, 0, 0, 0, 0, 0x16, 0xd4]),
  committedTcb: tcbFromBytes([6, 0, 0, 0, 0, 0, 0x15, 0xd3]),
  launchTcb: tcbFromBytes([5, 0, 0, 0, 0, 0, 0x13, 0xd0]),
  cpuid: { family: 0x19, model: 0x11, stepping: 1 },
  chipId: seq(64, 0x80),
  measurement: fill(48, 0x33),
  current: [1, 55, 40],
  committed: [1, 55, 40],
};

const signed = (r: SyntheticReport, key = KEY.privateKey) => signReport(buildReport(r), key);
const keyOnly = (
  buf: Buffer,
  extra: Parameters<typeof verifySnpReportWithKey>[2] = { at: TURIN_AT },
) => verifySnpReportWithKey(parseSnpReport(buf), KEY.publicKey, extra);

describe('sev-snp: SYNTHETIC version 5 Turin report, parsed at the right offsets', () => {
  const buf = signed(TURIN_V5);

  it('the parser reads every planted field', () => {
    const r = parseSnpReport(buf);
    assert.equal(r.version, 5);
    assert.equal(r.guestSvn, 0x11223344);
    assert.equal(r.policy.abiMinor, 0x1f);
    assert.equal(r.policy.abiMajor, 1);
    assert.deepEqual(
      [
        r.policy.smt,
        r.policy.migrateMa,
        r.policy.debug,
        r.policy.singleSocket,
        r.policy.pageSwapDisable,
      ],
      [true, false, false, true, true],
    );
    assert.ok(r.familyId.equals(fill(16, 0xf1)));
    assert.ok(r.imageId.equals(fill(16, 0xe2)));
    assert.equal(r.vmpl, 2);
    assert.equal(r.currentTcb, 0x5500000004030201n);
    assert.equal(r.platformInfo, 0xa5n);
    assert.equal(r.authorKeyEn, true);
    assert.equal(r.maskChipKey, false);
    assert.equal(r.signingKey, 'vcek');
    assert.ok(r.reportData.equals(seq(64, 0)));
    assert.ok(r.measurement.equals(fill(48, 0x4d)));
    assert.ok(r.hostData.equals(fill(32, 0x4e)));
    assert.ok(r.idKeyDigest.equals(fill(48, 0x1d)));
    assert.ok(r.authorKeyDigest.equals(fill(48, 0xad)));
    assert.ok(r.reportId.equals(fill(32, 0x71)));
    assert.ok(r.reportIdMa.equals(fill(32, 0x72)));
    assert.equal(r.reportedTcb, 0x9900000008070605n);
    assert.deepEqual(r.cpuid, { family: 0x1a, model: 0x02, stepping: 1 });
    assert.equal(r.chipId.toString('hex'), `0102030405060708${'00'.repeat(56)}`);
    assert.equal(r.committedTcb, 0x0d0000000c0b0a09n);
    assert.equal(r.currentVersion, '1.57.30');
    assert.equal(r.committedVersion, '1.55.21');
    assert.equal(r.launchTcb, 0x4400000004030201n);
    assert.equal(r.launchMitVector, 0x0102030405060708n);
    assert.equal(r.currentMitVector, 0x1122334455667788n);
  });

  it('verifies with its key and decodes the Turin TCB layout (FMC first) into the claims', () => {
    const v = keyOnly(buf);
    assert.deepEqual(failed(v), []);
    assert.equal(v.ok, true);
    const c = v.claims;
    assert.equal(c.product, 'Turin');
    assert.equal(c.version, 5);
    assert.deepEqual(c.tcb?.components, { fmc: 5, bootloader: 6, tee: 7, snp: 8, microcode: 0x99 });
    assert.equal(c.tcb?.raw, '9900000008070605');
    const tcbs = c.tcbs as Record<string, { components: unknown }>;
    assert.deepEqual(tcbs.current?.components, {
      fmc: 1,
      bootloader: 2,
      tee: 3,
      snp: 4,
      microcode: 0x55,
    });
    assert.deepEqual(tcbs.committed?.components, {
      fmc: 9,
      bootloader: 10,
      tee: 11,
      snp: 12,
      microcode: 13,
    });
    assert.deepEqual(tcbs.launch?.components, {
      fmc: 1,
      bootloader: 2,
      tee: 3,
      snp: 4,
      microcode: 0x44,
    });
    assert.deepEqual(c.cpuid, { family: 0x1a, model: 2, stepping: 1 });
    assert.equal(c.launchMitVector, '0102030405060708');
    assert.equal(c.currentMitVector, '1122334455667788');
    assert.equal(c.firmware, '1.57.30');
    assert.equal(c.committedFirmware, '1.55.21');
    assert.deepEqual(c.platformInfo, {
      raw: '00000000000000a5',
      smtEnabled: true,
      tsmeEnabled: false,
      eccEnabled: true,
      raplDisabled: false,
      ciphertextHidingEnabled: false,
      aliasCheckComplete: true,
      tioEnabled: true,
    });
    assert.equal((c.policy as { abi: string }).abi, '1.31');
    assert.equal(c.vmpl, 2);
    assert.equal(c.guestSvn, 0x11223344);
    assert.equal(c.reportIdMa, '72'.repeat(32));
    assert.equal(c.signingKey, 'vcek');
    assert.equal(c.authorKeyEn, true);
    assert.match(check(v, 'chip-id')?.detail ?? '', /Turin length/);
  });

  it('tampering: measured field, report data, signature, another key', () => {
    assert.deepEqual(failed(keyOnly(flip(buf, 0x90))), ['signature']);
    assert.deepEqual(failed(keyOnly(flip(buf, 0x50))), ['signature']);
    assert.deepEqual(failed(keyOnly(flip(buf, 0x1f8))), ['signature']); // LAUNCH_MIT_VECTOR
    assert.deepEqual(failed(keyOnly(flip(buf, 0x2a0 + 7))), ['signature']);
    assert.deepEqual(failed(keyOnly(signed(TURIN_V5, OTHER.privateKey))), ['signature']);
    assert.deepEqual(failed(keyOnly(buf, { at: TURIN_AT, expectReportData: seq(63, 1) })), [
      'report-data',
    ]);
  });

  it('Turin CHIP_ID rule: 8 bytes then zeros; a 64-byte CHIP_ID fails', () => {
    const v = keyOnly(signed({ ...TURIN_V5, chipId: seq(64, 1) }));
    assert.deepEqual(failed(v), ['chip-id']);
    assert.match(check(v, 'chip-id')?.detail ?? '', /Turin CHIP_ID is 8 bytes/);
  });

  it('a reserved Turin TCB byte set is an unknown TCB, not a pass', () => {
    const v = keyOnly(
      signed({ ...TURIN_V5, reportedTcb: tcbFromBytes([5, 6, 7, 8, 0, 1, 0, 0x99]) }),
    );
    assert.deepEqual(failed(v), ['tcb']);
    assert.match(check(v, 'tcb')?.detail ?? '', /reserved Turin TCB bytes set \(byte 5 = 0x01\)/);
  });

  it('an unknown CPU (family 1Ah model 50h) is an unknown product: product and TCB fail', () => {
    const v = keyOnly(signed({ ...TURIN_V5, cpuid: { family: 0x1a, model: 0x50, stepping: 0 } }));
    assert.deepEqual(failed(v), ['product', 'tcb']);
    assert.equal(v.claims.product, undefined);
  });

  it('SIGNING_KEY 7 (none) fails', () => {
    const v = keyOnly(signed({ ...TURIN_V5, signerInfo: 7 << 2 }));
    assert.ok(failed(v).includes('signing-key'));
  });
});

describe('sev-snp: SYNTHETIC version 3/4 Genoa and version 2 reports', () => {
  it('v3 Genoa: CPUID, Milan/Genoa TCB layout (SNP in byte 6), 64-byte CHIP_ID, no mitigation vectors', () => {
    const buf = signed(GENOA_V3);
    const r = parseSnpReport(buf);
    assert.deepEqual(r.cpuid, { family: 0x19, model: 0x11, stepping: 1 });
    assert.equal(r.launchMitVector, undefined);
    const v = keyOnly(buf, { at: TURIN_AT, policy: { insecureAllowDebug: true } });
    assert.deepEqual(failed(v), []);
    assert.equal(v.claims.product, 'Genoa');
    assert.equal(v.claims.debug, true);
    assert.deepEqual(v.claims.tcb?.components, {
      bootloader: 7,
      tee: 0,
      snp: 0x16,
      microcode: 0xd4,
    });
    const tcbs = v.claims.tcbs as Record<string, { components: unknown }>;
    assert.deepEqual(tcbs.launch?.components, {
      bootloader: 5,
      tee: 0,
      snp: 0x13,
      microcode: 0xd0,
    });
    assert.equal(v.claims.chipId, seq(64, 0x80).toString('hex'));
    assert.equal(v.claims.launchMitVector, undefined);
    assert.deepEqual(failed(keyOnly(buf)), ['debug']);
  });

  it('v4 has the version 3 layout', () => {
    const v = keyOnly(signed({ ...GENOA_V3, version: 4 }), {
      at: TURIN_AT,
      policy: { insecureAllowDebug: true },
    });
    assert.deepEqual(failed(v), []);
    assert.equal(v.claims.version, 4);
  });

  it('a Genoa report with an 8-byte (Turin) CHIP_ID fails; MASK_CHIP_KEY needs a zero CHIP_ID', () => {
    const short = keyOnly(signed({ ...GENOA_V3, chipId: Buffer.from('0102030405060708', 'hex') }), {
      at: TURIN_AT,
      policy: { insecureAllowDebug: true },
    });
    assert.deepEqual(failed(short), ['chip-id']);
    const masked = { at: TURIN_AT, policy: { insecureAllowDebug: true } };
    assert.deepEqual(
      failed(keyOnly(signed({ ...GENOA_V3, signerInfo: 2, chipId: Buffer.alloc(64) }), masked)),
      [],
    );
    assert.deepEqual(failed(keyOnly(signed({ ...GENOA_V3, signerInfo: 2 }), masked)), ['chip-id']);
    assert.deepEqual(failed(keyOnly(signed({ ...GENOA_V3, chipId: Buffer.alloc(64) }), masked)), [
      'chip-id',
    ]);
  });

  it('Genoa family 19h models A0h–AFh (Bergamo, Siena) are Genoa; Milan 00h–0Fh; Turin 1Ah 00h–1Fh', () => {
    assert.equal(productFromCpuid({ family: 0x19, model: 0x01 }), 'Milan');
    assert.equal(productFromCpuid({ family: 0x19, model: 0x11 }), 'Genoa');
    assert.equal(productFromCpuid({ family: 0x19, model: 0xa0 }), 'Genoa');
    assert.equal(productFromCpuid({ family: 0x19, model: 0x21 }), undefined); // client Zen 3
    assert.equal(productFromCpuid({ family: 0x1a, model: 0x02 }), 'Turin');
    assert.equal(productFromCpuid({ family: 0x1a, model: 0x11 }), 'Turin');
    assert.equal(productFromCpuid({ family: 0x1a, model: 0x44 }), undefined);
    assert.equal(productFromCpuid({ family: 0, model: 0 }), undefined);
  });

  it('v2: no CPUID; the product must come from elsewhere (here: given)', () => {
    const v2 = { ...GENOA_V3, version: 2, cpuid: undefined, policy: 0n };
    const buf = signed(v2);
    assert.equal(parseSnpReport(buf).cpuid, undefined);
    assert.deepEqual(failed(keyOnly(buf)), ['product', 'tcb']);
    const v = keyOnly(buf, { at: TURIN_AT, product: 'Milan' });
    assert.deepEqual(failed(v), []);
    assert.deepEqual(v.claims.tcb?.components, {
      bootloader: 7,
      tee: 0,
      snp: 0x16,
      microcode: 0xd4,
    });
  });

  it('fields a version does not define must be zero; unknown versions are refused', () => {
    // v2 with CPUID bytes, v3 with a mitigation vector: reserved there.
    malformed(() => parseSnpReport(buildReport({ ...GENOA_V3, version: 2 })), /^reserved$/);
    malformed(
      () => parseSnpReport(buildReport({ ...GENOA_V3, launchMitVector: 1n })),
      /^reserved$/,
    );
    for (const version of [1, 6, 7]) {
      assert.throws(
        () => parseSnpReport(buildReport({ ...TURIN_V5, version })),
        (e: unknown) =>
          isVouchError(e) && e.field === 'version' && /unknown report version/.test(e.message),
      );
    }
  });
});

describe('sev-snp: the verifier with the real Turin VCEK and SYNTHETIC reports', () => {
  // The report matches the real VCEK's TCB and hwID but is signed by a test key:
  // product, chain (to the pinned Turin ARK), TCB and CHIP_ID pass; the signature cannot.
  const matching: SyntheticReport = {
    ...TURIN_V5,
    signerInfo: 0,
    reportedTcb: tcbFromBytes([0, 0, 0, 0, 0, 0, 0, 9]),
    chipId: Buffer.concat([TURIN_HWID, Buffer.alloc(56)]),
  };
  const v = sevSnpVerifier();

  it('Turin v5: chain to the pinned Turin ARK, Turin TCB and 8-byte hwID match; only the signature fails', async () => {
    const verdict = await v.verify(signed(matching), { at: TURIN_AT, certChain: [TURIN_VCEK_DER] });
    assert.deepEqual(failed(verdict), ['signature']);
    assert.equal(check(verdict, 'chain')?.detail, 'SEV-VCEK → SEV-Turin → ARK-Turin');
    assert.match(
      check(verdict, 'tcb')?.detail ?? '',
      /fmc=0 bootloader=0 tee=0 snp=0 microcode=9 equals the VCEK/,
    );
    assert.equal(check(verdict, 'chip-id')?.detail, 'CHIP_ID matches the VCEK hwID');
    assert.equal(verdict.claims.certificateProductName, 'Turin');
  });

  it('the same report with a different FMC, or read as another chip, fails TCB / CHIP_ID', async () => {
    const fmc = await v.verify(
      signed({ ...matching, reportedTcb: tcbFromBytes([1, 0, 0, 0, 0, 0, 0, 9]) }),
      {
        at: TURIN_AT,
        certChain: [TURIN_VCEK_DER],
      },
    );
    assert.deepEqual(failed(fmc), ['signature', 'tcb']);
    assert.match(check(fmc, 'tcb')?.detail ?? '', /fmc: report 1, certificate 0/);
    const chip = await v.verify(
      signed({ ...matching, chipId: Buffer.concat([seq(8, 1), Buffer.alloc(56)]) }),
      {
        at: TURIN_AT,
        certChain: [TURIN_VCEK_DER],
      },
    );
    assert.deepEqual(failed(chip), ['chip-id', 'signature']);
  });

  it('a Milan-CPUID report with the Turin VCEK: product and chain fail', async () => {
    const milan = { ...matching, cpuid: { family: 0x19, model: 0x01, stepping: 1 } };
    const verdict = await v.verify(signed(milan), { at: TURIN_AT, certChain: [TURIN_VCEK_DER] });
    assert.ok(failed(verdict).includes('product'));
    assert.ok(failed(verdict).includes('chain'));
    assert.match(
      check(verdict, 'product')?.detail ?? '',
      /CPUID says Milan .* product name is "Turin"/,
    );
  });

  it('a VLEK report given the (real) VCEK: signing-key names the mismatch', async () => {
    const verdict = await v.verify(signed({ ...matching, signerInfo: 1 << 2 }), {
      at: TURIN_AT,
      certChain: [TURIN_VCEK_DER],
    });
    assert.ok(failed(verdict).includes('signing-key'));
    assert.match(
      check(verdict, 'signing-key')?.detail ?? '',
      /SIGNING_KEY is VLEK, but the certificate given is a SEV-VCEK/,
    );
  });
});

describe('sev-snp: SYNTHETIC PKI (openssl) through the verifier: VCEK → ASK, VLEK → ASVK', () => {
  let tmp: string;
  let pki: TestPki;
  // A day from now: inside the validity of the certificates made in before().
  const at = new Date(Date.now() + 86_400_000);
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'vouch-snp-pki-'));
    pki = makeTestPki(tmp, 'Turin');
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const v = sevSnpVerifier();
  const turinTcb = { fmc: 5, bootloader: 6, tee: 7, snp: 8, microcode: 0x99 };
  const hwId = Buffer.from('0102030405060708', 'hex');

  it('a VCEK report chains through the ASK and verifies', async () => {
    const leaf = pki.leaf(
      'vcek',
      { kind: 'vcek', productName: 'Turin-B1', tcb: turinTcb, hwId },
      'ask',
    );
    const verdict = await v.verify(signed({ ...TURIN_V5, signerInfo: 0 }, leaf.key), {
      at,
      certChain: [leaf.cert, pki.ask],
      roots: [pki.ark],
    });
    assert.deepEqual(failed(verdict), []);
    assert.equal(verdict.ok, true);
    assert.equal(check(verdict, 'chain')?.detail, 'SEV-VCEK → SEV-Turin → ARK-Turin');
    assert.equal(check(verdict, 'root')?.ok, true);
    // A flipped byte in the measurement breaks the signature.
    const bad = await v.verify(flip(signed({ ...TURIN_V5, signerInfo: 0 }, leaf.key), 0x90), {
      at,
      certChain: [leaf.cert, pki.ask],
      roots: [pki.ark],
    });
    assert.deepEqual(failed(bad), ['signature']);
  });

  it('VCEK certificate stepping and TCB must agree with the report', async () => {
    const b0 = pki.leaf(
      'vcek-b0',
      { kind: 'vcek', productName: 'Turin-B0', tcb: { ...turinTcb, fmc: 6 }, hwId },
      'ask',
    );
    const verdict = await v.verify(signed({ ...TURIN_V5, signerInfo: 0 }, b0.key), {
      at,
      certChain: [b0.cert, pki.ask],
      roots: [pki.ark],
    });
    assert.deepEqual(failed(verdict), ['product', 'tcb']);
    assert.match(check(verdict, 'tcb')?.detail ?? '', /fmc: report 5, certificate 6/);
    assert.match(
      check(verdict, 'product')?.detail ?? '',
      /stepping 1, .*"Turin-B0" \(stepping 0\)/,
    );
  });

  it('a 64-byte hwID on a Turin VCEK breaks the CHIP_ID rule', async () => {
    const long = pki.leaf(
      'vcek-long',
      {
        kind: 'vcek',
        productName: 'Turin-B1',
        tcb: turinTcb,
        hwId: Buffer.concat([hwId, Buffer.alloc(56)]),
      },
      'ask',
    );
    const verdict = await v.verify(signed({ ...TURIN_V5, signerInfo: 0 }, long.key), {
      at,
      certChain: [long.cert, pki.ask],
      roots: [pki.ark],
    });
    assert.deepEqual(failed(verdict), ['chip-id']);
    assert.match(
      check(verdict, 'chip-id')?.detail ?? '',
      /Turin VCEK hwID is 8 bytes, this one 64/,
    );
  });

  it('a VLEK report chains through the ASVK and verifies; CSP id in the claims', async () => {
    const leaf = pki.leaf(
      'vlek',
      { kind: 'vlek', productName: 'Turin-B1', tcb: turinTcb, cspId: 'example-csp' },
      'asvk',
    );
    const verdict = await v.verify(signed({ ...TURIN_V5, signerInfo: 1 << 2 }, leaf.key), {
      at,
      certChain: [leaf.cert, pki.asvk],
      roots: [pki.ark],
    });
    assert.deepEqual(failed(verdict), []);
    assert.equal(check(verdict, 'chain')?.detail, 'SEV-VLEK → SEV-VLEK-Turin → ARK-Turin');
    assert.match(check(verdict, 'chip-id')?.detail ?? '', /VLEK is not bound to a chip/);
    assert.equal(verdict.claims.cspId, 'example-csp');
    assert.equal(verdict.claims.signingKey, 'vlek');
  });

  it('mixing fails: a VLEK issued by the ASK, a VCEK issued by the ASVK', async () => {
    const vlekByAsk = pki.leaf(
      'vlek-ask',
      { kind: 'vlek', productName: 'Turin-B1', tcb: turinTcb },
      'ask',
    );
    const a = await v.verify(signed({ ...TURIN_V5, signerInfo: 1 << 2 }, vlekByAsk.key), {
      at,
      certChain: [vlekByAsk.cert, pki.ask],
      roots: [pki.ark],
    });
    assert.deepEqual(failed(a), ['chain']);
    assert.match(
      check(a, 'chain')?.detail ?? '',
      /SEV-VLEK must be issued by SEV-VLEK-Turin, not "SEV-Turin"/,
    );
    const vcekByAsvk = pki.leaf(
      'vcek-asvk',
      { kind: 'vcek', productName: 'Turin-B1', tcb: turinTcb, hwId },
      'asvk',
    );
    const b = await v.verify(signed({ ...TURIN_V5, signerInfo: 0 }, vcekByAsvk.key), {
      at,
      certChain: [vcekByAsvk.cert, pki.asvk],
      roots: [pki.ark],
    });
    assert.deepEqual(failed(b), ['chain']);
    assert.match(check(b, 'chain')?.detail ?? '', /SEV-VCEK must be issued by SEV-Turin/);
  });

  it('a VCEK report with only a VLEK certificate fails signing-key', async () => {
    const leaf = pki.leaf(
      'vlek2',
      { kind: 'vlek', productName: 'Turin-B1', tcb: turinTcb },
      'asvk',
    );
    const verdict = await v.verify(signed({ ...TURIN_V5, signerInfo: 0 }, leaf.key), {
      at,
      certChain: [leaf.cert, pki.asvk],
      roots: [pki.ark],
    });
    assert.ok(failed(verdict).includes('signing-key'));
    assert.match(
      check(verdict, 'signing-key')?.detail ?? '',
      /SIGNING_KEY is VCEK, but the certificate given is a SEV-VLEK/,
    );
  });

  it('the synthetic chain without the caller roots does not verify against the pinned Turin ARK', async () => {
    const leaf = pki.leaf(
      'vcek3',
      { kind: 'vcek', productName: 'Turin-B1', tcb: turinTcb, hwId },
      'ask',
    );
    const verdict = await v.verify(signed({ ...TURIN_V5, signerInfo: 0 }, leaf.key), {
      at,
      certChain: [leaf.cert, pki.ask],
    });
    assert.deepEqual(failed(verdict), ['chain']);
  });
});
