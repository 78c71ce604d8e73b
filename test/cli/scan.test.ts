import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sarifValidator } from '../sarif.ts';
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
  // Through a symbolic link to the work tree: the same commit, clean, no `../link` path.
  await symlink(dir, join(root, 'app-link'));
  const linked = await vouch(
    ['scan', 'app-link', '--attest', '--key', join(root, key), '--no-store', '--out', 'l.json'],
    { cwd: root, env },
  );
  assert.equal(linked.code, 0, show(linked));
  assert.deepEqual((await statementOf(join(root, 'l.json'))).predicate.target, {
    kind: 'git',
    name: 'app',
    commit: head,
    dirty: false,
  });

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

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx:1.27
          securityContext:
            privileged: true
`;
const WORKFLOW = `name: ci
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: acme/deploy-action@v1
`;

/** A git repository with findings in a subdirectory and a workflow, and a copy outside git. */
async function repository(t: Parameters<typeof tempDir>[0]) {
  const root = await tempDir(t);
  await mkdir(join(root, '.home'));
  const env = isolatedEnv(root);
  const repo = join(root, 'repo');
  await mkdir(join(repo, 'deploy', 'c#'), { recursive: true });
  await mkdir(join(repo, '.github', 'workflows'), { recursive: true });
  await writeFile(join(repo, 'deploy', 'deployment.yaml'), DEPLOYMENT);
  await writeFile(join(repo, 'deploy', 'c#', 'app.env'), ENV_LINE);
  await writeFile(join(repo, '.github', 'workflows', 'ci.yml'), WORKFLOW);
  git(repo, env, 'init', '-q', '-b', 'main');
  const plain = join(root, 'plain', 'deploy');
  await mkdir(plain, { recursive: true });
  await writeFile(join(plain, 'deployment.yaml'), DEPLOYMENT);
  return { root, repo, plain, env };
}

/** Each result's (or notification's) URI, resolved as code scanning does: from the repository root. */
function resolvedFiles(sarif: any, rootDir: string): string[] {
  const run = sarif.runs[0];
  const locations = [
    ...run.results.map((r: any) => r.locations[0].physicalLocation.artifactLocation),
    ...run.invocations[0].toolExecutionNotifications.map(
      (n: any) => n.locations[0].physicalLocation.artifactLocation,
    ),
  ];
  const base = pathToFileURL(`${rootDir}/`);
  return locations.map((l: any) => {
    assert.equal(l.uriBaseId, '%SRCROOT%');
    assert.ok(!l.uri.startsWith('/') && !/^[a-z]+:/i.test(l.uri), l.uri);
    return fileURLToPath(new URL(l.uri, base));
  });
}

async function sarifOf(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<any> {
  const out = join(cwd, `${createHash('sha256').update(args.join(' ')).digest('hex')}.sarif`);
  const r = await vouch(['scan', ...args, '--format', 'sarif', '-o', out], { cwd, env });
  assert.equal(r.code, 0, show(r));
  const doc = JSON.parse(await readFile(out, 'utf8'));
  await rm(out);
  const validate = sarifValidator();
  assert.ok(validate(doc), JSON.stringify(validate.errors, null, 2));
  return doc;
}

test('vouch scan SARIF in a git repository: URIs from the repository root, for a subdirectory, a link to it and one file', async (t) => {
  const { root, repo, env } = await repository(t);
  const expected = [
    join(repo, 'deploy', 'c#', 'app.env'),
    join(repo, 'deploy', 'deployment.yaml'),
  ].sort();
  // From the root, from inside the subdirectory, and through a symbolic link from outside.
  await symlink(join(repo, 'deploy'), join(root, 'deploy-link'));
  for (const [args, cwd] of [
    [['deploy'], repo],
    [['.'], join(repo, 'deploy')],
    [['deploy-link'], root],
  ] as const) {
    const doc = await sarifOf([...args], cwd, env);
    const files = resolvedFiles(doc, repo);
    assert.deepEqual([...new Set(files)].sort(), expected, `${args} from ${cwd}`);
    for (const f of files) assert.ok(existsSync(f), f);
    const run = doc.runs[0];
    assert.deepEqual(run.originalUriBaseIds['%SRCROOT%'], {
      description: {
        text: 'The root of the git work tree that was scanned (the repository root).',
      },
    });
    assert.ok(
      run.results.some(
        (r: any) => r.locations[0].physicalLocation.artifactLocation.uri === 'deploy/c%23/app.env',
      ),
    );
    // No machine path anywhere in the log.
    assert.ok(!JSON.stringify(doc).includes(root));
  }
  // One file, named by its path from the root wherever it is scanned from.
  for (const [target, cwd] of [
    ['.github/workflows/ci.yml', repo],
    ['workflows/ci.yml', join(repo, '.github')],
    [join(repo, '.github', 'workflows', 'ci.yml'), root],
  ] as const) {
    const doc = await sarifOf([target, '--only', 'misconfig'], cwd, env);
    const files = resolvedFiles(doc, repo);
    assert.ok(files.length > 0);
    for (const f of files) assert.equal(f, join(repo, '.github', 'workflows', 'ci.yml'));
    const json = await vouch(['scan', target, '--only', 'misconfig', '--json'], { cwd, env });
    assert.deepEqual(
      [...new Set(jsonOf(json).findings.map((f: { file: string }) => f.file))],
      ['.github/workflows/ci.yml'],
    );
    const table = await vouch(['scan', target, '--only', 'misconfig'], { cwd, env });
    assert.match(table.stdout, /gha\/unpinned-action\s+\.github\/workflows\/ci\.yml:8/);
  }
  // A linked worktree (its `.git` is a file): URIs from the worktree's own root.
  git(repo, env, 'add', '-A');
  git(repo, env, 'commit', '-q', '--no-gpg-sign', '-m', 'init');
  git(repo, env, 'worktree', 'add', '-q', join(root, 'wt'));
  const wt = await sarifOf(['deploy'], join(root, 'wt'), env);
  assert.deepEqual([...new Set(resolvedFiles(wt, join(root, 'wt')))].sort(), [
    join(root, 'wt', 'deploy', 'c#', 'app.env'),
    join(root, 'wt', 'deploy', 'deployment.yaml'),
  ]);
});

test('vouch scan: JSON names files from the scanned directory; outside git SARIF does too, one file from the working directory', async (t) => {
  const { root, repo, plain, env } = await repository(t);
  const json = jsonOf(await vouch(['scan', 'deploy', '--json'], { cwd: repo, env }));
  assert.deepEqual([...new Set(json.findings.map((f: any) => f.file))].sort(), [
    'c#/app.env',
    'deployment.yaml',
  ]);
  // Outside any git work tree: relative to the scanned directory, as before.
  const doc = await sarifOf(['deploy'], join(root, 'plain'), env);
  const uris = doc.runs[0].results.map(
    (r: any) => r.locations[0].physicalLocation.artifactLocation.uri,
  );
  assert.ok(uris.length > 0);
  assert.deepEqual([...new Set(uris)], ['deployment.yaml']);
  assert.deepEqual([...new Set(resolvedFiles(doc, plain))], [join(plain, 'deployment.yaml')]);
  assert.match(doc.runs[0].originalUriBaseIds['%SRCROOT%'].description.text, /scanned directory/);
  // One file outside git: its path from the working directory.
  const one = jsonOf(
    await vouch(['scan', 'plain/deploy/deployment.yaml', '--json'], { cwd: root, env }),
  );
  assert.deepEqual(
    [...new Set(one.findings.map((f: any) => f.file))],
    ['plain/deploy/deployment.yaml'],
  );
  const oneSarif = await sarifOf(['plain/deploy/deployment.yaml'], root, env);
  assert.deepEqual([...new Set(resolvedFiles(oneSarif, root))], [join(plain, 'deployment.yaml')]);
});

test('vouch scan: a baseline written before (scanned-directory names, old fingerprints) still matches', async (t) => {
  const { repo, env } = await repository(t);
  const before = jsonOf(await vouch(['scan', 'deploy', '--json'], { cwd: repo, env }));
  const privileged = before.findings.find((f: any) => f.file === 'deployment.yaml');
  assert.ok(privileged, JSON.stringify(before.findings));
  // The fingerprint of a misconfiguration as every version so far computed it:
  // sha256(rule id NUL file-from-the-scanned-directory NUL snippet), 16 hex characters.
  const old = (file: string, f: any) =>
    createHash('sha256')
      .update(`${f.ruleId}\0${file}\0${f.snippet ?? f.message}`)
      .digest('hex')
      .slice(0, 16);
  assert.equal(privileged.fingerprint, old('deployment.yaml', privileged));
  const entries = before.findings.map((f: any) => ({
    ruleId: f.ruleId,
    file: f.file,
    fingerprint: f.fingerprint,
    justification: 'accepted in review',
  }));
  await writeFile(
    join(repo, 'deploy', '.vouch-scan-baseline.json'),
    JSON.stringify({ version: 1, findings: entries }),
  );
  const after = jsonOf(await vouch(['scan', 'deploy', '--json'], { cwd: repo, env }));
  assert.equal(after.findings.length, 0, JSON.stringify(after.findings));
  assert.equal(after.suppressed.length, before.findings.length);
  assert.deepEqual(after.unusedBaseline, []);
  const doc = await sarifOf(['deploy'], repo, env);
  for (const r of doc.runs[0].results) assert.equal(r.suppressions[0].kind, 'external');

  // A single-file scan's baseline written when the file was named by its base name.
  const wf = jsonOf(
    await vouch(['scan', '.github/workflows/ci.yml', '--only', 'misconfig', '--json'], {
      cwd: repo,
      env,
    }),
  );
  const unpinned = wf.findings.find((f: any) => f.ruleId === 'gha/unpinned-action');
  assert.ok(unpinned);
  const legacy = (fingerprint: string) =>
    JSON.stringify({
      version: 1,
      findings: [
        { ruleId: unpinned.ruleId, file: 'ci.yml', fingerprint, justification: 'vendored action' },
      ],
    });
  await writeFile(join(repo, 'legacy.json'), legacy(old('ci.yml', unpinned)));
  const args = ['scan', '.github/workflows/ci.yml', '--only', 'misconfig', '--json'];
  const matched = jsonOf(await vouch([...args, '--baseline', 'legacy.json'], { cwd: repo, env }));
  const accepted = matched.suppressed.find((f: any) => f.ruleId === 'gha/unpinned-action');
  assert.equal(accepted?.file, '.github/workflows/ci.yml');
  assert.equal(accepted?.suppression.justification, 'vendored action');
  assert.deepEqual(matched.unusedBaseline, []);
  // Tamper: another fingerprint under the old name matches nothing.
  await writeFile(join(repo, 'legacy.json'), legacy('0'.repeat(16)));
  const stale = jsonOf(await vouch([...args, '--baseline', 'legacy.json'], { cwd: repo, env }));
  assert.ok(stale.findings.some((f: any) => f.ruleId === 'gha/unpinned-action'));
  assert.equal(stale.unusedBaseline.length, 1);
});
