// The attest modules this verb uses, not attest/index.ts: the index would load
// (and evaluate) every re-export at each `vouch run` start for nothing.
import { imageDigestFileFromSpec, imageSubjectFromReference } from '../../attest/image-digest.ts';
import { ATTESTORS } from '../../attest/registry.ts';
import { runAndAttest } from '../../attest/run.ts';
import type { TeeAttestation } from '../../attest/tee.ts';
import { parse, usage } from '../args.ts';
import {
  INTOTO_RUN_HELP,
  INTOTO_RUN_OPTIONS,
  refuseIntotoRunFlags,
  runIntotoLink,
} from '../intoto.ts';
import { printJson } from '../io.ts';
import { PUBLISH_OPTIONS, signAndPublish } from '../publish.ts';
import { SIGNING_HELP, SIGNING_OPTIONS, signingModeFrom } from '../signing.ts';
import type { Command } from './command.ts';

const HELP = `Usage: vouch run [options] -- <command> [args…]

Runs a build step and emits signed SLSA provenance v1 about what it produced.
Records the command, its materials (git-tracked files and lockfiles by default),
its products (files it created or changed, and images named by digest), an
allowlisted environment (never secret-looking values), git state and CI
context. vouch exits with the command's exit code; a failed command yields no
provenance unless --attest-failure.

${SIGNING_HELP}

${INTOTO_RUN_HELP}

Options:
  --materials GLOB    inputs to record instead of the default (repeatable)
  --products GLOB     products to record instead of changed files (repeatable)
  --image-digest-file FILE[=NAME]
                      after the command succeeds, read the image digest it
                      wrote to FILE (sha256:HEX, as skopeo, podman and
                      buildah write it, or the JSON metadata file of
                      docker buildx) and add it as a subject named NAME
                      (oci://HOST/REPO gives HOST/REPO; default: buildx's
                      first image.name, else FILE's name);
                      FILE must be written during this run (repeatable)
  --image REF         add the image oci://HOST[:PORT]/REPO@sha256:HEX as a
                      subject named HOST/REPO (repeatable)
  --env NAME          also record this environment variable (repeatable)
  --attest-failure    sign provenance even when the command fails
  --tee PLATFORM      also record TEE evidence bound to this provenance:
                      auto, tpm, sev-snp, tdx or nitro (see docs/cli/tee.md)
  --store DIR         evidence store (default: .vouch)
  --no-store          do not store the bundle
  --out FILE          also write the bundle to FILE (*.sigstore.json)
  --json              print a JSON summary on stdout (command output goes to stderr);
                      "ok" is true only when provenance was signed, "exitCode"
                      is the command's`;

export const runCommand: Command = {
  name: 'run',
  help: HELP,
  async run(argv, io) {
    const { values, rest } = parse('run', argv, {
      ...SIGNING_OPTIONS,
      materials: { type: 'string', multiple: true },
      products: { type: 'string', multiple: true },
      'image-digest-file': { type: 'string', multiple: true },
      image: { type: 'string', multiple: true },
      env: { type: 'string', multiple: true },
      'attest-failure': { type: 'boolean' },
      tee: { type: 'string' },
      ...PUBLISH_OPTIONS,
      ...INTOTO_RUN_OPTIONS,
    });
    if (values.help) {
      io.stdout(`${HELP}\n`);
      return 0;
    }
    if (values.format !== undefined) {
      if (values.image || values['image-digest-file'])
        throw usage('run', '--image and --image-digest-file are for provenance, not in-toto links');
      return runIntotoLink(values, rest, io);
    }
    refuseIntotoRunFlags(values);
    if (rest.length === 0) throw usage('run', 'missing the command to run after --');
    // Load the key (and ask for its passphrase) before the build, not after it.
    const mode = await signingModeFrom('run', values, io);
    const attestOptions: Parameters<typeof runAndAttest>[0]['attestOptions'] = {};
    if (values.materials) attestOptions.materials = values.materials;
    if (values.products) attestOptions.products = values.products;
    if (values.env) attestOptions.envAllow = values.env;
    // Bad image flags are usage errors before the build, not after it.
    if (values.image) {
      attestOptions.images = await Promise.all(values.image.map(imageSubjectFromReference));
    }
    const digestFiles = values['image-digest-file'];
    if (digestFiles) {
      attestOptions.imageDigestFiles = await Promise.all(digestFiles.map(imageDigestFileFromSpec));
    }
    // The TEE verifiers load only for --tee.
    const tee = values.tee === undefined ? undefined : await import('../../attest/tee.ts');
    const teeRequest =
      tee && values.tee !== undefined ? tee.parseTeeRequest(values.tee) : undefined;
    const result = await runAndAttest({
      ...(tee && teeRequest ? { attestors: [...ATTESTORS, tee.teeAttestor(teeRequest)] } : {}),
      argv: rest,
      workdir: io.cwd,
      env: io.env,
      attestOptions,
      attestFailure: values['attest-failure'] ?? false,
      stdio: values.json ? 'pipe' : 'inherit',
      log: (m) => io.stderr(`${m.endsWith('\n') ? m : `${m}\n`}`),
    });

    if (!result.statement) {
      const reason = result.noProvenanceReason ?? `command exited with ${result.exitCode}`;
      const hint =
        result.exitCode !== 0 ? ' (--attest-failure signs provenance of failed builds)' : '';
      io.stderr(`vouch run: no provenance: ${reason}${hint}\n`);
      if (values.json) {
        printJson(io, { ok: false, exitCode: result.exitCode, provenance: null, reason });
      }
      // A build that succeeded but produced nothing attestable is not a verification failure,
      // yet it must not look like success either.
      return result.exitCode !== 0 ? result.exitCode : 1;
    }

    io.stderr(`vouch run: signing provenance for ${result.subjects.length} subject(s)\n`);
    if (tee) tee.addTeeByproduct(result.statement, result.attestations.tee as TeeAttestation);
    const published = await signAndPublish(result.statement, mode, values, io);

    if (values.json) {
      printJson(io, {
        ok: true,
        exitCode: result.exitCode,
        predicateType: result.statement.predicateType,
        subjects: result.subjects,
        bundle: published,
      });
    } else {
      for (const s of result.subjects) io.stderr(`  sha256:${s.digest.sha256}  ${s.name}\n`);
      if (published.stored) io.stderr(`vouch run: stored ${published.stored.path}\n`);
      if (published.out) io.stderr(`vouch run: wrote ${published.out}\n`);
    }
    return result.exitCode;
  },
};
