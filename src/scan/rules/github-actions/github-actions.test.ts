import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scanText, where } from '../testing.ts';
import { githubActionsRuleSet as set } from './index.ts';

const SHA = 'b4ffde65f46336ab88eb53be808477a3936bae11';
const F = '.github/workflows/ci.yml';
const scan = (t: string, rule?: string) => where(scanText(set, t, F), rule);

test('matches workflow files only', () => {
  assert.ok(set.matches('.github/workflows/ci.yml'));
  assert.ok(set.matches('sub/.github/workflows/release.yaml'));
  assert.ok(!set.matches('.github/dependabot.yml'));
  assert.ok(!set.matches('.github/workflows/README.md'));
});

test('gha/unpinned-action: third party medium, actions/* low, SHA and local ok, docker digest', () => {
  const t = `on: push
permissions: {}
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: tj-actions/changed-files@v45
      - uses: tj-actions/changed-files@${SHA} # v45
      - uses: ./local-action
      - uses: docker://alpine:3.20
  b:
    uses: org/repo/.github/workflows/x.yml@main
`;
  const fs = scanText(set, t, F);
  assert.deepEqual(
    fs.map((f) => [f.ruleId, f.line, f.severity]),
    [
      ['gha/unpinned-action', 7, 'low'],
      ['gha/unpinned-action', 8, 'medium'],
      ['gha/unpinned-action', 11, 'medium'],
      ['gha/unpinned-action', 13, 'medium'],
    ],
  );
});

test('gha/script-injection: exact line inside a block scalar, env indirection is safe', () => {
  const t = `on: issues
permissions: {}
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "start"
          echo "\${{ github.event.issue.title }}"
          echo "\${{ github.event.issue.number }}"
      - env:
          BODY: \${{ github.event.issue.body }}
        run: echo "$BODY"
      - uses: actions/github-script@${SHA}
        with:
          script: |
            const t = "\${{ github.event.comment.body }}"
      - run: echo \${{ github.head_ref }} \${{ toJSON(github.event) }}
`;
  const fs = scanText(set, t, F).filter((f) => f.ruleId === 'gha/script-injection');
  assert.deepEqual(
    fs.map((f) => [f.line, f.column]),
    [
      [9, 17],
      [17, 24],
      [18, 19],
      [18, 42],
    ],
  );
  assert.match(fs[0]?.message ?? '', /github\.event\.issue\.title/);
});

test('gha/untrusted-checkout under pull_request_target, not under pull_request', () => {
  const wf = (on: string) => `on: ${on}
permissions: {}
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@${SHA}
        with:
          ref: \${{ github.event.pull_request.head.sha }}
      - run: gh pr checkout \${{ github.event.number }}
      - run: npm test
`;
  assert.deepEqual(scan(wf('pull_request_target'), 'gha/untrusted-checkout'), [
    'gha/untrusted-checkout@10',
    'gha/untrusted-checkout@9',
  ]);
  assert.deepEqual(scan(wf('pull_request'), 'gha/untrusted-checkout'), []);
  assert.deepEqual(scan(wf('[workflow_run]'), 'gha/untrusted-checkout').length, 2);
});

test('gha/excessive-permissions: missing once at jobs:, write-all at its line', () => {
  const none =
    'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps: [{ run: make }]\n  b:\n    runs-on: ubuntu-latest\n    permissions: { contents: read }\n    steps: [{ run: make }]\n';
  const fs = scanText(set, none, F).filter((f) => f.ruleId === 'gha/excessive-permissions');
  assert.deepEqual(
    fs.map((f) => f.line),
    [2],
  );
  assert.match(fs[0]?.message ?? '', /jobs without permissions: a:/);
  assert.deepEqual(
    scan('on: push\npermissions: write-all\njobs: {}\n', 'gha/excessive-permissions'),
    ['gha/excessive-permissions@2'],
  );
  assert.deepEqual(
    scan(
      'on: push\npermissions:\n  contents: read\njobs:\n  a: { runs-on: x, steps: [] }\n',
      'gha/excessive-permissions',
    ),
    [],
  );
});

test('gha/secrets-untrusted-trigger: high with an untrusted checkout, low without, none for push', () => {
  const wf = (on: string, checkout: boolean) => `on: ${on}
permissions: {}
jobs:
  label:
    runs-on: ubuntu-latest
    steps:
${checkout ? `      - uses: actions/checkout@${SHA}\n        with: { ref: "\${{ github.event.pull_request.head.ref }}" }\n` : ''}      - run: ./deploy
        env:
          TOKEN: \${{ secrets.DEPLOY_TOKEN }}
          GH: \${{ secrets.GITHUB_TOKEN }}
`;
  const hi = scanText(set, wf('pull_request_target', true), F).filter(
    (f) => f.ruleId === 'gha/secrets-untrusted-trigger',
  );
  assert.deepEqual(
    hi.map((f) => [f.line, f.severity]),
    [[11, 'high']],
  );
  const lo = scanText(set, wf('issue_comment', false), F).filter(
    (f) => f.ruleId === 'gha/secrets-untrusted-trigger',
  );
  assert.deepEqual(
    lo.map((f) => [f.line, f.severity]),
    [[9, 'low']],
  );
  assert.deepEqual(scan(wf('push', false), 'gha/secrets-untrusted-trigger'), []);
});

test('gha/self-hosted-pull-request', () => {
  const wf = (on: string, runsOn: string) =>
    `on: ${on}\npermissions: {}\njobs:\n  t:\n    runs-on: ${runsOn}\n    steps: [{ run: make }]\n`;
  assert.deepEqual(
    scan(wf('pull_request', '[self-hosted, linux]'), 'gha/self-hosted-pull-request'),
    ['gha/self-hosted-pull-request@5'],
  );
  assert.deepEqual(scan(wf('pull_request', 'self-hosted'), 'gha/self-hosted-pull-request'), [
    'gha/self-hosted-pull-request@5',
  ]);
  assert.deepEqual(scan(wf('push', 'self-hosted'), 'gha/self-hosted-pull-request'), []);
  assert.deepEqual(scan(wf('pull_request', 'ubuntu-latest'), 'gha/self-hosted-pull-request'), []);
});

test('gha/cache-poisoning in release and pull_request_target workflows only', () => {
  const wf = (on: string) => `on: ${on}
permissions: {}
jobs:
  rel:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/setup-node@${SHA}
        with: { node-version: 22, cache: npm }
      - uses: actions/setup-node@${SHA}
        with: { node-version: 22 }
      - uses: actions/cache@${SHA}
        with: { path: x, key: y }
      - uses: actions/setup-go@v5
`;
  assert.deepEqual(scan(wf('{ push: { tags: ["v*"] } }'), 'gha/cache-poisoning'), [
    'gha/cache-poisoning@11',
    'gha/cache-poisoning@13',
    'gha/cache-poisoning@7',
  ]);
  assert.equal(scan(wf('pull_request_target'), 'gha/cache-poisoning').length, 3);
  assert.deepEqual(scan(wf('pull_request'), 'gha/cache-poisoning'), []);
});

test('gha/script-injection does not depend on the shell: pwsh, powershell, cmd, a Windows runner default', () => {
  // Hand-written fixture.
  const t = `on: pull_request_target
permissions: {}
jobs:
  win:
    runs-on: windows-latest
    steps:
      - run: Write-Host "\${{ github.event.pull_request.title }}"
      - shell: pwsh
        run: |
          $t = "\${{ github.event.pull_request.body }}"
      - shell: powershell
        run: echo '\${{ github.head_ref }}'
      - shell: cmd
        run: echo \${{ github.event.comment.body }}
      - shell: pwsh
        env:
          TITLE: \${{ github.event.pull_request.title }}
        run: Write-Host $env:TITLE
`;
  const fs = scanText(set, t, F).filter((f) => f.ruleId === 'gha/script-injection');
  assert.deepEqual(
    fs.map((f) => [f.line, f.column]),
    [
      [7, 26],
      [10, 17],
      [12, 20],
      [14, 19],
    ],
  );
  assert.match(fs[0]?.message ?? '', /^job win: /);
});

test('gha/script-injection: a reusable workflow’s text inputs in run: and github-script, at their column; typed inputs and env: are not', () => {
  const t = `on:
  workflow_call:
    inputs:
      title:
        type: string
      flag:
        type: boolean
      count:
        type: number
permissions: {}
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo "\${{ inputs.title }}"
      - run: echo \${{ inputs.flag }} \${{ inputs.count }} \${{ inputs.flag && inputs.Title }}
      - env:
          TITLE: \${{ inputs.title }}
        run: echo "$TITLE"
      - uses: actions/github-script@${SHA}
        with:
          script: |
            core.info(\${{ toJSON(inputs) }} + "\${{ inputs['title'] }}")
`;
  const fs = scanText(set, t, F).filter((f) => f.ruleId === 'gha/script-injection');
  assert.deepEqual(
    fs.map((f) => [f.line, f.column, f.severity]),
    [
      [15, 20, 'high'],
      [16, 58, 'high'],
      [23, 23, 'high'],
      [23, 48, 'high'],
    ],
  );
  assert.equal(
    fs[0]?.message,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: GitHub expression syntax
    "job build: ${{ inputs.title }} is expanded into the script (inputs.title is whatever the reusable workflow's caller passes)",
  );
  assert.match(fs[1]?.message ?? '', /\(inputs\.Title is whatever/);
  assert.match(fs[2]?.message ?? '', /\(toJSON\(inputs\) is whatever/);
});

test('gha/script-injection: push + workflow_call flags inputs; push alone, dispatch inputs and github.event.inputs do not', () => {
  const wf = (on: string) => `on:
${on}
permissions: {}
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "\${{ inputs.mode }} \${{ github.event.inputs.title }}"
          echo "\${{ inputs.title }}"
`;
  const both = wf(`  push:
    branches: [main]
  workflow_call:
    inputs:
      title:
        type: string
        required: true`);
  const fs = scanText(set, both, F).filter((f) => f.ruleId === 'gha/script-injection');
  // inputs.mode is declared nowhere: it counts (fail closed); github.event.inputs.* does not.
  assert.deepEqual(
    fs.map((f) => [f.line, f.column, f.message]),
    [
      [
        15,
        17,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: GitHub expression syntax
        "job a: ${{ inputs.mode }} is expanded into the script (inputs.mode is whatever the reusable workflow's caller passes)",
      ],
      [
        16,
        17,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: GitHub expression syntax
        "job a: ${{ inputs.title }} is expanded into the script (inputs.title is whatever the reusable workflow's caller passes)",
      ],
    ],
  );
  assert.deepEqual(scan(wf('  - push\n  - workflow_call'), 'gha/script-injection'), [
    'gha/script-injection@10',
    'gha/script-injection@11',
  ]);
  // Declared only for workflow_dispatch: set by someone with write access, as without workflow_call.
  const dispatch = `  workflow_dispatch:
    inputs:
      mode:
        type: string
      title:
        type: string
  workflow_call:
    inputs:
      title:
        type: string`;
  assert.deepEqual(scan(wf(dispatch), 'gha/script-injection'), ['gha/script-injection@19']);
  assert.deepEqual(scan(wf('  push:\n    branches: [main]'), 'gha/script-injection'), []);
  assert.deepEqual(
    scan(wf(dispatch.replace(/ {2}workflow_call:[\s\S]*/, '').trimEnd()), 'gha/script-injection'),
    [],
  );
});
