/**
 * Mutation fuzz of the scan rule parsers: Dockerfile, Kubernetes YAML,
 * GitHub Actions workflows and action.yml, GitLab CI. Seeds are the real
 * files in src/scan/corpus (see its LICENSES.md) and small examples. See
 * harness.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parseDockerfile } from '../../src/scan/rules/dockerfile/parse.ts';
import { parseAction, parseGithubActions } from '../../src/scan/rules/github-actions/parse.ts';
import { parseGitlabCi } from '../../src/scan/rules/gitlab-ci/parse.ts';
import { parseManifests } from '../../src/scan/rules/kubernetes/parse.ts';
import { check } from './harness.ts';

const corpus = (p: string) => readFileSync(new URL(`../../src/scan/corpus/${p}`, import.meta.url));

const K8S = Buffer.from(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: &labels
    app: web
spec:
  replicas: 2
  selector:
    matchLabels: *labels
  template:
    metadata:
      labels: *labels
    spec:
      hostNetwork: false
      initContainers:
        - name: init
          image: busybox:1.36
          command: ["sh", "-c", "echo hi"]
      containers:
        - name: web
          image: nginx@sha256:${'a'.repeat(64)}
          securityContext:
            privileged: true
            capabilities: { add: [NET_ADMIN] }
          env:
            - name: PASSWORD
              value: hunter2
---
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Pod
    metadata: { name: p }
    spec:
      containers: [{ name: c, image: "alpine:latest" }]
`);

const ACTION = Buffer.from(`name: setup
description: d
inputs:
  token: { description: t, required: true }
runs:
  using: composite
  steps:
    - uses: actions/checkout@v4
    - run: echo "\${{ github.event.pull_request.title }}"
      shell: bash
`);

const GITLAB = Buffer.from(`include:
  - remote: https://example.com/ci.yml
variables:
  GIT_DEPTH: "1"
default: &d
  image: node:20
build:
  <<: *d
  stage: build
  script:
    - curl https://example.com/install.sh | sh
    - npm ci
  rules:
    - if: $CI_COMMIT_BRANCH == "main"
deploy:
  image: alpine
  script: [ "echo $CI_JOB_TOKEN" ]
  needs: [build]
`);

describe('fuzz: scan parsers', () => {
  test('Dockerfile (parseDockerfile)', async () => {
    const seeds = [
      corpus('pyenv/test/Dockerfile'),
      corpus('google-cloud-sdk/platform/ext-runtime/go/data/Dockerfile'),
    ];
    seeds.push(
      Buffer.from(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile's own ${ARG} syntax
        '# syntax=docker/dockerfile:1\nARG BASE=alpine\nFROM ${BASE} AS b\nRUN <<EOF\napk add curl\nEOF\nCOPY --from=b /a /b\nENV A=1 B="2 3"\nUSER root\nHEALTHCHECK CMD curl -f http://localhost/ || exit 1\n',
      ),
    );
    await check(
      {
        name: 'dockerfile',
        kind: 'text',
        seeds,
        file: 'Dockerfile',
        run: (b, f) => parseDockerfile(b.toString(), f),
      },
      assert,
    );
  });

  test('Kubernetes manifests (parseManifests)', async () => {
    await check(
      {
        name: 'k8s',
        kind: 'text',
        seeds: [K8S],
        file: 'deploy.yaml',
        run: (b, f) => parseManifests(b.toString(), f),
      },
      assert,
    );
  });

  test('GitHub Actions workflows (parseGithubActions)', async () => {
    const seeds = [
      'pyenv/.github/workflows/add_version.yml',
      'pyenv/.github/workflows/pyenv_tests.yml',
      'httplib2/.github/workflows/publish.yaml',
    ].map(corpus);
    const file = '.github/workflows/ci.yml';
    await check(
      {
        name: 'gha-workflow',
        kind: 'text',
        seeds,
        file,
        run: (b, f) => parseGithubActions(b.toString(), f),
      },
      assert,
    );
  });

  test('GitHub Actions action.yml (parseAction)', async () => {
    await check(
      {
        name: 'gha-action',
        kind: 'text',
        seeds: [ACTION],
        file: 'action.yml',
        run: (b, f) => parseAction(b.toString(), f),
      },
      assert,
    );
  });

  test('GitLab CI (parseGitlabCi)', async () => {
    await check(
      {
        name: 'gitlab-ci',
        kind: 'text',
        seeds: [GITLAB],
        file: '.gitlab-ci.yml',
        run: (b, f) => parseGitlabCi(b.toString(), f),
      },
      assert,
    );
  });
});
