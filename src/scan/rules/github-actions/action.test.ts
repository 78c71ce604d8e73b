// Action metadata files (action.yml). Every fixture here is hand-written for
// these tests; none is copied from a real repository.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isVouchError, type VouchError } from '../../../core/errors.ts';
import { scanPath } from '../../engine/index.ts';
import { RULE_SETS } from '../index.ts';
import { scanText, where } from '../testing.ts';
import { githubActionsRuleSet as set } from './index.ts';
import { parseAction, parseWorkflow } from './parse.ts';

const SHA = 'b4ffde65f46336ab88eb53be808477a3936bae11';
const A = '.github/actions/setup/action.yml';
const scan = (t: string, rule?: string, file = A) => where(scanText(set, t, file), rule);

test('action.yml / action.yaml anywhere is claimed by the gha set, before Kubernetes', () => {
  for (const p of [
    'action.yml',
    'action.yaml',
    '.github/actions/setup/action.yml',
    'a/b/action.yaml',
  ])
    assert.equal(
      RULE_SETS.find((s) => s.matches(p, 'name: x\nruns:\n  using: composite\n')),
      set,
      p,
    );
  for (const p of ['actions.yml', 'myaction.yml', '.github/action.yml.bak', 'action.json'])
    assert.ok(!set.matches(p, 'runs: {}\n'), p);
  // A Kubernetes manifest that happens to be called action.yaml stays Kubernetes.
  const k8s = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: action\n';
  assert.ok(!set.matches('deploy/action.yaml', k8s));
  assert.equal(RULE_SETS.find((s) => s.matches('deploy/action.yaml', k8s))?.name, 'k8s');
  // A workflow named action.yml is still a workflow.
  const wf = set.parse('on: push\njobs: {}\n', '.github/workflows/action.yml');
  assert.equal(wf.kind, 'workflow');
});

const COMPOSITE = `name: Setup
description: hand-written test action
inputs:
  title:
    description: a title
  version:
    default: "1"
runs:
  using: composite
  steps:
    - uses: actions/setup-node@v4
    - uses: tj-actions/changed-files@v45
    - uses: tj-actions/changed-files@${SHA} # v45
    - uses: ./.github/actions/other
    - uses: docker://alpine:3.20
    - shell: bash
      run: |
        echo "building"
        echo "\${{ inputs.title }}" > title.txt
    - shell: bash
      env:
        TITLE: \${{ inputs.title }}
      run: echo "$TITLE"
    - shell: pwsh
      run: Write-Output "\${{ github.event.pull_request.title }}"
    - shell: bash
      run: echo \${{ github.action_path }} \${{ inputs['version'] }}
    - uses: actions/github-script@${SHA}
      with:
        script: |
          core.info("\${{ inputs.title }}")
    - uses: some/action@${SHA}
      with:
        name: \${{ inputs.title }}
`;

test('composite action: gha/unpinned-action at each uses: line, SHA and local pins pass', () => {
  const fs = scanText(set, COMPOSITE, A).filter((f) => f.ruleId === 'gha/unpinned-action');
  assert.deepEqual(
    fs.map((f) => [f.line, f.severity]),
    [
      [11, 'low'],
      [12, 'medium'],
      [15, 'medium'],
    ],
  );
  assert.equal(fs[0]?.file, A);
  assert.match(fs[1]?.message ?? '', /tj-actions\/changed-files@v45 is pinned to the ref v45/);
});

test('composite action: gha/script-injection for inputs.* and github.event.* in run: and github-script, any shell', () => {
  const fs = scanText(set, COMPOSITE, A).filter((f) => f.ruleId === 'gha/script-injection');
  assert.deepEqual(
    fs.map((f) => [f.line, f.column, f.severity]),
    [
      [19, 15, 'high'],
      [25, 26, 'high'],
      [27, 43, 'high'],
      [31, 22, 'high'],
    ],
  );
  assert.match(fs[0]?.message ?? '', /^composite action: \$\{\{ inputs\.title \}\}/);
  assert.match(fs[0]?.message ?? '', /whatever the action's caller passes/);
  assert.match(fs[1]?.message ?? '', /github\.event\.pull_request\.title is attacker-controlled/);
  // Not reported: env indirection (line 22), github.action_path (line 27, column 18),
  // an input passed to another action's `with:` (line 34).
  assert.ok(!fs.some((f) => f.line === 22 || f.line === 34 || f.column === 18));
});

test('composite action: the workflow-only rules say nothing (no triggers, no token of its own)', () => {
  assert.deepEqual(
    scan(COMPOSITE).filter((x) => !/unpinned-action|script-injection/.test(x)),
    [],
  );
});

test('negative: a clean composite action has no findings', () => {
  const clean = `name: Clean
runs:
  using: "composite"
  steps:
    - uses: actions/checkout@${SHA} # v4
    - shell: pwsh
      env:
        TITLE: \${{ inputs.title }}
      run: Write-Output "$env:TITLE \${{ github.run_id }} \${{ runner.os }}"
`;
  assert.deepEqual(scan(clean), []);
});

test('inputs.* is a risk in an action, not in a workflow_dispatch workflow (reusable workflows: github-actions.test.ts)', () => {
  const wf = `on: workflow_dispatch
permissions: {}
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: echo "\${{ inputs.title }}"
`;
  assert.deepEqual(scan(wf, 'gha/script-injection', '.github/workflows/ci.yml'), []);
  const act = `runs:\n  using: composite\n  steps:\n    - run: echo "\${{ inputs.title }}"\n      shell: sh\n`;
  assert.deepEqual(scan(act, 'gha/script-injection'), ['gha/script-injection@4']);
  // github.event.inputs.* is the calling run's dispatch inputs, not the action's `inputs`.
  assert.deepEqual(
    scan(act.replace('inputs.title', 'github.event.inputs.title'), 'gha/script-injection'),
    [],
  );
});

test('docker action: runs.image docker://…:tag is unpinned, a digest or a Dockerfile is not', () => {
  const docker = (image: string) =>
    `name: d\nruns:\n  using: docker\n  image: ${image}\n  args: ["\${{ inputs.x }}"]\n`;
  assert.deepEqual(scan(docker('docker://ghcr.io/acme/tool:1.2')), ['gha/unpinned-action@4']);
  assert.deepEqual(scan(docker("'docker://alpine'")), ['gha/unpinned-action@4']);
  assert.deepEqual(
    scan(
      docker(
        'docker://alpine:3.20@sha256:0000000000000000000000000000000000000000000000000000000000000000',
      ),
    ),
    [],
  );
  assert.deepEqual(scan(docker('Dockerfile')), []);
  // A JavaScript action runs no steps and pulls no image.
  assert.deepEqual(scan('name: j\nruns:\n  using: node20\n  main: dist/index.js\n'), []);
  // A YAML file named action.yml that is no action: nothing to say, no error.
  assert.deepEqual(scan('steps:\n  - build\n  - test\n'), []);
});

test('hostile action.yml: the same SCAN_PARSE_ERROR (message, line) as the workflow parser, naming the file', () => {
  let bomb = 'a: &a ["x","x","x","x","x","x","x","x","x","x"]\n';
  for (let i = 1; i < 9; i++) {
    const p = String.fromCharCode(96 + i);
    bomb += `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${p}`).join(',')}]\n`;
  }
  const deepFlow = `runs:\n  steps: ${'['.repeat(5000)}${']'.repeat(5000)}\n`;
  const deepBlock = `runs:\n${Array.from({ length: 3000 }, (_, i) => `${' '.repeat(i + 2)}k${i}:`).join('\n')} 1\n`;
  const cases: [string, string, RegExp, string][] = [
    ['alias bomb', bomb, /alias bomb/, 'line 1'],
    ['deep flow nesting', deepFlow, /nests too deeply/, 'line 2'],
    ['deep block nesting', deepBlock, /nests too deeply/, 'line 257'],
    ['unclosed flow', 'runs:\n  steps: [unclosed\n', /: YAML: Flow sequence/, 'line 3'],
    ['tab indentation', 'runs:\n\tusing: composite\n', /Tabs are not allowed/, 'line 2'],
  ];
  const errorOf = (f: () => unknown): VouchError => {
    try {
      f();
    } catch (e) {
      if (isVouchError(e)) return e;
      throw e;
    }
    assert.fail('expected a SCAN_PARSE_ERROR');
  };
  for (const [name, text, msg, line] of cases) {
    const a = errorOf(() => parseAction(text, A));
    const w = errorOf(() => parseWorkflow(text, '.github/workflows/w.yml'));
    assert.equal(a.code, 'SCAN_PARSE_ERROR', name);
    assert.equal(a.file, A, name);
    assert.match(a.message, msg, name);
    assert.equal(a.field, line, name);
    assert.deepEqual(
      [a.code, a.message.replace(A, 'F'), a.field],
      [w.code, w.message.replace('.github/workflows/w.yml', 'F'), w.field],
      name,
    );
  }
  // Not one mapping: the action's own wording, the same place.
  for (const t of ['- a\n- b\n', 'a: 1\n---\nb: 2\n']) {
    const a = errorOf(() => parseAction(t, A));
    assert.match(a.message, /an action metadata file must be one YAML mapping/);
    assert.equal(a.field, 'line 1');
  }
});

test('end to end: scanPath finds a composite action under .github/actions, counts a broken one and an oversized one', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-action-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, '.github/actions/greet'), { recursive: true });
  await mkdir(join(dir, '.github/actions/broken'), { recursive: true });
  await mkdir(join(dir, 'big'), { recursive: true });
  await writeFile(
    join(dir, '.github/actions/greet/action.yml'),
    `name: greet\nruns:\n  using: composite\n  steps:\n    - shell: bash\n      run: echo "Hello \${{ inputs.who }}"\n`,
  );
  await writeFile(join(dir, '.github/actions/broken/action.yaml'), 'runs:\n  steps: [oops\n');
  await writeFile(join(dir, 'big/action.yml'), `runs:\n  using: composite\n${'#'.repeat(4096)}\n`);
  const r = await scanPath(dir, { only: ['misconfig'], baseline: 'none', maxFileBytes: 2048 });
  assert.deepEqual(
    r.findings.map((f) => [f.file, f.line, f.ruleId]),
    [['.github/actions/greet/action.yml', 6, 'gha/script-injection']],
  );
  assert.deepEqual(
    r.parseErrors.map((e) => [e.file, e.parser, e.line]),
    [['.github/actions/broken/action.yaml', 'gha', 3]],
  );
  assert.equal(r.totals.skippedSize, 1);
  assert.equal(r.totals.scanned, 2);
});
