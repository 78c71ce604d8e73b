import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DETECTORS } from '../src/scan/secrets/index.ts';
import {
  BenchFailure,
  type Benchmark,
  type BenchOptions,
  type BenchResult,
  bestOf,
  checkExit,
  judge,
  REPO,
  runProcess,
} from './lib.ts';

/**
 * Secret scanning throughput over this repository's node_modules: `vouch scan
 * node_modules --only secrets` (whole process, start-up included) against
 * ripgrep given the same detector patterns (`rg -c --no-ignore --hidden -e …`),
 * in the same run. vouch does more per match (checksums, decoding, entropy,
 * redaction, suppressions) but only on matches. Target: within 3× of rg.
 *
 * The note adds a full `vouch scan` (misconfiguration rule sets, secrets,
 * dependency policy) of a generated tree of 50,000 files (5,000 with --quick):
 * its time, peak RSS, and rg's time over the same tree with the same patterns.
 */
const MAX_RATIO = 3;

/** The detectors' patterns as ripgrep (Rust regex) reads them. */
export function rgPatterns(): string[] {
  return DETECTORS.map(
    (d) =>
      `${d.pattern.flags.includes('i') ? '(?i)' : ''}${d.pattern.source.replace(/\\\//g, '/')}`,
  );
}

function rgArgs(dir: string): string[] {
  return [
    '-c',
    '--no-ignore',
    '--hidden',
    '--no-messages',
    ...rgPatterns().flatMap((p) => ['-e', p]),
    dir,
  ];
}

async function generateTree(root: string, files: number): Promise<void> {
  const perDir = 500;
  const j = (...p: string[]) => p.join('');
  for (let i = 0; i < files; i++) {
    const dir = join(root, `pkg${Math.floor(i / perDir)}`, `mod${Math.floor((i % perDir) / 50)}`);
    if (i % 50 === 0) await mkdir(dir, { recursive: true });
    let body: string;
    switch (i % 10) {
      case 0:
        body = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm${i}\ndata:\n  key: value${i}\n`;
        break;
      case 1:
        body = `FROM node:22\nRUN npm ci\nCMD ["node", "server${i}.js"]\n`;
        break;
      case 2:
        body =
          i % 1000 === 2
            ? j('DATABASE_URL=postgres://app:', `Zq8v7Hn2Kx${i}`, '@db.internal/app\n')
            : `# settings ${i}\nlevel=info\n`;
        break;
      default:
        body =
          `export function f${i}(a, b) {\n  // module ${i}\n  return a + b * ${i};\n}\n`.repeat(20);
    }
    const ext = ['yaml', 'Dockerfile', 'env'][i % 10] ?? 'js';
    await writeFile(join(dir, ext === 'Dockerfile' ? `Dockerfile.${i}` : `f${i}.${ext}`), body);
  }
}

export const benchmark: Benchmark = {
  name: 'scan',
  async run(options: BenchOptions): Promise<BenchResult> {
    const base = {
      name: 'scan',
      peer: 'rg (ripgrep), same patterns',
      target: `secret scan of node_modules within ${MAX_RATIO}× of rg`,
      maxRatio: MAX_RATIO,
      input: 'node_modules',
    };
    const rgOk = await runProcess('rg', ['--version']);
    if (rgOk.code !== 0)
      return { ...base, status: 'skip', note: 'rg not installed (Debian ripgrep)' };
    const modules = join(REPO, 'node_modules');
    if (!existsSync(modules))
      return { ...base, status: 'skip', note: 'no node_modules (npm ci first)' };
    const one = join(REPO, 'bench', 'scan-one.ts');
    const vouchArgs = [
      one,
      modules,
      '--only',
      'secrets',
      '--include-dir',
      'node_modules',
      '--no-baseline',
      '--format',
      'json',
      '-o',
      '/dev/null',
    ];
    let vouchFiles = 0;
    const vouchRun = async () => {
      const r = checkExit(
        await runProcess(process.execPath, vouchArgs, { stdout: 'ignore' }),
        'vouch scan',
      );
      const m = /(\d+) file\(s\), (\d+) scanned/.exec(r.stderr);
      vouchFiles = Number(m?.[1] ?? 0);
      return r.ms;
    };
    const peerRun = async () => {
      const r = await runProcess('rg', rgArgs(modules), { stdout: 'ignore' });
      // rg exits 1 when nothing matched: that is a result, not a failure.
      if (r.code !== 0 && r.code !== 1) throw new BenchFailure(`rg exited ${r.code}: ${r.stderr}`);
      return r.ms;
    };
    const { vouchMs, peerMs } = await bestOf(options.runs, vouchRun, peerRun, options.log);
    if (vouchFiles < 1000)
      throw new BenchFailure(`vouch saw only ${vouchFiles} files in node_modules`);

    // Full scan of a generated tree: time and peak memory.
    const files = options.quick ? 5_000 : 50_000;
    const tmp = await mkdtemp(join(tmpdir(), 'vouch-bench-scan-'));
    try {
      options.log(`  generating ${files} files`);
      await generateTree(tmp, files);
      const full = checkExit(
        await runProcess(process.execPath, [one, tmp, '--format', 'json', '-o', '/dev/null'], {
          stdout: 'ignore',
        }),
        'vouch scan (tree)',
      );
      const seen = Number(/(\d+) file\(s\)/.exec(full.stderr)?.[1] ?? 0);
      if (seen !== files) throw new BenchFailure(`vouch saw ${seen} of ${files} files`);
      const rss = /maxrss=([\d.]+)/.exec(full.stderr)?.[1] ?? '?';
      const rg = await runProcess('rg', rgArgs(tmp), { stdout: 'ignore' });
      return judge(
        { ...base, input: `node_modules (${vouchFiles} files)` },
        vouchMs,
        peerMs,
        `full vouch scan of ${files} generated files: ${full.ms.toFixed(0)} ms, peak RSS ${rss} MiB; rg same patterns: ${rg.ms.toFixed(0)} ms`,
      );
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  },
};
