import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (bench/..). */
export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface BenchOptions {
  /** Smaller inputs, for a smoke run. */
  quick: boolean;
  /** Timed runs per side; the best (fastest) is reported. */
  runs: number;
  /** Progress goes to stderr, never stdout. */
  log: (message: string) => void;
}

export type BenchStatus = 'pass' | 'fail' | 'skip' | 'error';

export interface BenchResult {
  name: string;
  /** What was measured, e.g. "1024 MiB file". */
  input: string;
  /** Best time of vouch, milliseconds. */
  vouchMs?: number;
  /** Best time of the peer, milliseconds, measured in the same run. */
  peerMs?: number;
  peer: string;
  /** vouch / peer, for every benchmark: lower is better. */
  ratio?: number;
  /** The ratio must be at most this (absent when the benchmark failed before it said). */
  maxRatio?: number;
  /** The target as written in the brief, for people. */
  target: string;
  status: BenchStatus;
  /** Why it was skipped or failed, or extra figures (throughput, per-op time). */
  note?: string;
}

/** One benchmark: a file `bench/<name>.bench.ts` exporting `benchmark`. */
export interface Benchmark {
  name: string;
  run(options: BenchOptions): Promise<BenchResult>;
}

export interface ProcessRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit, milliseconds. */
  ms: number;
}

/**
 * Runs a program to completion and measures its wall time from outside, the
 * way `time` would: start-up included. Never throws for a non-zero exit;
 * callers decide what failure means.
 */
export function runProcess(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; stdout?: 'capture' | 'ignore' } = {},
): Promise<ProcessRun> {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', options.stdout === 'ignore' ? 'ignore' : 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => {
      stdout += d;
    });
    child.stderr?.on('data', (d) => {
      stderr += d;
    });
    child.on('error', (e) => {
      resolve({
        code: null,
        signal: null,
        stdout,
        stderr: `${stderr}${e.message}\n`,
        ms: elapsed(start),
      });
    });
    child.on('close', (code, signal) => {
      resolve({ code, signal, stdout, stderr, ms: elapsed(start) });
    });
  });
}

function elapsed(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Raises with the command's stderr when it did not exit 0. */
export function checkExit(run: ProcessRun, what: string): ProcessRun {
  if (run.code !== 0) {
    const why = run.signal ? `killed by ${run.signal}` : `exited ${run.code}`;
    throw new BenchFailure(`${what} ${why}: ${tail(run.stderr)}`);
  }
  return run;
}

/** A failure of the thing measured (not of the harness): the row is marked failed. */
export class BenchFailure extends Error {
  override readonly name = 'BenchFailure';
}

export function tail(text: string, lines = 8): string {
  const t = text.trim().split('\n').slice(-lines).join('\n');
  return t === '' ? '(no stderr)' : t;
}

/**
 * Alternates vouch and peer `runs` times after one untimed warm-up each,
 * so both see the same cache and machine state; returns the best of each.
 */
export async function bestOf(
  runs: number,
  vouch: () => Promise<number>,
  peer: () => Promise<number>,
  log: (m: string) => void,
): Promise<{ vouchMs: number; peerMs: number }> {
  await vouch();
  await peer();
  let vouchMs = Number.POSITIVE_INFINITY;
  let peerMs = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const v = await vouch();
    const p = await peer();
    log(`  run ${i + 1}/${runs}: vouch ${v.toFixed(1)} ms, peer ${p.toFixed(1)} ms`);
    vouchMs = Math.min(vouchMs, v);
    peerMs = Math.min(peerMs, p);
  }
  return { vouchMs, peerMs };
}

/** Fills in ratio and pass/fail from the two times. */
export function judge(
  base: Omit<BenchResult, 'status' | 'ratio' | 'vouchMs' | 'peerMs'> & { maxRatio: number },
  vouchMs: number,
  peerMs: number,
  note?: string,
): BenchResult {
  const ratio = vouchMs / peerMs;
  const result: BenchResult = {
    ...base,
    vouchMs,
    peerMs,
    ratio,
    status: ratio <= base.maxRatio ? 'pass' : 'fail',
  };
  if (note !== undefined) result.note = note;
  return result;
}
