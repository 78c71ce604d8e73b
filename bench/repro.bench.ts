import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BenchFailure,
  type Benchmark,
  type BenchOptions,
  bestOf,
  judge,
  REPO,
  runProcess,
} from './lib.ts';

const MIB = 1024 * 1024;
const MIN_SPEEDUP = 10;
const MAX_RSS_MB = 300;
const TIME = '/usr/bin/time';

/**
 * `vouch repro diff --json A B` on two ~200 MB tarballs (`--quick`: ~40 MB)
 * that differ in a handful of members — three text files, one binary file
 * with a few changed bytes, one mtime — vs `diffoscope --json` on the same
 * pair, both whole processes timed from outside. Each side's peak RSS comes
 * from GNU time (`/usr/bin/time -f %M`, Debian package `time`) when it is
 * installed. vouch must report every member diffoscope reports.
 */
export const benchmark: Benchmark = {
  name: 'repro',
  async run(options: BenchOptions) {
    const mib = options.quick ? 40 : 200;
    const base = {
      name: 'repro',
      input: `2 × ${mib} MiB tar, 5 differing members`,
      peer: 'diffoscope --json',
      maxRatio: 1 / MIN_SPEEDUP,
      target: `>= ${MIN_SPEEDUP}x faster than diffoscope, peak RSS <= ${MAX_RSS_MB} MB, oracle members`,
    };
    const has = (tool: string) =>
      process.env.PATH?.split(':').some((d) => existsSync(join(d, tool)));
    if (!has('diffoscope'))
      return {
        ...base,
        status: 'skip',
        note: 'diffoscope is not installed (apt-get install diffoscope-minimal)',
      };
    const dir = await mkdtemp(join(tmpdir(), 'vouch-bench-repro-'));
    try {
      options.log(`  writing two ${mib} MiB trees and tarring them`);
      await makePair(dir, mib);
      const timed = existsSync(TIME);
      const wrap = (argv: string[]): [string, string[]] =>
        timed ? [TIME, ['-f', '%M', ...argv]] : [argv[0] as string, argv.slice(1)];
      const rssOf = (stderr: string) =>
        timed ? Number(stderr.trim().split('\n').pop()) / 1024 : Number.NaN;
      let vouchJson = '';
      let peerJson = '';
      let vouchRss = 0;
      let peerRss = 0;
      const vouch = async () => {
        const [cmd, args] = wrap([
          process.execPath,
          join(REPO, 'bin', 'vouch.js'),
          'repro',
          'diff',
          '--json',
          'a.tar',
          'b.tar',
        ]);
        const r = await runProcess(cmd, args, { cwd: dir });
        if (r.code !== 1)
          throw new BenchFailure(`vouch repro diff exited ${r.code}: ${r.stderr.slice(-500)}`);
        vouchJson = r.stdout;
        vouchRss = Math.max(vouchRss, rssOf(r.stderr));
        return r.ms;
      };
      const peer = async () => {
        const [cmd, args] = wrap(['diffoscope', '--json', '-', '--no-progress', 'a.tar', 'b.tar']);
        const r = await runProcess(cmd, args, { cwd: dir });
        if (r.code !== 1)
          throw new BenchFailure(`diffoscope exited ${r.code}: ${r.stderr.slice(-500)}`);
        peerJson = r.stdout;
        peerRss = Math.max(peerRss, rssOf(r.stderr));
        return r.ms;
      };
      const { vouchMs, peerMs } = await bestOf(options.runs, vouch, peer, options.log);
      const ours = new Set(
        (JSON.parse(vouchJson).differences as { path: string }[]).map((d) =>
          d.path.replace(/^a\.tar\//, ''),
        ),
      );
      const theirs = diffoscopeMembers(JSON.parse(peerJson));
      const missed = theirs.filter((m) => !ours.has(m));
      if (missed.length > 0)
        throw new BenchFailure(`vouch misses members diffoscope reports: ${missed.join(', ')}`);
      const rss = timed
        ? `peak RSS vouch ${vouchRss.toFixed(0)} MB, diffoscope ${peerRss.toFixed(0)} MB`
        : 'peak RSS not measured (no GNU time)';
      const result = judge(
        base,
        vouchMs,
        peerMs,
        `${(peerMs / vouchMs).toFixed(1)}x faster; ${rss}; ${theirs.length} members both report`,
      );
      if (timed && vouchRss > MAX_RSS_MB) {
        result.status = 'fail';
        result.note = `${result.note}; vouch RSS over ${MAX_RSS_MB} MB`;
      }
      return result;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

interface DNode {
  source1: string;
  details?: DNode[];
}

function diffoscopeMembers(root: DNode): string[] {
  const out: string[] = [];
  for (const c of root.details ?? []) {
    if (/[\s{}]/.test(c.source1)) continue;
    out.push(c.source1.replace(/^\.\//, ''));
  }
  return out.sort();
}

/** Two trees of incompressible 1 MiB files plus text, tarred with GNU tar; B differs in 5 members. */
async function makePair(dir: string, mib: number): Promise<void> {
  const block = randomBytes(MIB);
  for (const side of ['a', 'b']) {
    const root = join(dir, side, 'tree');
    await mkdir(join(root, 'bin'), { recursive: true });
    await mkdir(join(root, 'doc'), { recursive: true });
    for (let i = 0; i < mib - 2; i++) {
      block.writeUInt32LE(i, 0);
      if (side === 'b' && i === 7) block.writeUInt32LE(0xdeadbeef, 4096);
      const fh = await open(join(root, 'bin', `blob-${String(i).padStart(4, '0')}.bin`), 'w');
      await fh.write(block, 0, MIB);
      await fh.close();
      block.writeUInt32LE(0, 4096);
    }
    for (let i = 0; i < 200; i++) {
      const stamp = side === 'b' && i < 3 ? '2025-02-03 04:05:06' : '2024-01-01 00:00:00';
      await writeFile(
        join(root, 'doc', `page-${i}.txt`),
        `${'lorem ipsum dolor sit amet\n'.repeat(200)}built ${stamp}\n`,
      );
    }
    const t = new Date('2024-01-01T00:00:00Z');
    for (let i = 0; i < 200; i++) await utimes(join(root, 'doc', `page-${i}.txt`), t, t);
    for (let i = 0; i < mib - 2; i++)
      await utimes(join(root, 'bin', `blob-${String(i).padStart(4, '0')}.bin`), t, t);
    if (side === 'b')
      await utimes(
        join(root, 'doc', 'page-100.txt'),
        new Date('2025-01-01T00:00:00Z'),
        new Date('2025-01-01T00:00:00Z'),
      );
    const r = await runProcess('tar', [
      '--sort=name',
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '-cf',
      join(dir, `${side}.tar`),
      '-C',
      join(dir, side),
      'tree',
    ]);
    if (r.code !== 0) throw new BenchFailure(`tar failed: ${r.stderr}`);
    await rm(join(dir, side), { recursive: true, force: true });
  }
}
