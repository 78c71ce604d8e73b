import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readTar } from './tar.ts';

// Found by test/fuzz: a stream that ends right after the header of an
// empty entry (a directory, an empty file), without the end-of-archive
// marker, asked the byte queue for a zero-length body with no chunk left and
// crashed with a TypeError instead of ending cleanly (it ends at a header
// boundary, which readTar accepts).

async function* once(b: Buffer): AsyncIterable<Uint8Array> {
  yield b;
}

test('a tar cut right after an empty entry header reads that entry and ends', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-tar-'));
  try {
    mkdirSync(join(dir, 'src/d'), { recursive: true });
    writeFileSync(join(dir, 'src/empty'), '');
    execFileSync('tar', [
      '--format=gnu',
      '-cf',
      join(dir, 't.tar'),
      '-C',
      join(dir, 'src'),
      'd',
      'empty',
    ]);
    const tar = readFileSync(join(dir, 't.tar'));
    for (const [cut, names] of [
      [512, ['d']],
      [1024, ['d', 'empty']],
    ] as const) {
      const seen: string[] = [];
      for await (const item of readTar(once(tar.subarray(0, cut)), { name: 't.tar' })) {
        seen.push(item.entry.path);
        assert.equal((await item.read(1024)).length, 0);
      }
      assert.deepEqual(seen, names);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
