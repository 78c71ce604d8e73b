import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { scanDirectory, scanSources } from '../scan.ts';
import { npmInstalledReader } from './npm-installed.ts';
import { checkResult, fileOf, rejectsWith } from './polyglot-testkit.ts';

async function tree(
  t: { after: (fn: () => Promise<void>) => void },
  files: Record<string, string>,
) {
  const root = await realpath(await mkdtemp(join(tmpdir(), 'vouch-npm-installed-')));
  t.after(() => rm(root, { recursive: true, force: true }));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

const manifest = (name: string, version: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ name, version, ...extra });

/** A global install as node's images have it: npm and the packages bundled in it. */
const GLOBAL = {
  'usr/lib/node_modules/npm/package.json': manifest('npm', '10.8.2', { license: 'Artistic-2.0' }),
  'usr/lib/node_modules/npm/node_modules/@npmcli/arborist/package.json': manifest(
    '@npmcli/arborist',
    '7.5.4',
    { license: { type: 'ISC' } },
  ),
  'usr/lib/node_modules/npm/node_modules/cross-spawn/package.json': manifest(
    'cross-spawn',
    '7.0.3',
    { licenses: [{ type: 'MIT' }] },
  ),
  // npm nests a second copy where versions conflict.
  'usr/lib/node_modules/npm/node_modules/cross-spawn/node_modules/which/package.json': manifest(
    'which',
    '2.0.2',
  ),
  'usr/lib/node_modules/npm/node_modules/which/package.json': manifest('which', '4.0.0'),
  // Not package roots, or a package's own development set-up: never read.
  'usr/lib/node_modules/npm/node_modules/glob/dist/esm/package.json': '{"type":"module"}',
  'usr/lib/node_modules/npm/node_modules/cross-spawn/yarn.lock': 'not read',
  'usr/lib/node_modules/npm/node_modules/.bin/x/package.json': manifest('bin', '1.0.0'),
};

test('installed manifests: a global install no lockfile describes (npm and its bundled packages)', async (t) => {
  const root = await tree(t, GLOBAL);
  const sbom = await scanDirectory(root);
  assert.deepEqual(
    sbom.components.map((c) => [c.purl, c.licenses]),
    [
      ['pkg:npm/%40npmcli/arborist@7.5.4', ['ISC']],
      ['pkg:npm/cross-spawn@7.0.3', ['MIT']],
      ['pkg:npm/npm@10.8.2', ['Artistic-2.0']],
      ['pkg:npm/which@2.0.2', []],
      ['pkg:npm/which@4.0.0', []],
    ],
  );
  for (const a of sbom.accounting) {
    assert.equal(a.reader, 'npm-installed');
    assert.equal(a.declared, a.emitted + a.merged + a.skipped.length);
  }
  assert.equal(sbom.accounting.length, 5);
});

test('installed manifests: not read where a lockfile records the tree (hidden or beside it)', async (t) => {
  const lock = JSON.stringify({
    name: 'app',
    version: '1.0.0',
    lockfileVersion: 3,
    packages: {
      '': { name: 'app', version: '1.0.0' },
      'node_modules/left-pad': { version: '1.3.0', dev: true },
    },
  });
  const installed = manifest('left-pad', '1.3.0');
  const root = await tree(t, {
    'app/package-lock.json': lock,
    'app/node_modules/left-pad/package.json': installed,
    'hidden/node_modules/.package-lock.json': lock,
    'hidden/node_modules/left-pad/package.json': installed,
    'yarn/yarn.lock': '# yarn lockfile v1\n\n',
    'yarn/node_modules/left-pad/package.json': installed,
    // A workspace's own node_modules is recorded by the lockfile at the top.
    'app/packages/web/node_modules/left-pad/package.json': installed,
  });
  const sbom = await scanDirectory(root);
  assert.deepEqual(
    sbom.accounting.map((a) => a.file),
    ['app/package-lock.json', 'hidden/node_modules/.package-lock.json', 'yarn/yarn.lock'],
  );
  const image = await scanSources(
    [
      ...['app/package-lock.json', 'app/packages/web/node_modules/left-pad/package.json'].map(
        (path) => ({
          path,
          bytes: async () => Buffer.from(path.endsWith('lock.json') ? lock : installed),
          sibling: async () => undefined,
        }),
      ),
    ],
    { kind: 'image', name: 'img' },
  );
  assert.deepEqual(
    image.accounting.map((a) => a.file),
    ['app/package-lock.json'],
  );
  // The lockfile's dev scope stands: no installed manifest overrides it.
  assert.deepEqual(
    sbom.components.map((c) => [c.purl, c.scope]),
    [
      ['pkg:npm/app@1.0.0', 'required'],
      ['pkg:npm/left-pad@1.3.0', 'dev'],
    ],
  );
});

test('installed manifests: the same rule over an image-like list of files (scanSources)', async () => {
  const source = (path: string, text: string) => ({
    path,
    bytes: async () => Buffer.from(text),
    sibling: async () => undefined,
  });
  const files = Object.entries(GLOBAL).map(([p, text]) => source(p, text));
  const sbom = await scanSources(files, { kind: 'image', name: 'img' });
  assert.equal(sbom.components.length, 5);
  const withLock = await scanSources(
    [
      ...files,
      source('usr/lib/node_modules/.package-lock.json', '{"lockfileVersion":3,"packages":{}}'),
    ],
    { kind: 'image', name: 'img' },
  );
  assert.deepEqual(
    withLock.accounting.map((a) => a.file),
    ['usr/lib/node_modules/.package-lock.json'],
  );
});

test('installed manifests: hostile and incomplete files', async () => {
  const read = (text: string) =>
    npmInstalledReader.read(fileOf('node_modules/x/package.json', text));
  await rejectsWith(read('{"name": "x", '), 'LOCKFILE_MALFORMED', 'node_modules/x/package.json');
  const noVersion = await read('{"name": "x"}');
  checkResult(noVersion);
  assert.deepEqual(
    noVersion.accounting.skipped.map((s) => s.reason),
    ['no "version"'],
  );
  const notObject = await read('[1, 2]');
  assert.equal(notObject.accounting.skipped.length, 1);
  const hugeLicence = await read(manifest('x', '1.0.0', { license: 'x'.repeat(10_000) }));
  assert.deepEqual(hugeLicence.components[0]?.licenses, []);
  assert.ok(npmInstalledReader.matches('node_modules/@s/n/package.json'));
  assert.ok(npmInstalledReader.matches('a/node_modules/n/node_modules/m/package.json'));
  assert.ok(!npmInstalledReader.matches('node_modules/n/lib/package.json'));
  assert.ok(!npmInstalledReader.matches('package.json'));
  assert.ok(!npmInstalledReader.matches('node_modules/.bin/package.json'));
});

test("this machine's global node_modules: npm's bundled packages are listed", async (t) => {
  const global = '/usr/lib/node_modules/npm/package.json';
  if (!existsSync(global)) {
    t.skip(`no ${global}`);
    return;
  }
  const sbom = await scanDirectory('/usr/lib');
  const npm = sbom.components.filter((c) =>
    c.foundIn.some((f) => f.startsWith('node_modules/npm/')),
  );
  assert.ok(npm.some((c) => c.name === 'npm'));
  assert.ok(npm.length > 50, `${npm.length} installed packages`);
  // What npm itself says it bundles is there.
  const { readFileSync } = await import('node:fs');
  const own = JSON.parse(readFileSync(global, 'utf8')) as { bundleDependencies?: string[] };
  const names = new Set(npm.map((c) => (c.namespace ? `${c.namespace}/${c.name}` : c.name)));
  for (const dep of own.bundleDependencies ?? []) assert.ok(names.has(dep), dep);
});
