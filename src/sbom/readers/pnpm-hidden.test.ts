// pnpm's hidden lockfile, node_modules/.pnpm/lock.yaml: what `pnpm install` writes into
// the virtual store, read where a project or image has node_modules but no
// pnpm-lock.yaml. The first test runs the real pnpm (9.15.9, fetched by npx from the npm
// registry) on ../shared/bench/lockfiles/pnpm9/small with a dev dependency added, and
// checks that the hidden lockfile it writes is that lockfile less what `--prod` left out;
// the others use the bench lockfile's text as the hidden lockfile on that ground.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { SHARED } from '../../../test/shared.ts';
import { openImage } from '../image/index.ts';
import { writeLayout } from '../image/testing.ts';
import type { Sbom } from '../model.ts';
import { isOffered, scanDirectory, scanSources } from '../scan.ts';
import { pnpmReader } from './pnpm.ts';
import { checkResult, fileOf } from './polyglot-testkit.ts';

const BENCH = join(SHARED, 'bench/lockfiles/pnpm9/small');
const LOCK = readFileSync(join(BENCH, 'pnpm-lock.yaml'), 'utf8');
const MANIFEST = readFileSync(join(BENCH, 'package.json'), 'utf8');
const PNPM = 'pnpm@9.15.9';

/** is-number 7.0.0 as a dev dependency: the blocks pnpm 9 writes for it, placed in the bench lockfile. */
const IS_NUMBER_INTEGRITY =
  'sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng==';
const DEV_BLOCKS: Array<[string, string]> = [
  [
    '        version: 4.22.3\n',
    '    devDependencies:\n      is-number:\n        specifier: 7.0.0\n        version: 7.0.0\n',
  ],
  [
    '\npackages:\n\n',
    `  is-number@7.0.0:\n    resolution: {integrity: ${IS_NUMBER_INTEGRITY}}\n    engines: {node: '>=0.12.0'}\n\n`,
  ],
  ['\nsnapshots:\n\n', '  is-number@7.0.0: {}\n\n'],
];

function withDevDependency(): { lock: string; manifest: string } {
  let lock = LOCK;
  for (const [after, block] of DEV_BLOCKS) {
    const at = lock.indexOf(after);
    assert.ok(at >= 0, `bench lockfile has no ${JSON.stringify(after)}`);
    lock = lock.slice(0, at + after.length) + block + lock.slice(at + after.length);
  }
  const m = JSON.parse(MANIFEST);
  m.devDependencies = { 'is-number': '7.0.0' };
  return { lock, manifest: JSON.stringify(m, null, 2) };
}

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const d = await realpath(await mkdtemp(join(tmpdir(), 'vouch-pnpm-hidden-')));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

async function files(root: string, tree: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(tree)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
}

/** `pnpm install` by npx; undefined when it ran, else why not (no registry here). */
function pnpmInstall(cwd: string, store: string): Promise<string | undefined> {
  // npm's npx from PATH (the Node.js setup's npm ships it).
  const npx = 'npx';
  const args = ['-y', PNPM, 'install', '--frozen-lockfile', '--prod', '--ignore-scripts'];
  return new Promise((res) =>
    execFile(
      npx,
      [...args, '--store-dir', store, '--reporter', 'silent'],
      {
        cwd,
        timeout: 120_000,
        env: { ...process.env, npm_config_update_notifier: 'false', CI: '1' },
      },
      (err, _stdout, stderr) =>
        res(err ? `npx ${PNPM} install failed: ${err.message} ${stderr.slice(-500)}` : undefined),
    ),
  );
}

const purls = (s: Sbom) => s.components.map((c) => c.purl);
const origin = (s: Sbom, purl: string) => {
  const c = s.components.find((x) => x.purl === purl);
  return c && [c.scope, c.foundIn];
};

test('real pnpm install --prod: the hidden lockfile is read, with and without pnpm-lock.yaml, in a tree and an image', async (t) => {
  const dir = await tempDir(t);
  const project = join(dir, 'project');
  const { lock, manifest } = withDevDependency();
  await files(project, { 'pnpm-lock.yaml': lock, 'package.json': manifest });
  const failed = await pnpmInstall(project, join(dir, 'store'));
  if (failed) {
    t.skip(failed);
    return;
  }
  const hidden = await readFile(join(project, 'node_modules/.pnpm/lock.yaml'), 'utf8');
  // What pnpm wrote: the lockfile less the dev dependency --prod did not install.
  assert.equal(hidden, LOCK);

  // Both lockfiles: both read; the dev dependency only in pnpm-lock.yaml, and dev there.
  const both = await scanDirectory(project);
  assert.deepEqual(
    both.accounting.map((a) => [a.file, a.reader, a.format]),
    [
      ['node_modules/.pnpm/lock.yaml', 'pnpm', 'node_modules/.pnpm/lock.yaml v9.0'],
      ['pnpm-lock.yaml', 'pnpm', 'pnpm-lock.yaml v9.0'],
    ],
  );
  const [fromHidden, fromLock] = both.accounting;
  assert.equal(fromHidden?.declared, (fromLock?.declared ?? 0) - 1);
  assert.deepEqual(origin(both, 'pkg:npm/is-number@7.0.0'), ['dev', ['pnpm-lock.yaml']]);
  assert.deepEqual(origin(both, 'pkg:npm/express@4.22.3'), [
    'required',
    ['node_modules/.pnpm/lock.yaml', 'pnpm-lock.yaml'],
  ]);

  // What an image that copied the installed app holds: node_modules and package.json, no
  // pnpm-lock.yaml. A directory npm-installed would read shows the hidden lockfile wins.
  const img = join(dir, 'img');
  await mkdir(join(img, 'app'), { recursive: true });
  execFileSync('cp', [
    '-a',
    join(project, 'node_modules'),
    join(project, 'package.json'),
    `${img}/app/`,
  ]);
  await files(img, {
    'app/node_modules/stray/package.json': JSON.stringify({ name: 'stray', version: '1.0.0' }),
  });
  const alone = await scanDirectory(img);
  assert.deepEqual(
    alone.accounting.map((a) => a.file),
    ['app/node_modules/.pnpm/lock.yaml'],
  );
  const installed = purls(both).filter((p) => p !== 'pkg:npm/is-number@7.0.0');
  assert.deepEqual(purls(alone), installed);
  // The project itself, from the package.json two directories above the hidden lockfile.
  assert.deepEqual(alone.roots, ['pkg:npm/bench-small@1.0.0']);
  assert.equal(alone.components.length, 72);
  checkResult({ ...alone, accounting: alone.accounting[0] as Sbom['accounting'][number] });

  // The same tree as an OCI image: the hidden lockfile found in the layer.
  const layout = await writeLayout(join(dir, 'layout'), 'pnpm', [
    {
      compression: 'gzip',
      build: async (d) => {
        execFileSync('cp', ['-a', join(img, 'app'), `${d}/`]);
      },
    },
  ]);
  const image = await openImage(layout.dir);
  const fromImage = await scanSources(image.files(), image.subject);
  assert.deepEqual(
    fromImage.accounting.map((a) => a.file),
    ['app/node_modules/.pnpm/lock.yaml'],
  );
  assert.deepEqual(
    purls(fromImage),
    // In an image the project's package.json is not kept, so no project component.
    installed.filter((p) => p !== 'pkg:npm/bench-small@1.0.0'),
  );

  // Without the hidden lockfile nothing records the tree: installed manifests are read,
  // and pnpm's packages, links into .pnpm, are not there to read (the gap this closes).
  await rm(join(img, 'app/node_modules/.pnpm/lock.yaml'));
  const bare = await scanDirectory(img);
  assert.deepEqual(
    bare.accounting.map((a) => [a.file, a.reader]),
    [['app/node_modules/stray/package.json', 'npm-installed']],
  );
});

test('hidden pnpm lockfile: which files are offered and read, links not followed, hostile importers', async (t) => {
  // Offered only as the outermost node_modules' own .pnpm/lock.yaml.
  assert.ok(isOffered('node_modules/.pnpm/lock.yaml'));
  assert.ok(isOffered('srv/app/node_modules/.pnpm/lock.yaml'));
  assert.ok(!isOffered('node_modules/dep/node_modules/.pnpm/lock.yaml'));
  assert.ok(!isOffered('node_modules/.pnpm/dep@1.0.0/node_modules/dep/pnpm-lock.yaml'));
  assert.ok(!isOffered('node_modules/.pnpm/node_modules/.pnpm/lock.yaml'));
  assert.ok(pnpmReader.matches('node_modules/.pnpm/lock.yaml'));
  assert.ok(pnpmReader.matches('a/node_modules/.pnpm/lock.yaml'));
  assert.ok(!pnpmReader.matches('lock.yaml'));
  assert.ok(!pnpmReader.matches('node_modules/.pnpm/x/lock.yaml'));
  assert.ok(!pnpmReader.matches('.pnpm/lock.yaml'));

  const root = await tempDir(t);
  const stray = JSON.stringify({ name: 'stray', version: '1.0.0' });
  await files(root, {
    'a/node_modules/.pnpm/lock.yaml': LOCK,
    'a/package.json': MANIFEST,
    'a/node_modules/stray/package.json': stray,
    // A published package's own lockfiles are not what was installed.
    'a/node_modules/.pnpm/stray@1.0.0/node_modules/stray/pnpm-lock.yaml': LOCK,
    // Hidden lockfile reached through a link: not followed.
    'outside/lock.yaml': LOCK,
    'b/node_modules/stray/package.json': stray,
  });
  await symlink(join(root, 'outside'), join(root, 'b/node_modules/.pnpm'));
  const sbom = await scanDirectory(root);
  assert.deepEqual(
    sbom.accounting.map((a) => [a.file, a.reader]),
    // b's .pnpm is a link out of node_modules: not a hidden lockfile, so b's
    // installed manifests are read instead.
    [
      ['a/node_modules/.pnpm/lock.yaml', 'pnpm'],
      ['b/node_modules/stray/package.json', 'npm-installed'],
    ],
  );

  // The same list of files as an image gives: the hidden lockfile wins over manifests.
  const source = (path: string, text: string) => ({
    path,
    bytes: async () => Buffer.from(text),
    sibling: async () => undefined,
  });
  const image = await scanSources(
    [
      source('app/node_modules/.pnpm/lock.yaml', LOCK),
      source('app/node_modules/stray/package.json', stray),
    ],
    { kind: 'image', name: 'img' },
  );
  assert.deepEqual(
    image.accounting.map((a) => a.file),
    ['app/node_modules/.pnpm/lock.yaml'],
  );
  assert.equal(image.components.length, 71);

  // Importers are looked up two directories up; one that climbs out finds nothing.
  const hostile = LOCK.replace('\n  .:\n', '\n  ../../../../../../etc:\n');
  assert.notEqual(hostile, LOCK);
  const r = await pnpmReader.read(
    fileOf('node_modules/.pnpm/lock.yaml', hostile, { '../../package.json': MANIFEST }),
  );
  checkResult(r);
  assert.equal(r.accounting.format, 'node_modules/.pnpm/lock.yaml v9.0');
  assert.ok(!r.components.some((c) => c.name === 'bench-small'));
  const named = await pnpmReader.read(
    fileOf('node_modules/.pnpm/lock.yaml', LOCK, { '../../package.json': MANIFEST }),
  );
  assert.deepEqual(named.roots, ['pkg:npm/bench-small@1.0.0']);
  // The link was there to follow.
  assert.ok(existsSync(join(root, 'b/node_modules/.pnpm/lock.yaml')));
});
