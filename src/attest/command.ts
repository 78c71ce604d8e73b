import { VouchError } from '../core/errors.ts';
import type { Attestor } from './attestor.ts';
import { redactArgv } from './secrets.ts';

export interface CommandAttestation {
  /** The command as run, with credential-looking arguments replaced by "[redacted]". */
  argv: string[];
  /** Indexes into argv that were redacted. */
  redactedArgs: number[];
  exitCode: number;
  signal: string | null;
  startedOn: string;
  finishedOn: string;
  durationMs: number;
}

export const commandAttestor: Attestor<CommandAttestation> = {
  name: 'command',
  phase: 'after',
  async attest(ctx) {
    const r = ctx.result;
    if (!r) {
      // Only reachable when a caller runs an 'after' attestor in the wrong phase.
      throw new VouchError('USAGE', 'command attestor needs the command result (phase "after")');
    }
    const { argv, redacted } = redactArgv(ctx.argv);
    return {
      argv,
      redactedArgs: redacted,
      exitCode: r.exitCode,
      signal: r.signal,
      startedOn: r.startedOn,
      finishedOn: r.finishedOn,
      durationMs: Date.parse(r.finishedOn) - Date.parse(r.startedOn),
    };
  },
};
