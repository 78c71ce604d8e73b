import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectCi, LOCAL_BUILDER_ID } from './ci.ts';

// Values shaped like the variables GitHub documents for a push to main.
const GITHUB_ENV = {
  GITHUB_ACTIONS: 'true',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_REPOSITORY: 'octo-org/octo-repo',
  GITHUB_RUN_ID: '9876543210',
  GITHUB_RUN_ATTEMPT: '2',
  GITHUB_WORKFLOW_REF: 'octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main',
  GITHUB_EVENT_NAME: 'push',
  GITHUB_SHA: 'ffac537e6cbbf934b08745a378932722df287a53',
  GITHUB_REF: 'refs/heads/main',
};

const GITLAB_ENV = {
  GITLAB_CI: 'true',
  CI_SERVER_URL: 'https://gitlab.example.com',
  CI_PROJECT_URL: 'https://gitlab.example.com/group/project',
  CI_RUNNER_ID: '42',
  CI_JOB_URL: 'https://gitlab.example.com/group/project/-/jobs/777',
  CI_CONFIG_PATH: '.gitlab-ci.yml',
  CI_COMMIT_SHA: '1234567890abcdef1234567890abcdef12345678',
  CI_COMMIT_REF_NAME: 'main',
};

test('GitHub Actions: builder id is the workflow ref, run URL names run and attempt', () => {
  const ci = detectCi(GITHUB_ENV);
  assert.equal(ci.platform, 'github-actions');
  assert.equal(
    ci.builderId,
    'https://github.com/octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main',
  );
  assert.ok(ci.platform === 'github-actions');
  assert.equal(
    ci.runUrl,
    'https://github.com/octo-org/octo-repo/actions/runs/9876543210/attempts/2',
  );
  assert.equal(ci.event, 'push');
  assert.equal(ci.sha, GITHUB_ENV.GITHUB_SHA);
  assert.equal(ci.workflowRef, GITHUB_ENV.GITHUB_WORKFLOW_REF);
});

test('GitHub Enterprise: server URL comes from GITHUB_SERVER_URL', () => {
  const ci = detectCi({ ...GITHUB_ENV, GITHUB_SERVER_URL: 'https://ghe.example.com/' });
  assert.equal(
    ci.builderId,
    'https://ghe.example.com/octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main',
  );
});

test('GitLab CI: builder id is the project runner, run URL is the job URL', () => {
  const ci = detectCi(GITLAB_ENV);
  assert.equal(ci.platform, 'gitlab-ci');
  assert.ok(ci.platform === 'gitlab-ci');
  assert.equal(ci.builderId, 'https://gitlab.example.com/group/project/-/runners/42');
  assert.equal(ci.runUrl, 'https://gitlab.example.com/group/project/-/jobs/777');
  assert.equal(ci.configPath, '.gitlab-ci.yml');
  assert.equal(ci.sha, GITLAB_ENV.CI_COMMIT_SHA);
});

test('no CI variables: local builder, and no host name recorded', () => {
  const ci = detectCi({ GITHUB_ACTIONS: 'false', HOSTNAME: 'dev-laptop' });
  assert.deepEqual(ci, { platform: 'local', builderId: LOCAL_BUILDER_ID });
});
