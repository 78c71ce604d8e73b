import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../../core/atomic.ts';
import { isDigestString, parseDigest } from '../../core/digest.ts';
import { readJsonFile } from '../../core/json.ts';
import { statPath } from '../../core/stat.ts';
import type { Subject } from '../../core/statement.ts';
import { fileSubject } from '../../core/subject-name.ts';
import { generateSbom, renderSbom, sbomCreated } from '../../sbom/index.ts';
import { DirectoryStore } from '../../store/index.ts';
import {
  applyVex,
  componentsOfSbom,
  defaultDbDir,
  type Finding,
  matchComponents,
  OUTPUTS,
  outputByName,
  readVex,
  rescanStore,
  type ScanInput,
  type ScanReport,
  SEVERITIES,
  type Severity,
  totalsOf,
  type VexStatement,
  VulnDatabase,
  verifiedEvidence,
  vulnsStatement,
} from '../../vuln/index.ts';
import { parse, usage } from '../args.ts';
import { displayPath, type Io, packageVersion, printJson } from '../io.ts';
import { signAndPublish } from '../publish.ts';
import {
  ATTEST_SIGNING,
  checkSigningFlags,
  prefixedKeylessHelp,
  prefixedSigningOptions,
  signingModeFrom,
  unprefixedSigningValues,
} from '../signing.ts';
import { TRUST_HELP, TRUST_OPTIONS, trustPolicyFrom } from '../trust.ts';
import type { Command } from './command.ts';

const FAIL_LEVELS = ['any', 'low', 'medium', 'high', 'critical'] as const;

const HELP = `Usage: vouch vulns <sbom.json | directory | lockfile | sha256:HEX> [options]
       vouch vulns rescan [--store DIR] [--db DIR] [--vex FILE]... <trust> [--fail-on-new] [--json]

Matches components against the offline OSV database (see vouch db) by purl,
with each ecosystem's version rules. Input: a CycloneDX or SPDX JSON SBOM, a
directory or lockfile (scanned as vouch sbom does), or sha256:HEX: the SBOM
attestation about that artifact in the evidence store, verified first
(trust flags below), with the VEX attestations about it that verify too.
Withdrawn records are skipped; records that are aliases
of each other (CVE, GHSA, PYSEC…) give one finding. Components that cannot
be matched (no purl, generic purl, no version) are counted with the reason.

Options:
  --db DIR             database directory (default: $XDG_CACHE_HOME/vouch/osv)
  --vex FILE           OpenVEX v0.2 or CycloneDX VEX: not_affected, false_positive
                       (and OpenVEX fixed) statements suppress findings; suppressed
                       findings are still listed, with the justification (repeatable).
                       With sha256:HEX, the OpenVEX / CycloneDX VEX attestations in
                       the store about that artifact apply too, when they verify
                       against the trust flags (one that does not suppresses nothing
                       and is listed as rejected)
  --format F           ${OUTPUTS.map((o) => o.name).join(', ')} (default ${OUTPUTS[0]?.name})
  -o, --output FILE    write the report to FILE (atomically) instead of stdout
  --fail-on SEV        exit 1 when an open finding is at or above SEV: any, low,
                       medium, high, critical (a finding of unknown severity
                       counts as at or above every level: fail closed)
  --store DIR          evidence store (default: .vouch) for sha256:HEX, rescan and attestations
  --json               same as --format json

Attestation (sign the result as an in-toto vulns predicate about the artifact):
  --attest-key FILE    sign with this private key (PKCS#8 PEM)
  --attest-keyless     sign keyless (Sigstore: Fulcio certificate for the CI's OIDC
                       identity, Rekor entry); a private Sigstore or a token:
${prefixedKeylessHelp(ATTEST_SIGNING, 23, '    ')}
  --subject FILE       the artifact (required unless the input is sha256:HEX)
  --no-store           do not store the bundle
  --out FILE           also write the bundle to FILE (*.sigstore.json)

${TRUST_HELP}

vouch vulns rescan re-evaluates every verified SBOM attestation in the store
against the current database and prints, per artifact, the findings that are
new since the last rescan (kept in <store>/vulns/last-rescan.json). VEX from
--vex files and from verified VEX attestations about the artifact suppresses
findings there too (the rescan usage gives the details).

Environment:
  SOURCE_DATE_EPOCH    report time (seconds): same inputs, same bytes

Exit codes: 0 ok (no open finding at or above --fail-on), 1 a finding at or
above --fail-on, or an attestation that does not verify, 2 bad input.`;

const SCANNER_URI = 'https://github.com/vouch-dev/vouch';

export const vulnsCommand: Command = {
  name: 'vulns',
  help: HELP,
  async run(argv, io) {
    if (argv[0] === 'rescan') return rescan(argv.slice(1), io);
    const { values, positionals } = parse('vulns', argv, {
      db: { type: 'string' },
      vex: { type: 'string', multiple: true },
      format: { type: 'string' },
      output: { type: 'string', short: 'o' },
      'fail-on': { type: 'string' },
      store: { type: 'string', default: '.vouch' },
      ...prefixedSigningOptions(ATTEST_SIGNING),
      subject: { type: 'string' },
      'no-store': { type: 'boolean' },
      out: { type: 'string' },
      ...TRUST_OPTIONS,
    });
    if (values.help) {
      io.stdout(`${HELP}\n`);
      return 0;
    }
    if (positionals.length !== 1)
      throw usage('vulns', 'give one SBOM, directory, lockfile or sha256:HEX');
    const formatName = values.format ?? (values.json ? 'json' : (OUTPUTS[0]?.name as string));
    const format = outputByName(formatName);
    if (!format)
      throw usage(
        'vulns',
        `unknown --format ${JSON.stringify(formatName)}: use ${OUTPUTS.map((o) => o.name).join(', ')}`,
      );
    if (values.json && values.format && values.format !== 'json')
      throw usage('vulns', '--json and --format exclude each other');
    const failOn = values['fail-on'];
    if (failOn !== undefined && !(FAIL_LEVELS as readonly string[]).includes(failOn)) {
      throw usage('vulns', `--fail-on must be one of ${FAIL_LEVELS.join(', ')}`);
    }
    const signing = unprefixedSigningValues(ATTEST_SIGNING, values, (f) => resolve(io.cwd, f));
    checkSigningFlags('vulns', signing, ATTEST_SIGNING);
    const attest = signing.key !== undefined || signing.keyless === true;
    if (!attest) {
      for (const f of ['subject', 'no-store', 'out'] as const) {
        if (values[f] !== undefined)
          throw usage('vulns', `--${f} is for --attest-key/--attest-keyless`);
      }
    }
    const target = positionals[0] as string;
    const fromStore = isDigestString(target);
    if (attest && !fromStore && values.subject === undefined) {
      throw usage(
        'vulns',
        'attesting needs --subject FILE: an SBOM or directory is not the artifact',
      );
    }
    const mode = attest ? await signingModeFrom('vulns', signing, io, ATTEST_SIGNING) : undefined;
    const vex: VexStatement[] = [];
    for (const file of values.vex ?? [])
      vex.push(...readVex(await readJsonFile(resolve(io.cwd, file)), file));

    // Input: verified attestation, SBOM file, or a directory/lockfile scanned here.
    let input: ScanInput;
    let kind: ScanReport['target']['kind'];
    let digest: string | undefined;
    let rejected: ScanReport['rejected'];
    if (fromStore) {
      const d = parseDigest(target);
      if (d.algorithm !== 'sha256') throw usage('vulns', 'the store is searched by sha256:HEX');
      digest = `sha256:${d.hex}`;
      const trust = await trustPolicyFrom('vulns', values, tufCache(io));
      const store = new DirectoryStore(resolve(io.cwd, values.store));
      // One pass, as rescan does: the SBOM and the VEX attestations about the artifact,
      // all verified against the same trust flags (what does not verify is never read).
      const evidence = await verifiedEvidence(store, trust, { only: digest, vex: true });
      const { sboms } = evidence;
      rejected = evidence.rejected;
      for (const r of rejected)
        io.stderr(`vouch vulns: rejected bundle ${r.bundle}: ${r.reason}\n`);
      const sbom = sboms[0];
      if (!sbom) {
        io.stderr(
          `vouch vulns: no verified SBOM attestation about ${digest} in ${displayPath(store.root, io.cwd)}\n`,
        );
        if (values.json) printJson(io, { ok: false, subject: digest, rejected });
        return 1;
      }
      io.stderr(`vouch vulns: verified SBOM ${sbom.bundle} about ${sbom.name} ${digest}\n`);
      const attested = evidence.vex.get(digest);
      if (attested) {
        for (const b of attested.bundles)
          io.stderr(`vouch vulns: verified VEX ${b} about ${digest}\n`);
        // Before the --vex files, as rescan orders them: at equal timestamps a file decides.
        vex.unshift(...attested.statements);
      }
      input = sbom.input;
      kind = 'attestation';
    } else {
      const path = resolve(io.cwd, target);
      // As every verb reports a missing input: FILE_NOT_FOUND naming it.
      const st = await statPath(path, target);
      const doc = st.isFile() && /\.json$/i.test(path) ? await readJsonFile(path) : undefined;
      if (doc !== undefined && isSbomDocument(doc)) {
        input = componentsOfSbom(doc, target);
        kind = 'sbom';
      } else {
        const sbom = await generateSbom(path, { created: sbomCreated(io.env) });
        input = componentsOfSbom(renderSbom(sbom, 'cyclonedx-json').document, target);
        kind = 'directory';
      }
    }
    const subject: Subject | undefined =
      values.subject !== undefined
        ? await fileSubject(values.subject, io.cwd)
        : digest
          ? { name: target, digest: { sha256: digest.slice('sha256:'.length) } }
          : undefined;
    if (subject?.digest.sha256) digest = `sha256:${subject.digest.sha256}`;

    const dbDir = values.db ? resolve(io.cwd, values.db) : defaultDbDir(io.env);
    const db = await VulnDatabase.open(dbDir);
    let report: ScanReport;
    try {
      const result = matchComponents(db, input.components, { now: new Date() });
      result.findings = applyVex(result.findings, vex, digest ? [digest] : []);
      const st = db.status();
      report = {
        target: { kind, name: target, ...(digest ? { digest } : {}) },
        input,
        result,
        db: {
          path: displayPath(dbDir, io.cwd),
          updatedAt: st.updatedAt,
          records: st.records,
          sources: st.sources.map((s) => s.url),
        },
        vex: values.vex ?? [],
        scanner: { name: 'vouch', version: packageVersion(), uri: SCANNER_URI },
        time: sbomCreated(io.env),
        ...(rejected ? { rejected } : {}),
      };
    } finally {
      db.close();
    }

    const t = totalsOf(report);
    io.stderr(
      `vouch vulns: ${t.components} components, ${t.matched} matched, ${t.notMatchable} not matchable; ${t.findings} open finding(s), ${t.suppressed} suppressed by VEX\n`,
    );
    const reasons = new Map<string, number>();
    for (const n of report.result.notMatchable) {
      const r = n.reason.replace(/".*$/, '').trim();
      reasons.set(r, (reasons.get(r) ?? 0) + 1);
    }
    for (const [r, n] of [...reasons].sort())
      io.stderr(`vouch vulns:   not matchable: ${n} × ${r}\n`);
    if (report.result.withdrawn.length > 0) {
      io.stderr(`vouch vulns: skipped ${report.result.withdrawn.length} withdrawn record(s)\n`);
    }

    // Signed before the report is written: a signing failure then leaves
    // stdout to its one error document (--json), not a report and an error.
    if (mode && subject) {
      const published = await signAndPublish(vulnsStatement(report, subject), mode, values, io);
      io.stderr(
        `vouch vulns: attested https://in-toto.io/attestation/vulns/v0.1 about ${subject.name} sha256:${subject.digest.sha256}\n`,
      );
      if (published.stored) io.stderr(`vouch vulns: stored ${published.stored.path}\n`);
      if (published.out) io.stderr(`vouch vulns: wrote ${published.out}\n`);
    }

    const text = format.render(report);
    if (values.output) {
      await writeFileAtomic(resolve(io.cwd, values.output), text);
      io.stderr(`vouch vulns: wrote ${values.output} (${format.name})\n`);
    } else io.stdout(text);
    return failOn !== undefined && failing(report, failOn) ? 1 : 0;
  },
};

function isSbomDocument(doc: unknown): boolean {
  return (
    typeof doc === 'object' &&
    doc !== null &&
    ((doc as Record<string, unknown>).bomFormat === 'CycloneDX' ||
      typeof (doc as Record<string, unknown>).spdxVersion === 'string')
  );
}

/** Whether an open finding is at or above the level; unknown severity always counts. */
export function failing(report: ScanReport, level: string): boolean {
  const min = level === 'any' ? 0 : SEVERITIES.indexOf(level as Severity);
  return report.result.findings.some(
    (f) =>
      !f.suppressed &&
      (level === 'any' || f.severity === 'unknown' || SEVERITIES.indexOf(f.severity) >= min),
  );
}

function tufCache(io: Io): string {
  return join(io.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'vouch', 'tuf');
}

const RESCAN_HELP = `Usage: vouch vulns rescan [--store DIR] [--db DIR] [--vex FILE]... <trust>
                          [--fail-on-new] [--json]

Re-evaluates every SBOM attestation in the evidence store that verifies
against the trust flags, with the current database, and prints per artifact
the open findings that are new since the last rescan (the first rescan
reports all). The result is kept atomically in <store>/vulns/last-rescan.json.
Bundles that do not verify are listed and never read.

VEX is applied as vouch vulns applies it: the OpenVEX and CycloneDX VEX
attestations in the store about each artifact, verified against the same
trust flags (one that does not verify suppresses nothing), and every --vex
file. Suppressed findings are listed with their justification, never as new.

Options:
  --store DIR          evidence store (default: .vouch)
  --db DIR             database directory (default: $XDG_CACHE_HOME/vouch/osv)
  --vex FILE           OpenVEX v0.2 or CycloneDX VEX applied to every artifact (repeatable)
  --fail-on-new        exit 1 when a finding is new or a bundle does not verify
  --json               machine output on stdout

${TRUST_HELP}

Exit codes: 0 ok, 1 new findings (or a bundle that does not verify) with
--fail-on-new, 2 bad input.`;

async function rescan(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('vulns rescan', argv, {
    db: { type: 'string' },
    vex: { type: 'string', multiple: true },
    store: { type: 'string', default: '.vouch' },
    'fail-on-new': { type: 'boolean' },
    ...TRUST_OPTIONS,
  });
  if (values.help) {
    io.stdout(`${RESCAN_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) throw usage('vulns rescan', 'takes no arguments');
  const trust = await trustPolicyFrom('vulns rescan', values, tufCache(io));
  const vex: VexStatement[] = [];
  for (const file of values.vex ?? [])
    vex.push(...readVex(await readJsonFile(resolve(io.cwd, file)), file));
  const store = new DirectoryStore(resolve(io.cwd, values.store));
  const db = await VulnDatabase.open(values.db ? resolve(io.cwd, values.db) : defaultDbDir(io.env));
  let result: Awaited<ReturnType<typeof rescanStore>>;
  try {
    result = await rescanStore(store, db, trust, { now: new Date(), vex });
  } finally {
    db.close();
  }
  for (const r of result.rejected)
    io.stderr(`vouch vulns rescan: rejected bundle ${r.bundle} (${r.digest}): ${r.reason}\n`);
  const newTotal = result.artifacts.reduce((n, a) => n + a.new.length, 0);
  if (values.json) {
    printJson(io, {
      time: result.time,
      previous: result.previous,
      artifacts: result.artifacts.map((a) => ({
        ...a,
        new: a.new.map(briefOf),
        suppressed: a.suppressed.map((f) => ({ ...briefOf(f), suppressed: f.suppressed })),
      })),
      rejected: result.rejected,
    });
  } else {
    for (const a of result.artifacts) {
      io.stdout(
        `${a.name} ${a.digest}: ${a.components} components, ${a.findings} open finding(s), ${a.new.length} new${a.firstScan ? ' (first rescan)' : ''}${a.suppressed.length ? `, ${a.suppressed.length} suppressed by VEX` : ''}${a.gone.length ? `, ${a.gone.length} gone` : ''}\n`,
      );
      for (const f of a.new)
        io.stdout(
          `  new ${f.severity.toUpperCase()} ${f.id} ${f.package}@${f.version}${f.fixed.length ? ` (fixed in ${f.fixed.join(', ')})` : ''}\n`,
        );
      for (const f of a.suppressed) {
        const v = f.suppressed;
        if (!v) continue;
        io.stdout(
          `  suppressed ${f.id} ${f.package}@${f.version}  ${v.status}${v.justification ? `: ${v.justification}` : ''}${v.detail ? `: ${v.detail}` : ''}  (${v.source})\n`,
        );
      }
      for (const g of a.gone) io.stdout(`  gone ${g}\n`);
    }
    io.stdout(
      `${result.artifacts.length} artifact(s), ${newTotal} new finding(s) since ${result.previous ?? 'never'}\n`,
    );
  }
  return values['fail-on-new'] && (newTotal > 0 || result.rejected.length > 0) ? 1 : 0;
}

/** A finding as rescan prints it in JSON. */
function briefOf(f: Finding) {
  return {
    id: f.id,
    aliases: f.aliases,
    severity: f.severity,
    package: f.package,
    version: f.version,
    purl: f.component.purl ?? null,
    fixed: f.fixed,
  };
}
