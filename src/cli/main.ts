import { errorMessage, isVouchError, VouchError } from '../core/errors.ts';
import { attestCommand } from './commands/attest.ts';
import type { Command } from './commands/command.ts';
import { evidenceCommand } from './commands/evidence.ts';
import { keysCommand } from './commands/keys.ts';
import { policyCommand } from './commands/policy.ts';
import { runCommand } from './commands/run.ts';
import { sbomCommand } from './commands/sbom.ts';
import { verifyCommand } from './commands/verify.ts';
import { type Io, packageVersion, printJson, processIo } from './io.ts';

/** Every verb, in the order `vouch help` lists them. Adding a verb is adding a line. */
export const COMMANDS: readonly Command[] = [
  keysCommand,
  runCommand,
  attestCommand,
  sbomCommand,
  verifyCommand,
  policyCommand,
  evidenceCommand,
];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `vouch ${packageVersion()} — signed, verifiable evidence for builds and deployments

Usage: vouch <command> [options]

${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}
  version   print the version

Every command takes --json for machine output and --help.
Exit codes: 0 ok, 1 verification or policy failure (or the wrapped command's code for run),
2 usage or input error.
`;
}

/** Runs one CLI invocation and returns its exit code. Never calls process.exit. */
export async function main(argv: string[], io: Io): Promise<number> {
  const [verb, ...rest] = argv;
  // Only vouch's own flags: for `run`, everything after `--` belongs to the wrapped command.
  const dash = rest.indexOf('--');
  const json = (dash === -1 ? rest : rest.slice(0, dash)).includes('--json');
  try {
    if (verb === undefined) {
      // No command is a usage error: the help goes to stderr, not to a pipe expecting output.
      io.stderr(help());
      return 2;
    }
    if (verb === 'help' || verb === '--help' || verb === '-h') {
      io.stdout(help());
      return 0;
    }
    if (verb === 'version' || verb === '--version') {
      io.stdout(`${packageVersion()}\n`);
      return 0;
    }
    const command = COMMANDS.find((c) => c.name === verb);
    if (!command) {
      const error = new VouchError('USAGE', `vouch: unknown command ${JSON.stringify(verb)}`);
      if (json) printJson(io, { error: error.toJSON() });
      io.stderr(`${error.message}\n\n${help()}`);
      return error.exitCode;
    }
    return await command.run(rest, io);
  } catch (e) {
    if (isVouchError(e)) {
      if (json) printJson(io, { error: e.toJSON() });
      io.stderr(`vouch ${verb}: error ${e.code}: ${e.message}\n`);
      return e.exitCode;
    }
    // Anything else is a bug in vouch, not bad input: say so, with the stack.
    io.stderr(`vouch ${verb}: internal error: ${errorMessage(e)}\n${(e as Error)?.stack ?? ''}\n`);
    return 70;
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2), processIo());
}
