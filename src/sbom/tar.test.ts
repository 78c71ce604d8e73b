import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { normaliseTarPath, readTar, type TarEntry } from './tar.ts';

async function* chunks(b: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

async function list(b: Buffer, chunk = 777): Promise<Array<TarEntry & { text?: string }>> {
  const out: Array<TarEntry & { text?: string }> = [];
  for await (const item of readTar(chunks(b, chunk), { name: 't.tar' })) {
    const e: TarEntry & { text?: string } = { ...item.entry };
    if (e.type === 'file' && e.path.endsWith('.txt'))
      e.text = (await item.read(1 << 20)).toString();
    out.push(e);
  }
  return out;
}

describe('tar reader (archives made by GNU tar)', () => {
  let dir: string;
  const long = `${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(120)}.txt`;
  before(async () => {
    dir = await realpath(await mkdtemp(join(tmpdir(), 'vouch-tar-')));
    const tree = join(dir, 'tree');
    await mkdir(join(tree, long, '..'), { recursive: true });
    await writeFile(join(tree, long), 'long name\n');
    await writeFile(join(tree, 'a.txt'), 'a\n');
    await writeFile(join(tree, 'big.bin'), Buffer.alloc(70_000, 7));
    await symlink('../somewhere/else', join(tree, 'link'));
    execFileSync('ln', [join(tree, 'a.txt'), join(tree, 'hard.txt')]);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const format of ['gnu', 'pax'] as const) {
    test(`${format} format: names, links, bodies read and skipped`, async () => {
      const out = join(dir, `${format}.tar`);
      execFileSync('tar', [
        `--format=${format}`,
        '--sort=name',
        '-cf',
        out,
        '-C',
        join(dir, 'tree'),
        '.',
      ]);
      const bytes = await readFile(out);
      for (const chunk of [1, 512, 777, 1 << 20]) {
        const entries = await list(bytes, chunk);
        const by = new Map(entries.map((e) => [e.path, e]));
        assert.equal(by.get('')?.type, 'directory');
        assert.equal(by.get('a.txt')?.text, 'a\n');
        assert.equal(by.get(long)?.text, 'long name\n');
        assert.equal(by.get('big.bin')?.size, 70_000);
        assert.deepEqual(
          [by.get('link')?.type, by.get('link')?.linkname],
          ['symlink', '../somewhere/else'],
        );
        // One of the two names is the hard link, normalised like a path.
        const hard = entries.find((e) => e.type === 'hardlink');
        assert.ok(hard && ['a.txt', 'hard.txt'].includes(hard.linkname));
      }
    });
  }

  test('ustar format: a name split into prefix and name', async () => {
    const tree = join(dir, 'ustar-tree');
    const name = `${'p'.repeat(90)}/${'q'.repeat(90)}.txt`;
    await mkdir(join(tree, 'p'.repeat(90)), { recursive: true });
    await writeFile(join(tree, name), 'split\n');
    const out = join(dir, 'ustar.tar');
    execFileSync('tar', ['--format=ustar', '-cf', out, '-C', tree, name]);
    const entries = await list(await readFile(out));
    assert.deepEqual(
      entries.map((e) => [e.path, e.text]),
      [[name, 'split\n']],
    );
  });

  test('truncated archives and bad checksums are ARCHIVE_MALFORMED', async () => {
    const bytes = await readFile(join(dir, 'gnu.tar'));
    await assert.rejects(list(bytes.subarray(0, 512 * 5 + 100)), {
      code: 'ARCHIVE_MALFORMED',
      message: /truncated/,
    });
    const bad = Buffer.from(bytes);
    bad[600] = (bad[600] as number) ^ 0xff; // inside the second header
    bad[0] = (bad[0] as number) ^ 0x01;
    await assert.rejects(list(bad), { code: 'ARCHIVE_MALFORMED', message: /checksum/ });
    await assert.rejects(list(Buffer.from('not a tar'.repeat(100))), { code: 'ARCHIVE_MALFORMED' });
  });

  test('paths that leave the root are refused', () => {
    assert.equal(normaliseTarPath('./a//b/./c/', 'x'), 'a/b/c');
    assert.equal(normaliseTarPath('./', 'x'), '');
    for (const p of ['../etc/passwd', 'a/../../b', 'a/../b', '/etc/passwd', 'a\0b']) {
      assert.throws(() => normaliseTarPath(p, 'x'), { code: 'ARCHIVE_UNSAFE' }, p);
    }
  });

  test('limits: entries and path length', async () => {
    const bytes = await readFile(join(dir, 'gnu.tar'));
    const drain = async (limits: object) => {
      for await (const _ of readTar(chunks(bytes, 4096), { name: 't', limits })) {
        // read nothing: bodies are skipped
      }
    };
    await assert.rejects(drain({ maxEntries: 2 }), { code: 'ARCHIVE_TOO_LARGE' });
    await assert.rejects(drain({ maxPathLength: 100 }), { code: 'ARCHIVE_UNSAFE' });
    await assert.rejects(drain({ maxHeaderBytes: 10 }), { code: 'ARCHIVE_TOO_LARGE' });
  });
});
