import type { Attestor } from './attestor.ts';
import { isSecretName, REDACTED, secretKind } from './secrets.ts';

/**
 * Variables recorded without being asked: they change build output or
 * identify the CI run, and none carries a credential. Listed one by one —
 * never a `GITHUB_*` prefix — because CI systems add new variables, and a new
 * one could be secret.
 */
export const DEFAULT_ENV_ALLOW: readonly string[] = [
  'CI',
  'NODE_ENV',
  'LANG',
  'LC_ALL',
  'TZ',
  'SOURCE_DATE_EPOCH',
  'GITHUB_ACTIONS',
  'GITHUB_WORKFLOW',
  'GITHUB_WORKFLOW_REF',
  'GITHUB_WORKFLOW_SHA',
  'GITHUB_RUN_ID',
  'GITHUB_RUN_NUMBER',
  'GITHUB_RUN_ATTEMPT',
  'GITHUB_JOB',
  'GITHUB_EVENT_NAME',
  'GITHUB_REF',
  'GITHUB_REF_NAME',
  'GITHUB_REF_TYPE',
  'GITHUB_SHA',
  'GITHUB_REPOSITORY',
  'GITHUB_REPOSITORY_ID',
  'GITHUB_REPOSITORY_OWNER_ID',
  'GITHUB_SERVER_URL',
  'RUNNER_OS',
  'RUNNER_ARCH',
  'RUNNER_ENVIRONMENT',
  'GITLAB_CI',
  'CI_PIPELINE_ID',
  'CI_JOB_ID',
  'CI_JOB_NAME',
  'CI_COMMIT_SHA',
  'CI_COMMIT_REF_NAME',
  'CI_PROJECT_PATH',
  'CI_SERVER_URL',
];

export interface EnvironmentAttestation {
  /** Allowlisted variables that are set, sorted by name; secret-looking ones hold "[redacted]". */
  variables: Record<string, string>;
  /** Names whose value was withheld, and why (never the value). */
  redacted: Array<{ name: string; reason: string }>;
  note: string;
}

export const environmentAttestor: Attestor<EnvironmentAttestation> = {
  name: 'environment',
  phase: 'before',
  async attest(ctx) {
    return recordEnvironment(ctx.env, [...DEFAULT_ENV_ALLOW, ...(ctx.options.envAllow ?? [])]);
  },
};

/** Pure core of the attestor, so redaction can be tested without a run. */
export function recordEnvironment(
  env: NodeJS.ProcessEnv,
  allow: readonly string[],
): EnvironmentAttestation {
  const variables: Record<string, string> = {};
  const redacted: Array<{ name: string; reason: string }> = [];
  for (const name of [...new Set(allow)].sort()) {
    const value = env[name];
    if (value === undefined) continue;
    const reason = isSecretName(name) ? 'name' : secretKind(value);
    if (reason) {
      variables[name] = REDACTED;
      redacted.push({
        name,
        reason: reason === 'name' ? 'secret-like name' : `value looks like ${reason}`,
      });
    } else {
      variables[name] = value;
    }
  }
  return {
    variables,
    redacted,
    note: `only allowlisted variables are recorded; values of secret-like names or values are replaced by "${REDACTED}"`,
  };
}
