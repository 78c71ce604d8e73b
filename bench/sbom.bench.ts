import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SHARED } from '../test/shared.ts';
import {
  BenchFailure,
  type Benchmark,
  type BenchOptions,
  type BenchResult,
  bestOf,
  checkExit,
  REPO,
  runProcess,
} from './lib.ts';

/**
 * Reading one big JavaScript lockfile, start-up included: `node
 * bench/sbom-one.ts LOCKFILE` (READERS, the compile cache on, as bin/vouch.js
 * does) against the fastest peer that reads the same lockfile without
 * installing: @cyclonedx/cyclonedx-npm --package-lock-only for npm, cdxgen
 * (--no-install-deps) for pnpm, yarn and bun. Both are fetched with npx on the
 * first run (untimed). Before timing, vouch's unique name@version set size must
 * equal the oracle's (../shared/bench/oracle-*.mjs). The row reports the
 * worst input; the note lists every input with counts, times and peak RSS.
 */
const SHARED_BENCH = process.env.VOUCH_BENCH_SHARED ?? join(SHARED, 'bench');
const CYCLONEDX_NPM = '@cyclonedx/cyclonedx-npm@6.0.1';
const CDXGEN = '@cyclonedx/cdxgen@12.8.4';
const MAX_RSS_MB = 200;
const MIN_SPEEDUP = 20;

interface Input {
  manager: string;
  file: string;
  oracle: string[];
  peer: 'cyclonedx-npm' | 'cdxgen';
}

const INPUTS: ReadonlyArray<Omit<Input, 'file'> & { name: string }> = [
  {
    manager: 'npm',
    name: 'package-lock.json',
    oracle: ['oracle-npm.mjs', '--source=lockfile'],
    peer: 'cyclonedx-npm',
  },
  { manager: 'pnpm9', name: 'pnpm-lock.yaml', oracle: ['oracle-pnpm.mjs'], peer: 'cdxgen' },
  { manager: 'pnpm8', name: 'pnpm-lock.yaml', oracle: ['oracle-pnpm.mjs'], peer: 'cdxgen' },
  { manager: 'yarn1', name: 'yarn.lock', oracle: ['oracle-yarn.mjs'], peer: 'cdxgen' },
  { manager: 'berry', name: 'yarn.lock', oracle: ['oracle-yarn.mjs'], peer: 'cdxgen' },
  { manager: 'bun', name: 'bun.lock', oracle: ['oracle-bun.mjs'], peer: 'cdxgen' },
];

const run = promisify(execFile);

/**
 * The environment for `node bench/sbom-one.ts`: the compile cache on from
 * start-up (NODE_COMPILE_CACHE, same directory as bin/vouch.js), so the entry
 * script's own type stripping is cached too. bin/vouch.js is JavaScript and
 * never pays for stripping its entry; without this, every timed run would pay
 * ~40 ms (loading Node's TypeScript stripper for the bench's .ts entry) that
 * a user of the CLI does not.
 */
function vouchEnv(): NodeJS.ProcessEnv {
  if (process.env.NODE_COMPILE_CACHE || process.env.VOUCH_NO_COMPILE_CACHE === '1') {
    return process.env;
  }
  const dir = join(
    process.env.XDG_CACHE_HOME || join(homedir(), '.cache'),
    'vouch',
    'node-compile-cache',
  );
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch {
    return process.env;
  }
  return { ...process.env, NODE_COMPILE_CACHE: dir };
}

/** The path of a package's bin, installing it into npx's cache if needed (untimed). */
async function npxBin(
  pkg: string,
  bin: string,
  log: (m: string) => void,
): Promise<string | undefined> {
  log(`  locating ${pkg} (npx may install it once)`);
  try {
    const { stdout } = await run('npx', ['--yes', '-p', pkg, 'which', bin], {
      timeout: 600_000,
      maxBuffer: 1 << 20,
    });
    const path = stdout.trim().split('\n').pop();
    return path && existsSync(path) ? path : undefined;
  } catch (e) {
    log(`  cannot run ${pkg}: ${(e as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

async function oracleCount(args: string[], dir: string): Promise<number> {
  const [script, ...rest] = args as [string, ...string[]];
  const { stdout } = await run(process.execPath, [join(SHARED_BENCH, script), dir, ...rest], {
    maxBuffer: 1 << 28,
  });
  const m = /^# count (\d+)$/m.exec(stdout);
  if (!m) throw new BenchFailure(`oracle ${script} printed no count`);
  return Number(m[1]);
}

export const benchmark: Benchmark = {
  name: 'sbom',
  async run(options: BenchOptions): Promise<BenchResult> {
    const size = options.quick ? 'large' : 'huge';
    const base = {
      name: 'sbom',
      input: `${size} npm/pnpm9/pnpm8/yarn1/berry/bun lockfiles`,
      peer: 'cyclonedx-npm (npm), cdxgen (others)',
      maxRatio: 1 / MIN_SPEEDUP,
      target: `>= ${MIN_SPEEDUP}x faster than the peer on every lockfile, peak RSS <= ${MAX_RSS_MB} MB, oracle count`,
    };
    if (!existsSync(join(SHARED_BENCH, 'lockfiles'))) {
      return { ...base, status: 'skip', note: `no lockfiles under ${SHARED_BENCH}` };
    }
    const bins = {
      'cyclonedx-npm': await npxBin(CYCLONEDX_NPM, 'cyclonedx-npm', options.log),
      cdxgen: await npxBin(CDXGEN, 'cdxgen', options.log),
    };
    const env = vouchEnv();
    const out = await mkdtemp(join(tmpdir(), 'vouch-bench-sbom-'));
    const rows: string[] = [];
    const failures: string[] = [];
    let worst: { ratio: number; vouchMs: number; peerMs: number; peer: string } | undefined;
    try {
      for (const spec of INPUTS) {
        const dir = join(SHARED_BENCH, 'lockfiles', spec.manager, size);
        const file = join(dir, spec.name);
        const expected = await oracleCount(spec.oracle, dir);
        let count = -1;
        let rssMb = 0;
        const vouch = async () => {
          const r = checkExit(
            await runProcess(process.execPath, [join(REPO, 'bench', 'sbom-one.ts'), file], {
              env,
            }),
            `node bench/sbom-one.ts ${spec.manager}`,
          );
          const [c, rss] = r.stdout.trim().split(/\s+/).map(Number);
          count = c ?? -1;
          rssMb = Math.max(rssMb, (rss ?? 0) / 2 ** 20);
          return r.ms;
        };
        const bin = bins[spec.peer];
        const peerArgs =
          spec.peer === 'cyclonedx-npm'
            ? [
                '--package-lock-only',
                '--ignore-npm-errors',
                '--sv',
                '1.6',
                '--of',
                'JSON',
                '-o',
                join(out, 'bom.json'),
              ]
            : [
                '-t',
                'js',
                '--no-install-deps',
                '--spec-version',
                '1.6',
                '-o',
                join(out, 'bom.json'),
                dir,
              ];
        const peer = async () => {
          if (!bin) return Number.NaN;
          const r = checkExit(
            await runProcess(bin, peerArgs, { cwd: dir, stdout: 'ignore' }),
            spec.peer,
          );
          return r.ms;
        };
        options.log(`== ${spec.manager} ${size} (oracle ${expected})`);
        const { vouchMs, peerMs } = await bestOf(options.runs, vouch, peer, options.log);
        if (count !== expected)
          failures.push(`${spec.manager}: ${count} packages, oracle ${expected}`);
        if (rssMb > MAX_RSS_MB) failures.push(`${spec.manager}: peak RSS ${rssMb.toFixed(0)} MB`);
        const ratio = vouchMs / peerMs;
        rows.push(
          `${spec.manager}: ${count}/${expected} pkgs, vouch ${vouchMs.toFixed(0)} ms ${rssMb.toFixed(0)} MB, ` +
            (bin
              ? `${spec.peer} ${peerMs.toFixed(0)} ms, ${(peerMs / vouchMs).toFixed(1)}x`
              : `${spec.peer} not runnable`),
        );
        if (!bin) failures.push(`${spec.manager}: peer ${spec.peer} could not be run`);
        else if (!worst || ratio > worst.ratio) worst = { ratio, vouchMs, peerMs, peer: spec.peer };
      }
    } finally {
      await rm(out, { recursive: true, force: true });
    }
    const note = rows.join('\n');
    if (!worst) return { ...base, status: 'fail', note: `${failures.join('; ')}\n${note}` };
    const over = worst.ratio > base.maxRatio;
    return {
      ...base,
      vouchMs: worst.vouchMs,
      peerMs: worst.peerMs,
      ratio: worst.ratio,
      status: failures.length > 0 || over ? 'fail' : 'pass',
      note: `${failures.length ? `${failures.join('; ')}\n` : ''}worst shown; ${note}`,
    };
  },
};
