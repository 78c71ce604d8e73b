import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { errorMessage, VouchError } from '../core/errors.ts';
import type { CommandResult } from './attestor.ts';

export interface SpawnOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** 'inherit' shows build output; 'pipe' sends it to `log`, keeping our stdout clean for --json. */
  stdio: 'inherit' | 'pipe';
  log: (m: string) => void;
}

const FORWARDED = ['SIGINT', 'SIGTERM'] as const;

/**
 * Runs argv[0] with the rest as arguments — no shell, so nothing in argv is
 * re-parsed. SIGINT/SIGTERM sent to vouch are passed on, and vouch waits for
 * the child to finish so its result (killed by a signal) is still recorded.
 *
 * @throws VouchError COMMAND_FAILED_TO_START naming argv[0]
 */
export function spawnCommand(argv: readonly string[], o: SpawnOptions): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (!file) return Promise.reject(new VouchError('USAGE', 'no command given to run'));
  return new Promise((resolve, reject) => {
    const startedOn = new Date().toISOString();
    const child = spawn(file, args, {
      cwd: o.cwd,
      env: o.env,
      // 'pipe' keeps stdout for --json; the command still reads vouch's stdin.
      stdio: o.stdio === 'inherit' ? 'inherit' : ['inherit', 'pipe', 'pipe'],
      shell: false,
    });
    const forward = (sig: NodeJS.Signals) => () => {
      child.kill(sig);
    };
    const handlers = FORWARDED.map((sig) => [sig, forward(sig)] as const);
    const cleanup = () => {
      for (const [sig, h] of handlers) process.off(sig, h);
    };
    let started = false;
    child.once('spawn', () => {
      started = true;
      for (const [sig, h] of handlers) process.on(sig, h);
    });
    child.stdout?.on('data', (b: Buffer) => o.log(b.toString('utf8')));
    child.stderr?.on('data', (b: Buffer) => o.log(b.toString('utf8')));
    child.once('error', (e) => {
      if (started) return; // a later error (e.g. kill failed) does not change how the run ends
      cleanup();
      reject(
        new VouchError(
          'COMMAND_FAILED_TO_START',
          `cannot start ${JSON.stringify(file)}: ${errorMessage(e)}`,
          {
            field: 'argv[0]',
            cause: e,
          },
        ),
      );
    });
    child.once('close', (code, signal) => {
      cleanup();
      if (!started) return;
      resolve({
        // Shell convention: a signal death exits 128 + signal number.
        exitCode: code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1),
        signal,
        startedOn,
        finishedOn: new Date().toISOString(),
      });
    });
  });
}
