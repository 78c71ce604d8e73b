import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { writeFileAtomic } from '../../core/atomic.ts';
import { makeStatement } from '../../core/statement.ts';
import { evaluatePolicy, loadPolicy } from '../../policy/index.ts';
import {
  type ComplianceProfile,
  loadProfile,
  profileFromPolicy,
  profileNames,
  profilePolicy,
} from '../../policy/profiles/index.ts';
import {
  acceptedStatements,
  buildReport,
  RENDERERS,
  rendererFor,
  SSDF_REPORT_PREDICATE_TYPE,
} from '../../report/index.ts';
import type { CandidateBundle } from '../../verify/index.ts';
import { parse, usage } from '../args.ts';
import { displayPath, printJson } from '../io.ts';
import { signAndPublish } from '../publish.ts';
import { SIGNING_HELP, SIGNING_OPTIONS, signingModeFrom } from '../signing.ts';
import type { Command } from './command.ts';
import { gatherCandidates, reportPolicyProblems, resolveTarget } from './verify.ts';

const FORMATS = RENDERERS.map((r) => r.format);

const HELP = `Usage: vouch comply <file | sha256:HEX> --policy P.yaml [options]

Computes an SSDF compliance matrix from VERIFIED evidence about the artifact:
each task satisfied, not satisfied (with every reason) or not applicable (only
when the profile says so for the artifact kind). Every bundle in the store
(and given with --bundle) is verified against the policy's signers first;
unsigned, tampered or untrusted evidence is listed as not counted.
Exit 0 when every applicable task is satisfied, 1 when one is not, 2 on bad input.

  --policy FILE       a vouch policy: its trust section says whose evidence counts
  --profile NAME      ssdf (default; the built-in ssdf-default profile), or policy:
                      the policy's own rules and ssdf map
  --kind KIND         artifact kind for not-applicable tasks: binary (default), image, source
  --store DIR         evidence store to read (default: .vouch); the release archive
  --bundle FILE       also consider this bundle (repeatable); it is not in the archive
  --format F          ${FORMATS.join(', ')} (default markdown); oscal is OSCAL 1.1
                      assessment-results JSON
  -o, --out FILE      write the report to FILE instead of stdout
  --attest            sign the report (predicate ${SSDF_REPORT_PREDICATE_TYPE})
                      about the artifact and store it; needs --key or --keyless
  --attestation-out FILE  also write the signed report bundle here
${SIGNING_HELP}
  --json              print the report model (JSON) on stdout, plus where
                      anything was written`;

export const complyCommand: Command = {
  name: 'comply',
  help: HELP,
  async run(argv, io) {
    const { values, positionals } = parse('comply', argv, {
      policy: { type: 'string' },
      profile: { type: 'string', default: 'ssdf' },
      kind: { type: 'string' },
      store: { type: 'string', default: '.vouch' },
      bundle: { type: 'string', multiple: true },
      format: { type: 'string', default: 'markdown' },
      out: { type: 'string', short: 'o' },
      attest: { type: 'boolean' },
      'attestation-out': { type: 'string' },
      ...SIGNING_OPTIONS,
    });
    if (values.help) {
      io.stdout(`${HELP}\n`);
      return 0;
    }
    if (positionals.length !== 1) throw usage('comply', 'give exactly one file or sha256:HEX');
    if (values.policy === undefined)
      throw usage('comply', '--policy is required: its trust section says whose evidence counts');
    const renderer = rendererFor(values.format);
    if (!renderer)
      throw usage('comply', `--format must be one of ${FORMATS.join(', ')}, not ${values.format}`);
    if (
      values.json &&
      values.out === undefined &&
      values.format !== 'json' &&
      values.format !== 'markdown'
    )
      throw usage(
        'comply',
        `with --json stdout is JSON: give -o FILE for the ${values.format} report`,
      );
    const signing = values.key !== undefined || values.keyless === true;
    if (values.attest && !signing) throw usage('comply', '--attest needs --key FILE or --keyless');
    if (!values.attest && (signing || values['attestation-out'] !== undefined))
      throw usage('comply', '--key, --keyless and --attestation-out need --attest');
    if (values.profile !== 'policy' && !profileNames().includes(values.profile))
      throw usage(
        'comply',
        `unknown --profile ${values.profile}: use ${[...profileNames(), 'policy'].join(', ')}`,
      );

    const policyFile = resolve(io.cwd, values.policy);
    const parsed = await loadPolicy(policyFile);
    if (!parsed.ok) return reportPolicyProblems(io, values.policy, parsed.problems, values.json);
    const userPolicy = parsed.policy;
    let profile: ComplianceProfile;
    if (values.profile === 'policy') {
      if (Object.keys(userPolicy.ssdf).length === 0)
        throw usage('comply', `--profile policy: ${values.policy} has no ssdf map`);
      profile = profileFromPolicy(userPolicy);
    } else profile = loadProfile(values.profile);
    const kinds = Object.keys(profile.artifactKinds);
    const kind = values.kind ?? (kinds[0] as string);
    if (!kinds.includes(kind))
      throw usage('comply', `--kind must be one of ${kinds.join(', ')}, not ${kind}`);
    // Signing key first: a wrong passphrase should not cost the evaluation.
    const mode = values.attest ? await signingModeFrom('comply', values, io) : undefined;

    const policy =
      values.profile === 'policy' ? userPolicy : await profilePolicy(profile, userPolicy.trust);
    const target = positionals[0] as string;
    const { file, sha256 } = await resolveTarget('comply', target, io, userPolicy.requireDigest);
    const stored = await gatherCandidates(sha256, { store: values.store }, io);
    const given = await gatherCandidates(
      sha256,
      { bundle: values.bundle, store: values.store, 'no-store': true },
      io,
    );
    const candidates: CandidateBundle[] = [...stored, ...given];
    io.stderr(
      `vouch comply: profile ${profile.name}: ${candidates.length} bundle(s) about sha256:${sha256}\n`,
    );
    const verdict = evaluatePolicy(policy, {
      subjectDigest: `sha256:${sha256}`,
      bundles: candidates,
      artifactBytes: file ? () => readFileSync(file) : undefined,
    });
    const report = buildReport({
      profile,
      verdict,
      artifactKind: kind,
      archived: new Set(stored.map((c) => bundleDigest(c.json as string))),
      statements: acceptedStatements(verdict, candidates),
      trust: { source: displayPath(policyFile, io.cwd), digest: userPolicy.digest },
      ...(file ? { subjectName: basename(file) } : {}),
    });

    const rendered = renderer.render(report);
    let written: string | null = null;
    if (values.out !== undefined) {
      await writeFileAtomic(resolve(io.cwd, values.out), rendered);
      written = values.out;
    }
    let attestation: { stored: string | null; out: string | null } | null = null;
    if (mode) {
      const statement = makeStatement(
        [{ name: file ? basename(file) : `sha256:${sha256}`, digest: { sha256 } }],
        SSDF_REPORT_PREDICATE_TYPE,
        report,
      );
      const published = await signAndPublish(
        statement,
        mode,
        { store: values.store, out: values['attestation-out'] },
        io,
      );
      attestation = { stored: published.stored?.path ?? null, out: published.out };
      io.stderr(
        `vouch comply: signed report ${[published.stored?.path, published.out].filter(Boolean).join(', ')}\n`,
      );
    }
    const s = report.summary;
    io.stderr(
      `vouch comply: ${report.ok ? 'COMPLIANT' : 'NOT COMPLIANT'}: ${s.satisfied} of ${s.total - s.notApplicable} applicable task(s) satisfied, ${s.notApplicable} not applicable${written ? `; wrote ${written}` : ''}\n`,
    );
    if (values.json) printJson(io, { ...report, written, attestation });
    else if (written === null) io.stdout(rendered);
    return report.ok ? 0 : 1;
  },
};

function bundleDigest(text: string): string {
  return `sha256:${createHash('sha256').update(Buffer.from(text)).digest('hex')}`;
}
