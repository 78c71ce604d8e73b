// Runs every bench/*.bench.ts, each in its own node process (so one cannot
// warm or crash another), and prints one table.
//
//   node bench/run.ts [--quick] [--json] [--runs N] [name…]
//
// --quick   smaller inputs (smoke run); --runs N timed runs per side (default 3);
// --json    machine-readable results on stdout instead of the table;
// name…     only the benchmarks with these names (digest, run, verify).
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { BenchFailure, type Benchmark, type BenchResult, REPO, tail } from './lib.ts';

const BENCH_DIR = join(REPO, 'bench');
const SUFFIX = '.bench.ts';

const { values, positionals } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    runs: { type: 'string', default: '3' },
    // Internal: run one benchmark file and print its result as JSON.
    one: { type: 'string' },
  },
  allowPositionals: true,
});

const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  process.stderr.write(`--runs must be a positive integer, got ${values.runs}\n`);
  process.exit(2);
}
const log = (m: string) => process.stderr.write(`${m}\n`);

if (values.one !== undefined) {
  process.stdout.write(`${JSON.stringify(await runOne(values.one))}\n`);
} else {
  await main();
}

async function main(): Promise<void> {
  const files = (await readdir(BENCH_DIR)).filter((f) => f.endsWith(SUFFIX)).sort();
  const wanted = new Set(positionals);
  const selected = files.filter((f) => wanted.size === 0 || wanted.has(basename(f, SUFFIX)));
  for (const w of wanted) {
    if (!files.includes(`${w}${SUFFIX}`)) {
      log(`no benchmark named ${w} (have: ${files.map((f) => basename(f, SUFFIX)).join(', ')})`);
      process.exit(2);
    }
  }
  const results: BenchResult[] = [];
  for (const file of selected) {
    log(`== ${basename(file, SUFFIX)}${values.quick ? ' (quick)' : ''}`);
    results.push(await runChild(file));
  }
  const meta = {
    node: process.version,
    quick: values.quick,
    runs,
    platform: `${process.platform}-${process.arch}`,
  };
  if (values.json) process.stdout.write(`${JSON.stringify({ ...meta, results }, null, 2)}\n`);
  else
    process.stdout.write(
      `${table(results)}\n(${meta.node}, best of ${runs}${values.quick ? ', quick' : ''})\n`,
    );
  process.exitCode = results.some((r) => r.status === 'fail' || r.status === 'error') ? 1 : 0;
}

/** Spawns this script with --one, passing progress through to our stderr. */
function runChild(file: string): Promise<BenchResult> {
  const name = basename(file, SUFFIX);
  const args = [join(BENCH_DIR, 'run.ts'), '--one', file, '--runs', String(runs)];
  if (values.quick) args.push('--quick');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
      process.stderr.write(d);
    });
    const crashed = (why: string): BenchResult => ({
      name,
      input: '',
      peer: '',
      target: '',
      status: 'error',
      note: `${why}: ${tail(stderr, 4)}`,
    });
    child.on('error', (e) => resolve(crashed(e.message)));
    child.on('close', (code, signal) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last) as BenchResult);
      } catch {
        resolve(crashed(signal ? `killed by ${signal}` : `exited ${code} without a result`));
      }
    });
  });
}

/** In the child: import one benchmark and turn any failure into a result row. */
async function runOne(file: string): Promise<BenchResult> {
  const name = basename(file, SUFFIX);
  const row = (status: 'fail' | 'error', note: string): BenchResult => ({
    name,
    input: '',
    peer: '',
    target: '',
    status,
    note,
  });
  let bench: Benchmark;
  try {
    bench = ((await import(join(BENCH_DIR, file))) as { benchmark: Benchmark }).benchmark;
  } catch (e) {
    return row('error', `cannot load ${file}: ${(e as Error).message}`);
  }
  try {
    return await bench.run({ quick: values.quick, runs, log });
  } catch (e) {
    if (e instanceof BenchFailure) return row('fail', e.message);
    return row('error', (e as Error).stack ?? String(e));
  }
}

function table(results: BenchResult[]): string {
  const ms = (v: number | undefined) => (v === undefined ? '-' : `${v.toFixed(v < 10 ? 3 : 1)} ms`);
  const rows = [
    ['benchmark', 'input', 'vouch', 'peer', 'ratio (vouch/peer)', 'target', 'result'],
    ...results.map((r) => [
      r.name,
      r.input,
      ms(r.vouchMs),
      r.peerMs === undefined ? '-' : `${ms(r.peerMs)} (${r.peer})`,
      r.ratio === undefined ? '-' : r.ratio.toFixed(3),
      r.maxRatio === undefined ? '-' : `<= ${r.maxRatio.toFixed(3)} (${r.target})`,
      r.status.toUpperCase(),
    ]),
  ];
  const widths =
    rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  const line = (row: string[]) =>
    row
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const out = [
    line(rows[0] ?? []),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.slice(1).map(line),
  ];
  for (const r of results) if (r.note) out.push(`  ${r.name}: ${r.note.replace(/\n/g, '\n    ')}`);
  return out.join('\n');
}
