import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { normalize, resolve, sep } from 'node:path';
import { writeFileAtomic } from '../../core/atomic.ts';
import { VouchError } from '../../core/errors.ts';
import { makeStatement } from '../../core/statement.ts';
import { fileSubjectName, subjectNameOf } from '../../core/subject-name.ts';
import { evaluatePolicy, loadPolicy, type Policy } from '../../policy/index.ts';
import {
  type ComplianceProfile,
  loadProfile,
  profileFromPolicy,
  profileNames,
  profilePolicy,
} from '../../policy/profiles/index.ts';
import {
  acceptedStatements,
  buildReleaseReport,
  buildReport,
  type ComplianceReport,
  loadReleaseManifest,
  RENDERERS,
  type ReleaseComplianceReport,
  rendererFor,
  resolveReleasePath,
  SSDF_RELEASE_REPORT_PREDICATE_TYPE,
  SSDF_REPORT_PREDICATE_TYPE,
} from '../../report/index.ts';
import type { CandidateBundle } from '../../verify/index.ts';
import { deprecatedAlias, parse, usage } from '../args.ts';
import { displayPath, type Io, printJson } from '../io.ts';
import { signAndPublish } from '../publish.ts';
import { SIGNING_HELP, SIGNING_OPTIONS, signingModeFrom } from '../signing.ts';
import type { Command } from './command.ts';
import { gatherCandidates, reportPolicyProblems, resolveTarget } from './verify.ts';

const FORMATS = RENDERERS.map((r) => r.format);

const HELP = `Usage: vouch comply <file | sha256:HEX>... --policy P.yaml [options]
       vouch comply --release RELEASE.yaml --policy P.yaml [options]

Computes an SSDF compliance matrix from VERIFIED evidence about the artifact:
each task satisfied, not satisfied (with every reason) or not applicable (only
when the profile says so for the artifact kind). Every bundle in the store
(and given with --bundle) is verified against the policy's signers first;
unsigned, tampered or untrusted evidence is listed as not counted.
With several artifacts, or --release, they are judged as one release: every
artifact's matrix plus the release's, where a task is satisfied only when it
is satisfied for every artifact it applies to, and not satisfied otherwise,
naming the artifacts that lack it.
Exit 0 when every applicable task is satisfied (for every artifact of a
release), 1 when one is not, 2 on bad input.

  --policy FILE       a vouch policy: its trust section says whose evidence counts
  --release FILE      a release manifest (YAML or JSON, apiVersion vouch.dev/release/v1):
                      name, version and artifacts by path (relative to the manifest,
                      inside its directory) or sha256 digest; no positional artifacts then
  --profile NAME      ssdf (default; the built-in ssdf-default profile), or policy:
                      the policy's own rules and ssdf map
  --kind KIND         artifact kind for not-applicable tasks: binary (default), image,
                      source; a manifest's artifact may give its own kind
  --store DIR         evidence store to read (default: .vouch); the release archive
  --bundle FILE       also consider this bundle (repeatable); it is not in the archive
  --format F          ${FORMATS.join(', ')} (default markdown); oscal is OSCAL 1.1
                      assessment-results JSON
  -o, --output FILE   write the report to FILE (atomically) instead of stdout
  --attest            sign the report (predicate ${SSDF_REPORT_PREDICATE_TYPE},
                      or ${SSDF_RELEASE_REPORT_PREDICATE_TYPE} for a release,
                      whose subjects are all its artifacts) and store it; needs --key or --keyless
  --out FILE          with --attest: also write the signed report bundle to FILE
                      (*.sigstore.json). Without --attest: deprecated old spelling
                      of -o/--output (warns)
  --attestation-out FILE  deprecated old spelling of --out with --attest (warns)
${SIGNING_HELP}
  --json              print the report model (JSON) on stdout, plus where
                      anything was written`;

/** One artifact to judge: where it came from, its digest, and how the report names it. */
interface Member {
  file: string | undefined;
  sha256: string;
  name: string | undefined;
  kind: string;
  /** What to blame when it is listed twice. */
  origin: { file?: string; field?: string; argument?: string };
}

export const complyCommand: Command = {
  name: 'comply',
  help: HELP,
  async run(argv, io) {
    const { values, positionals } = parse('comply', argv, {
      policy: { type: 'string' },
      release: { type: 'string' },
      profile: { type: 'string', default: 'ssdf' },
      kind: { type: 'string' },
      store: { type: 'string', default: '.vouch' },
      bundle: { type: 'string', multiple: true },
      format: { type: 'string', default: 'markdown' },
      output: { type: 'string', short: 'o' },
      out: { type: 'string' },
      attest: { type: 'boolean' },
      'attestation-out': { type: 'string' },
      ...SIGNING_OPTIONS,
    });
    if (values.help) {
      io.stdout(`${HELP}\n`);
      return 0;
    }
    if (values.release !== undefined && positionals.length > 0)
      throw usage('comply', '--release names the artifacts: give no artifact arguments with it');
    if (values.release === undefined && positionals.length === 0)
      throw usage('comply', 'give a file or sha256:HEX (several for a release), or --release FILE');
    if (values.policy === undefined)
      throw usage('comply', '--policy is required: its trust section says whose evidence counts');
    const renderer = rendererFor(values.format);
    if (!renderer)
      throw usage('comply', `--format must be one of ${FORMATS.join(', ')}, not ${values.format}`);
    const signing = values.key !== undefined || values.keyless === true;
    if (values.attest && !signing) throw usage('comply', '--attest needs --key FILE or --keyless');
    if (!values.attest && (signing || values['attestation-out'] !== undefined))
      throw usage('comply', '--key, --keyless and --attestation-out need --attest');
    const outputs = outputsOf(values, io);
    if (
      values.json &&
      outputs.report === undefined &&
      values.format !== 'json' &&
      values.format !== 'markdown'
    )
      throw usage(
        'comply',
        `with --json stdout is JSON: give -o FILE for the ${values.format} report`,
      );
    if (values.profile !== 'policy' && !profileNames().includes(values.profile))
      throw usage(
        'comply',
        `unknown --profile ${values.profile}: use ${[...profileNames(), 'policy'].join(', ')}`,
      );
    // The manifest is input like any other: read (and refused) before the policy's work.
    const manifestFile = values.release === undefined ? undefined : resolve(io.cwd, values.release);
    const manifest = manifestFile
      ? await loadReleaseManifest(manifestFile, values.release as string)
      : undefined;

    const policyFile = resolve(io.cwd, values.policy);
    const parsed = await loadPolicy(policyFile);
    if (!parsed.ok) return reportPolicyProblems(io, values.policy, parsed.problems, values.json);
    const userPolicy = parsed.policy;
    let profile: ComplianceProfile;
    if (values.profile === 'policy') {
      if (Object.keys(userPolicy.ssdf).length === 0)
        throw usage('comply', `--profile policy: ${values.policy} has no ssdf map`);
      // The report (and a signed one) names the policy as the user does,
      // never by the absolute path it was loaded from.
      const shown = subjectNameOf(policyFile, io.cwd);
      profile = profileFromPolicy({
        ...userPolicy,
        name: userPolicy.name === userPolicy.source ? shown : userPolicy.name,
        source: shown,
      });
    } else profile = loadProfile(values.profile);
    const kinds = Object.keys(profile.artifactKinds);
    const kind = values.kind ?? (kinds[0] as string);
    if (!kinds.includes(kind))
      throw usage('comply', `--kind must be one of ${kinds.join(', ')}, not ${kind}`);

    // Every member resolved (and every bad one refused) before any evaluation or signing.
    const members: Member[] = [];
    if (manifest && manifestFile) {
      for (const spec of manifest.artifacts) {
        const field = spec.field.replace(/\/(path|digest)$/, '/kind');
        if (spec.kind !== undefined && !kinds.includes(spec.kind))
          throw new VouchError(
            'RELEASE_MALFORMED',
            `kind must be one of ${kinds.join(', ')}, not ${spec.kind}`,
            { file: manifest.source, field },
          );
        const origin = { file: manifest.source, field: spec.field };
        if (spec.by === 'digest') {
          members.push({
            file: undefined,
            sha256: spec.sha256,
            name: spec.name,
            kind: spec.kind ?? kind,
            origin,
          });
          continue;
        }
        const file = await resolveReleasePath(manifestFile, spec, manifest.source);
        const { sha256 } = await resolveTarget('comply', file, io, userPolicy.requireDigest);
        members.push({
          file,
          sha256,
          name: spec.name ?? spec.path,
          kind: spec.kind ?? kind,
          origin,
        });
      }
    } else {
      for (const target of positionals) {
        const { file, sha256 } = await resolveTarget(
          'comply',
          target,
          io,
          userPolicy.requireDigest,
        );
        // Named as every verb names a file subject (src/core/subject-name.ts).
        const name = file ? await fileSubjectName(file, io.cwd) : undefined;
        members.push({ file, sha256, name, kind, origin: { argument: target } });
      }
      // Two files outside the working directory can share a base name: then
      // they keep the spelling they were given, so the report tells them apart.
      const names = members.map((m) => m.name);
      for (const m of members) {
        if (m.name !== undefined && names.indexOf(m.name) !== names.lastIndexOf(m.name))
          m.name = normalize(m.origin.argument ?? m.name)
            .split(sep)
            .join('/');
      }
    }
    const seen = new Map<string, Member>();
    for (const m of members) {
      const twice = seen.get(m.sha256);
      if (twice) {
        const where = (x: Member) => x.origin.field ?? x.origin.argument ?? '';
        const message = `${where(m)} has the digest sha256:${m.sha256} of ${where(twice)}: an artifact is judged once`;
        if (m.origin.file)
          throw new VouchError('RELEASE_MALFORMED', message, {
            file: m.origin.file,
            field: m.origin.field,
          });
        throw usage('comply', message);
      }
      seen.set(m.sha256, m);
    }

    // Signing key first: a wrong passphrase should not cost the evaluation.
    const mode = values.attest ? await signingModeFrom('comply', values, io) : undefined;

    const policy =
      values.profile === 'policy' ? userPolicy : await profilePolicy(profile, userPolicy.trust);
    const trust = { source: displayPath(policyFile, io.cwd), digest: userPolicy.digest };
    // One evaluation time for every member: a release is judged at one instant.
    const now = new Date();
    const reports: ComplianceReport[] = [];
    for (const m of members)
      reports.push(
        await judge(
          m,
          { policy, profile, trust, now, store: values.store, bundle: values.bundle },
          io,
        ),
      );
    const isRelease = manifest !== undefined || members.length > 1;
    const release: ReleaseComplianceReport | undefined = isRelease
      ? buildReleaseReport({
          artifacts: reports,
          release: manifest
            ? {
                name: manifest.name,
                version: manifest.version,
                manifest: {
                  source: displayPath(manifestFile as string, io.cwd),
                  digest: `sha256:${createHash('sha256')
                    .update(readFileSync(manifestFile as string))
                    .digest('hex')}`,
                },
              }
            : {},
        })
      : undefined;
    const report = reports[0] as ComplianceReport;

    const rendered = release ? renderer.renderRelease(release) : renderer.render(report);
    let written: string | null = null;
    if (outputs.report !== undefined) {
      await writeFileAtomic(resolve(io.cwd, outputs.report), rendered);
      written = outputs.report;
    }
    let attestation: { stored: string | null; out: string | null } | null = null;
    if (mode) {
      const subjects = members.map((m) => ({
        name: m.name ?? `sha256:${m.sha256}`,
        digest: { sha256: m.sha256 },
      }));
      const statement = release
        ? makeStatement(subjects, SSDF_RELEASE_REPORT_PREDICATE_TYPE, release)
        : makeStatement(subjects, SSDF_REPORT_PREDICATE_TYPE, report);
      const published = await signAndPublish(
        statement,
        mode,
        { store: values.store, out: outputs.bundle },
        io,
      );
      attestation = { stored: published.stored?.path ?? null, out: published.out };
      io.stderr(
        `vouch comply: signed report ${[published.stored?.path, published.out].filter(Boolean).join(', ')}\n`,
      );
    }
    const result = release ?? report;
    const s = result.summary;
    const what = release
      ? `release of ${members.length} artifact(s): ${s.satisfied} of ${s.total - s.notApplicable} applicable task(s) satisfied for every artifact`
      : `${s.satisfied} of ${s.total - s.notApplicable} applicable task(s) satisfied`;
    io.stderr(
      `vouch comply: ${result.ok ? 'COMPLIANT' : 'NOT COMPLIANT'}: ${what}, ${s.notApplicable} not applicable${written ? `; wrote ${written}` : ''}\n`,
    );
    if (values.json) printJson(io, { ...result, written, attestation });
    else if (written === null) io.stdout(rendered);
    return result.ok ? 0 : 1;
  },
};

/**
 * Where the report and the signed bundle go. The rule of every verb: -o/--output
 * is the report, --out the signed bundle (with --attest). Before it, --out was
 * the report and --attestation-out the bundle; both old spellings still work
 * where they cannot be misread, with a warning:
 * - without --attest there is no bundle, so --out is the report (deprecated);
 * - with --attest, --out is the bundle, and --attestation-out its old spelling.
 * Giving both spellings of one output is a USAGE error.
 *
 * @throws VouchError USAGE
 */
function outputsOf(
  values: {
    output?: string | undefined;
    out?: string | undefined;
    'attestation-out'?: string | undefined;
    attest?: boolean | undefined;
  },
  io: Io,
): { report: string | undefined; bundle: string | undefined } {
  if (!values.attest) {
    // Meant as the bundle, with --attest forgotten: writing the report there would be worse.
    if (values.out?.endsWith('.sigstore.json'))
      throw usage('comply', `--out ${values.out} names a signed bundle: that needs --attest`);
    const report = deprecatedAlias(
      'comply',
      io,
      { name: '-o/--output', value: values.output },
      {
        name: '--out',
        value: values.out,
        why: 'without --attest; with --attest it is the signed bundle',
      },
    );
    return { report, bundle: undefined };
  }
  if (values.out !== undefined && values['attestation-out'] !== undefined)
    throw usage(
      'comply',
      'with --attest, --out is the signed bundle, which --attestation-out (deprecated) names too: give the report as -o/--output and the bundle as --out',
    );
  if (values.output === '') throw usage('comply', '-o/--output needs a file name');
  const bundle = deprecatedAlias(
    'comply',
    io,
    { name: '--out', value: values.out },
    { name: '--attestation-out', value: values['attestation-out'] },
  );
  if (
    values.output !== undefined &&
    bundle !== undefined &&
    resolve(io.cwd, values.output) === resolve(io.cwd, bundle)
  )
    throw usage('comply', `-o/--output and the bundle's --out both name ${bundle}: give two files`);
  // `--out report.md --attest` used to write the report there; now the bundle
  // goes there. A name that does not look like a bundle is worth a word.
  if (values.out !== undefined && !values.out.endsWith('.sigstore.json'))
    io.stderr(
      `vouch comply: warning: with --attest, --out ${values.out} is the signed bundle, not the report (the report is -o/--output)\n`,
    );
  return { report: values.output, bundle };
}

/** Evaluates the profile's policy for one artifact and builds its matrix. */
async function judge(
  m: Member,
  o: {
    policy: Policy;
    profile: ComplianceProfile;
    trust: { source: string; digest: string };
    now: Date;
    store: string;
    bundle: string[] | undefined;
  },
  io: Io,
): Promise<ComplianceReport> {
  const stored = await gatherCandidates(m.sha256, { store: o.store }, io);
  const given = await gatherCandidates(
    m.sha256,
    { bundle: o.bundle, store: o.store, 'no-store': true },
    io,
  );
  const candidates: CandidateBundle[] = [...stored, ...given];
  io.stderr(
    `vouch comply: profile ${o.profile.name}: ${candidates.length} bundle(s) about sha256:${m.sha256}\n`,
  );
  const file = m.file;
  const verdict = evaluatePolicy(o.policy, {
    subjectDigest: `sha256:${m.sha256}`,
    bundles: candidates,
    artifactBytes: file ? () => readFileSync(file) : undefined,
    now: o.now,
  });
  return buildReport({
    profile: o.profile,
    verdict,
    artifactKind: m.kind,
    archived: new Set(stored.map((c) => bundleDigest(c.json as string))),
    statements: acceptedStatements(verdict, candidates),
    trust: o.trust,
    ...(m.name !== undefined ? { subjectName: m.name } : {}),
  });
}

function bundleDigest(text: string): string {
  return `sha256:${createHash('sha256').update(Buffer.from(text)).digest('hex')}`;
}
