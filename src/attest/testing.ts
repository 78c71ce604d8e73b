// Shared fixtures for this folder's tests (not itself a test file).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temp directory (real path, so symlinked /tmp does not confuse containment checks). */
export async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await realpath(await mkdtemp(join(tmpdir(), 'vouch-attest-')));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * An environment isolated from the developer's git config and CI variables:
 * own HOME, no system config, fixed identity.
 */
export function isolatedEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: join(home, '.gitconfig'),
    GIT_AUTHOR_NAME: 'Test',
    GIT_AUTHOR_EMAIL: 'test@example.com',
    GIT_COMMITTER_NAME: 'Test',
    GIT_COMMITTER_EMAIL: 'test@example.com',
    LANG: 'C',
    ...extra,
  };
}

export function gitIn(cwd: string, env: NodeJS.ProcessEnv, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env, encoding: 'utf8' }).trim();
}

/** `git init` with one commit of the given files already written to `dir`. */
export function initRepo(dir: string, env: NodeJS.ProcessEnv): void {
  gitIn(dir, env, 'init', '-q', '-b', 'main');
  gitIn(dir, env, 'add', '-A');
  gitIn(dir, env, 'commit', '-q', '--no-gpg-sign', '-m', 'initial');
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Runs JavaScript in a child node, as a build step would. */
export function nodeScript(code: string): string[] {
  return [process.execPath, '-e', code];
}
