import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  generateKey,
  git,
  isolatedEnv,
  jsonOf,
  show,
  statementOf,
  tempDir,
  vouch,
} from './helpers.ts';

const j = (...p: string[]) => p.join('');
const PASSWORD = j('Zq8v7', 'Hn2Kx4s');
const ENV_LINE = j('DATABASE_URL=postgres://app:', PASSWORD, '@db.prod.internal:5432/app\n');

async function project(t: Parameters<typeof tempDir>[0]) {
  const root = await tempDir(t);
  await mkdir(join(root, '.home'));
  const dir = join(root, 'app');
  await mkdir(dir);
  await writeFile(join(dir, '.env.production'), ENV_LINE);
  await writeFile(join(dir, 'README.md'), '# app\n');
  return { root, dir, env: isolatedEnv(root) };
}

test('vouch scan: table, JSON and SARIF; --fail-on; never the secret', async (t) => {
  const { dir, env } = await project(t);
  const table = await vouch(['scan', '.'], { cwd: dir, env });
  assert.equal(table.code, 0, show(table));
  assert.match(table.stdout, /secret\/database-url-password\s+\.env\.production:1:29/);
  const failing = await vouch(['scan', '.', '--fail-on', 'high'], { cwd: dir, env });
  assert.equal(failing.code, 1, show(failing));
  const passing = await vouch(['scan', '.', '--fail-on', 'critical'], { cwd: dir, env });
  assert.equal(passing.code, 0, show(passing));
  // `any` (as vulns spells it) is the lowest threshold, not the highest.
  const any = await vouch(['scan', '.', '--fail-on', 'any'], { cwd: dir, env });
  assert.equal(any.code, 1, show(any));
  const json = await vouch(['scan', '.', '--json'], { cwd: dir, env });
  const report = jsonOf(json);
  assert.deepEqual(report.totals.bySeverity, { critical: 0, high: 1, medium: 0, low: 0, info: 0 });
  assert.equal(report.findings[0].ruleId, 'secret/database-url-password');
  assert.equal(report.attestation, null);
  const sarif = await vouch(['scan', '.', '--format', 'sarif', '-o', 'out.sarif'], {
    cwd: dir,
    env,
  });
  assert.equal(sarif.code, 0, show(sarif));
  const doc = JSON.parse(await readFile(join(dir, 'out.sarif'), 'utf8'));
  assert.equal(doc.version, '2.1.0');
  assert.equal(doc.runs[0].results[0].locations[0].physicalLocation.region.startLine, 1);
  for (const r of [table, failing, json, sarif]) {
    assert.ok(!r.stdout.includes(PASSWORD) && !r.stderr.includes(PASSWORD), 'secret in output');
  }
  assert.ok(!(await readFile(join(dir, 'out.sarif'), 'utf8')).includes(PASSWORD));
});

test('vouch scan: usage and input errors exit 2', async (t) => {
  const { dir, env } = await project(t);
  for (const args of [
    ['scan'],
    ['scan', 'missing-dir'],
    ['scan', '.', '--fail-on', 'severe'],
    ['scan', '.', '--only', 'secrets,viruses'],
    ['scan', '.', '--format', 'xml'],
    ['scan', '.', '--key', 'k.key'],
    ['scan', '.', '--baseline', 'b.json', '--no-baseline'],
  ]) {
    const r = await vouch(args, { cwd: dir, env });
    assert.equal(r.code, 2, `${args.join(' ')}\n${show(r)}`);
  }
  await writeFile(join(dir, '.vouch-deps.yaml'), 'version: 1\nallow: []\n');
  const badPolicy = await vouch(['scan', '.', '--json'], { cwd: dir, env });
  assert.equal(badPolicy.code, 2, show(badPolicy));
  assert.equal(jsonOf(badPolicy).error.code, 'SCAN_DEPS_POLICY_MALFORMED');
});

test('vouch scan -: stdin', async (t) => {
  const { dir, env } = await project(t);
  const r = await vouch(['scan', '-', '--json'], {
    cwd: dir,
    env,
    input: `kind: ConfigMap\ndata:\n  ${ENV_LINE}`,
  });
  assert.equal(r.code, 0, show(r));
  const report = jsonOf(r);
  assert.equal(report.target.kind, 'stdin');
  assert.deepEqual(
    report.findings.map((f: { file: string; line: number }) => `${f.file}:${f.line}`),
    ['-:3'],
  );
});

test('vouch scan --attest: signed findings about the git commit; dirty trees refused', async (t) => {
  const { root, dir, env } = await project(t);
  await writeFile(join(dir, '.gitignore'), '.vouch/\n');
  git(dir, env, 'init', '-q', '-b', 'main');
  git(dir, env, 'add', '-A');
  git(dir, env, 'commit', '-q', '--no-gpg-sign', '-m', 'app');
  const head = git(dir, env, 'rev-parse', 'HEAD');
  const { key } = await generateKey(root, env);
  const r = await vouch(
    [
      'scan',
      '.',
      '--json',
      '--attest',
      '--key',
      join(root, key),
      '--out',
      join(root, 'scan.sigstore.json'),
    ],
    {
      cwd: dir,
      env: { ...env, SOURCE_DATE_EPOCH: '1700000000' },
    },
  );
  assert.equal(r.code, 0, show(r));
  const st = await statementOf(join(root, 'scan.sigstore.json'));
  assert.equal(st.predicateType, 'https://vouch.dev/attestation/scan/v1');
  assert.equal(st.subject[0].digest.gitCommit, head);
  // The sha256 is of the commit object exactly as git hashes it.
  const body = execFileSync('git', ['cat-file', 'commit', head], { cwd: dir, env });
  const expected = createHash('sha256')
    .update(`commit ${body.length}\0`)
    .update(body)
    .digest('hex');
  assert.equal(st.subject[0].digest.sha256, expected);
  assert.deepEqual(st.predicate.target, { kind: 'git', name: 'app', commit: head, dirty: false });
  assert.equal(st.predicate.clean, false);
  assert.equal(st.predicate.scannedAt, '2023-11-14T22:13:20Z');
  assert.equal(st.predicate.findings[0].ruleId, 'secret/database-url-password');
  assert.ok(!JSON.stringify(st).includes(PASSWORD));
  assert.ok(jsonOf(r).attestation.bundle.stored.path.startsWith('.vouch/'));

  await writeFile(join(dir, 'new.txt'), 'uncommitted\n');
  const dirty = await vouch(['scan', '.', '--attest', '--key', join(root, key), '--no-store'], {
    cwd: dir,
    env,
  });
  assert.equal(dirty.code, 2, show(dirty));
  assert.match(dirty.stderr, /has changes/);
  const allowed = await vouch(
    [
      'scan',
      '.',
      '--attest',
      '--allow-dirty',
      '--key',
      join(root, key),
      '--no-store',
      '--out',
      join(root, 'd.json'),
    ],
    { cwd: dir, env },
  );
  assert.equal(allowed.code, 0, show(allowed));
  assert.equal((await statementOf(join(root, 'd.json'))).predicate.target.dirty, true);
});
