import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { VouchError } from '../../core/errors.ts';
import type { RuleSet } from '../rule.ts';
import { findingAt } from '../rule.ts';
import { scanPath, scanStream } from './engine.ts';

const j = (...p: string[]) => p.join('');
const PASSWORD_URL = j('postgres://app:', 'Zq8v7Hn2Kx4s', '@db.prod.internal/app');

/** A small real rule set: `*.conf` files of `key = value` lines; `!` is a syntax error. */
const confRules: RuleSet<{ keys: { key: string; value: string; line: number }[] }> = {
  name: 'conf',
  category: 'misconfiguration',
  matches: (path) => path.endsWith('.conf'),
  parse(text, file) {
    const keys = text.split('\n').flatMap((l, i) => {
      if (l.startsWith('!'))
        throw new VouchError('SCAN_PARSE_ERROR', 'unexpected "!"', {
          file,
          field: `line ${i + 1}`,
        });
      const m = /^(\w+)\s*=\s*(.*)$/.exec(l);
      return m ? [{ key: m[1] as string, value: m[2] as string, line: i + 1 }] : [];
    });
    return { keys };
  },
  rules: [
    {
      id: 'conf/debug-on',
      severity: 'low',
      title: 'Debug on',
      description: 'Debug mode leaks internals; turn it off in production.',
      check: (doc, ctx) =>
        doc.keys
          .filter((k) => k.key === 'debug' && k.value === 'true')
          .map((k) =>
            findingAt(
              { id: 'conf/debug-on', severity: 'low' },
              ctx,
              { line: k.line },
              'debug = true',
            ),
          ),
    },
  ],
};

async function tree(
  t: { after: (fn: () => Promise<void>) => void },
  files: Record<string, string | Buffer>,
) {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-scan-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [rel, data] of Object.entries(files)) {
    await mkdir(join(dir, rel, '..'), { recursive: true });
    await writeFile(join(dir, rel), data);
  }
  return dir;
}

test('engine: rule sets, secrets, parse errors, binary and huge files, skipped directories, totals', async (t) => {
  const huge = Buffer.concat([
    Buffer.from('x'.repeat(2 * 1024 * 1024)),
    Buffer.from(`\nurl=${PASSWORD_URL}\n`),
  ]);
  const dir = await tree(t, {
    'app.conf': 'name = app\ndebug = true\n',
    'broken.conf': 'a = 1\n!oops\n',
    'later.conf': 'debug = true\n',
    'env/.env': `DATABASE_URL=${PASSWORD_URL}\n`,
    'logo.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]),
    'dump.sql': huge,
    'node_modules/pkg/.env': `DATABASE_URL=${PASSWORD_URL}\n`,
    '.git/config': `url=${PASSWORD_URL}\n`,
  });
  const r = await scanPath(dir, {
    ruleSets: [confRules],
    only: ['misconfig', 'secrets'],
    maxFileBytes: 1024 * 1024,
  });
  assert.deepEqual(r.totals, {
    filesSeen: 6,
    scanned: 4,
    skippedBinary: 1,
    skippedSize: 1,
    parseErrors: 1,
    notChecked: [],
  });
  assert.deepEqual(r.parseErrors, [
    {
      file: 'broken.conf',
      line: 2,
      parser: 'conf',
      message: 'broken.conf: line 2: unexpected "!"',
    },
  ]);
  // The file after the broken one is still checked.
  assert.deepEqual(
    r.findings.map((f) => `${f.ruleId} ${f.file}:${f.line}`),
    [
      'conf/debug-on app.conf:2',
      'secret/database-url-password dump.sql:2',
      'secret/database-url-password env/.env:1',
      'conf/debug-on later.conf:1',
    ],
  );
  assert.ok(!JSON.stringify(r).includes('Zq8v7Hn2Kx4s'));
  assert.ok(
    r.rules.some((x) => x.id === 'conf/debug-on') && r.rules.some((x) => x.id === 'secret/jwt'),
  );

  const withModules = await scanPath(dir, {
    ruleSets: [confRules],
    only: ['secrets'],
    skipDirectories: ['.git'],
  });
  assert.ok(withModules.findings.some((f) => f.file === 'node_modules/pkg/.env'));
  assert.ok(!withModules.findings.some((f) => f.file.startsWith('.git/')));
});

test('engine: inline suppressions need a justification; the baseline accepts by fingerprint', async (t) => {
  const dir = await tree(t, {
    'a.conf':
      '# vouch:ignore conf/debug-on -- staging only\ndebug = true\n# vouch:ignore conf/debug-on\ndebug = true\n',
    'b.env': `URL=${PASSWORD_URL}  # vouch:ignore secret/database-url-password -- rotated hourly by the vault agent\n`,
  });
  const r = await scanPath(dir, { ruleSets: [confRules], only: ['misconfig', 'secrets'] });
  assert.deepEqual(
    r.findings.map((f) => `${f.ruleId} ${f.file}:${f.line}`),
    ['scan/suppression-without-justification a.conf:3', 'conf/debug-on a.conf:4'],
  );
  assert.deepEqual(
    r.suppressed.map((s) => [s.ruleId, s.line, s.suppression]),
    [
      ['conf/debug-on', 2, { kind: 'inline', justification: 'staging only', line: 1 }],
      [
        'secret/database-url-password',
        1,
        { kind: 'inline', justification: 'rotated hourly by the vault agent', line: 1 },
      ],
    ],
  );
  const target = r.findings[1];
  assert.ok(target);
  const entry = {
    ruleId: target.ruleId,
    file: target.file,
    fingerprint: target.fingerprint,
    justification: 'accepted in review',
  };
  await writeFile(
    join(dir, '.vouch-scan-baseline.json'),
    JSON.stringify({
      version: 1,
      findings: [entry, { ...entry, fingerprint: '0000000000000000' }],
    }),
  );
  const b = await scanPath(dir, { ruleSets: [confRules], only: ['misconfig', 'secrets'] });
  assert.deepEqual(
    b.findings.map((f) => f.ruleId),
    ['scan/suppression-without-justification'],
  );
  assert.ok(
    b.suppressed.some(
      (s) => s.suppression.kind === 'baseline' && s.file === 'a.conf' && s.line === 4,
    ),
  );
  assert.deepEqual(
    b.unusedBaseline.map((e) => e.fingerprint),
    ['0000000000000000'],
  );
  await writeFile(
    join(dir, '.vouch-scan-baseline.json'),
    JSON.stringify({ version: 1, findings: [{ ...entry, justification: ' ' }] }),
  );
  await assert.rejects(scanPath(dir, { ruleSets: [confRules] }), {
    code: 'SCAN_BASELINE_MALFORMED',
  });
});

test('engine: stdin is one file named -, streamed past the size limit', async () => {
  const small = await scanStream(
    Readable.from([Buffer.from('debug = true\n'), Buffer.from(`u=${PASSWORD_URL}\n`)]),
    {
      ruleSets: [{ ...confRules, matches: (p) => p === '-' }],
    },
  );
  assert.deepEqual(
    small.findings.map((f) => `${f.ruleId} ${f.file}:${f.line}`),
    ['conf/debug-on -:1', 'secret/database-url-password -:2'],
  );
  assert.deepEqual(small.kinds, ['misconfig', 'secrets']);
  const big = await scanStream(
    Readable.from([Buffer.alloc(600_000, 0x61), Buffer.from(`\nu=${PASSWORD_URL}\n`)]),
    { maxFileBytes: 100_000 },
  );
  assert.equal(big.totals.skippedSize, 1);
  assert.deepEqual(
    big.findings.map((f) => `${f.ruleId} ${f.file}:${f.line}`),
    ['secret/database-url-password -:2'],
  );
});

test('engine: a secret on a misconfiguration finding’s line is masked in its snippet and message, with --only misconfig too', async (t) => {
  const token = j('ghp_', '718tKRTMJqgb178qc1mYTZTTn0qay11E9kF3');
  const dir = await tree(t, {
    Dockerfile: `FROM alpine:3.20\nRUN curl -H "Authorization: token ${token}" https://get.example.sh | sh\nUSER 1\n`,
  });
  for (const only of [undefined, ['misconfig' as const]]) {
    const r = await scanPath(dir, only ? { only } : {});
    const pipe = r.findings.find((f) => f.ruleId === 'docker/curl-pipe-shell');
    assert.equal(pipe?.line, 2);
    assert.ok(!JSON.stringify(r).includes(token.slice(4)), JSON.stringify(pipe));
    assert.match(pipe?.snippet ?? '', /token ghp_\*{8}/);
    assert.match(pipe?.message ?? '', /ghp_\*{8}/);
  }
});

test('engine: one file is offered to the rule sets by its whole path (a workflow, a GitLab CI file in a subdirectory)', async (t) => {
  const dir = await tree(t, {
    '.github/workflows/ci.yml':
      // biome-ignore lint/suspicious/noTemplateCurlyInString: GitHub expression syntax
      'on: pull_request\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo "${{ github.head_ref }}"\n',
    'ci/.gitlab-ci.yml': 'job:\n  script:\n    - curl -sSL https://get.example.sh | bash\n',
  });
  const wf = await scanPath(join(dir, '.github/workflows/ci.yml'), { only: ['misconfig'] });
  assert.deepEqual(
    wf.findings.map((f) => [f.ruleId, f.file, f.line]),
    [['gha/script-injection', 'ci.yml', 7]],
  );
  const gl = await scanPath(join(dir, 'ci/.gitlab-ci.yml'), { only: ['misconfig'] });
  assert.deepEqual(
    gl.findings.map((f) => f.ruleId),
    ['gitlab/curl-pipe-shell'],
  );
});
