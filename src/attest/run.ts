import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { errorMessage, VouchError } from '../core/errors.ts';
import type { Statement, Subject } from '../core/statement.ts';
import type { AttestationContext, AttestOptions, Attestor } from './attestor.ts';
import { isSubjectProducer } from './attestor.ts';
import type { CiAttestation } from './ci.ts';
import type { CommandAttestation } from './command.ts';
import type { EnvironmentAttestation } from './environment.ts';
import type { GitAttestation } from './git.ts';
import { type MaterialsAttestation, materialsMap } from './materials.ts';
import type { ProvenancePredicate } from './predicate.ts';
import { buildProvenance } from './provenance.ts';
import { ATTESTORS } from './registry.ts';
import { addRacyBaselines, beginSnapshot, completeSnapshot, settle } from './snapshot.ts';
import { spawnCommand } from './spawn.ts';

export interface RunOptions {
  /** The command; argv[0] is looked up on PATH, never run through a shell. */
  argv: string[];
  workdir: string;
  /** Environment for the command and the attestors; default process.env. */
  env?: NodeJS.ProcessEnv;
  attestOptions?: AttestOptions;
  /** Produce provenance for a command that exited non-zero (it records the exit code). */
  attestFailure?: boolean;
  log?: (m: string) => void;
  stdio?: 'inherit' | 'pipe';
  /** The attestors to run; default ATTESTORS (registry.ts). */
  attestors?: readonly Attestor[];
}

export interface RunResult {
  /** The command's exit code, for the CLI to exit with. */
  exitCode: number;
  /** Undefined when the command failed (without attestFailure) or produced nothing. */
  statement: Statement<ProvenancePredicate> | undefined;
  /** Every attestor's result by name. */
  attestations: Record<string, unknown>;
  subjects: Subject[];
  /** Why there is no statement, when there is none. */
  noProvenanceReason?: string;
}

/**
 * Runs 'before' attestors, the command, then 'after' attestors, and builds
 * SLSA v1 provenance whose subjects are the products. Never signs or stores.
 *
 * @throws VouchError COMMAND_FAILED_TO_START | PATH_ESCAPE | FILE_NOT_FOUND | FILE_READ | USAGE
 */
export async function runAndAttest(options: RunOptions): Promise<RunResult> {
  if (options.argv.length === 0 || !options.argv[0]) {
    throw new VouchError('USAGE', 'no command given to run', { field: 'argv' });
  }
  const workdir = await realWorkdir(options.workdir);
  const log = options.log ?? (() => {});
  const ctx: AttestationContext = {
    workdir,
    argv: [...options.argv],
    env: options.env ?? process.env,
    options: options.attestOptions ?? {},
    log,
  };
  const attestors = options.attestors ?? ATTESTORS;
  const attestations: Record<string, unknown> = {};
  const run = async (list: readonly Attestor[]) => {
    const results = await Promise.all(list.map((a) => a.attest(ctx)));
    list.forEach((a, i) => {
      attestations[a.name] = results[i];
    });
  };

  // The snapshot's clock starts before materials are hashed, and hashing
  // records each material's stamp: see snapshot.ts for why the order matters.
  const needSnapshot = !ctx.options.products?.length;
  if (needSnapshot) ctx.snapshot = beginSnapshot(workdir);
  await run(attestors.filter((a) => a.phase === 'before'));
  ctx.earlier = { ...attestations };
  const materials = attestations.materials as MaterialsAttestation | undefined;
  ctx.materials = materials ? materialsMap(materials) : new Map();
  if (ctx.snapshot) {
    await completeSnapshot(workdir, ctx.snapshot);
    await addRacyBaselines(workdir, ctx.snapshot, ctx.materials);
    await settle(ctx.snapshot);
  }

  const result = await spawnCommand(ctx.argv, {
    cwd: workdir,
    env: ctx.env,
    stdio: options.stdio ?? 'inherit',
    log,
  });
  ctx.result = result;

  const after = attestors.filter((a) => a.phase === 'after');
  if (result.exitCode !== 0 && !options.attestFailure) {
    // Still describe the command (cheap), but do not hash outputs of a failed build.
    await run(after.filter((a) => !isSubjectProducer(a)));
    return {
      exitCode: result.exitCode,
      statement: undefined,
      attestations,
      subjects: [],
      noProvenanceReason: `command exited with code ${result.exitCode}${result.signal ? ` (${result.signal})` : ''}`,
    };
  }
  await run(after);

  const subjects = attestors
    .filter(isSubjectProducer)
    .flatMap((a) => a.subjects(attestations[a.name]));
  if (subjects.length === 0) {
    return {
      exitCode: result.exitCode,
      statement: undefined,
      attestations,
      subjects,
      noProvenanceReason:
        'the command produced no files (no products) and no image was named, and SLSA provenance needs at least one subject; use --products to name outputs, --image-digest-file or --image for images',
    };
  }
  const statement = buildProvenance({
    workdir,
    options: ctx.options,
    subjects,
    command: attestations.command as CommandAttestation,
    materials,
    git: attestations.git as GitAttestation | undefined,
    environment: attestations.environment as EnvironmentAttestation | undefined,
    ci: attestations.ci as CiAttestation | undefined,
  });
  return { exitCode: result.exitCode, statement, attestations, subjects: statement.subject };
}

async function realWorkdir(dir: string): Promise<string> {
  try {
    return await realpath(resolve(dir));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new VouchError('FILE_NOT_FOUND', 'working directory does not exist', { file: dir });
    }
    throw new VouchError('FILE_READ', `cannot open working directory: ${errorMessage(e)}`, {
      file: dir,
      cause: e,
    });
  }
}
