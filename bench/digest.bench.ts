import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

const MIB = 1024 * 1024;

/**
 * sha256 throughput of one large file: vouch's digestFile (core/digest.ts) in
 * a fresh `node` process vs `openssl dgst -sha256`, both timed as whole
 * processes from outside, so each pays its own start-up (node's ~40-60 ms is
 * about 5% of a 1 GiB run). The file is written once and read from the page
 * cache by both sides; both hex outputs must agree.
 */
export const benchmark: Benchmark = {
  name: 'digest',
  async run(options: BenchOptions) {
    const mib = options.quick ? 256 : 1024;
    const base = {
      name: 'digest',
      input: `${mib} MiB file`,
      peer: 'openssl dgst -sha256',
      // openssl time / vouch time >= 0.85, i.e. vouch / openssl <= 1/0.85.
      maxRatio: 1 / 0.85,
      target: 'openssl/vouch >= 0.85',
    };
    const dir = await mkdtemp(join(tmpdir(), 'vouch-bench-digest-'));
    try {
      const file = join(dir, 'blob.bin');
      options.log(`  writing ${mib} MiB to ${file}`);
      await writeRandomish(file, mib);

      let vouchHex = '';
      let peerHex = '';
      const vouch = async () => {
        const r = checkExit(
          await runProcess(process.execPath, [join(REPO, 'bench', 'digest-one.ts'), file]),
          'node bench/digest-one.ts',
        );
        vouchHex = r.stdout.trim();
        return r.ms;
      };
      const peer = async () => {
        // -r prints "<hex> *<file>" on every OpenSSL version.
        const r = checkExit(
          await runProcess('openssl', ['dgst', '-sha256', '-r', file]),
          'openssl',
        );
        peerHex = r.stdout.trim().split(/\s+/)[0] ?? '';
        return r.ms;
      };
      const { vouchMs, peerMs } = await bestOf(options.runs, vouch, peer, options.log);
      if (!/^[0-9a-f]{64}$/.test(vouchHex) || vouchHex !== peerHex) {
        throw new BenchFailure(`digests differ: vouch ${vouchHex}, openssl ${peerHex}`);
      }
      const mbps = (ms: number) => ((mib * MIB) / 1e6 / (ms / 1000)).toFixed(0);
      return judge(
        base,
        vouchMs,
        peerMs,
        `vouch ${mbps(vouchMs)} MB/s, openssl ${mbps(peerMs)} MB/s; openssl/vouch ${(peerMs / vouchMs).toFixed(3)}`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

/**
 * Random-looking content without paying for `mib` MiB of randomness: one
 * random MiB, each copy stamped with its index so no two blocks are equal.
 */
async function writeRandomish(path: string, mib: number): Promise<void> {
  const block = randomBytes(MIB);
  const fh = await open(path, 'w');
  try {
    for (let i = 0; i < mib; i++) {
      block.writeUInt32LE(i, 0);
      block.writeUInt32LE(Math.imul(i, 2654435761) >>> 0, 4);
      await fh.write(block, 0, MIB);
    }
  } finally {
    await fh.close();
  }
}
