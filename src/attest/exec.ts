import { execFile } from 'node:child_process';

export interface ExecResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program with an argv array, never through a shell, so paths and
 * refs with spaces or `$` cannot change what runs. A non-zero exit is a
 * result, not an exception: callers decide what "not a repo" means.
 */
export function run(
  file: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd: options.cwd, env: options.env, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => resolve({ ok: error === null, stdout, stderr }),
    );
  });
}

/**
 * Runs git without prompting for credentials and without taking optional
 * locks, so `vouch run` never blocks on a terminal or collides with an IDE's
 * concurrent `git status`.
 */
export function git(
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ExecResult> {
  return run('git', ['--no-optional-locks', ...args], {
    cwd,
    env: { ...env, GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0' },
  });
}
