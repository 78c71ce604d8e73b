import type { AttestationContext, Attestor } from '../../attest/index.ts';
import { runAndAttest } from '../../attest/index.ts';
import { digestTree } from '../../core/digest.ts';
import type { Artifacts, Link } from './model.ts';
import { fnmatch } from './rules.ts';

/** What in-toto 1.3.1 leaves out when it records an inspection's artifacts (settings.py). */
const EXCLUDED = ['*.link*', '.git', '*.pyc', '*~'];

function excluded(rel: string): boolean {
  const parts = rel.split('/');
  return parts.some((part) => EXCLUDED.some((p) => fnmatch(part, p)));
}

async function recordTree(workdir: string): Promise<Artifacts> {
  const { entries } = await digestTree(workdir, { ignore: excluded });
  const out: Artifacts = {};
  for (const e of entries) out[e.path] = { sha256: e.digest.sha256 as string };
  return out;
}

/** Every file under the working directory, before and after: what in-toto records for inspections. */
function treeAttestor(name: string, phase: 'before' | 'after'): Attestor<Artifacts> {
  return { name, phase, attest: (ctx: AttestationContext) => recordTree(ctx.workdir) };
}

const BEFORE = 'inspection-materials';
const AFTER = 'inspection-products';

export interface InspectionRun {
  link: Link;
  exitCode: number;
}

/**
 * Runs one inspection command in `workdir` (argv, never a shell) and records
 * its materials and products as in-toto does: every file under the working
 * directory before and after the command.
 *
 * @throws VouchError COMMAND_FAILED_TO_START | FILE_NOT_FOUND | FILE_READ
 */
export async function runInspection(
  name: string,
  argv: string[],
  workdir: string,
  log: (m: string) => void,
): Promise<InspectionRun> {
  const result = await runAndAttest({
    argv,
    workdir,
    stdio: 'pipe',
    log,
    attestFailure: true,
    // Not named materials/products: runAndAttest reads those as its own attestors' results.
    attestors: [treeAttestor(BEFORE, 'before'), treeAttestor(AFTER, 'after')],
  });
  return {
    exitCode: result.exitCode,
    link: {
      _type: 'link',
      name,
      command: argv,
      materials: (result.attestations[BEFORE] as Artifacts | undefined) ?? {},
      products: (result.attestations[AFTER] as Artifacts | undefined) ?? {},
      byproducts: { 'return-value': result.exitCode },
      environment: {},
    },
  };
}
