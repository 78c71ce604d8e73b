import { isAbsolute } from 'node:path';
import { errorMessage, isVouchError, VouchError } from '../core/errors.ts';
import type { Command } from './commands/command.ts';
import { displayPath, type Io, packageVersion, printJson, processIo } from './io.ts';

/** A verb in the index: what `vouch help` shows, and how to load the command when it runs. */
export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  load(): Promise<Command>;
}

/**
 * Every verb, in the order `vouch help` lists them. Adding a verb is adding a
 * line. Commands load only when run: start-up stays small however many verbs
 * (and their dependencies: sigstore, SBOM readers, CEL) vouch grows.
 */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'keys',
    summary: 'generate a signing key pair',
    load: async () => (await import('./commands/keys.ts')).keysCommand,
  },
  {
    name: 'run',
    summary: 'run a build step and emit signed provenance for its products',
    load: async () => (await import('./commands/run.ts')).runCommand,
  },
  {
    name: 'attest',
    summary: 'sign any predicate about a file',
    load: async () => (await import('./commands/attest.ts')).attestCommand,
  },
  {
    name: 'sbom',
    summary: 'SBOM (CycloneDX 1.6 / SPDX 2.3) of a directory, lockfile or image, with counts',
    load: async () => (await import('./commands/sbom.ts')).sbomCommand,
  },
  {
    name: 'tee',
    summary: 'verify SEV-SNP, TDX, Nitro and TPM evidence (and its binding to provenance)',
    load: async () => (await import('./commands/tee.ts')).teeCommand,
  },
  {
    name: 'vulns',
    summary: 'match an SBOM, directory or attested SBOM against the OSV database, with VEX',
    load: async () => (await import('./commands/vulns.ts')).vulnsCommand,
  },
  {
    name: 'db',
    summary: 'import, update and inspect the offline OSV vulnerability database',
    load: async () => (await import('./commands/db.ts')).dbCommand,
  },
  {
    name: 'scan',
    summary:
      'find misconfigurations, secrets and disallowed dependencies (table, JSON, SARIF, signed)',
    load: async () => (await import('./commands/scan.ts')).scanCommand,
  },
  {
    name: 'verify',
    summary: 'verify all evidence about an artifact and decide',
    load: async () => (await import('./commands/verify.ts')).verifyCommand,
  },
  {
    name: 'policy',
    summary: 'test, explain and start policy files',
    load: async () => (await import('./commands/policy.ts')).policyCommand,
  },
  {
    name: 'repro',
    summary: 'rebuild under variations, explain differences, normalize archives, attest',
    load: async () => (await import('./commands/repro.ts')).reproCommand,
  },
  {
    name: 'comply',
    summary: 'SSDF compliance matrix (markdown/HTML/JSON/OSCAL) from verified evidence',
    load: async () => (await import('./commands/comply.ts')).complyCommand,
  },
  {
    name: 'attach',
    summary: 'push a bundle to a registry as a referrer of an image digest',
    load: async () => (await import('./commands/attach.ts')).attachCommand,
  },
  {
    name: 'pack',
    summary: 'write an offline evidence pack (bundles, trusted root, policy) for an artifact',
    load: async () => (await import('./commands/pack.ts')).packCommand,
  },
  {
    name: 'evidence',
    summary: 'list stored evidence about an artifact',
    load: async () => (await import('./commands/evidence.ts')).evidenceCommand,
  },
  {
    name: 'serve',
    summary: 'Kubernetes admission webhook: verify every image against a policy, fail closed',
    load: async () => (await import('./commands/serve.ts')).serveCommand,
  },
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
    const entry = COMMANDS.find((c) => c.name === verb);
    if (!entry) {
      const error = new VouchError('USAGE', `vouch: unknown command ${JSON.stringify(verb)}`);
      if (json) printJson(io, { error: error.toJSON() });
      io.stderr(`${error.message}\n\n${help()}`);
      return error.exitCode;
    }
    return await (await entry.load()).run(rest, io);
  } catch (e) {
    if (isVouchError(e)) {
      if (json) printJson(io, { error: e.toJSON() });
      io.stderr(`vouch ${verb}: error ${e.code}: ${humanMessage(e, io.cwd)}\n`);
      return e.exitCode;
    }
    // Anything else is a bug in vouch, not bad input: say so, with the stack.
    io.stderr(`vouch ${verb}: internal error: ${errorMessage(e)}\n${(e as Error)?.stack ?? ''}\n`);
    return 70;
  }
}

/**
 * The message as a person reads it: a file inside the working directory is
 * named relative to it, as the user typed it (\`missing.bin\`, not
 * \`/home/ci/build/missing.bin\`); --json keeps the path as the error holds it.
 */
function humanMessage(e: VouchError, cwd: string): string {
  if (e.file === undefined || !isAbsolute(e.file) || !e.message.startsWith(`${e.file}: `)) {
    return e.message;
  }
  return `${displayPath(e.file, cwd)}${e.message.slice(e.file.length)}`;
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2), processIo());
}
