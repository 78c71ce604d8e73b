import type { Io } from '../io.ts';

/** One CLI verb: argument parsing and one library call, nothing more. Listed in main.ts COMMANDS. */
export interface Command {
  readonly name: string;
  readonly help: string;
  /** Returns the process exit code; throws VouchError for bad input. */
  run(argv: string[], io: Io): Promise<number>;
}
