/**
 * Mutation fuzz of the archive readers: tar (src/sbom/tar.ts, used by images
 * and `repro`), ar (normalize-ar), and `repro normalize` / `repro diff` over
 * tar, tar.gz, zip, gzip, ar and deb made here by the real tar, gzip, zip
 * and ar. Length-field inflation and truncation at every length class are
 * the operators that matter most here. See harness.ts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { diffFiles } from '../../src/repro/diff/diff.ts';
import { normalizeArchive } from '../../src/repro/normalize.ts';
import { parseAr } from '../../src/repro/normalize-ar.ts';
import { readTar } from '../../src/sbom/tar.ts';
import { check } from './harness.ts';

const tmp = mkdtempSync(join(tmpdir(), 'vouch-fuzz-archives-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const sh = (cmd: string, args: string[]) =>
  execFileSync(cmd, args, { cwd: tmp, stdio: ['ignore', 'pipe', 'ignore'] });
const SEEDS: Record<string, Buffer> = {};

before(() => {
  const src = join(tmp, 'src');
  mkdirSync(join(src, 'dir/sub'), { recursive: true });
  writeFileSync(join(src, 'a.txt'), 'hello\n');
  writeFileSync(join(src, 'dir/b.bin'), Buffer.alloc(3000, 7));
  writeFileSync(join(src, `dir/sub/${'long-name-'.repeat(12)}.txt`), 'long name: GNU/PAX header\n');
  execFileSync('ln', ['-s', '../a.txt', join(src, 'dir/link')]);
  sh('tar', ['--format=gnu', '-cf', 'gnu.tar', '-C', src, '.']);
  sh('tar', ['--format=pax', '-cf', 'pax.tar', '-C', src, '.']);
  sh('sh', ['-c', 'gzip -n -c gnu.tar > gnu.tar.gz && gzip -n -c src/a.txt > a.txt.gz']);
  sh('sh', ['-c', 'cd src && zip -qr -X ../app.zip .']);
  sh('sh', ['-c', 'cd src && ar rcD ../lib.a a.txt dir/b.bin']);
  // A .deb the way dpkg-deb lays it out, with gzip members (no xz/zstd process per mutant).
  sh('sh', [
    '-c',
    'mkdir -p deb && printf "2.0\\n" > deb/debian-binary && printf "Package: x\\nVersion: 1\\nArchitecture: all\\n" > deb/control && tar -czf deb/control.tar.gz -C deb control && tar -czf deb/data.tar.gz -C src . && cd deb && ar rcD ../x.deb debian-binary control.tar.gz data.tar.gz',
  ]);
  // Sparse members (tar -S): 6 data runs, more than an old GNU header's 4 slots, and a trailing hole.
  mkdirSync(join(tmp, 'sparse'));
  sh('sh', [
    '-c',
    'truncate -s 300K sparse/s && for i in 0 1 2 3 4 5; do printf "run $i" | dd of=sparse/s bs=1 seek=$((i * 40960 + 3)) conv=notrunc 2>/dev/null; done',
  ]);
  sh('tar', ['--sparse', '--format=gnu', '-cf', 'sparse-gnu.tar', '-C', 'sparse', 's']);
  for (const v of ['0.0', '0.1', '1.0'])
    sh('tar', [
      '--sparse',
      '--format=posix',
      `--sparse-version=${v}`,
      '-cf',
      `sparse-${v}.tar`,
      '-C',
      'sparse',
      's',
    ]);
  for (const f of ['gnu.tar', 'pax.tar', 'gnu.tar.gz', 'a.txt.gz', 'app.zip', 'lib.a', 'x.deb'])
    SEEDS[f] = readFileSync(join(tmp, f));
  for (const f of ['sparse-gnu.tar', 'sparse-0.0.tar', 'sparse-0.1.tar', 'sparse-1.0.tar'])
    SEEDS[f] = readFileSync(join(tmp, f));
});

async function* once(b: Buffer): AsyncIterable<Uint8Array> {
  yield b;
}

describe('fuzz: archive readers', () => {
  test('tar stream (readTar): GNU and PAX', async () => {
    await check(
      {
        name: 'tar',
        kind: 'binary',
        seeds: [SEEDS['gnu.tar'] as Buffer, SEEDS['pax.tar'] as Buffer],
        file: 'layer.tar',
        async run(b, f) {
          let n = 0;
          for await (const item of readTar(once(b), { name: f })) {
            if (n++ % 2 === 0) await item.read(1 << 20);
            else for await (const chunk of item.body()) void chunk;
          }
        },
      },
      assert,
    );
  });

  test('tar stream (readTar): sparse members, old GNU and pax 0.0 / 0.1 / 1.0', async () => {
    await check(
      {
        name: 'tar-sparse',
        kind: 'binary',
        seeds: ['sparse-gnu.tar', 'sparse-0.0.tar', 'sparse-0.1.tar', 'sparse-1.0.tar'].map(
          (f) => SEEDS[f] as Buffer,
        ),
        file: 'layer.tar',
        async run(b, f) {
          // An inflated real size is refused when expanded, not hashed for minutes.
          const limits = { maxSparseBytes: 64 << 20 };
          let n = 0;
          for await (const item of readTar(once(b), { name: f, limits })) {
            if (n++ % 2 === 0) await item.read(1 << 20);
            else for await (const chunk of item.body()) void chunk;
          }
        },
      },
      assert,
    );
  });

  test('ar (parseAr): a static library and a .deb', async () => {
    await check(
      {
        name: 'ar',
        kind: 'binary',
        seeds: [SEEDS['lib.a'] as Buffer, SEEDS['x.deb'] as Buffer],
        file: 'lib.a',
        run: (b, f) => parseAr(b, f),
      },
      assert,
    );
  });

  // normalize and diff read files: each mutant is written to the same path.
  for (const name of ['gnu.tar', 'gnu.tar.gz', 'app.zip', 'a.txt.gz', 'x.deb']) {
    test(`repro normalize: ${name}`, async () => {
      const path = join(tmp, `mutant-${name}`);
      await check(
        {
          name: `normalize-${name}`,
          kind: 'binary',
          seeds: [SEEDS[name] as Buffer],
          file: path,
          mutants: 120,
          async run(b) {
            writeFileSync(path, b);
            await normalizeArchive(path, { mtime: 0, maxBytes: 64 * 1024 * 1024 });
          },
        },
        assert,
      );
    });
  }

  for (const name of ['pax.tar', 'app.zip', 'x.deb']) {
    test(`repro diff: ${name} against its mutant`, async () => {
      const path = join(tmp, `diff-${name}`);
      const orig = join(tmp, name);
      await check(
        {
          name: `diff-${name}`,
          kind: 'binary',
          seeds: [SEEDS[name] as Buffer],
          // Only the mutant (side B) is broken, so errors must name it, never the good A.
          file: `diff-${name}`,
          mutants: 100,
          async run(b) {
            writeFileSync(path, b);
            await diffFiles(orig, path);
          },
        },
        assert,
      );
    });
  }
});
