// `vouch repro diff` against Debian's diffoscope as the oracle: real archives
// built twice by real tools (tar, npm pack, dpkg-deb, jar) with a varied clock
// and order. Every member diffoscope reports as differing, vouch reports too;
// identical pairs give no differences on either side.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { isolatedEnv, jsonOf, show, tempDir, vouch } from './helpers.ts';

const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const skip = has('diffoscope') ? false : 'diffoscope is not installed (see .ci/run)';

interface DiffoscopeNode {
  source1: string;
  unified_diff?: string | null;
  details?: DiffoscopeNode[];
}

/** Member paths diffoscope reports, relative to the input, with its own layers removed. */
function diffoscopeMembers(dir: string, a: string, b: string): { code: number; members: string[] } {
  const r = spawnSync('diffoscope', ['--json', '-', '--no-progress', a, b], {
    cwd: dir,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status === 0) return { code: 0, members: [] };
  assert.equal(r.status, 1, `diffoscope failed: ${r.stderr}`);
  const root = JSON.parse(r.stdout) as DiffoscopeNode;
  const out = new Set<string>();
  const walk = (n: DiffoscopeNode, parentName: string, prefix: string[]) => {
    for (const c of n.details ?? []) {
      const name = c.source1;
      // Pseudo nodes: "file list", "zipinfo {}", "Pretty-printed", "metadata"…
      if (/[\s{}]/.test(name) || ['metadata', 'encoding', 'Pretty-printed'].includes(name))
        continue;
      const base = parentName.split('/').pop() ?? '';
      const transparent =
        name === `${base}-content` ||
        name === base.replace(/\.(gz|xz|zst|bz2)$/, '') ||
        name === base.replace(/\.tgz$/, '.tar');
      const path = transparent ? prefix : [...prefix, name.replace(/^\.\//, '')];
      if (!transparent) out.add(path.join('/'));
      walk(c, name, path);
    }
  };
  walk(root, root.source1, []);
  return { code: 1, members: [...out].sort() };
}

/** vouch's differing paths relative to the input, with every ancestor of each (an inner difference is one of its container). */
async function vouchMembers(dir: string, a: string, b: string) {
  const r = await vouch(['repro', 'diff', '--json', a, b], { cwd: dir, env: isolatedEnv(dir) });
  const json = jsonOf(r);
  const paths = new Set<string>();
  for (const d of json.differences as { path: string }[]) {
    const parts = d.path.split('/').slice(1);
    for (let i = 1; i <= parts.length; i++)
      paths.add(parts.slice(0, i).join('/').replace(/\/\.$/, ''));
  }
  return { r, json, paths };
}

async function assertOracle(dir: string, a: string, b: string) {
  const oracle = diffoscopeMembers(dir, a, b);
  const mine = await vouchMembers(dir, a, b);
  assert.equal(mine.r.code, oracle.code, show(mine.r));
  assert.ok(oracle.members.length > 0 || oracle.code === 0);
  for (const m of oracle.members)
    assert.ok(
      mine.paths.has(m),
      `diffoscope reports ${m}; vouch does not:\n${[...mine.paths].join('\n')}`,
    );
  return { oracle, mine };
}

const sh = (cwd: string, script: string, env: NodeJS.ProcessEnv = {}) =>
  execFileSync('sh', ['-c', script], { cwd, env: { ...process.env, ...env }, stdio: 'pipe' });

test('tar czf of a tree: different mtimes, order and one file: every member diffoscope sees', {
  skip,
}, async (t) => {
  const dir = await tempDir(t);
  for (const v of ['a', 'b']) {
    await mkdir(join(dir, v, 'tree', 'sub'), { recursive: true });
    await writeFile(join(dir, v, 'tree', 'one.txt'), 'one\n');
    await writeFile(join(dir, v, 'tree', 'sub', 'two.txt'), 'two\n');
    await writeFile(
      join(dir, v, 'tree', 'stamp.txt'),
      v === 'a' ? 'built Mon Jan  1 00:00:00 UTC 2024\n' : 'built Tue Feb  4 04:05:06 UTC 2025\n',
    );
    await writeFile(
      join(dir, v, 'tree', 'data.json'),
      v === 'a' ? '{"b":1,"a":[1,2]}' : '{"a":[1,2],"b":1}',
    );
  }
  sh(
    dir,
    "touch -d '2020-01-01 00:00' a/tree/* a/tree/sub/* && touch -d '2021-06-01 00:00' b/tree/* b/tree/sub/*",
  );
  sh(join(dir, 'a'), 'tar czf ../a.tgz tree/one.txt tree/sub tree/stamp.txt tree/data.json');
  sh(join(dir, 'b'), 'tar czf ../b.tgz tree/data.json tree/stamp.txt tree/sub tree/one.txt');
  const { mine } = await assertOracle(dir, 'a.tgz', 'b.tgz');
  const by = (p: string, kind: string) =>
    mine.json.differences.find(
      (d: { path: string; kind: string }) => d.path === p && d.kind === kind,
    );
  assert.equal(by('a.tgz/tree/stamp.txt', 'content').class, 'timestamp');
  assert.equal(by('a.tgz/tree/data.json', 'content').class, 'json-key-order');
  assert.equal(by('a.tgz/tree/one.txt', 'metadata').class, 'timestamp');
  assert.equal(by('a.tgz', 'order').class, 'file-order');
  assert.match(by('a.tgz', 'order').hint, /sort/);
  // The HTML report names the same members, escaped.
  const html = await vouch(['repro', 'diff', '--html', 'report.html', 'a.tgz', 'b.tgz'], {
    cwd: dir,
    env: isolatedEnv(dir),
  });
  assert.equal(html.code, 1, show(html));
  const page = await readFile(join(dir, 'report.html'), 'utf8');
  assert.match(page, /a\.tgz\/tree\/stamp\.txt/);
  assert.match(page, /<span class="m">-built Mon Jan {2}1 00:00:00 UTC 2024<\/span>/);
  assert.doesNotMatch(page, /<script/);
  // Unchanged content is never a content difference.
  assert.equal(by('a.tgz/tree/one.txt', 'content'), undefined);
});

test('npm pack of a tiny package built twice: pkg.tgz/package/lib/x.js', { skip }, async (t) => {
  const dir = await tempDir(t);
  const env = {
    npm_config_cache: join(dir, 'npm-cache'),
    npm_config_update_notifier: 'false',
    HOME: join(dir, 'home'),
  };
  for (const v of ['a', 'b']) {
    await mkdir(join(dir, v, 'lib'), { recursive: true });
    await writeFile(
      join(dir, v, 'package.json'),
      '{"name":"tiny","version":"1.0.0","files":["lib"]}\n',
    );
    await writeFile(
      join(dir, v, 'lib', 'x.js'),
      `module.exports = { built: '${v === 'a' ? '2024-01-01T00:00:00Z' : '2025-02-03T04:05:06Z'}' };\n`,
    );
    await writeFile(join(dir, v, 'lib', 'same.js'), 'module.exports = 1;\n');
    sh(join(dir, v), 'npm pack --silent --offline >/dev/null', env);
    await mkdir(join(dir, `out-${v}`));
    sh(dir, `mv ${v}/tiny-1.0.0.tgz out-${v}/tiny-1.0.0.tgz`);
  }
  const { mine, oracle } = await assertOracle(dir, 'out-a/tiny-1.0.0.tgz', 'out-b/tiny-1.0.0.tgz');
  assert.deepEqual(oracle.members, ['package/lib/x.js']);
  const x = mine.json.differences.find(
    (d: { path: string }) => d.path === 'tiny-1.0.0.tgz/package/lib/x.js',
  );
  assert.equal(x.class, 'timestamp');
  // npm pack fixes mtimes itself: nothing but x.js differs.
  assert.deepEqual(
    mine.json.differences.map((d: { path: string }) => d.path),
    ['tiny-1.0.0.tgz/package/lib/x.js'],
  );
});

test('a .deb from dpkg-deb --build (ar, xz tars) with another SOURCE_DATE_EPOCH and mtimes', {
  skip,
}, async (t) => {
  const dir = await tempDir(t);
  for (const v of ['a', 'b']) {
    const root = join(dir, v, 'pkg');
    await mkdir(join(root, 'DEBIAN'), { recursive: true });
    await mkdir(join(root, 'usr', 'share', 'doc', 'demo'), { recursive: true });
    await writeFile(
      join(root, 'DEBIAN', 'control'),
      'Package: demo\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.com>\nDescription: demo\n',
    );
    await writeFile(
      join(root, 'usr', 'share', 'doc', 'demo', 'README'),
      `built in ${v === 'a' ? '/build/first' : '/build/second'}\n`,
    );
    await writeFile(join(root, 'usr', 'share', 'doc', 'demo', 'same'), 'same\n');
    sh(dir, `touch -d ${v === 'a' ? '2020-01-01' : '2021-01-01'} ${v}/pkg/usr/share/doc/demo/*`);
    sh(dir, `dpkg-deb --root-owner-group --build ${v}/pkg ${v}.deb >/dev/null`, {
      SOURCE_DATE_EPOCH: v === 'a' ? '1600000000' : '1600000100',
    });
  }
  const { mine } = await assertOracle(dir, 'a.deb', 'b.deb');
  const readme = mine.json.differences.find(
    (d: { path: string; kind: string }) =>
      d.path === 'a.deb/data.tar.xz/usr/share/doc/demo/README' && d.kind === 'content',
  );
  assert.equal(readme.class, 'embedded-build-path');
  assert.ok(
    mine.json.differences.some(
      (d: { path: string; field?: string }) =>
        d.path === 'a.deb/debian-binary' && d.field === 'mtime',
    ),
  );
});

test('a jar from the JDK jar tool under another clock', {
  skip: skip || (!has('jar') && 'no jar tool'),
}, async (t) => {
  const dir = await tempDir(t);
  for (const v of ['a', 'b']) {
    await mkdir(join(dir, v, 'com', 'ex'), { recursive: true });
    await writeFile(
      join(dir, v, 'com', 'ex', 'info.properties'),
      `build.time=${v === 'a' ? '2024-01-01 00:00:00' : '2025-02-03 04:05:06'}\n`,
    );
    await writeFile(join(dir, v, 'com', 'ex', 'same.txt'), 'same\n');
    sh(
      dir,
      `touch -d ${v === 'a' ? '2020-01-01' : '2021-01-01'} ${v}/com/ex/* ${v}/com/ex ${v}/com`,
    );
    sh(join(dir, v), `jar cf ../${v}.jar com`);
  }
  const { mine } = await assertOracle(dir, 'a.jar', 'b.jar');
  const info = mine.json.differences.find(
    (d: { path: string; kind: string }) =>
      d.path === 'a.jar/com/ex/info.properties' && d.kind === 'content',
  );
  assert.equal(info.class, 'timestamp');
  assert.ok(
    mine.json.differences.some(
      (d: { path: string; field?: string; class: string }) =>
        d.path === 'a.jar/com/ex/same.txt' && d.field === 'mtime' && d.class === 'timestamp',
    ),
  );
});

test('identical pairs: a reproducible tar.gz and a .deb built twice give no differences (diffoscope agrees)', {
  skip,
}, async (t) => {
  const dir = await tempDir(t);
  for (const v of ['a', 'b']) {
    await mkdir(join(dir, v, 'tree'), { recursive: true });
    await writeFile(join(dir, v, 'tree', 'x.txt'), 'x\n');
    await writeFile(join(dir, v, 'tree', 'y.txt'), 'y\n');
    sh(
      join(dir, v),
      'tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - tree | gzip -n > ../' +
        v +
        '.tgz',
    );
  }
  const { mine } = await assertOracle(dir, 'a.tgz', 'b.tgz');
  assert.equal(mine.r.code, 0, show(mine.r));
  assert.deepEqual(mine.json.differences, []);
  assert.equal(mine.json.identical, true);
  for (const v of ['a', 'b']) {
    await mkdir(join(dir, v, 'pkg', 'DEBIAN'), { recursive: true });
    await writeFile(
      join(dir, v, 'pkg', 'DEBIAN', 'control'),
      'Package: demo\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.com>\nDescription: demo\n',
    );
    sh(dir, `touch -d 2020-01-01 ${v}/pkg/DEBIAN/control ${v}/pkg/DEBIAN ${v}/pkg`);
    sh(dir, `dpkg-deb --root-owner-group --build ${v}/pkg ${v}.deb >/dev/null`, {
      SOURCE_DATE_EPOCH: '1600000000',
    });
  }
  const deb = await assertOracle(dir, 'a.deb', 'b.deb');
  assert.equal(deb.mine.r.code, 0, show(deb.mine.r));
  assert.deepEqual(deb.mine.json.differences, []);
  // A copy with one byte changed is different (exit 1), like cmp.
  sh(dir, "cp a.tgz c.tgz && printf 'X' | dd of=c.tgz bs=1 seek=20 conv=notrunc 2>/dev/null");
  const changed = await vouch(['repro', 'diff', 'a.tgz', 'c.tgz'], {
    cwd: dir,
    env: isolatedEnv(dir),
  });
  assert.notEqual(changed.code, 0, show(changed));
});
