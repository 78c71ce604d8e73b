import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectoryStore } from '../src/store/index.ts';
import {
  BenchFailure,
  type Benchmark,
  type BenchOptions,
  bestOf,
  checkExit,
  judge,
  REPO,
  runProcess,
} from './lib.ts';

// The command lines under test. {cli}, {key} and {store} are filled in below;
// both run with the generated tree as working directory.
const VOUCH_RUN = [
  '{cli}',
  'run',
  '--key',
  '{key}',
  '--store',
  '{store}',
  '--',
  'sh',
  '-c',
  'echo built > out.txt',
];
const VOUCH_KEYGEN = ['{cli}', 'keys', 'generate', '--no-passphrase', '--prefix', '{key}'];
const PEER = ['sh', '-c', 'find . -type f -print0 | xargs -0 sha256sum > /dev/null'];
const FLOOR = join(REPO, 'bench', 'floor-hash-tree.mjs');

/** VOUCH_BENCH_CLI points the benchmark at another build of the CLI (a .ts or .js entry). */
// The installed entry point, as users run it (it enables the compile cache).
const CLI = process.env.VOUCH_BENCH_CLI ?? join(REPO, 'bin', 'vouch.js');
/** Names `keys generate --prefix k` might give the private key, most likely first. */
const KEY_CANDIDATES = ['k', 'k.key', 'k.pem', 'k.priv.pem', 'k.private.pem'];

/**
 * `vouch run` over a tree of small files (it digests every file as a
 * material, runs a trivial build, digests the product, signs and stores the
 * provenance) vs hashing the same tree with find | xargs sha256sum. Both are
 * timed as whole processes, start-up included: this is what a CI step pays.
 */
export const benchmark: Benchmark = {
  name: 'run',
  async run(options: BenchOptions) {
    const files = options.quick ? 2_000 : 10_000;
    const base = {
      name: 'run',
      input: `${files} files`,
      peer: 'find | xargs sha256sum',
      maxRatio: 1.0,
      target: 'vouch/peer <= 1.0',
    };
    if (!existsSync(CLI)) {
      return {
        ...base,
        status: 'skip' as const,
        note: 'bin/vouch.js not found',
      };
    }
    const dir = await mkdtemp(join(tmpdir(), 'vouch-bench-run-'));
    try {
      const tree = join(dir, 'tree');
      const store = join(dir, '.vouch');
      options.log(`  creating ${files} files in ${tree}`);
      await makeTree(tree, files);

      const env = { ...process.env };
      delete env.VOUCH_PASSPHRASE;
      const fill = (args: readonly string[], key: string) =>
        args.map((a) => a.replace('{cli}', CLI).replace('{key}', key).replace('{store}', store));

      let keygen = await runProcess(process.execPath, fill(VOUCH_KEYGEN, join(dir, 'k')), {
        cwd: dir,
        env,
      });
      // A VOUCH_BENCH_CLI older than --prefix knows only the old spelling, --out.
      if (keygen.code === 2 && /--prefix/.test(keygen.stderr)) {
        const old = VOUCH_KEYGEN.map((a) => (a === '--prefix' ? '--out' : a));
        keygen = await runProcess(process.execPath, fill(old, join(dir, 'k')), { cwd: dir, env });
      }
      checkExit(keygen, `node ${VOUCH_KEYGEN.join(' ')}`);
      const keyName = KEY_CANDIDATES.find((n) => existsSync(join(dir, n)));
      if (keyName === undefined) {
        throw new BenchFailure(
          `keys generate wrote none of ${KEY_CANDIDATES.join(', ')}; found: ${(await readdir(dir)).join(', ')}`,
        );
      }
      const runArgs = fill(VOUCH_RUN, join(dir, keyName));

      const vouch = async () => {
        // Every run starts from the same state: no product, empty store.
        await rm(join(tree, 'out.txt'), { force: true });
        await rm(store, { recursive: true, force: true });
        const r = await runProcess(process.execPath, runArgs, { cwd: tree, env, stdout: 'ignore' });
        checkExit(r, `node ${VOUCH_RUN.join(' ')}`);
        return r.ms;
      };
      const peer = async () => {
        const [cmd, ...args] = PEER as [string, ...string[]];
        const r = checkExit(
          await runProcess(cmd, args, { cwd: tree, stdout: 'ignore' }),
          PEER.join(' '),
        );
        return r.ms;
      };
      const { vouchMs, peerMs } = await bestOf(options.runs, vouch, peer, options.log);
      // Not judged: what a bare Node walk-and-hash of the same files costs.
      let floorMs = Number.POSITIVE_INFINITY;
      for (let i = 0; i < options.runs; i++) {
        const r = checkExit(
          await runProcess(process.execPath, [FLOOR], { cwd: tree, stdout: 'ignore' }),
          'node bench/floor-hash-tree.mjs',
        );
        floorMs = Math.min(floorMs, r.ms);
      }

      // The run must have left evidence, or it was not doing the job being timed.
      const stored = await new DirectoryStore(store).list();
      if (stored.length !== 1) {
        throw new BenchFailure(
          `vouch run exited 0 but the store holds ${stored.length} bundles, not 1`,
        );
      }
      return judge(
        base,
        vouchMs,
        peerMs,
        `stored ${stored[0]?.predicateType}; runtime floor (bare Node walk + sha256, bench/floor-hash-tree.mjs): ${floorMs.toFixed(1)} ms = ${(floorMs / peerMs).toFixed(2)}x peer`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

/** `files` small files, 100 per directory, each with different content of 100 B to 2 KiB. */
async function makeTree(root: string, files: number): Promise<void> {
  for (let d = 0; d * 100 < files; d++) {
    const sub = join(root, `d${String(d).padStart(3, '0')}`);
    await mkdir(sub, { recursive: true });
    const writes: Promise<void>[] = [];
    for (let f = 0; f < 100 && d * 100 + f < files; f++) {
      const n = d * 100 + f;
      const line = `file ${n} ${'x'.repeat(n % 97)}\n`;
      writes.push(
        writeFile(join(sub, `f${String(f).padStart(3, '0')}.txt`), line.repeat(1 + (n % 20))),
      );
    }
    await Promise.all(writes);
  }
}
