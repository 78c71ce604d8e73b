import { createHash } from 'node:crypto';
import { open, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { errorMessage, isVouchError, VouchError } from '../../core/errors.ts';
import { statPath } from '../../core/stat.ts';
import { READERS } from '../../sbom/index.ts';
import type { VulnDatabase } from '../../vuln/index.ts';
import {
  checkDependencies,
  DEPS_POLICY_FILE,
  type DepsPolicy,
  defaultDepsPolicy,
  readDepsPolicy,
} from '../deps/index.ts';
import { compareFindings, type Finding } from '../finding.ts';
import { type RuleSet, runRules, splitLines } from '../rule.ts';
import { RULE_SETS } from '../rules/index.ts';
import {
  DETECTORS,
  type Detector,
  redactSecrets,
  scanGitHistory,
  scanSecretChunks,
  scanSecretText,
} from '../secrets/index.ts';
import {
  applyBaseline,
  applyDirectives,
  BASELINE_FILE,
  type Baseline,
  type BaselineEntry,
  type Directive,
  parseDirectives,
  type ReportedFinding,
  readBaseline,
  type SuppressedFinding,
} from '../suppress/index.ts';
import { type RuleInfo, ruleCatalog } from './catalog.ts';
import { gitWorkTreeRoot, posixRelative } from './repo-root.ts';
import { DEFAULT_SKIP_DIRECTORIES, walkFiles } from './walk.ts';

export const SCAN_KINDS = ['misconfig', 'secrets', 'deps'] as const;
export type ScanKind = (typeof SCAN_KINDS)[number];

/** Files larger than this are not parsed by rule sets; they are streamed for secrets. */
export const DEFAULT_MAX_FILE_BYTES = 8 * 1024 * 1024;
/** A NUL byte in this many first bytes makes a file binary. */
export const SNIFF_BYTES = 8192;

export interface ScanOptions {
  /** What to look for (default: all three). */
  only?: readonly ScanKind[];
  // biome-ignore lint/suspicious/noExplicitAny: each rule set has its own Doc type
  ruleSets?: readonly RuleSet<any>[];
  detectors?: readonly Detector[];
  /** Directory names not entered (default DEFAULT_SKIP_DIRECTORIES). */
  skipDirectories?: readonly string[];
  maxFileBytes?: number;
  /**
   * The dependency policy; 'auto' (default) reads `.vouch-deps.yaml` from the
   * scanned directory when there is one, else the default policy.
   */
  depsPolicy?: DepsPolicy | 'auto';
  /** Accepted findings; 'auto' (default) reads `.vouch-scan-baseline.json` from the scanned directory when there is one. */
  baseline?: Baseline | 'auto' | 'none';
  /** Files read at the same time (default 8). */
  concurrency?: number;
  /**
   * The vulnerability database for dep/known-malicious (OSV MAL- records);
   * without it that rule is listed in totals.notChecked.
   */
  vulnDb?: VulnDatabase;
  /**
   * Also look for secrets in the lines every commit added (the scanned
   * directory's git history, or only after `since`): found even when a later
   * commit removed them. Directories only.
   */
  gitHistory?: { since?: string };
  /**
   * Working directory a file scanned alone outside any git work tree is named
   * from (default process.cwd()); see `scanPath`.
   */
  cwd?: string;
}

export interface ScanTotals {
  /** Regular files found (stdin counts as one). */
  filesSeen: number;
  /** Text files read and checked whole. */
  scanned: number;
  /** Files with a NUL byte in their first 8 KiB: not checked. */
  skippedBinary: number;
  /** Files over the size limit: not parsed by rule sets, streamed for secrets. */
  skippedSize: number;
  /** Files a rule set or lockfile reader could not parse (listed in parseErrors). */
  parseErrors: number;
  /** Rules that could not run and why (never a silent pass), e.g. dep/known-malicious without a database. */
  notChecked: { ruleId: string; reason: string }[];
  /** Commits whose added lines were scanned for secrets (with gitHistory only). */
  gitCommits?: number;
}

export interface ParseError {
  file: string;
  /** 1-based, when the parser said. */
  line?: number;
  /** What could not read it: a rule set name or a lockfile reader. */
  parser: string;
  message: string;
}

export interface ScanResult {
  target: { kind: 'directory' | 'file' | 'stdin'; name: string; path?: string };
  /**
   * Where findings' `file` names start, as a path from the root of the git
   * work tree the scan ran in: the scanned directory's path (`''` for the
   * root; a file scanned alone is named from the root, so `''`). Absent
   * outside git and for stdin. SARIF joins it to each name so that code
   * scanning, which reads URIs from the repository root, finds the file.
   */
  repoPath?: string;
  kinds: ScanKind[];
  /** Unsuppressed findings, sorted (file, line, column, rule). */
  findings: ReportedFinding[];
  /** Findings accepted inline or by the baseline, with the justification. */
  suppressed: SuppressedFinding[];
  parseErrors: ParseError[];
  totals: ScanTotals;
  /** Every rule that ran. */
  rules: RuleInfo[];
  /** Baseline entries that matched no finding (fixed, or moved to another file). */
  unusedBaseline: BaselineEntry[];
  /** Where the baseline and dependency policy came from, when used. */
  baselineFile: string | null;
  depsPolicyFile: string | null;
}

interface FileOutcome {
  findings: ReportedFinding[];
  suppressed: SuppressedFinding[];
  parseError?: ParseError;
  kind: 'scanned' | 'binary' | 'size';
}

/** Fingerprint of a finding that is not a secret: rule, file and the offending text (not the line number). */
export function findingFingerprint(f: Finding): string {
  return createHash('sha256')
    .update(`${f.ruleId}\0${f.file}\0${f.snippet ?? f.message}`)
    .digest('hex')
    .slice(0, 16);
}

function withFingerprint(f: Finding): ReportedFinding {
  return 'fingerprint' in f && typeof f.fingerprint === 'string'
    ? (f as ReportedFinding)
    : { ...f, fingerprint: findingFingerprint(f) };
}

function lineOf(e: VouchError): number | undefined {
  const m = /\bline (\d+)/.exec(`${e.field ?? ''} ${e.message}`);
  return m ? Number(m[1]) : undefined;
}

class Scanner {
  readonly kinds: Set<ScanKind>;
  // biome-ignore lint/suspicious/noExplicitAny: each rule set has its own Doc type
  readonly ruleSets: readonly RuleSet<any>[];
  readonly detectors: readonly Detector[];
  readonly maxBytes: number;

  constructor(options: ScanOptions) {
    this.kinds = new Set(options.only ?? SCAN_KINDS);
    this.ruleSets = this.kinds.has('misconfig') ? (options.ruleSets ?? RULE_SETS) : [];
    this.detectors = this.kinds.has('secrets') ? (options.detectors ?? DETECTORS) : [];
    this.maxBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  }

  /**
   * Rule sets and secrets over one whole text. `matchPath` is what the rule
   * sets are offered to recognise the file by (one file scanned alone: its
   * whole path, so `.github/workflows/ci.yml` is still a workflow).
   */
  text(text: string, file: string, matchPath = file): FileOutcome {
    const found: Finding[] = [];
    let parseError: ParseError | undefined;
    const set = this.ruleSets.find((s) => s.matches(matchPath, text.slice(0, SNIFF_BYTES)));
    if (set) {
      try {
        const doc = set.parse(text, file);
        // A finding's snippet is its source line, and its message may quote it: every
        // secret the detectors know is masked there too (whatever --only says).
        for (const f of runRules(set, doc, { file, lines: splitLines(text) }))
          found.push({
            ...f,
            message: redactSecrets(f.message, DETECTORS),
            ...(f.snippet !== undefined ? { snippet: redactSecrets(f.snippet, DETECTORS) } : {}),
          });
      } catch (e) {
        // Anything but a VouchError is a bug in the rule set: never turned into a per-file report.
        if (!isVouchError(e)) throw e;
        parseError = { file, parser: set.name, message: e.message };
        const line = lineOf(e);
        if (line !== undefined) parseError.line = line;
      }
    }
    if (this.detectors.length > 0)
      found.push(...scanSecretText(text, file, { detectors: this.detectors }));
    const out = this.suppress(found, parseDirectives(text), file);
    return parseError ? { ...out, parseError, kind: 'scanned' } : { ...out, kind: 'scanned' };
  }

  /** Secrets only, streamed: for files over the size limit. */
  async stream(chunks: AsyncIterable<Buffer>, file: string): Promise<FileOutcome> {
    if (this.detectors.length === 0) return { findings: [], suppressed: [], kind: 'size' };
    const directives: Directive[] = [];
    const found = await scanSecretChunks(chunks, file, {
      detectors: this.detectors,
      onText: (t, line) => directives.push(...parseDirectives(t, line)),
    });
    return { ...this.suppress(found, directives, file), kind: 'size' };
  }

  suppress(found: Finding[], directives: Directive[], file: string) {
    const { kept, suppressed } = applyDirectives(
      found.map(withFingerprint),
      directives,
      file,
      findingFingerprint,
    );
    return { findings: kept, suppressed };
  }

  /** One file on disk: binary and size checks, then text or stream. */
  async file(abs: string, rel: string, matchPath = rel): Promise<FileOutcome> {
    let fh: Awaited<ReturnType<typeof open>> | undefined;
    try {
      fh = await open(abs, 'r');
      const { size } = await fh.stat();
      if (size <= this.maxBytes) {
        const buf = await fh.readFile();
        if (buf.subarray(0, SNIFF_BYTES).includes(0))
          return { findings: [], suppressed: [], kind: 'binary' };
        return this.text(decode(buf), rel, matchPath);
      }
      const head = Buffer.alloc(SNIFF_BYTES);
      const { bytesRead } = await fh.read(head, 0, SNIFF_BYTES, 0);
      if (head.subarray(0, bytesRead).includes(0))
        return { findings: [], suppressed: [], kind: 'binary' };
      return await this.stream(fh.createReadStream({ start: 0, autoClose: false }), rel);
    } catch (e) {
      if (isVouchError(e)) throw e;
      throw new VouchError('FILE_READ', `cannot read: ${errorMessage(e)}`, { file: rel, cause: e });
    } finally {
      await fh?.close();
    }
  }
}

function decode(buf: Buffer): string {
  const text = buf.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Runs `fn` over `items`, `limit` at a time; results in input order. */
async function pool<I, T>(
  items: readonly I[],
  limit: number,
  fn: (item: I) => Promise<T>,
): Promise<T[]> {
  const out: T[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as I);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

/**
 * Scans a directory or one file: misconfiguration rule sets, secrets and the
 * dependency policy. A file a rule set cannot parse is listed in parseErrors
 * and the scan goes on; binary and oversized files are counted.
 *
 * Findings name a directory's files from the scanned directory, and a file
 * scanned alone by its path (see fileName), never by an absolute path;
 * `repoPath` places those names in the git work tree, when there is one.
 *
 * @throws VouchError FILE_NOT_FOUND | FILE_READ for the target; SCAN_DEPS_POLICY_MALFORMED |
 *   SCAN_BASELINE_MALFORMED for the policy or baseline files.
 */
export async function scanPath(path: string, options: ScanOptions = {}): Promise<ScanResult> {
  const abs = resolve(path);
  const st = await statPath(abs, path);
  const isDir = st.isDirectory();
  if (!isDir && !st.isFile())
    throw new VouchError('FILE_READ', 'not a regular file or directory', { file: path });
  const root = isDir ? abs : dirname(abs);
  const skip = new Set(options.skipDirectories ?? DEFAULT_SKIP_DIRECTORIES);
  // A directory's files are named from it; a file scanned alone by its path (see fileName).
  let repoPath: string | undefined;
  let single: { name: string; legacy: string } | undefined;
  if (isDir) {
    const top = await gitWorkTreeRoot(abs);
    if (top !== undefined) repoPath = posixRelative(top, await realpath(abs));
  } else {
    const named = await fileName(abs, options.cwd ?? process.cwd());
    single = { name: named.name, legacy: basename(abs) };
    if (named.inRepo) repoPath = '';
  }
  const files = isDir ? await walkFiles(abs, skip) : [single?.name as string];

  const scanner = new Scanner(options);
  const outcomes = await pool(files, options.concurrency ?? 8, (rel) =>
    isDir ? scanner.file(join(root, rel), rel) : scanner.file(abs, rel, abs.split(sep).join('/')),
  );

  const findings: ReportedFinding[] = [];
  const suppressed: SuppressedFinding[] = [];
  const parseErrors: ParseError[] = [];
  const totals: ScanTotals = {
    filesSeen: files.length,
    scanned: 0,
    skippedBinary: 0,
    skippedSize: 0,
    parseErrors: 0,
    notChecked: [],
  };
  for (const o of outcomes) {
    findings.push(...o.findings);
    suppressed.push(...o.suppressed);
    if (o.parseError) parseErrors.push(o.parseError);
    if (o.kind === 'scanned') totals.scanned++;
    else if (o.kind === 'binary') totals.skippedBinary++;
    else totals.skippedSize++;
  }

  if (options.gitHistory && isDir && scanner.detectors.length > 0) {
    const h = await scanGitHistory(abs, {
      detectors: scanner.detectors,
      ...(options.gitHistory.since !== undefined ? { since: options.gitHistory.since } : {}),
      // `vouch:ignore` comments added in the same commit apply, as in files.
      filter: (found, text, firstLine, file) => {
        const out = scanner.suppress(found, parseDirectives(text, firstLine), file);
        suppressed.push(...out.suppressed);
        return out.findings as typeof found;
      },
    });
    totals.gitCommits = h.commits;
    for (const f of h.findings) {
      findings.push({ ...f, message: `${f.message} (added in commit ${f.commit.slice(0, 12)})` });
    }
  }

  let depsPolicyFile: string | null = null;
  const runDeps =
    scanner.kinds.has('deps') && (isDir || READERS.some((r) => r.matches(basename(abs))));
  if (runDeps) {
    let policy: DepsPolicy;
    if (options.depsPolicy === undefined || options.depsPolicy === 'auto') {
      const auto = join(root, DEPS_POLICY_FILE);
      policy = isDir && (await exists(auto)) ? await readDepsPolicy(auto) : defaultDepsPolicy();
    } else policy = options.depsPolicy;
    if (policy.source !== '(default)') depsPolicyFile = policy.source;
    const ignore = [...skip].filter((d) => d !== '.git' && d !== '.vouch' && d !== 'node_modules');
    const deps = await checkDependencies(abs, policy, {
      ignore,
      rootIsFile: !isDir,
      ...(options.vulnDb ? { vulnDb: options.vulnDb } : {}),
    });
    // One lockfile scanned alone: the SBOM readers name it by its base name.
    const rename = (file: string) =>
      single === undefined
        ? file
        : file === single.legacy
          ? single.name
          : file.startsWith(`${single.legacy}!/`)
            ? `${single.name}${file.slice(single.legacy.length)}`
            : file;
    findings.push(...deps.findings.map((f) => withFingerprint({ ...f, file: rename(f.file) })));
    totals.notChecked.push(...deps.notChecked);
    for (const p of deps.parseErrors) {
      const file = rename(p.file);
      if (!parseErrors.some((e) => e.file === file))
        parseErrors.push({ file, parser: 'sbom', message: p.message });
    }
  }
  totals.parseErrors = parseErrors.length;

  let baseline: Baseline | undefined;
  if (options.baseline === undefined || options.baseline === 'auto') {
    const auto = join(root, BASELINE_FILE);
    if (isDir && (await exists(auto))) baseline = await readBaseline(auto);
  } else if (options.baseline !== 'none') baseline = options.baseline;

  const result = finish(
    { kind: isDir ? 'directory' : 'file', name: basename(abs), path: abs },
    scanner,
    findings,
    suppressed,
    parseErrors,
    totals,
    baseline,
    depsPolicyFile,
    runDeps,
    single && single.name !== single.legacy ? legacyAlias(single.legacy) : undefined,
  );
  return repoPath === undefined ? result : { ...result, repoPath };
}

/**
 * How a file scanned alone is named: its path from the root of the git work
 * tree it is in (the directory's real path, the file's own name, so a
 * symbolic link is named as itself); outside git, its path from `cwd` when it
 * is below it (also through a symbolic link to `cwd`), else its base name.
 * Never an absolute path.
 */
async function fileName(abs: string, cwd: string): Promise<{ name: string; inRepo: boolean }> {
  const realDir = await realpath(dirname(abs)).catch(() => dirname(abs));
  const top = await gitWorkTreeRoot(realDir);
  if (top !== undefined)
    return { name: posixRelative(top, join(realDir, basename(abs))), inRepo: true };
  const below = (path: string, root: string) => {
    const rel = posixRelative(root, path);
    return rel === '' || rel === '..' || rel.startsWith('../') || isAbsolute(rel) ? undefined : rel;
  };
  const realCwd = await realpath(cwd).catch(() => resolve(cwd));
  const name =
    below(abs, resolve(cwd)) ?? below(join(realDir, basename(abs)), realCwd) ?? basename(abs);
  return { name, inRepo: false };
}

/**
 * Before files scanned alone were named by their path, they were named by
 * their base name, and a baseline written then says `ci.yml` where the
 * finding now says `.github/workflows/ci.yml` (with a fingerprint over that
 * name unless it is a secret's): such an entry still matches.
 */
function legacyAlias(legacy: string) {
  return (f: ReportedFinding) => ({
    file: legacy,
    fingerprint:
      f.fingerprint === findingFingerprint(f)
        ? findingFingerprint({ ...f, file: legacy })
        : f.fingerprint,
  });
}

/**
 * Scans text read from a stream (stdin: rendered Helm or kustomize output, a
 * manifest piped in) as one file named `-`. Past the size limit it is only
 * streamed for secrets, never held whole.
 */
export async function scanStream(
  chunks: AsyncIterable<Buffer>,
  options: ScanOptions = {},
): Promise<ScanResult> {
  const scanner = new Scanner({
    ...options,
    only: (options.only ?? SCAN_KINDS).filter((k) => k !== 'deps'),
  });
  const it = chunks[Symbol.asyncIterator]();
  const held: Buffer[] = [];
  let size = 0;
  let done = false;
  while (size <= scanner.maxBytes) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    held.push(r.value);
    size += r.value.length;
  }
  const totals: ScanTotals = {
    filesSeen: 1,
    scanned: 0,
    skippedBinary: 0,
    skippedSize: 0,
    parseErrors: 0,
    notChecked: [],
  };
  let outcome: FileOutcome;
  const first = Buffer.concat(
    held.length > 0 && size > SNIFF_BYTES ? [held[0] as Buffer] : held,
  ).subarray(0, SNIFF_BYTES);
  if (first.includes(0)) {
    outcome = { findings: [], suppressed: [], kind: 'binary' };
    if (!done) for (let r = await it.next(); !r.done; r = await it.next()) void r;
  } else if (done) {
    outcome = scanner.text(decode(Buffer.concat(held)), '-');
  } else {
    async function* rest() {
      yield* held;
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    }
    outcome = await scanner.stream(rest(), '-');
  }
  if (outcome.kind === 'scanned') totals.scanned++;
  else if (outcome.kind === 'binary') totals.skippedBinary++;
  else totals.skippedSize++;
  const parseErrors = outcome.parseError ? [outcome.parseError] : [];
  totals.parseErrors = parseErrors.length;
  const baseline =
    options.baseline !== undefined && typeof options.baseline === 'object'
      ? options.baseline
      : undefined;
  return finish(
    { kind: 'stdin', name: '-' },
    scanner,
    outcome.findings,
    outcome.suppressed,
    parseErrors,
    totals,
    baseline,
    null,
    false,
  );
}

function finish(
  target: ScanResult['target'],
  scanner: Scanner,
  found: ReportedFinding[],
  inline: SuppressedFinding[],
  parseErrors: ParseError[],
  totals: ScanTotals,
  baseline: Baseline | undefined,
  depsPolicyFile: string | null,
  deps: boolean,
  alias?: (f: ReportedFinding) => { file: string; fingerprint: string },
): ScanResult {
  let findings = found;
  const suppressed = [...inline];
  let unusedBaseline: BaselineEntry[] = [];
  if (baseline) {
    const b = applyBaseline(findings, baseline, alias);
    findings = b.kept;
    suppressed.push(...b.suppressed);
    unusedBaseline = b.unused;
  }
  findings.sort(compareFindings);
  suppressed.sort(compareFindings);
  parseErrors.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return {
    target,
    kinds: SCAN_KINDS.filter((k) => scanner.kinds.has(k) && (k !== 'deps' || deps)),
    findings,
    suppressed,
    parseErrors,
    totals,
    rules: ruleCatalog({ ruleSets: scanner.ruleSets, detectors: scanner.detectors, deps }),
    unusedBaseline,
    baselineFile: baseline?.source ?? null,
    depsPolicyFile,
  };
}
