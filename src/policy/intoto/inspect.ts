import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:os';
import { digestTree } from '../../core/digest.ts';
import { errorMessage, VouchError } from '../../core/errors.ts';
import { DEFAULT_EXCLUDES } from './artifacts.ts';
import type { Artifacts, Link } from './model.ts';
import { fnmatch } from './rules.ts';

/** in-toto 1.3.1's settings.LINK_CMD_EXEC_TIMEOUT. */
export const DEFAULT_INSPECTION_TIMEOUT_SECONDS = 10;

/** The longest timer Node keeps (2^31 - 1 ms), in whole seconds: about 24 days. */
export const MAX_INSPECTION_TIMEOUT_SECONDS = 2_147_483;

/** Bytes of each of stdout and stderr kept (and shown) per inspection; the rest is read and dropped. */
export const INSPECTION_STREAM_LIMIT = 1024 * 1024;

/** @throws VouchError USAGE unless 0 < seconds <= MAX_INSPECTION_TIMEOUT_SECONDS */
export function checkInspectionTimeout(seconds: number): void {
  if (!(seconds > 0 && seconds <= MAX_INSPECTION_TIMEOUT_SECONDS)) {
    throw new VouchError(
      'USAGE',
      `inspection timeout must be more than 0 and at most ${MAX_INSPECTION_TIMEOUT_SECONDS} seconds, got ${seconds}`,
      { field: 'timeoutSeconds' },
    );
  }
}

function excluded(rel: string): boolean {
  const parts = rel.split('/');
  // What in-toto 1.3.1 leaves out when it records an inspection's artifacts.
  return parts.some((part) => DEFAULT_EXCLUDES.some((p) => fnmatch(part, p)));
}

async function recordTree(workdir: string): Promise<Artifacts> {
  const { entries } = await digestTree(workdir, { ignore: excluded });
  const out: Artifacts = {};
  for (const e of entries) out[e.path] = { sha256: e.digest.sha256 as string };
  return out;
}

export interface InspectionOptions {
  /** Seconds before the inspection's whole process group is killed; default 10, as in-toto. */
  timeoutSeconds?: number;
  /** Bytes kept of each stream; default INSPECTION_STREAM_LIMIT. */
  streamLimit?: number;
  env?: NodeJS.ProcessEnv;
}

export interface InspectionRun {
  /** Undefined when the inspection timed out: there is nothing to apply its rules to. */
  link: Link | undefined;
  exitCode: number;
  /** Set when the timeout killed it (and every process it started). */
  timedOut: boolean;
  timeoutSeconds: number;
  /** Bytes of stdout/stderr beyond the limit, read and dropped. */
  dropped: { stdout: number; stderr: number };
}

/** The first `limit` bytes of a stream, and a count of the rest. */
class BoundedCapture {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  dropped = 0;
  private readonly limit: number;
  private readonly show: (text: string) => void;
  private readonly overflow: () => void;
  constructor(limit: number, show: (text: string) => void, overflow: () => void) {
    this.limit = limit;
    this.show = show;
    this.overflow = overflow;
  }
  push(b: Buffer): void {
    const room = this.limit - this.kept;
    const keep = room >= b.length ? b : b.subarray(0, Math.max(0, room));
    if (keep.length > 0) {
      this.chunks.push(keep);
      this.kept += keep.length;
      this.show(keep.toString('utf8'));
    }
    if (keep.length < b.length) {
      if (this.dropped === 0) this.overflow();
      this.dropped += b.length - keep.length;
    }
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

interface Bounded {
  exitCode: number;
  timedOut: boolean;
  stdout: BoundedCapture;
  stderr: BoundedCapture;
}

const FORWARDED = ['SIGINT', 'SIGTERM'] as const;

/** Signals the child's process group (it leads one: spawned detached); gone already is fine. */
function killGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, sig);
  } catch {
    // ESRCH: every process of the group has exited.
  }
}

/**
 * Runs argv (no shell) in its own process group with stdin closed, keeping a
 * bounded amount of its output. At the deadline the whole group is killed
 * (SIGKILL), so a command that started children leaves none behind; when the
 * command exits by itself, what it left running in its group is killed too.
 */
function runBounded(
  argv: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  streamLimit: number,
  name: string,
  log: (m: string) => void,
): Promise<Bounded> {
  const [file, ...args] = argv;
  if (!file) return Promise.reject(new VouchError('USAGE', 'no command given to run'));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: false,
      // Its own process group, so the timeout can kill everything it started.
      detached: true,
    });
    const capture = (stream: 'stdout' | 'stderr') =>
      new BoundedCapture(streamLimit, log, () =>
        log(`\n[inspection ${name}: ${stream} over ${streamLimit} bytes, the rest is dropped]\n`),
      );
    const out = { stdout: capture('stdout'), stderr: capture('stderr') };
    child.stdout?.on('data', (b: Buffer) => out.stdout.push(b));
    child.stderr?.on('data', (b: Buffer) => out.stderr.push(b));

    let started = false;
    let timedOut = false;
    let exitCode: number | undefined;
    const forward = FORWARDED.map((sig) => [sig, () => killGroup(child, sig)] as const);
    const deadline = setTimeout(() => {
      if (exitCode === undefined) timedOut = true;
      killGroup(child, 'SIGKILL');
      // A process that left the group (setsid) may still hold the pipes: stop waiting for them.
      child.stdout?.destroy();
      child.stderr?.destroy();
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(deadline);
      for (const [sig, h] of forward) process.off(sig, h);
    };

    child.once('spawn', () => {
      started = true;
      for (const [sig, h] of forward) process.on(sig, h);
    });
    child.once('error', (e) => {
      if (started) return;
      cleanup();
      reject(
        new VouchError(
          'COMMAND_FAILED_TO_START',
          `cannot start ${JSON.stringify(file)}: ${errorMessage(e)}`,
          { field: 'argv[0]', cause: e },
        ),
      );
    });
    child.once('exit', (code, signal) => {
      // Shell convention: a signal death exits 128 + signal number.
      exitCode = code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1);
      // What it left running in the background goes with it: no orphans of a verification.
      killGroup(child, 'SIGKILL');
    });
    child.once('close', () => {
      cleanup();
      if (!started) return;
      resolve({ exitCode: exitCode ?? 1, timedOut, ...out });
    });
  });
}

/**
 * Runs one inspection command in `workdir` (argv, never a shell) and records
 * its materials and products as in-toto does: every file under the working
 * directory before and after the command. The command has `timeoutSeconds`
 * (default 10, in-toto's LINK_CMD_EXEC_TIMEOUT); past it, the command and
 * every process it started are killed and the run is `timedOut`, with no
 * link. Its stdout and stderr are recorded in the link's byproducts as
 * in-toto's `record_streams` does, each cut at `streamLimit` bytes.
 *
 * @throws VouchError USAGE (bad timeout) | COMMAND_FAILED_TO_START | FILE_NOT_FOUND | FILE_READ
 */
export async function runInspection(
  name: string,
  argv: string[],
  workdir: string,
  log: (m: string) => void,
  options: InspectionOptions = {},
): Promise<InspectionRun> {
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_INSPECTION_TIMEOUT_SECONDS;
  checkInspectionTimeout(timeoutSeconds);
  const materials = await recordTree(workdir);
  const run = await runBounded(
    argv,
    workdir,
    options.env ?? process.env,
    timeoutSeconds * 1000,
    options.streamLimit ?? INSPECTION_STREAM_LIMIT,
    name,
    log,
  );
  const dropped = { stdout: run.stdout.dropped, stderr: run.stderr.dropped };
  if (run.timedOut) {
    return { link: undefined, exitCode: run.exitCode, timedOut: true, timeoutSeconds, dropped };
  }
  return {
    exitCode: run.exitCode,
    timedOut: false,
    timeoutSeconds,
    dropped,
    link: {
      _type: 'link',
      name,
      command: argv,
      materials,
      products: await recordTree(workdir),
      byproducts: {
        stdout: run.stdout.text(),
        stderr: run.stderr.text(),
        'return-value': run.exitCode,
      },
      environment: {},
    },
  };
}
