import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scanText, where } from '../testing.ts';
import { gitlabCiRuleSet as set } from './index.ts';

const F = '.gitlab-ci.yml';
const scan = (t: string, rule?: string) => where(scanText(set, t, F), rule);
const DIGEST = '@sha256:0000000000000000000000000000000000000000000000000000000000000000';

test('matches .gitlab-ci.yml and *.gitlab-ci.yml', () => {
  assert.ok(set.matches('.gitlab-ci.yml'));
  assert.ok(set.matches('ci/templates/build.gitlab-ci.yml'));
  assert.ok(!set.matches('gitlab.yml'));
});

test('gitlab/image-not-pinned: latest medium, tag low, digest and variables ok, templates once', () => {
  const t = `image: node
.tpl: &tpl
  image: { name: "python:3.12" }
a:
  <<: *tpl
  script: [make]
b:
  <<: *tpl
  services: ["postgres:16${DIGEST}", docker:dind]
  image: $CI_IMAGE
  script: [make]
`;
  const fs = scanText(set, t, F);
  assert.deepEqual(
    fs.map((f) => [f.line, f.severity]),
    [
      [1, 'medium'],
      [3, 'low'],
      [9, 'low'],
    ],
  );
});

test('gitlab/curl-pipe-shell at the script line', () => {
  const t =
    'job:\n  before_script:\n    - apt-get update\n  script:\n    - curl -sSL https://get.example.sh | bash\n    - curl -sSL https://x/a.tgz | tar xz\n';
  assert.deepEqual(scan(t, 'gitlab/curl-pipe-shell'), ['gitlab/curl-pipe-shell@5']);
});

test('gitlab/curl-pipe-shell: PowerShell on a Windows runner (hand-written fixture)', () => {
  const t = `win:
  tags: [windows]
  script:
    - iwr https://get.example/install.ps1 -UseBasicParsing | iex
    - Invoke-WebRequest https://x/a.zip -OutFile a.zip
    - iex ((New-Object System.Net.WebClient).DownloadString('https://x/i.ps1'))
    - Expand-Archive a.zip
`;
  assert.deepEqual(scan(t, 'gitlab/curl-pipe-shell'), [
    'gitlab/curl-pipe-shell@4',
    'gitlab/curl-pipe-shell@6',
  ]);
});

test('gitlab/secret-in-variables: literal secrets only, value redacted', () => {
  const t = `variables:
  DB_PASSWORD: "s3cr3t-pa55"
  API_TOKEN: $MASKED_TOKEN
  GIT_LFS_256_CHECKSUM: 7be85238cbbb957ab25de52b60279d40ba40d3faa72eeb2cb9fa77d6d92381e5
job:
  variables:
    DEPLOY_KEY: { value: "glpat-abcdefghijklmnopqrst", description: x }
  script: [make]
`;
  const fs = scanText(set, t, F).filter((f) => f.ruleId === 'gitlab/secret-in-variables');
  assert.deepEqual(
    fs.map((f) => f.line),
    [2, 7],
  );
  // Nowhere in the finding: not in the message, not in the snippet (the source line).
  assert.ok(
    !fs.some((f) => /s3cr3t-pa55|glpat-abcdefghijklmnopqrst/.test(JSON.stringify(f))),
    JSON.stringify(fs),
  );
  assert.equal(fs[0]?.snippet, 'DB_PASSWORD: "********"');
});

test('gitlab/job-token-exposure: print or write; --password-stdin is fine', () => {
  const t = `job:
  script:
    - echo $CI_JOB_TOKEN
    - echo "$CI_JOB_TOKEN" > token.txt
    - echo "$CI_JOB_TOKEN" | docker login -u gitlab-ci-token --password-stdin $CI_REGISTRY
    - git clone https://gitlab-ci-token:\${CI_JOB_TOKEN}@gitlab.example.com/g/p.git
`;
  assert.deepEqual(scan(t, 'gitlab/job-token-exposure'), [
    'gitlab/job-token-exposure@3',
    'gitlab/job-token-exposure@4',
  ]);
});

test('gitlab/remote-include-without-integrity', () => {
  const t = `include:
  - remote: https://example.com/ci.yml
  - remote: https://example.com/ok.yml
    integrity: sha256-abc
  - local: /ci/x.yml
  - https://example.com/short.yml
`;
  assert.deepEqual(scan(t, 'gitlab/remote-include-without-integrity'), [
    'gitlab/remote-include-without-integrity@2',
    'gitlab/remote-include-without-integrity@6',
  ]);
});
