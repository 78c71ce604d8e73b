// `vouch tee verify` end to end on revocation: the real Milan SEV-SNP report
// (warning without a CRL, exit 1 with --require-crl), the real TDX v4 quote
// with the real Intel CRLs (revocation passes, shown in --json), and a
// garbage CRL in --collateral (exit 2, the file named).
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { jsonOf, REPO_ROOT, show, tempDir, VECTORS, vouch } from '../../test/cli/helpers.ts';

// ajv-formats is CommonJS; under Node's ESM loader its default export is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020;

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
// biome-ignore lint/suspicious/noExplicitAny: tests read JSON of a shape they assert on
const revocation = (j: any) => j.checks.find((c: { name: string }) => c.name === 'revocation');

test('sev-snp: no CRL is a warning (exit 0, shown with !); --require-crl makes it exit 1', async (t) => {
  const dir = await tempDir(t);
  const warn = await vouch(snp, { cwd: dir });
  assert.equal(warn.code, 0, show(warn));
  assert.match(warn.stdout, /\n {2}! revocation: not checked \(no CRL in collateral\)\n/);
  assert.match(warn.stdout, /VERIFIED: \d+ of \d+ check\(s\) passed, 1 warning\(s\)/);
  const json = await vouch([...snp, '--json'], { cwd: dir });
  assert.equal(json.code, 0, show(json));
  assert.deepEqual(revocation(jsonOf(json)), {
    name: 'revocation',
    ok: false,
    level: 'warning',
    detail: 'not checked (no CRL in collateral)',
  });
  // The warning-level check is valid in the TEE predicate (schemas/tee-v1.json).
  const out = await vouch([...snp, '--predicate-out', 'pred.json'], { cwd: dir });
  assert.equal(out.code, 0, show(out));
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  const validate = ajv.compile(
    JSON.parse(readFileSync(join(REPO_ROOT, 'schemas', 'tee-v1.json'), 'utf8')),
  );
  const pred = JSON.parse(readFileSync(join(dir, 'pred.json'), 'utf8'));
  assert.equal(validate(pred), true, JSON.stringify(validate.errors));
  assert.equal(revocation(pred.verification).level, 'warning');
  const required = await vouch([...snp, '--require-crl'], { cwd: dir });
  assert.equal(required.code, 1, show(required));
  assert.match(required.stdout, /✗ revocation: no CRL in the collateral for "SEV-Milan"/);
});

test('tdx: the real Intel CRLs in --collateral pass revocation; a garbage CRL is exit 2 naming it', async (t) => {
  const dir = await tempDir(t);
  const col = join(dir, 'collateral');
  mkdirSync(col);
  for (const f of [
    'rootcrl.der',
    'pckcrl',
    'sample_tcbInfo_response',
    'sample_qeIdentity_response',
  ])
    copyFileSync(join(TDX, f), join(col, f));
  const args = [
    'tee',
    'verify',
    join(TDX, 'tdx_prod_quote_SPR_E4.dat'),
    '--collateral',
    'collateral',
    '--at',
    '2023-06-08T08:27:52Z',
    '--require-crl',
    '--json',
  ];
  const r = await vouch(args, { cwd: dir });
  // Exit 1: the TCB status of the sample collateral does not match this quote
  // (as go-tdx-guest finds); revocation itself passes.
  assert.equal(r.code, 1, show(r));
  const c = revocation(jsonOf(r));
  assert.equal(c.ok, true, c.detail);
  assert.match(c.detail, /not listed in .*pckcrl/);
  writeFileSync(join(col, 'pckcrl'), 'not a crl\n');
  const bad = await vouch(args, { cwd: dir });
  assert.equal(bad.code, 2, show(bad));
  // The CRL file is named (relative to the working directory), not the quote.
  assert.ok(
    bad.stderr.includes('error TEE_MALFORMED: collateral/pckcrl: CRL is not a CRL'),
    bad.stderr,
  );
  assert.equal(jsonOf(bad).error.file, join(col, 'pckcrl'));
});
