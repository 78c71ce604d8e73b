import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ciSourceRef, detectCi, LOCAL_BUILDER_ID } from './ci.ts';

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

test('ciSourceRef: the full ref each CI says it checked out, with the commit it says it built', () => {
  assert.deepEqual(ciSourceRef(detectCi(GITHUB_ENV)), {
    ref: 'refs/heads/main',
    from: 'GITHUB_REF',
    sha: GITHUB_ENV.GITHUB_SHA,
    shaFrom: 'GITHUB_SHA',
  });
  // A pull request run checks out GitHub's merge commit, which is on refs/pull/N/merge.
  assert.equal(
    (ciSourceRef(detectCi({ ...GITHUB_ENV, GITHUB_REF: 'refs/pull/7/merge' })) as { ref: string })
      .ref,
    'refs/pull/7/merge',
  );
  assert.deepEqual(ciSourceRef(detectCi(GITLAB_ENV)), {
    ref: 'refs/heads/main',
    from: 'CI_COMMIT_REF_NAME',
    sha: GITLAB_ENV.CI_COMMIT_SHA,
    shaFrom: 'CI_COMMIT_SHA',
  });
  const tag = detectCi({ ...GITLAB_ENV, CI_COMMIT_REF_NAME: 'v1.2.0', CI_COMMIT_TAG: 'v1.2.0' });
  assert.equal(tag.platform === 'gitlab-ci' && tag.tag, 'v1.2.0');
  assert.deepEqual(ciSourceRef(tag), {
    ref: 'refs/tags/v1.2.0',
    from: 'CI_COMMIT_TAG',
    sha: GITLAB_ENV.CI_COMMIT_SHA,
    shaFrom: 'CI_COMMIT_SHA',
  });
});

test('ciSourceRef: no ref where the CI does not say which ref holds the commit', () => {
  const reason = (env: NodeJS.ProcessEnv) => {
    const r = ciSourceRef(detectCi(env));
    assert.ok('reason' in r, JSON.stringify(r));
    return r.reason;
  };
  assert.match(reason({}), /not run in a known CI/);
  assert.match(reason({ ...GITHUB_ENV, GITHUB_SHA: undefined }), /GITHUB_SHA/);
  assert.match(reason({ ...GITHUB_ENV, GITHUB_REF: 'main' }), /GITHUB_REF/);
  assert.match(reason({ ...GITLAB_ENV, CI_COMMIT_SHA: undefined }), /CI_COMMIT_SHA/);
  // A merge request pipeline's CI_COMMIT_REF_NAME is the source branch, not where a merge result lives.
  assert.match(
    reason({ ...GITLAB_ENV, CI_MERGE_REQUEST_IID: '12', CI_COMMIT_REF_NAME: 'feature' }),
    /merge request pipeline/,
  );
});
