// What `vouch run --format in-toto-link` records, compared with in-toto-run
// 1.3.1 (Debian's `in-toto`) on the same tree: a directory given as a path is
// recorded recursively, symbolic links to files and directories are followed
// (a file link by its target's content), dangling links are skipped, and
// in-toto's default excludes (`*.link*`, `.git`, `*.pyc`, `*~`) or the given
// `--exclude` patterns leave paths out; `--base-path` records relative to
// another directory and `--lstrip-paths` cuts prefixes off recorded names (two
// names colliding after that, or overlapping prefixes, fail in both). A link
// out of the working directory is refused (exit 2) where in-toto-run would
// record the file out there.
// `.ci/run` installs the tools; without them every test skips with the reason.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, type TestContext, test } from 'node:test';
import { show as output, vouch } from '../cli/helpers.ts';

const SKIP =
  spawnSync('in-toto-run', ['--version']).status === 0
    ? undefined
    : 'in-toto-run not installed (apt-get install -y in-toto; .ci/run does this)';

function skipWithoutTools(t: TestContext): boolean {
  if (SKIP) t.skip(SKIP);
  return SKIP !== undefined;
}

const temps: string[] = [];
after(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

function ok(cmd: string, args: readonly string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
}

/** A key beside a tree with every kind of entry in-toto-run treats specially. */
function project(): { dir: string; tree: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-intoto-record-'));
  temps.push(dir);
  ok('in-toto-keygen', ['-t', 'ed25519', 'key'], dir);
  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'src', 'sub'), { recursive: true });
  mkdirSync(join(tree, '.git'));
  mkdirSync(join(tree, 'build'));
  writeFileSync(join(tree, 'src', 'a.txt'), 'a\n');
  writeFileSync(join(tree, 'src', 'sub', 'b.txt'), 'b\n');
  writeFileSync(join(tree, 'build', 'c.o'), 'c\n');
  writeFileSync(join(tree, 'crlf.txt'), 'one\r\ntwo\r\n');
  writeFileSync(join(tree, 'mod.pyc'), 'x');
  writeFileSync(join(tree, 'notes~'), 'x');
  writeFileSync(join(tree, 'prev.abcd1234.link'), '{}');
  writeFileSync(join(tree, '.git', 'config'), 'x');
  symlinkSync('src/a.txt', join(tree, 'file-link'));
  symlinkSync('src', join(tree, 'dir-link'));
  symlinkSync('nowhere', join(tree, 'dangling'));
  return { dir, tree };
}

function recorded(file: string): { materials: object; products: object } {
  const { signed } = JSON.parse(readFileSync(file, 'utf8'));
  return { materials: signed.materials, products: signed.products };
}

/** Records the same paths with in-toto-run and with vouch; returns both links' artifacts. */
async function both(
  paths: string[],
  extra: { intoto?: string[]; vouch?: string[] } = {},
): Promise<{ intoto: object; mine: object }> {
  const { dir, tree } = project();
  ok(
    'in-toto-run',
    [
      ...['-n', 'py', '-t', 'ed25519', '-k', '../key', '-d', '..'],
      ...['-m', ...paths, '-p', ...paths, ...(extra.intoto ?? []), '--', 'true'],
    ],
    tree,
  );
  const r = await vouch(
    [
      ...['run', '--format', 'in-toto-link', '--step-name', 'mine', '--key', '../key'],
      ...['--out', '../mine.link', ...(extra.vouch ?? [])],
      ...paths.flatMap((p) => ['--materials', p, '--products', p]),
      ...['--', 'true'],
    ],
    { cwd: tree },
  );
  assert.equal(r.code, 0, output(r));
  const py = spawnSync('sh', ['-c', 'cat py.*.link'], { cwd: dir, encoding: 'utf8' }).stdout;
  writeFileSync(join(dir, 'py.json'), py);
  return { intoto: recorded(join(dir, 'py.json')), mine: recorded(join(dir, 'mine.link')) };
}

describe('vouch run --format in-toto-link records artifacts as in-toto-run 1.3.1 does', () => {
  test('`.`: recursive, links followed, dangling skipped, default excludes', async (t) => {
    if (skipWithoutTools(t)) return;
    const { intoto, mine } = await both(['.']);
    assert.deepEqual(mine, intoto);
    const names = Object.keys((mine as { materials: object }).materials).sort();
    assert.deepEqual(names, [
      'build/c.o',
      'crlf.txt',
      'dir-link/a.txt',
      'dir-link/sub/b.txt',
      'file-link',
      'src/a.txt',
      'src/sub/b.txt',
    ]);
    const m = (mine as { materials: Record<string, { sha256: string }> }).materials;
    assert.equal(m['file-link']?.sha256, m['src/a.txt']?.sha256, 'a file link by its content');
  });

  test('a directory, a file link and ./-prefixed paths, normalised', async (t) => {
    if (skipWithoutTools(t)) return;
    const { intoto, mine } = await both(['src', './file-link', 'build/../crlf.txt']);
    assert.deepEqual(mine, intoto);
    assert.equal(Object.keys((mine as { materials: object }).materials).length, 4);
  });

  test('--exclude replaces the defaults, gitignore-style', async (t) => {
    if (skipWithoutTools(t)) return;
    const excludes = ['build/', 'sub', '*.txt'];
    const { intoto, mine } = await both(['.'], {
      intoto: ['--exclude', ...excludes],
      vouch: excludes.flatMap((e) => ['--exclude', e]),
    });
    assert.deepEqual(mine, intoto);
    const names = Object.keys((mine as { materials: object }).materials).sort();
    assert.ok(names.includes('mod.pyc') && names.includes('prev.abcd1234.link'), names.join());
    assert.ok(!names.some((n) => n.startsWith('build/') || n.endsWith('.txt')), names.join());
  });

  test('--base-path: paths looked up in, and recorded relative to, the base path', async (t) => {
    if (skipWithoutTools(t)) return;
    const { intoto, mine } = await both(['.', 'sub'], {
      intoto: ['--base-path', 'src'],
      vouch: ['--base-path', 'src'],
    });
    assert.deepEqual(mine, intoto);
    assert.deepEqual(Object.keys((mine as { materials: object }).materials).sort(), [
      'a.txt',
      'sub/b.txt',
    ]);
  });

  test('--lstrip-paths: the first matching prefix is cut, with or without its slash', async (t) => {
    if (skipWithoutTools(t)) return;
    const prefixes = ['src', 'build/'];
    const { intoto, mine } = await both(['src', 'build', 'crlf.txt'], {
      intoto: ['--lstrip-paths', ...prefixes],
      vouch: prefixes.flatMap((p) => ['--lstrip-paths', p]),
    });
    assert.deepEqual(mine, intoto);
    assert.deepEqual(Object.keys((mine as { products: object }).products).sort(), [
      '/a.txt',
      '/sub/b.txt',
      'c.o',
      'crlf.txt',
    ]);
  });

  test('--base-path and --lstrip-paths together', async (t) => {
    if (skipWithoutTools(t)) return;
    const { intoto, mine } = await both(['.'], {
      intoto: ['--base-path', 'src', '--lstrip-paths', 'sub/'],
      vouch: ['--base-path', 'src', '--lstrip-paths', 'sub/'],
    });
    assert.deepEqual(mine, intoto);
    assert.deepEqual(Object.keys((mine as { materials: object }).materials).sort(), [
      'a.txt',
      'b.txt',
    ]);
  });

  test('names colliding after --lstrip-paths, or overlapping prefixes, fail in both; no link', async (t) => {
    if (skipWithoutTools(t)) return;
    const cases: { paths: string[]; prefixes: string[]; error: RegExp }[] = [
      // dir-link/a.txt and src/a.txt both become a.txt.
      {
        paths: ['src', 'dir-link'],
        prefixes: ['src/', 'dir-link/'],
        error: /"dir-link\/a\.txt" the name "a\.txt", which is already recorded/,
      },
      // As in in-toto-run, with prefixes a file recorded twice collides with itself.
      {
        paths: ['src', 'src/a.txt'],
        prefixes: ['build/'],
        error: /"src\/a\.txt" the name "src\/a\.txt", which is already recorded/,
      },
      { paths: ['src'], prefixes: ['src', 'src/sub'], error: /one is a prefix of the other/ },
    ];
    for (const { paths, prefixes, error } of cases) {
      const { dir, tree } = project();
      const py = spawnSync(
        'in-toto-run',
        [
          ...['-n', 'py', '-t', 'ed25519', '-k', '../key', '-d', '..'],
          ...['-m', ...paths, '--lstrip-paths', ...prefixes, '--', 'true'],
        ],
        { cwd: tree, encoding: 'utf8' },
      );
      assert.notEqual(py.status, 0, `in-toto-run should fail for ${prefixes.join(' ')}`);
      assert.match(py.stderr, /PrefixError|non unique|left substring/);
      const r = await vouch(
        [
          ...['run', '--format', 'in-toto-link', '--step-name', 'mine', '--key', '../key'],
          ...['--out', '../mine.link'],
          ...paths.flatMap((p) => ['--materials', p]),
          ...prefixes.flatMap((p) => ['--lstrip-paths', p]),
          ...['--', 'true'],
        ],
        { cwd: tree },
      );
      assert.equal(r.code, 2, output(r));
      assert.match(r.stderr, error);
      assert.equal(spawnSync('ls', ['mine.link'], { cwd: dir }).status, 2, 'no link written');
    }
  });

  test('--base-path: default products (changed files) are those under it; a missing one is exit 2', async (t) => {
    if (skipWithoutTools(t)) return;
    const { tree } = project();
    const r = await vouch(
      [
        ...['run', '--format', 'in-toto-link', '--step-name', 's', '--key', '../key'],
        ...['--base-path', 'src', '--lstrip-paths', 'new/', '--json'],
        ...['--', 'sh', '-c', 'mkdir src/new && echo x > src/new/n.txt && echo y > out.txt'],
      ],
      { cwd: tree },
    );
    assert.equal(r.code, 0, output(r));
    assert.deepEqual(Object.keys(JSON.parse(r.stdout).products), ['n.txt']);
    const missing = await vouch(
      [
        ...['run', '--format', 'in-toto-link', '--step-name', 's', '--key', '../key'],
        ...['--base-path', 'nowhere', '--', 'touch', 'ran'],
      ],
      { cwd: tree },
    );
    assert.equal(missing.code, 2, output(missing));
    assert.match(missing.stderr, /--base-path does not exist/);
    assert.equal(spawnSync('ls', ['ran'], { cwd: tree }).status, 2, 'the step did not run');
    const noFormat = await vouch(['run', '--lstrip-paths', 'src/', '--', 'true'], { cwd: tree });
    assert.equal(noFormat.code, 2, output(noFormat));
    assert.match(noFormat.stderr, /--lstrip-paths is for --format in-toto-link/);
  });

  test('a link out of the working directory is refused (exit 2), not recorded', async (t) => {
    if (skipWithoutTools(t)) return;
    const { dir, tree } = project();
    writeFileSync(join(dir, 'outside.txt'), 'secret\n');
    symlinkSync('../outside.txt', join(tree, 'escape'));
    const r = await vouch(
      [
        ...['run', '--format', 'in-toto-link', '--step-name', 's', '--key', '../key'],
        ...['--materials', '.', '--', 'true'],
      ],
      { cwd: tree },
    );
    assert.equal(r.code, 2, output(r));
    assert.match(r.stderr, /PATH_ESCAPE[\s\S]*escape|escape[\s\S]*outside/);
  });
});
