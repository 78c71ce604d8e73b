import type { Attestor } from './attestor.ts';

export const LOCAL_BUILDER_ID = 'https://vouch.dev/builders/local@v1';

/** The CI platform a run happened on, from its own environment variables. */
export type CiAttestation =
  | {
      platform: 'github-actions';
      /** `${GITHUB_SERVER_URL}/${GITHUB_WORKFLOW_REF}`, as GitHub's own build provenance names its builder. */
      builderId: string;
      runUrl: string;
      workflowRef?: string;
      event?: string;
      sha?: string;
      repository?: string;
      ref?: string;
      runnerEnvironment?: string;
    }
  | {
      platform: 'gitlab-ci';
      /** `${CI_PROJECT_URL}/-/runners/${CI_RUNNER_ID}`, as GitLab's runner provenance names its builder. */
      builderId: string;
      runUrl?: string;
      projectUrl?: string;
      configPath?: string;
      sha?: string;
      /** CI_COMMIT_REF_NAME: a branch or tag name (in a merge request pipeline, the source branch). */
      ref?: string;
      /** CI_COMMIT_TAG: set only in a tag pipeline. */
      tag?: string;
      /** CI_MERGE_REQUEST_IID: set only in a merge request pipeline. */
      mergeRequestIid?: string;
      pipelineSource?: string;
    }
  | { platform: 'local'; builderId: string };

export const ciAttestor: Attestor<CiAttestation> = {
  name: 'ci',
  phase: 'before',
  async attest(ctx) {
    return detectCi(ctx.env);
  },
};

/**
 * Reads CI context. These values come from the environment, so they are
 * claims of whoever ran us, not proof; keyless signing binds the real
 * identity through the OIDC certificate, and policy should check that.
 */
export function detectCi(env: NodeJS.ProcessEnv): CiAttestation {
  if (env.GITHUB_ACTIONS === 'true') {
    const server = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
    const repo = env.GITHUB_REPOSITORY ?? '';
    return withoutUndefined({
      platform: 'github-actions' as const,
      builderId: env.GITHUB_WORKFLOW_REF
        ? `${server}/${env.GITHUB_WORKFLOW_REF}`
        : `${server}/${repo}`,
      runUrl: `${server}/${repo}/actions/runs/${env.GITHUB_RUN_ID ?? ''}/attempts/${env.GITHUB_RUN_ATTEMPT || '1'}`,
      workflowRef: env.GITHUB_WORKFLOW_REF,
      event: env.GITHUB_EVENT_NAME,
      sha: env.GITHUB_SHA,
      repository: env.GITHUB_REPOSITORY,
      ref: env.GITHUB_REF,
      runnerEnvironment: env.RUNNER_ENVIRONMENT,
    });
  }
  if (env.GITLAB_CI === 'true') {
    const project = env.CI_PROJECT_URL?.replace(/\/+$/, '');
    return withoutUndefined({
      platform: 'gitlab-ci' as const,
      builderId: project
        ? `${project}/-/runners/${env.CI_RUNNER_ID ?? 'unknown'}`
        : `${env.CI_SERVER_URL ?? 'https://gitlab.com'}/-/runners/${env.CI_RUNNER_ID ?? 'unknown'}`,
      runUrl: env.CI_JOB_URL,
      projectUrl: project,
      configPath: env.CI_CONFIG_PATH,
      sha: env.CI_COMMIT_SHA,
      ref: env.CI_COMMIT_REF_NAME,
      tag: env.CI_COMMIT_TAG,
      mergeRequestIid: env.CI_MERGE_REQUEST_IID,
      pipelineSource: env.CI_PIPELINE_SOURCE,
    });
  }
  return { platform: 'local', builderId: LOCAL_BUILDER_ID };
}

/** Drops undefined fields so the JSON has a stable, minimal shape. */
function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/**
 * The full git ref a CI run says it checked out, as the SLSA GitHub
 * generator writes it after `@` in a source URI (`refs/heads/main`,
 * `refs/tags/v1`, `refs/pull/7/merge`), with the variable it came from and
 * the commit the CI says it built; or why there is none.
 */
export function ciSourceRef(
  ci: CiAttestation,
): { ref: string; from: string; sha: string; shaFrom: string } | { reason: string } {
  switch (ci.platform) {
    case 'local':
      return { reason: 'not run in a known CI' };
    case 'github-actions':
      if (!ci.sha) return { reason: 'GITHUB_SHA is not set' };
      if (!ci.ref?.startsWith('refs/')) return { reason: 'GITHUB_REF is not set to a full ref' };
      return { ref: ci.ref, from: 'GITHUB_REF', sha: ci.sha, shaFrom: 'GITHUB_SHA' };
    case 'gitlab-ci':
      if (!ci.sha) return { reason: 'CI_COMMIT_SHA is not set' };
      if (ci.tag) {
        return {
          ref: `refs/tags/${ci.tag}`,
          from: 'CI_COMMIT_TAG',
          sha: ci.sha,
          shaFrom: 'CI_COMMIT_SHA',
        };
      }
      // There CI_COMMIT_REF_NAME is the source branch, while the commit built
      // can be a merge result that is on no branch at all.
      if (ci.mergeRequestIid) {
        return {
          reason:
            'merge request pipeline: CI_COMMIT_REF_NAME names the source branch, and the commit built can be a merge result that is on no branch',
        };
      }
      if (!ci.ref) return { reason: 'CI_COMMIT_REF_NAME is not set' };
      return {
        ref: `refs/heads/${ci.ref}`,
        from: 'CI_COMMIT_REF_NAME',
        sha: ci.sha,
        shaFrom: 'CI_COMMIT_SHA',
      };
  }
}
