import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import {
  access,
  mkdir,
  mkdtemp,
  readFile,
  realpath,
  rm,
  truncate,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { vouch } from '../../test/cli/helpers.ts';
import { readTar, type TarEntry, type TarLimits } from './tar.ts';

// Sparse members (`tar -S`) as Debian's GNU tar writes them: old GNU type
// `S` and pax formats 0.0, 0.1 and 1.0. The expanded bodies are checked
// against what `tar -x` extracts from the same archive.

async function* chunks(b: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Seen {
  entry: TarEntry;
  sha: string;
}

/** Every member's body hashed, read whole (`read`) or streamed (`body`) in turn. */
async function hashAll(
  b: Buffer,
  chunk: number,
  how: 'read' | 'body',
  limits?: Partial<TarLimits>,
): Promise<Map<string, Seen>> {
  const out = new Map<string, Seen>();
  for await (const item of readTar(chunks(b, chunk), { name: 's.tar', limits })) {
    const h = createHash('sha256');
    if (how === 'read') h.update(await item.read(64 << 20));
    else for await (const c of item.body()) h.update(c);
    out.set(item.entry.path, { entry: item.entry, sha: h.digest('hex') });
  }
  return out;
}

function writeAt(file: string, at: number, data: Buffer): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, data, 0, data.length, at);
  } finally {
    closeSync(fd);
  }
}

const FORMATS = [
  ['gnu', ['--format=gnu']],
  ['pax-0.0', ['--format=posix', '--sparse-version=0.0']],
  ['pax-0.1', ['--format=posix', '--sparse-version=0.1']],
  ['pax-1.0', ['--format=posix', '--sparse-version=1.0']],
] as const;

describe('tar reader: sparse members written by GNU tar', () => {
  let dir: string;
  const long = `${'l'.repeat(70)}/${'m'.repeat(70)}.sparse`;
  before(async () => {
    dir = await realpath(await mkdtemp(join(tmpdir(), 'vouch-tar-sparse-')));
    const tree = join(dir, 'tree');
    await mkdir(join(tree, 'l'.repeat(70)), { recursive: true });
    const make = async (p: string, size: number, writes: [number, string][]) => {
      const f = join(tree, p);
      await truncate(f, 0).catch(async () => {
        closeSync(openSync(f, 'w'));
      });
      await truncate(f, size);
      for (const [at, text] of writes) writeAt(f, at, Buffer.from(text));
    };
    // Data in the middle, a hole at the end (GNU tar's zero-length last entry).
    await make('two-runs', 1 << 20, [
      [100_000, 'hello'],
      [700_000, 'world'],
    ]);
    // 30 runs: more than the 4 slots of an old GNU header, so extension headers follow.
    await make(
      'many-runs',
      4 << 20,
      Array.from({ length: 30 }, (_, i) => [i * 131_072 + 7, `run ${i}`] as [number, string]),
    );
    // All hole: the map has no data at all.
    await make('all-hole', 3 << 20, []);
    // Data at both ends: no hole at the end.
    await make('both-ends', 2 << 20, [
      [0, 'head'],
      [(2 << 20) - 4, 'tail'],
    ]);
    await make(long, 1 << 20, [[500_000, 'long name']]);
    await make('lastlog', 32 << 20, [[(32 << 20) - 292, 'x'.repeat(292)]]);
    await make('plain.txt', 0, [[0, 'not sparse\n']]);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const [format, flags] of FORMATS) {
    test(`${format}: expanded bodies match what tar -x extracts`, async () => {
      const archive = join(dir, `${format}.tar`);
      execFileSync('tar', [
        '--sparse',
        ...flags,
        '--sort=name',
        '-cf',
        archive,
        '-C',
        join(dir, 'tree'),
        '.',
      ]);
      const out = join(dir, `x-${format}`);
      await mkdir(out);
      execFileSync('tar', ['-xf', archive, '-C', out]);
      const bytes = await readFile(archive);
      // The archive is small: the holes are not in it.
      assert.ok(bytes.length < 1 << 20, `${bytes.length} bytes`);
      const files = [
        'two-runs',
        'many-runs',
        'all-hole',
        'both-ends',
        long,
        'lastlog',
        'plain.txt',
      ];
      const want = new Map<string, string>();
      for (const f of files) want.set(f, sha(await readFile(join(out, f))));
      // Byte by byte once (a map or run split anywhere), then in blocks of several sizes.
      for (const [chunk, how] of [
        [format === 'pax-1.0' ? 1 : 509, 'body'],
        [777, 'read'],
        [65_536, 'body'],
        [1 << 20, 'read'],
      ] as const) {
        const seen = await hashAll(bytes, chunk, how);
        for (const f of files) {
          const s = seen.get(f);
          assert.ok(s, `${f} listed`);
          assert.equal(s.sha, want.get(f), `${f} (${how}, chunks of ${chunk})`);
          const extracted = (await readFile(join(out, f))).length;
          assert.equal(s.entry.size, extracted, `${f} size`);
        }
        const sparse = (f: string) => seen.get(f)?.entry.sparse;
        assert.equal(sparse('plain.txt'), undefined);
        for (const f of ['two-runs', 'many-runs', 'both-ends', long, 'lastlog']) {
          assert.equal(sparse(f)?.format, format, f);
        }
        assert.equal(sparse('many-runs')?.map.length, 30);
        assert.equal(sparse('two-runs')?.map.length, 2);
        assert.equal(sparse('lastlog')?.storedSize, 4096);
        // The map holds what was written, at its offset.
        const runs = sparse('two-runs')?.map ?? [];
        assert.ok(
          runs[0] && runs[0].offset <= 100_000 && runs[0].offset + runs[0].length > 100_005,
        );
      }
    });
  }

  test('a sparse member over maxSparseBytes is listed, and refused only when its body is asked for', async () => {
    const bytes = await readFile(join(dir, 'gnu.tar'));
    const limits = { maxSparseBytes: 16 << 20 };
    const seen: string[] = [];
    for await (const item of readTar(chunks(bytes, 4096), { name: 'img.tar', limits })) {
      seen.push(item.entry.path);
      if (item.entry.path === 'lastlog') {
        assert.equal(item.entry.size, 32 << 20);
        assert.throws(() => item.body(), {
          code: 'ARCHIVE_TOO_LARGE',
          file: 'img.tar',
          field: /member "\.\/lastlog"/,
          message:
            /sparse member lastlog expands to 33554432 bytes \(4096 stored\), over the limit of 16777216/,
        });
      } else if (item.entry.path === 'plain.txt') {
        // The member after the refused one still reads right.
        assert.equal((await item.read(100)).toString(), 'not sparse\n');
      }
    }
    assert.ok(seen.includes('plain.txt'));
    // The limit is per archive: expansions add up.
    await assert.rejects(hashAll(bytes, 65_536, 'body', { maxSparseBytes: 9 << 20 }), {
      code: 'ARCHIVE_TOO_LARGE',
      message: /over the limit of 9437184 expanded bytes per archive \(\d+ left\)/,
    });
    // read() keeps its own per-member bound, naming the sizes.
    for await (const item of readTar(chunks(bytes, 4096), { name: 'img.tar' })) {
      if (item.entry.path !== 'lastlog') continue;
      await assert.rejects(item.read(1 << 20), {
        code: 'ARCHIVE_TOO_LARGE',
        message: /lastlog is 33554432 bytes \(sparse, 4096 stored\), over the limit of 1048576/,
      });
    }
  });

  test('the same tree as a sparse and as a plain archive: the same bodies', async () => {
    const plain = join(dir, 'plain.tar');
    execFileSync('tar', [
      '--format=gnu',
      '--sort=name',
      '-cf',
      plain,
      '-C',
      join(dir, 'tree'),
      '.',
    ]);
    const a = await hashAll(await readFile(plain), 1 << 16, 'body');
    const b = await hashAll(await readFile(join(dir, 'pax-1.0.tar')), 1 << 16, 'body');
    assert.deepEqual(
      [...a].map(([p, s]) => [p, s.sha, s.entry.size]),
      [...b].map(([p, s]) => [p, s.sha, s.entry.size]),
    );
  });
});

// Hand-built archives for what GNU tar never writes: each must be refused
// with ARCHIVE_MALFORMED naming the archive and the member.

function header(
  name: string,
  flag: string,
  size: number,
  edit?: (b: Buffer) => void,
  magic: 'gnu' | 'ustar' = 'ustar',
): Buffer {
  const b = Buffer.alloc(512);
  b.write(name, 0, 100, 'utf8');
  b.write('0000644\0', 100, 'latin1');
  b.write('0000000\0', 108, 'latin1');
  b.write('0000000\0', 116, 'latin1');
  b.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  b.write('00000000000\0', 136, 'latin1');
  b.write(flag, 156, 'latin1');
  b.write(magic === 'gnu' ? 'ustar  \0' : 'ustar\x0000', 257, 'latin1');
  edit?.(b);
  b.write('        ', 148, 'latin1');
  let sum = 0;
  for (const v of b) sum += v;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return b;
}

const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
const octal = (n: number) => `${n.toString(8).padStart(11, '0')}\0`;

/** An old GNU `S` member: runs in the header's four slots, more in extension blocks. */
function gnuSparse(name: string, real: number, runs: [number, number][], stored: number): Buffer {
  const ext: Buffer[] = [];
  const rest = runs.slice(4);
  for (let i = 0; i < rest.length; i += 21) {
    const e = Buffer.alloc(512);
    rest.slice(i, i + 21).forEach(([o, n], j) => {
      e.write(octal(o), j * 24, 'latin1');
      e.write(octal(n), j * 24 + 12, 'latin1');
    });
    if (i + 21 < rest.length) e[504] = 1;
    ext.push(e);
  }
  const h = header(
    name,
    'S',
    stored,
    (b) => {
      runs.slice(0, 4).forEach(([o, n], j) => {
        b.write(octal(o), 386 + j * 24, 'latin1');
        b.write(octal(n), 386 + j * 24 + 12, 'latin1');
      });
      if (ext.length) b[482] = 1;
      b.write(octal(real), 483, 'latin1');
    },
    'gnu',
  );
  return Buffer.concat([h, ...ext, pad(Buffer.alloc(stored, 0x61))]);
}

function paxRecords(records: [string, string][]): Buffer {
  return Buffer.concat(
    records.map(([k, v]) => {
      const body = ` ${k}=${v}\n`;
      let n = Buffer.byteLength(body) + 1;
      while (String(n).length + Buffer.byteLength(body) !== n) n++;
      return Buffer.from(`${n}${body}`);
    }),
  );
}

function paxMember(name: string, records: [string, string][], data: Buffer, flag = '0'): Buffer {
  const x = paxRecords(records);
  return Buffer.concat([
    header('PaxHeaders/x', 'x', x.length),
    pad(x),
    header(name, flag, data.length),
    pad(data),
  ]);
}

const END = Buffer.alloc(1024);

async function drain(b: Buffer, limits?: Partial<TarLimits>): Promise<void> {
  for await (const item of readTar(chunks(b, 512), { name: 'evil.tar', limits })) {
    for await (const _ of item.body()) {
      // every body expanded
    }
  }
}

const malformed = (member: string, message: RegExp) => ({
  code: 'ARCHIVE_MALFORMED',
  file: 'evil.tar',
  field: new RegExp(`member ${JSON.stringify(member).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
  message,
});

describe('tar reader: hostile sparse maps', () => {
  test('a hand-built old GNU member with extension headers reads as GNU tar would', async () => {
    const runs = Array.from({ length: 30 }, (_, i) => [i * 1000, 10] as [number, number]);
    const bytes = Buffer.concat([gnuSparse('ok', 40_000, runs, 300), END]);
    const seen = await hashAll(bytes, 100, 'read');
    const want = Buffer.alloc(40_000);
    for (const [o, n] of runs) want.fill(0x61, o, o + n);
    assert.equal(seen.get('ok')?.sha, sha(want));
    assert.equal(seen.get('ok')?.entry.sparse?.map.length, 30);
  });

  const cases: [string, Buffer, RegExp][] = [
    [
      'gnu: overlapping runs',
      gnuSparse(
        'g1',
        1000,
        [
          [0, 100],
          [50, 100],
        ],
        200,
      ),
      /entry 1 \(offset 50\) overlaps or precedes the entry before it \(ending at 100\)/,
    ],
    [
      'gnu: unsorted runs',
      gnuSparse(
        'g2',
        1000,
        [
          [500, 10],
          [100, 10],
        ],
        20,
      ),
      /entry 1 \(offset 100\) overlaps/,
    ],
    [
      'gnu: a run past the real size',
      gnuSparse('g3', 1000, [[990, 20]], 20),
      /ends past the real size 1000/,
    ],
    [
      'gnu: more map than data',
      gnuSparse(
        'g4',
        1000,
        [
          [0, 100],
          [200, 100],
        ],
        100,
      ),
      /hold 200 bytes but the member stores 100/,
    ],
    [
      'gnu: more data than map',
      gnuSparse('g5', 1000, [[0, 10]], 100),
      /hold 10 bytes but the member stores 100/,
    ],
    [
      'gnu: a huge run',
      gnuSparse('g6', 1000, [[2 ** 32, 2 ** 32]], 0),
      /ends past the real size 1000/,
    ],
    [
      'pax 0.0: numbytes before offset',
      paxMember(
        'p1',
        [
          ['GNU.sparse.size', '100'],
          ['GNU.sparse.numbytes', '1'],
          ['GNU.sparse.offset', '0'],
        ],
        Buffer.from('a'),
      ),
      /GNU\.sparse\.numbytes where GNU\.sparse\.offset was expected/,
    ],
    [
      'pax 0.0: numblocks disagrees',
      paxMember(
        'p2',
        [
          ['GNU.sparse.size', '100'],
          ['GNU.sparse.numblocks', '3'],
          ['GNU.sparse.offset', '0'],
          ['GNU.sparse.numbytes', '1'],
        ],
        Buffer.from('a'),
      ),
      /numblocks is 3 but the map has 1 entries/,
    ],
    [
      'pax 0.1: not numbers',
      paxMember(
        'p3',
        [
          ['GNU.sparse.size', '100'],
          ['GNU.sparse.map', '0,x'],
        ],
        Buffer.from('a'),
      ),
      /a map number "x" is not a number/,
    ],
    [
      'pax 0.1: odd map',
      paxMember(
        'p4',
        [
          ['GNU.sparse.size', '100'],
          ['GNU.sparse.map', '0,1,5'],
        ],
        Buffer.from('a'),
      ),
      /odd count/,
    ],
    [
      'pax 0.1: overlapping',
      paxMember(
        'p5',
        [
          ['GNU.sparse.size', '100'],
          ['GNU.sparse.map', '0,10,5,1'],
        ],
        Buffer.alloc(11),
      ),
      /entry 1 \(offset 5\) overlaps/,
    ],
    [
      'pax 0.1: no real size',
      paxMember('p6', [['GNU.sparse.map', '0,1']], Buffer.from('a')),
      /without GNU\.sparse\.realsize/,
    ],
    [
      'pax 1.0: a truncated map (count says more than the data holds)',
      paxMember(
        'p7',
        [
          ['GNU.sparse.major', '1'],
          ['GNU.sparse.minor', '0'],
          ['GNU.sparse.name', 'p7'],
          ['GNU.sparse.realsize', '100'],
        ],
        Buffer.from('5\n0\n1\n'),
      ),
      /the map runs past the member's 6 bytes of data/,
    ],
    [
      'pax 1.0: garbage in the map',
      paxMember(
        'p8',
        [
          ['GNU.sparse.major', '1'],
          ['GNU.sparse.minor', '0'],
          ['GNU.sparse.realsize', '100'],
        ],
        pad(Buffer.from('1\n-5\n1\n')),
      ),
      /a map number "-5" is not a number/,
    ],
    [
      'pax 1.0: a number that never ends',
      paxMember(
        'p9',
        [
          ['GNU.sparse.major', '1'],
          ['GNU.sparse.minor', '0'],
          ['GNU.sparse.realsize', '100'],
        ],
        pad(Buffer.from('9'.repeat(40))),
      ),
      /longer than 20 characters/,
    ],
    [
      'pax 1.0: more map than data',
      paxMember(
        'p10',
        [
          ['GNU.sparse.major', '1'],
          ['GNU.sparse.minor', '0'],
          ['GNU.sparse.realsize', '100'],
        ],
        Buffer.concat([pad(Buffer.from('1\n0\n50\n')), Buffer.alloc(10)]),
      ),
      /hold 50 bytes but the member stores 10/,
    ],
    [
      'pax 2.0: unknown version',
      paxMember(
        'p11',
        [
          ['GNU.sparse.major', '2'],
          ['GNU.sparse.minor', '0'],
          ['GNU.sparse.realsize', '100'],
        ],
        Buffer.alloc(0),
      ),
      /sparse format 2\.0 is not supported/,
    ],
    [
      'a sparse map on a directory',
      paxMember(
        'd12/',
        [
          ['GNU.sparse.size', '10'],
          ['GNU.sparse.map', ''],
        ],
        Buffer.alloc(0),
        '5',
      ),
      /not a regular file/,
    ],
  ];
  for (const [what, member, message] of cases) {
    test(what, async () => {
      const name = cString(member, member[156] === 0x78 ? 1024 : 0);
      const withReal = paxName(member) ?? name;
      await assert.rejects(drain(Buffer.concat([member, END])), malformed(withReal, message));
    });
  }

  test('an old GNU extension header cut short: truncated, naming the member', async () => {
    const runs = Array.from({ length: 30 }, (_, i) => [i * 1000, 10] as [number, number]);
    const whole = gnuSparse('cut', 40_000, runs, 300);
    await assert.rejects(drain(whole.subarray(0, 512 + 100)), malformed('cut', /truncated/));
  });

  test('extension headers past maxHeaderBytes', async () => {
    const runs = Array.from({ length: 200 }, (_, i) => [i * 1000, 1] as [number, number]);
    const bytes = Buffer.concat([gnuSparse('ext', 300_000, runs, 200), END]);
    await drain(bytes);
    await assert.rejects(
      drain(bytes, { maxHeaderBytes: 2048 }),
      malformed('ext', /extension headers pass 2048 bytes/),
    );
  });

  test('a huge declared size costs nothing until expanded, then is refused', async () => {
    const huge = 2 ** 50;
    const bytes = Buffer.concat([
      paxMember(
        'huge',
        [
          ['GNU.sparse.size', String(huge)],
          ['GNU.sparse.map', `${huge - 1},1`],
        ],
        Buffer.from('z'),
      ),
      header('after.txt', '0', 3),
      pad(Buffer.from('ok\n')),
      END,
    ]);
    const seen: [string, number][] = [];
    for await (const item of readTar(chunks(bytes, 512), { name: 'evil.tar' })) {
      seen.push([item.entry.path, item.entry.size]);
    }
    assert.deepEqual(seen, [
      ['huge', huge],
      ['after.txt', 3],
    ]);
    await assert.rejects(drain(bytes), {
      code: 'ARCHIVE_TOO_LARGE',
      file: 'evil.tar',
      field: /member "huge"/,
      message: /expands to 1125899906842624 bytes \(1 stored\), over the limit of 4294967296/,
    });
  });
});

describe('tar reader: errors name the member', () => {
  test('a body cut short', async () => {
    const bytes = Buffer.concat([header('dir/a.bin', '0', 2000), Buffer.alloc(700)]);
    await assert.rejects(
      drain(bytes),
      malformed('dir/a.bin', /truncated: stream ends at byte 1212/),
    );
  });
  test('a bad size field', async () => {
    const bytes = header('b.bin', '0', 0, (b) => b.write('12x45678901\0', 124, 'latin1'));
    await assert.rejects(drain(bytes), malformed('b.bin', /bad octal number "12x45678901"/));
  });
  test('a pax size that is not a number, with the pax path as the name', async () => {
    const bytes = paxMember(
      'short',
      [
        ['path', 'the/real/name'],
        ['size', '1e3'],
      ],
      Buffer.alloc(0),
    );
    await assert.rejects(
      drain(bytes),
      malformed('the/real/name', /pax size "1e3" is not a number/),
    );
  });
  test('a multi-volume continuation', async () => {
    const bytes = Buffer.concat([header('vol.bin', 'M', 0, undefined, 'gnu'), END]);
    await assert.rejects(
      drain(bytes),
      malformed('vol.bin', /multi-volume entries are not supported/),
    );
  });
  test('too many entries', async () => {
    const bytes = Buffer.concat([header('a', '0', 0), header('b', '0', 0), END]);
    await assert.rejects(drain(bytes, { maxEntries: 1 }), {
      code: 'ARCHIVE_TOO_LARGE',
      field: /member "b"/,
    });
  });
  test('a malformed pax record names the pax header', async () => {
    const bad = Buffer.from('99 path=x\n');
    const bytes = Buffer.concat([header('PaxHeaders/who', 'x', bad.length), pad(bad), END]);
    await assert.rejects(drain(bytes), {
      code: 'ARCHIVE_MALFORMED',
      field: /pax header "PaxHeaders\/who" at offset 0/,
    });
  });
});

function cString(b: Buffer, at: number): string {
  const s = b.subarray(at, at + 100);
  const end = s.indexOf(0);
  return s.toString('utf8', 0, end < 0 ? 100 : end);
}

/** The member name a pax header gives (GNU.sparse.name, else path), if any. */
function paxName(member: Buffer): string | undefined {
  if (member[156] !== 0x78) return undefined;
  const text = member.subarray(512, 1024).toString('utf8');
  return /GNU\.sparse\.name=([^\n]*)/.exec(text)?.[1] ?? /\bpath=([^\n]*)/.exec(text)?.[1];
}

describe('vouch repro over sparse archives (CLI)', () => {
  let dir: string;
  before(async () => {
    dir = await realpath(await mkdtemp(join(tmpdir(), 'vouch-tar-sparse-cli-')));
    await mkdir(join(dir, 'src'));
    const f = join(dir, 'src', 'f');
    closeSync(openSync(f, 'w'));
    await truncate(f, 1 << 20);
    writeAt(f, 100_000, Buffer.from('hello'));
    const tar = (out: string, ...flags: string[]) =>
      execFileSync('tar', [
        ...flags,
        '--mtime=@0',
        '-cf',
        join(dir, out),
        '-C',
        join(dir, 'src'),
        'f',
      ]);
    tar('plain.tar', '--format=gnu');
    tar('sparse.tar', '--format=gnu', '--sparse');
    // The same file with one byte more, written into what was a hole.
    writeAt(f, 900_000, Buffer.from('!'));
    tar('changed.tar', '--format=posix', '--sparse', '--sparse-version=1.0');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('diff compares the expanded content: equal to the plain archive, a changed hole is found', async () => {
    const same = await vouch(['repro', 'diff', 'plain.tar', 'sparse.tar', '--json'], { cwd: dir });
    assert.equal(same.code, 1, same.stderr); // the archive bytes differ...
    const paths = JSON.parse(same.stdout).differences.map((d: { path: string }) => d.path);
    assert.deepEqual(paths, ['plain.tar']); // ...but no member does
    const changed = await vouch(['repro', 'diff', 'sparse.tar', 'changed.tar', '--json'], {
      cwd: dir,
    });
    assert.equal(changed.code, 1, changed.stderr);
    const diffs = JSON.parse(changed.stdout).differences as { path: string; kind: string }[];
    assert.ok(
      diffs.some((d) => d.path === 'sparse.tar/f' && d.kind === 'content'),
      changed.stdout,
    );
  });

  test('a hostile sparse map: exit 2 naming the archive and the member, nothing written', async () => {
    const bytes = await readFile(join(dir, 'sparse.tar'));
    // The first map entry's offset (header bytes 386..397) moved past the real size.
    const evil = Buffer.from(bytes);
    evil.write(octal(2 << 20), 386, 'latin1');
    evil.write('        ', 148, 'latin1');
    let sum = 0;
    for (const v of evil.subarray(0, 512)) sum += v;
    evil.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    await writeFile(join(dir, 'evil.tar'), evil);
    for (const args of [
      ['repro', 'normalize', 'evil.tar', '-o', 'out.tar'],
      ['repro', 'diff', 'plain.tar', 'evil.tar'],
    ]) {
      const r = await vouch(args, { cwd: dir });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /ARCHIVE_MALFORMED/);
      assert.match(
        r.stderr,
        /evil\.tar: member "f" at offset 0: sparse map: entry 0 .* ends past the real size 1048576/,
      );
    }
    await assert.rejects(access(join(dir, 'out.tar')), { code: 'ENOENT' });
  });
});
