import { execFile } from 'node:child_process';

export interface ExecResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program with an argv array, never through a shell, so paths and
 * refs with spaces or `$` cannot change what runs. A non-zero exit is a
 * result, not an exception: callers decide what "not a repo" means. So is
 * a program that could not be started (missing, or `cwd` not a directory).
 */
export function run(
  file: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<ExecResult> {
  return new Promise((resolve) => {
    try {
      execFile(
        file,
        args,
        { cwd: options.cwd, env: options.env, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' },
        (error, stdout, stderr) => resolve({ ok: error === null, stdout, stderr }),
      );
    } catch (e) {
      // Node reports some spawn failures (a missing program) through the
      // callback but throws others (ENOTDIR: cwd is a file): either way the
      // program did not run, which is a result like any other failure.
      resolve({ ok: false, stdout: '', stderr: e instanceof Error ? e.message : String(e) });
    }
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
