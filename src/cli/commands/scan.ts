import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { writeFileAtomic } from '../../core/atomic.ts';
import { isVouchError } from '../../core/errors.ts';
import type { Subject } from '../../core/statement.ts';
import { fileSubject } from '../../core/subject-name.ts';
import { sbomCreated } from '../../sbom/index.ts';
import {
  DEFAULT_SKIP_DIRECTORIES,
  failsAt,
  isSeverity,
  readBaseline,
  readDepsPolicy,
  SCAN_FORMATS,
  SCAN_KINDS,
  SCAN_PREDICATE_TYPE,
  type ScanKind,
  type ScannedTarget,
  type ScanOptions,
  type ScanResult,
  SEVERITIES,
  scanPath,
  scanPredicate,
  scanReport,
  scanStatement,
  scanStream,
} from '../../scan/index.ts';
import { defaultDbDir, VulnDatabase } from '../../vuln/index.ts';
import { parse, usage } from '../args.ts';
import { type Io, printJson } from '../io.ts';
import { PUBLISH_OPTIONS, signAndPublish } from '../publish.ts';
import { SIGNING_HELP, SIGNING_OPTIONS, signingModeFrom } from '../signing.ts';
import type { Command } from './command.ts';

const HELP = `Usage: vouch scan <path | -> [options]

Looks for misconfigurations (Dockerfiles, Kubernetes manifests, GitHub Actions
and GitLab CI), leaked secrets and dependencies the policy does not allow, in a
directory, one file, or stdin (-: rendered Helm or kustomize output). Secrets
are always redacted. A file that cannot be parsed is reported and the scan goes
on; binary files and files over the size limit are counted.

Options:
  --format F           table (default), json or sarif (SARIF 2.1.0)
  -o, --output FILE    write the report to FILE (atomically) instead of stdout
  --fail-on SEV        exit 1 when an unsuppressed finding is at SEV or above (any: every finding)
                       (${SEVERITIES.join(', ')}), or a file could not be parsed
  --only KINDS         comma-separated: ${SCAN_KINDS.join(',')} (default: all)
  --deps-policy FILE   dependency policy (default: .vouch-deps.yaml in the
                       scanned directory, else only the non-registry source rule)
  --db DIR             vulnerability database for dep/known-malicious (OSV MAL-
                       records; default: the vouch db directory; without one
                       that rule is reported as not checked)
  --baseline FILE      accepted findings (default: .vouch-scan-baseline.json in
                       the scanned directory)
  --no-baseline        do not read a baseline
  --skip-dir NAME      do not enter directories named NAME (repeatable; added to
                       ${DEFAULT_SKIP_DIRECTORIES.join(', ')})
  --include-dir NAME   do enter directories named NAME although skipped by default
                       (e.g. node_modules; repeatable)
  --git-history        also scan the lines every commit added (the directory's
                       git history) for secrets, even ones removed since
  --since REV          with --git-history: only commits after REV (REV..HEAD)
  --max-file-bytes N   larger files are only streamed for secrets (default 8 MiB)
  --json               print the JSON report on stdout (with the attestation when
                       --attest), whatever --format writes to -o

Attestation (sign the findings, https://vouch.dev/attestation/scan/v1):
  --attest             sign; the subject is the git commit (HEAD) of the scanned
                       directory, or --subject
  --subject FILE       the artifact the scan is about (sha256)
  --allow-dirty        attest a commit although the work tree has changes (the
                       predicate says dirty: true)
${SIGNING_HELP}
  --store DIR          evidence store (default: .vouch)
  --no-store           do not store the bundle
  --out FILE           also write the bundle to FILE (*.sigstore.json)

Exit codes: 0 done (findings or not, without --fail-on), 1 --fail-on threshold
reached, 2 usage or input error.

Environment:
  SOURCE_DATE_EPOCH    scannedAt of the attestation (seconds)`;

const run = promisify(execFile);

async function git(dir: string, ...args: string[]): Promise<string | undefined> {
  try {
    const { stdout } = await run('git', ['-C', dir, ...args], { maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch {
    return undefined;
  }
}

export const scanCommand: Command = {
  name: 'scan',
  help: HELP,
  async run(argv, io) {
    const { values, positionals } = parse('scan', argv, {
      format: { type: 'string', default: 'table' },
      output: { type: 'string', short: 'o' },
      'fail-on': { type: 'string' },
      only: { type: 'string' },
      'deps-policy': { type: 'string' },
      db: { type: 'string' },
      baseline: { type: 'string' },
      'no-baseline': { type: 'boolean' },
      'skip-dir': { type: 'string', multiple: true },
      'include-dir': { type: 'string', multiple: true },
      'max-file-bytes': { type: 'string' },
      'git-history': { type: 'boolean' },
      since: { type: 'string' },
      attest: { type: 'boolean' },
      subject: { type: 'string' },
      'allow-dirty': { type: 'boolean' },
      ...SIGNING_OPTIONS,
      ...PUBLISH_OPTIONS,
    });
    if (values.help) {
      io.stdout(`${HELP}\n`);
      return 0;
    }
    if (positionals.length !== 1) throw usage('scan', 'give exactly one path, or - for stdin');
    const target = positionals[0] as string;
    const format = SCAN_FORMATS.find((f) => f.name === values.format);
    if (!format)
      throw usage('scan', `--format must be one of ${SCAN_FORMATS.map((f) => f.name).join(', ')}`);
    // `any` as in `vouch vulns --fail-on any`: the lowest severity there is.
    const failOn = values['fail-on'] === 'any' ? 'info' : values['fail-on'];
    if (failOn !== undefined && !isSeverity(failOn)) {
      throw usage('scan', `--fail-on must be any or one of ${SEVERITIES.join(', ')}`);
    }
    let only: ScanKind[] | undefined;
    if (values.only !== undefined) {
      only = values.only.split(',').map((k) => k.trim()) as ScanKind[];
      const unknown = only.find((k) => !(SCAN_KINDS as readonly string[]).includes(k));
      if (unknown !== undefined || only.length === 0) {
        throw usage(
          'scan',
          `--only takes ${SCAN_KINDS.join(', ')}, got ${JSON.stringify(unknown ?? '')}`,
        );
      }
    }
    if (values.baseline !== undefined && values['no-baseline']) {
      throw usage('scan', '--baseline and --no-baseline exclude each other');
    }
    if (values.json && !values.output && format.name !== 'table' && format.name !== 'json') {
      throw usage(
        'scan',
        `--json prints JSON on stdout: write the ${format.name} report with -o FILE`,
      );
    }
    if (!values.attest) {
      const stray = [
        'subject',
        'allow-dirty',
        'key',
        'keyless',
        'identity-token',
        'out',
        'no-store',
      ].filter((k) => values[k as keyof typeof values] !== undefined);
      if (stray.length > 0) throw usage('scan', `--${stray[0]} is for --attest`);
    } else if (target === '-' && values.subject === undefined) {
      throw usage('scan', '--attest of stdin needs --subject FILE: stdin has no commit');
    }

    const options: ScanOptions = { cwd: io.cwd };
    if (only) options.only = only;
    const skip = new Set([...DEFAULT_SKIP_DIRECTORIES, ...(values['skip-dir'] ?? [])]);
    for (const d of values['include-dir'] ?? []) skip.delete(d);
    options.skipDirectories = [...skip];
    if (values['max-file-bytes'] !== undefined) {
      const n = Number(values['max-file-bytes']);
      if (!Number.isSafeInteger(n) || n < 1)
        throw usage('scan', '--max-file-bytes must be a positive integer');
      options.maxFileBytes = n;
    }
    if (values['deps-policy'] !== undefined) {
      options.depsPolicy = await readDepsPolicy(resolve(io.cwd, values['deps-policy']));
    }
    if (values.since !== undefined && !values['git-history'])
      throw usage('scan', '--since is for --git-history');
    if (values['git-history']) {
      if (target === '-') throw usage('scan', '--git-history needs a directory, not stdin');
      options.gitHistory = values.since !== undefined ? { since: values.since } : {};
    }
    if (values['no-baseline']) options.baseline = 'none';
    else if (values.baseline !== undefined)
      options.baseline = await readBaseline(resolve(io.cwd, values.baseline));

    // Load the key (and ask for its passphrase) and pin the subject before the scan.
    const mode = values.attest ? await signingModeFrom('scan', values, io) : undefined;
    let subject: Subject | undefined;
    let scanned: ScannedTarget | undefined;
    if (values.attest) {
      ({ subject, scanned } = await attestTarget(target, values, io));
    }

    // dep/known-malicious: an explicit --db must open; the default one is used when present.
    let db: VulnDatabase | undefined;
    if (target !== '-' && (only === undefined || only.includes('deps'))) {
      if (values.db !== undefined) db = await VulnDatabase.open(resolve(io.cwd, values.db));
      else
        db = await VulnDatabase.open(defaultDbDir(io.env)).catch((e) => {
          if (isVouchError(e) && e.code === 'VULN_DB_MISSING') return undefined;
          throw e;
        });
    }
    if (db) options.vulnDb = db;
    let result: ScanResult;
    try {
      result =
        target === '-'
          ? await scanStream(process.stdin, options)
          : await scanPath(resolve(io.cwd, target), options);
    } finally {
      db?.close();
    }

    const rendered = format.render(result);
    if (values.output) {
      await writeFileAtomic(resolve(io.cwd, values.output), rendered);
      io.stderr(`vouch scan: wrote ${values.output} (${format.name})\n`);
    } else if (!values.json) {
      io.stdout(rendered);
    }
    const t = result.totals;
    if (format.name !== 'table' || values.output || values.json) {
      io.stderr(
        `vouch scan: ${t.filesSeen} file(s), ${t.scanned} scanned, ${t.skippedBinary} binary, ${t.skippedSize} over the size limit, ${t.parseErrors} not parsed; ${result.findings.length} finding(s), ${result.suppressed.length} suppressed\n`,
      );
    }
    for (const n of t.notChecked) io.stderr(`vouch scan: not checked: ${n.ruleId} (${n.reason})\n`);
    for (const e of result.parseErrors) {
      io.stderr(
        `vouch scan: warning: ${e.file}${e.line !== undefined ? `:${e.line}` : ''}: not checked: ${e.message}\n`,
      );
    }

    let attestation: Record<string, unknown> | null = null;
    if (mode && subject && scanned) {
      const predicate = scanPredicate(result, scanned, sbomCreated(io.env));
      const bundle = await signAndPublish(scanStatement(subject, predicate), mode, values, io);
      const digest = Object.entries(subject.digest).map(([k, v]) => `${k}:${v}`)[0];
      io.stderr(`vouch scan: attested ${SCAN_PREDICATE_TYPE} about ${subject.name} ${digest}\n`);
      if (bundle.stored) io.stderr(`vouch scan: stored ${bundle.stored.path}\n`);
      if (bundle.out) io.stderr(`vouch scan: wrote ${bundle.out}\n`);
      attestation = { subject, predicateType: SCAN_PREDICATE_TYPE, bundle };
    }
    if (values.json) printJson(io, { ...scanReport(result), attestation });
    if (failOn !== undefined && isSeverity(failOn) && failsAt(result, failOn)) {
      io.stderr(
        `vouch scan: failing: findings at ${failOn} or above, or files not parsed (--fail-on ${failOn})\n`,
      );
      return 1;
    }
    return 0;
  },
};

async function attestTarget(
  target: string,
  values: { subject?: string | undefined; 'allow-dirty'?: boolean | undefined },
  io: Io,
): Promise<{ subject: Subject; scanned: ScannedTarget }> {
  const abs = target === '-' ? io.cwd : resolve(io.cwd, target);
  const name = target === '-' ? '-' : basename(abs);
  if (values.subject !== undefined) {
    return {
      subject: await fileSubject(values.subject, io.cwd),
      scanned: { kind: target === '-' ? 'stdin' : 'artifact', name },
    };
  }
  const dir =
    (await git(abs, 'rev-parse', '--is-inside-work-tree')) !== undefined ? abs : dirname(abs);
  const top = (await git(dir, 'rev-parse', '--show-toplevel'))?.trim();
  const head = (await git(dir, 'rev-parse', '--verify', 'HEAD^{commit}'))?.trim();
  if (!top || !head) {
    throw usage(
      'scan',
      `--attest needs --subject FILE: ${target} is not in a git repository with a commit`,
    );
  }
  // git names the top by its real path: reach the target the same way, so a scan through a
  // symbolic link is placed where its target is (not at ../link).
  const real = await realpath(dir)
    .then((d) => (dir === abs ? d : join(d, basename(abs))))
    .catch(() => abs);
  const status = await git(
    top,
    'status',
    '--porcelain',
    '--untracked-files=normal',
    '--',
    relative(top, real) || '.',
  );
  const dirty = status === undefined || status.trim() !== '';
  if (dirty && !values['allow-dirty']) {
    throw usage(
      'scan',
      `the work tree of ${target} has changes, so the scan is not of commit ${head.slice(0, 12)}: commit them, or pass --allow-dirty`,
    );
  }
  const scanned: ScannedTarget = { kind: 'git', name: basename(top), commit: head, dirty };
  const path = relative(top, real);
  if (path !== '') scanned.path = path.split('\\').join('/');
  // Stores and verifiers find evidence by sha256: the commit object's own bytes give one
  // (`git cat-file commit <sha>` with git's "commit <size>\0" header), as stable as the commit.
  const object = await run('git', ['-C', top, 'cat-file', 'commit', head], {
    encoding: 'buffer',
    maxBuffer: 64 * 1024 * 1024,
  });
  const body = object.stdout as Buffer;
  const sha256 = createHash('sha256').update(`commit ${body.length}\0`).update(body).digest('hex');
  return { subject: { name: basename(top), digest: { sha256, gitCommit: head } }, scanned };
}
