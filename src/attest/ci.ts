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
      ref?: string;
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
      pipelineSource: env.CI_PIPELINE_SOURCE,
    });
  }
  return { platform: 'local', builderId: LOCAL_BUILDER_ID };
}

/** Drops undefined fields so the JSON has a stable, minimal shape. */
function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
