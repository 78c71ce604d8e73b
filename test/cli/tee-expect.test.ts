// vouch tee verify's expected-value flags (go-sev-guest / go-tdx-guest `check`
// names) on the real Milan SEV-SNP report and the real SPR TDX quote
// (MANIFEST.md, pinned times): the real values exit 0, a changed value exits 1
// naming the field with expected and actual, a malformed value exits 2 naming
// the flag, and a flag for the other platform's evidence is refused (exit 2).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { compileWhere } from '../../src/policy/cel.ts';
import { jsonOf, show, tempDir, VECTORS, vouch } from './helpers.ts';

const SNP = join(VECTORS, 'tee', 'sev-snp');
const TDX = join(VECTORS, 'tee', 'tdx');
const snp = [
  'tee',
  'verify',
  join(SNP, 'attestation.bin'),
  '--cert-chain',
  join(SNP, 'vcek.testcer'),
  '--at',
  '2022-09-24T01:00:00Z',
  '--insecure-allow-debug',
];
const tdx = [
  'tee',
  'verify',
  join(TDX, 'tdx_prod_quote_SPR_E4.dat'),
  '--at',
  '2023-07-01T01:00:00Z',
];
const ZERO48 = '00'.repeat(48);
// biome-ignore lint/suspicious/noExplicitAny: tests read JSON of a shape they assert on
const check = (j: any, name: string) => j.checks.find((c: { name: string }) => c.name === name);

test('sev-snp: the real report meets its own TCB, VMPL, GUEST_SVN, HOST_DATA, FAMILY_ID and IMAGE_ID', async (t) => {
  const dir = await tempDir(t);
  const real = await vouch(
    [
      ...snp,
      '--minimum-tcb',
      'bootloader=2,tee=0,snp=5,microcode=68',
      '--vmpl',
      '0',
      '--minimum-guest-svn',
      '0',
      '--host-data',
      '00'.repeat(32),
      '--family-id',
      '00'.repeat(16),
      '--image-id',
      '00'.repeat(16),
      '--json',
    ],
    { cwd: dir },
  );
  assert.equal(real.code, 0, show(real));
  for (const name of ['minimum-tcb', 'vmpl', 'guest-svn', 'host-data', 'family-id', 'image-id'])
    assert.equal(check(jsonOf(real), name)?.ok, true, name);

  // One SVN higher in one component (snp 6): exit 1, naming the component.
  const higher = await vouch(
    [...snp, '--minimum-tcb', 'bootloader=2,tee=0,snp=6,microcode=68', '--json'],
    { cwd: dir },
  );
  assert.equal(higher.code, 1, show(higher));
  assert.match(check(jsonOf(higher), 'minimum-tcb').detail, /: snp 5 < 6$/);
  // A raw TCB_VERSION below the report as an integer but with bootloader 3: still exit 1.
  const raw = await vouch([...snp, '--minimum-tcb', '0x4305000000000003', '--json'], { cwd: dir });
  assert.equal(raw.code, 1, show(raw));
  assert.match(check(jsonOf(raw), 'minimum-tcb').detail, /: bootloader 2 < 3$/);

  const vmpl = await vouch([...snp, '--vmpl', '2'], { cwd: dir });
  assert.equal(vmpl.code, 1, show(vmpl));
  assert.match(vmpl.stdout, /✗ vmpl: VMPL is 0, expected 2/);
  const host = await vouch([...snp, '--host-data', `ff${'00'.repeat(31)}`], { cwd: dir });
  assert.equal(host.code, 1, show(host));
  assert.match(host.stdout, /✗ host-data: HOST_DATA 0{64}, expected ff0{62}/);
  const id = await vouch(
    [...snp, '--trusted-id-key-hashes', `${'ab'.repeat(48)},${'cd'.repeat(48)}`],
    {
      cwd: dir,
    },
  );
  assert.equal(id.code, 1, show(id));
  assert.match(id.stdout, /✗ id-key-digest: .*not one of the 2 trusted ID key digest\(s\)/);
});

test('tdx: the real quote meets its own TEE TCB SVN, QE/PCE SVN, MR values, RTMRs and TD attributes', async (t) => {
  const dir = await tempDir(t);
  const q = jsonOf(await vouch([...tdx, '--json'], { cwd: dir }));
  const rtmrs = q.claims.rtmrs as string[];
  const base = [
    ...tdx,
    // No TCB signing chain in the vectors: collateral is not what this test is about.
    '--minimum-tee-tcb-svn',
    '03000400000000000000000000000000',
    '--minimum-qe-svn',
    '4',
    '--minimum-pce-svn',
    '11',
    '--mr-config-id',
    ZERO48,
    '--mr-owner',
    ZERO48,
    '--mr-owner-config',
    ZERO48,
    '--td-attributes',
    q.claims.tdAttributes,
    '--json',
  ];
  const real = jsonOf(await vouch([...base, '--rtmrs', rtmrs.join(',')], { cwd: dir }));
  // Without collateral the verdict fails closed on `collateral` only.
  assert.deepEqual(
    real.checks
      .filter((c: { ok: boolean; level?: string }) => !c.ok && !c.level)
      .map((c: { name: string }) => c.name),
    ['collateral'],
  );
  for (const name of [
    'tee-tcb-svn',
    'qe-svn',
    'pce-svn',
    'mr-config-id',
    'mr-owner',
    'mr-owner-config',
    'rtmr-0',
    'rtmr-3',
    'td-attributes',
  ])
    assert.equal(check(real, name)?.ok, true, name);

  const changed = [...rtmrs];
  changed[1] = 'ab'.repeat(48);
  const bad = await vouch(
    [
      ...base,
      '--rtmrs',
      changed.join(','),
      '--minimum-tee-tcb-svn',
      '03000500000000000000000000000000',
      '--mr-owner',
      `01${'00'.repeat(47)}`,
    ],
    { cwd: dir },
  );
  assert.equal(bad.code, 1, show(bad));
  const j = jsonOf(bad);
  assert.match(check(j, 'rtmr-1').detail, /RTMR1 is 2c700b8b.*, expected (ab){48}/);
  assert.equal(check(j, 'rtmr-0').ok, true);
  assert.match(check(j, 'tee-tcb-svn').detail, /: SVN\[2\] 4 < 5$/);
  assert.match(check(j, 'mr-owner').detail, /MROWNER is 0{96}, expected 010{94}/);
});

test('tdx: --tdx-accept-tcb-status accepts a named status; the collateral signatures still decide the verdict', async (t) => {
  const dir = await tempDir(t);
  const info = JSON.parse(readFileSync(join(TDX, 'sample_tcbinfo_response_v5'), 'utf8'));
  info.tcbInfo.tcbLevels[0].tcbStatus = 'SWHardeningNeeded';
  await writeFile(join(dir, 'tcbinfo.json'), JSON.stringify(info));
  await writeFile(join(dir, 'qeid.json'), readFileSync(join(TDX, 'sample_qeIdentity_response')));
  const v5 = [
    'tee',
    'verify',
    join(TDX, 'quote_v5_sample.dat'),
    '--at',
    '2026-02-03T01:00:00Z',
    '--collateral',
    '.',
    '--json',
  ];
  const strict = await vouch(v5, { cwd: dir });
  assert.equal(strict.code, 1, show(strict));
  assert.match(check(jsonOf(strict), 'tcb-status').detail, /SWHardeningNeeded .*not accepted/);
  const accepting = await vouch([...v5, '--tdx-accept-tcb-status', 'SWHardeningNeeded'], {
    cwd: dir,
  });
  assert.equal(accepting.code, 1, show(accepting));
  assert.equal(check(jsonOf(accepting), 'tcb-status').ok, true);
  assert.equal(check(jsonOf(accepting), 'tcb-info-signature').ok, false);
});

test('malformed expectation values exit 2 naming the flag; a flag for the other platform is refused', async (t) => {
  const dir = await tempDir(t);
  const cases: [string[], RegExp][] = [
    [
      [...snp, '--minimum-tcb', 'bootloader=2,snp=x'],
      /--minimum-tcb .*snp=x: an SVN is an integer from 0 to 255/,
    ],
    [[...snp, '--minimum-tcb', 'bios=1'], /--minimum-tcb "bios=1": expected NAME=SVN pairs/],
    [
      [...snp, '--minimum-tcb', `0x1${'0'.repeat(16)}`],
      /--minimum-tcb .*: expected NAME=SVN pairs/,
    ],
    [[...snp, '--vmpl', '4'], /--vmpl "4": expected an integer from 0 to 3/],
    [[...snp, '--host-data', '00'], /--host-data "00": expected 32 bytes/],
    [[...snp, '--family-id', 'zz'], /--family-id "zz": is not hex/],
    [
      [...snp, '--trusted-author-key-hashes', 'ab,'],
      /--trusted-author-key-hashes .*an empty digest/,
    ],
    [[...tdx, '--rtmrs', `${ZERO48},${ZERO48}`], /--rtmrs .*expected 4 comma-separated values/],
    [[...tdx, '--minimum-qe-svn=-1'], /--minimum-qe-svn "-1": expected an integer from 0 to 65535/],
    [[...tdx, '--td-attributes', '00'], /--td-attributes "00": expected 8 bytes/],
    [
      [...tdx, '--tdx-accept-tcb-status', 'Revoked'],
      /--tdx-accept-tcb-status "Revoked": a revoked TCB is never accepted/,
    ],
    [
      [...tdx, '--tdx-accept-tcb-status', 'uptodate'],
      /--tdx-accept-tcb-status "uptodate": expected one of UpToDate/,
    ],
    [
      [...snp, '--vmpl', '0', '--mr-owner', ZERO48],
      /SEV-SNP and TDX expectations cannot both apply/,
    ],
    [[...tdx, '--vmpl', '0'], /--vmpl check sev-snp evidence; this evidence is tdx/],
    [[...snp, '--rtmrs', `${ZERO48},,,`], /--rtmrs check tdx evidence; this evidence is sev-snp/],
  ];
  for (const [args, message] of cases) {
    const r = await vouch(args, { cwd: dir });
    assert.equal(r.code, 2, `${args.slice(-2).join(' ')}: ${show(r)}`);
    assert.match(r.stderr, /USAGE/);
    assert.match(r.stderr, message);
  }
});

test('policy: the documented CEL forms of the expectations hold over a written verdict, and fail for other values', async (t) => {
  const dir = await tempDir(t);
  const s = await vouch([...snp, '--vmpl', '0', '--predicate-out', 'snp.json'], { cwd: dir });
  assert.equal(s.code, 0, show(s));
  const d = await vouch([...tdx, '--predicate-out', 'tdx.json'], { cwd: dir });
  assert.equal(d.code, 1, show(d)); // no collateral; the claims are still written
  const pred = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8'));
  const evaluate = (predicate: unknown, where: string) => {
    const compiled = compileWhere(where);
    assert.ok(compiled.ok, where);
    const r = compiled.where.evaluate({
      predicate,
      statement: {},
      subject: {},
      signers: [],
      now: '2026-01-01T00:00:00Z',
    });
    assert.ok(r.ok, `${where}: ${r.ok ? '' : r.error}`);
    return r.value;
  };
  const c = 'predicate.verification.claims';
  const snpPred = pred('snp.json');
  for (const [where, want] of [
    [
      `predicate.verification.ok && predicate.verification.checks.exists(x, x.name == 'vmpl' && x.ok)`,
      true,
    ],
    [
      `${c}.tcb.components.bootloader >= 2.0 && ${c}.tcb.components.snp >= 5.0 && ${c}.tcb.components.microcode >= 68.0`,
      true,
    ],
    [`${c}.tcb.components.bootloader >= 3.0 && ${c}.tcb.components.microcode >= 67.0`, false],
    [`${c}.vmpl == 0.0 && ${c}.guestSvn >= 0.0`, true],
    [`${c}.vmpl == 1.0`, false],
    [`${c}.hostData == '${'00'.repeat(32)}' && ${c}.familyId == '${'00'.repeat(16)}'`, true],
    [`${c}.authorKeyEn && ${c}.authorKeyDigest in ['${'00'.repeat(48)}']`, false],
  ] as const)
    assert.equal(evaluate(snpPred, where), want, where);
  const tdxPred = pred('tdx.json');
  for (const [where, want] of [
    [`${c}.teeTcbSvns[0] >= 3.0 && ${c}.teeTcbSvns[2] >= 4.0`, true],
    [`${c}.teeTcbSvns[2] >= 5.0`, false],
    [`${c}.qe.isvSvn >= 4.0 && ${c}.pceSvn >= 11.0`, true],
    [`${c}.mrOwner == '${ZERO48}' && ${c}.rtmrs[3] == '${ZERO48}'`, true],
    [`${c}.tdAttributes == '0000001000000000'`, false],
  ] as const)
    assert.equal(evaluate(tdxPred, where), want, where);
});
