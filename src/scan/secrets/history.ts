import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { VouchError } from '../../core/errors.ts';
import type { Detector } from './detector.ts';
import { type SecretFinding, scanSecretText } from './scanner.ts';

/** A secret added by a commit: the finding, at the file and line of that commit's version. */
export interface HistoryFinding extends SecretFinding {
  /** The commit (full hex id) whose diff added the line. */
  commit: string;
}

export interface HistoryOptions {
  detectors: readonly Detector[];
  /** Only commits after this revision (`<since>..HEAD`); default: all of HEAD's history. */
  since?: string;
  /** A run of added lines longer than this is scanned in pieces (default 1 MiB). */
  maxHunkChars?: number;
  /**
   * Sees each run of added lines scanned (its text, first line, file) with its
   * findings and returns those to keep: where inline suppressions apply.
   */
  filter?: (
    found: HistoryFinding[],
    text: string,
    firstLine: number,
    file: string,
  ) => HistoryFinding[];
}

export interface HistoryResult {
  findings: HistoryFinding[];
  /** Commits whose diffs were read. */
  commits: number;
}

/** Starts a commit in the log: NUL, then the full id (no line of a diff starts with NUL). */
const COMMIT = /^\0([0-9a-f]{40,64})$/;
const HUNK = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@/;

/**
 * Secrets in the lines every commit of `dir`'s history added (`git log -p`,
 * read as a stream: the history is never held whole). Each finding names the
 * commit, the file and the line in that commit's version of the file, so a
 * secret added and later removed is still reported. Merge commits add nothing
 * of their own and are not diffed; binary files are skipped by git.
 *
 * @throws VouchError SCAN_GIT_HISTORY when git is missing or `dir`/`since` is not usable
 */
export async function scanGitHistory(dir: string, options: HistoryOptions): Promise<HistoryResult> {
  if (options.since !== undefined && (options.since.startsWith('-') || options.since === '')) {
    throw new VouchError('SCAN_GIT_HISTORY', `not a revision: ${JSON.stringify(options.since)}`, {
      field: '--since',
    });
  }
  const args = [
    '-C',
    dir,
    '-c',
    'core.quotePath=false',
    'log',
    '-p',
    '--no-ext-diff',
    '--no-textconv',
    '--no-color',
    '--no-renames',
    '--relative',
    '--unified=0',
    '--diff-filter=AM',
    '--format=%x00%H',
    options.since !== undefined ? `${options.since}..HEAD` : 'HEAD',
    '--',
  ];
  const child = spawn('git', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    if (stderr.length < 4096) stderr += d;
  });
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });

  const max = options.maxHunkChars ?? 1024 * 1024;
  const findings: HistoryFinding[] = [];
  let commits = 0;
  let commit = '';
  let file: string | undefined;
  let block: string[] = [];
  let blockChars = 0;
  let blockStart = 0;
  let nextLine = 0;
  // Between `diff --git` and the first hunk: where `+++ b/<path>` names the file (an added
  // line reading `++ x` is also `+++ x` in the diff, so only the header is trusted).
  let inHeader = false;
  const flush = () => {
    if (block.length > 0 && file !== undefined) {
      const text = block.join('\n');
      const found = scanSecretText(text, file, { detectors: options.detectors }).map((f) => ({
        ...f,
        line: f.line + blockStart - 1,
        ...(f.endLine !== undefined ? { endLine: f.endLine + blockStart - 1 } : {}),
        commit,
      }));
      if (found.length > 0)
        findings.push(...(options.filter ? options.filter(found, text, blockStart, file) : found));
    }
    block = [];
    blockChars = 0;
  };
  const lines = createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) {
      const c = COMMIT.exec(line);
      if (c) {
        flush();
        commit = c[1] as string;
        commits++;
        file = undefined;
        continue;
      }
      if (line.startsWith('diff --git ')) {
        flush();
        file = undefined;
        inHeader = true;
        continue;
      }
      if (inHeader && line.startsWith('+++ ')) {
        flush();
        const path = line.slice(4);
        file = path.startsWith('b/') ? path.slice(2) : path === '/dev/null' ? undefined : path;
        continue;
      }
      const h = HUNK.exec(line);
      if (h) {
        flush();
        inHeader = false;
        nextLine = Number(h[1]);
        blockStart = nextLine;
        continue;
      }
      if (!inHeader && line.startsWith('+') && file !== undefined) {
        if (blockChars > max) {
          flush();
          blockStart = nextLine;
        }
        block.push(line.slice(1));
        blockChars += line.length;
        nextLine++;
      }
    }
    flush();
  } finally {
    lines.close();
  }
  const code = await exited;
  // An empty repository (no HEAD) has no history to scan.
  if (code !== 0 && !/does not have any commits yet|unknown revision or path.*HEAD/s.test(stderr)) {
    throw new VouchError(
      'SCAN_GIT_HISTORY',
      `git log failed: ${stderr.trim().split('\n')[0] ?? `exit ${code}`}`,
      { file: dir },
    );
  }
  return { findings, commits };
}
