// The repository scans itself, installed dependencies included: every secret
// finding must be accepted by the reviewed baseline (.vouch-scan-baseline.json,
// each entry with its justification). A new finding here is either a leak to
// fix or a false positive to fix in the detector (or, when neither, a baseline
// entry with a reason).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isolatedEnv, jsonOf, REPO_ROOT, show, tempDir, vouch } from './helpers.ts';

test('this repository (with node_modules) has no secret findings beyond the baseline', async (t) => {
  const home = await tempDir(t);
  const r = await vouch(
    ['scan', '.', '--only', 'secrets', '--include-dir', 'node_modules', '--json'],
    {
      cwd: REPO_ROOT,
      env: isolatedEnv(home),
    },
  );
  assert.equal(r.code, 0, show(r));
  const report = jsonOf(r);
  assert.ok(report.totals.filesSeen > 1000, `only ${report.totals.filesSeen} files seen`);
  assert.equal(report.baselineFile?.endsWith('.vouch-scan-baseline.json'), true);
  assert.deepEqual(
    report.findings.map(
      (f: { ruleId: string; file: string; line: number; fingerprint: string }) =>
        `${f.ruleId} ${f.file}:${f.line} ${f.fingerprint}`,
    ),
    [],
    'secret findings not in the baseline',
  );
  for (const s of report.suppressed)
    assert.ok(s.suppression.justification.length > 20, `${s.file}: thin justification`);
});
