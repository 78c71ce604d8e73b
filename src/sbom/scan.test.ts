import assert from 'node:assert/strict';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { VouchError } from '../core/errors.ts';
import { ResultBuilder } from './builder.ts';
import { isFailed, sbomCreated, totalsOf } from './merge.ts';
import type { Reader } from './reader.ts';
import { scanDirectory, scanFile } from './scan.ts';

/**
 * A reader for a made-up format, so the scanner is tested without depending on
 * any real reader: `*.fake` files, one `name@version [dev]` per line, `# deps
 * a -> b` edges, `!entry` lines skipped, `version: 2` unsupported (VouchError),
 * `boom` a reader bug (TypeError). `SIBLING` reads `extra.txt` beside it.
 */
const fakeReader: Reader = {
  name: 'fake',
  matches: (path) => path.endsWith('.fake') || path.endsWith('/.package-lock.json'),
  async read(file) {
    const text = (await file.bytes()).toString('utf8');
    if (text.startsWith('version: 2')) {
      throw new VouchError('USAGE', 'fake lockfile version 2 is not supported', {
        file: file.path,
        field: 'line 1',
      });
    }
    if (text.startsWith('boom')) throw new TypeError('reader bug');
    const b = new ResultBuilder(file.path, 'fake', 'fake v1');
    for (const line of text.split('\n').filter(Boolean)) {
      if (line === 'SIBLING') {
        const extra = await file.sibling('extra.txt');
        b.declare();
        b.add({
          ecosystem: 'generic',
          name: 'sibling',
          version: extra?.toString().trim() ?? 'none',
        });
        continue;
      }
      const edge = /^# deps (\S+) -> (\S+)$/.exec(line);
      if (edge) {
        b.depend(`pkg:generic/${edge[1]}`, `pkg:generic/${edge[2]}`);
        continue;
      }
      b.declare();
      if (line.startsWith('!')) {
        b.skip(line.slice(1), 'marked unmappable');
        continue;
      }
      const [spec, flag] = line.split(' ');
      const [name, version] = (spec as string).split('@') as [string, string];
      b.add({ ecosystem: 'generic', name, version, scope: flag === 'dev' ? 'dev' : 'required' });
    }
    return b.build();
  },
};

async function tree(
  t: { after: (fn: () => Promise<void>) => void },
  files: Record<string, string>,
) {
  const root = await realpath(await mkdtemp(join(tmpdir(), 'vouch-scan-')));
  t.after(() => rm(root, { recursive: true, force: true }));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

const opts = { readers: [fakeReader], created: '2020-01-01T00:00:00Z' };

test('scanDirectory: merges the same package across files, keeps accounting per file', async (t) => {
  const root = await tree(t, {
    'a/x.fake': 'left@1.0.0 dev\nright@2.0.0\n# deps right@2.0.0 -> left@1.0.0\n',
    'b/y.fake': 'left@1.0.0\n!weird entry\n',
    'README.md': 'not a lockfile',
  });
  const sbom = await scanDirectory(root, opts);
  assert.deepEqual(
    sbom.components.map((c) => [c.ref, c.scope, c.foundIn]),
    [
      ['pkg:generic/left@1.0.0', 'required', ['a/x.fake', 'b/y.fake']],
      ['pkg:generic/right@2.0.0', 'required', ['a/x.fake']],
    ],
  );
  assert.deepEqual(sbom.dependencies, [
    { ref: 'pkg:generic/right@2.0.0', dependsOn: ['pkg:generic/left@1.0.0'] },
  ]);
  assert.deepEqual(
    sbom.accounting.map((a) => [a.file, a.declared, a.emitted, a.merged, a.skipped.length]),
    [
      ['a/x.fake', 2, 2, 0, 0],
      ['b/y.fake', 2, 1, 0, 1],
    ],
  );
  assert.deepEqual(sbom.subject, { kind: 'directory', name: root.split('/').pop() });
  assert.equal(sbom.created, '2020-01-01T00:00:00Z');
  assert.equal(sbom.tool.name, 'vouch');
  const totals = totalsOf(sbom);
  assert.equal(totals.declared, 4);
  assert.equal(totals.components, 2);
  assert.equal(totals.emitted, 3);
  assert.equal(totals.skipped, 1);
});

test('scanDirectory: skips .git and .vouch, offers only npm hidden lockfiles under node_modules', async (t) => {
  const root = await tree(t, {
    '.git/x.fake': 'git@1\n',
    '.vouch/x.fake': 'vouch@1\n',
    'node_modules/.package-lock.json': 'installed@1\n',
    'node_modules/dep/x.fake': 'deps-own-dev-setup@1\n',
    'node_modules/dep/node_modules/.package-lock.json': 'nested@1\n',
    'packages/app/node_modules/.package-lock.json': 'app-installed@1\n',
    '.venv/lib/python3.12/site-packages/x.fake': 'python@1\n',
  });
  const sbom = await scanDirectory(root, opts);
  assert.deepEqual(
    sbom.components.map((c) => c.name),
    ['app-installed', 'installed', 'python'],
  );
});

test('scanDirectory: does not follow symbolic links', async (t) => {
  const root = await tree(t, { 'real/x.fake': 'real@1\n' });
  const outside = await tree(t, { 'y.fake': 'outside@1\n' });
  await symlink(outside, join(root, 'link-dir'));
  await symlink(join(root, 'real', 'x.fake'), join(root, 'link.fake'));
  await symlink(root, join(root, 'real', 'loop'));
  const sbom = await scanDirectory(root, opts);
  assert.deepEqual(
    sbom.components.map((c) => [c.name, c.foundIn]),
    [['real', ['real/x.fake']]],
  );
});

test('scanDirectory: ignore globs (a pattern without / matches names at any depth)', async (t) => {
  const root = await tree(t, {
    'x.fake': 'top@1\n',
    'test/fixtures/x.fake': 'fixture@1\n',
    'deep/er/skip.fake': 'skipped@1\n',
  });
  const sbom = await scanDirectory(root, { ...opts, ignore: ['test/**', 'skip.fake'] });
  assert.deepEqual(
    sbom.components.map((c) => c.name),
    ['top'],
  );
});

test('scanDirectory: a reader VouchError stops the scan unless allowPartial', async (t) => {
  const root = await tree(t, {
    'a.fake': 'ok@1\n',
    'b.fake': 'version: 2\n',
    'c.fake': 'version: 2\n',
  });
  await assert.rejects(scanDirectory(root, opts), (e: VouchError) => {
    // The first failure in path order, whatever order the reads finished in.
    assert.equal(e.file, 'b.fake');
    assert.match(e.message, /version 2 is not supported/);
    return true;
  });
  const sbom = await scanDirectory(root, { ...opts, allowPartial: true });
  assert.deepEqual(
    sbom.components.map((c) => c.name),
    ['ok'],
  );
  const failed = sbom.accounting.filter(isFailed);
  assert.deepEqual(
    failed.map((a) => a.file),
    ['b.fake', 'c.fake'],
  );
  assert.match(failed[0]?.incompleteReason ?? '', /^failed: USAGE: b\.fake: line 1: fake lockfile/);
  assert.equal(totalsOf(sbom).failed, 2);
});

test('scanDirectory: a reader bug is never downgraded to a warning', async (t) => {
  const root = await tree(t, { 'a.fake': 'boom\n' });
  await assert.rejects(scanDirectory(root, { ...opts, allowPartial: true }), TypeError);
});

test('scanDirectory: files over the size limit are refused with the file named', async (t) => {
  const root = await tree(t, { 'big.fake': `${'x@1\n'.repeat(100)}` });
  await assert.rejects(scanDirectory(root, { ...opts, maxFileBytes: 50 }), (e: VouchError) => {
    assert.equal(e.code, 'FILE_READ');
    assert.equal(e.file, 'big.fake');
    assert.match(e.message, /larger than the limit of 50 bytes/);
    return true;
  });
});

test('scanDirectory: the result does not depend on concurrency', async (t) => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 30; i++) files[`d${i % 4}/f${i}.fake`] = `p${i % 7}@1\nq${i}@2\n`;
  const root = await tree(t, files);
  const one = await scanDirectory(root, { ...opts, concurrency: 1 });
  const many = await scanDirectory(root, { ...opts, concurrency: 16 });
  assert.deepEqual(many, one);
});

test('scanDirectory: errors for a missing root or a file given as root', async (t) => {
  const root = await tree(t, { 'a.fake': 'a@1\n' });
  await assert.rejects(scanDirectory(join(root, 'nope'), opts), { code: 'FILE_NOT_FOUND' });
  await assert.rejects(scanDirectory(join(root, 'a.fake'), opts), { code: 'FILE_READ' });
});

test('scanFile: one lockfile, siblings beside it; no reader is a usage error', async (t) => {
  const root = await tree(t, {
    'p/lock.fake': 'a@1\nSIBLING\n',
    'p/extra.txt': '9.9\n',
    'p/x.txt': '',
  });
  const sbom = await scanFile(join(root, 'p', 'lock.fake'), opts);
  assert.deepEqual(sbom.subject, { kind: 'file', name: 'lock.fake' });
  assert.deepEqual(
    sbom.components.map((c) => c.ref),
    ['pkg:generic/a@1', 'pkg:generic/sibling@9.9'],
  );
  assert.deepEqual(sbom.accounting[0]?.file, 'lock.fake');
  await assert.rejects(scanFile(join(root, 'p', 'x.txt'), opts), { code: 'USAGE' });
});

test('SourceFile.sibling refuses paths outside the scanned root', async (t) => {
  const root = await tree(t, { 'x.fake': 'a@1\n' });
  const escaping: Reader = {
    name: 'escape',
    matches: (p) => p.endsWith('.fake'),
    async read(file) {
      await file.sibling('../../etc/passwd');
      throw new Error('unreachable');
    },
  };
  await assert.rejects(scanDirectory(root, { ...opts, readers: [escaping] }), {
    code: 'PATH_ESCAPE',
  });
});

test('sbomCreated: SOURCE_DATE_EPOCH in whole seconds; malformed is a usage error', () => {
  assert.equal(sbomCreated({ SOURCE_DATE_EPOCH: '1700000000' }), '2023-11-14T22:13:20Z');
  assert.equal(
    sbomCreated({}, () => new Date('2021-05-06T07:08:09.123Z')),
    '2021-05-06T07:08:09Z',
  );
  assert.throws(() => sbomCreated({ SOURCE_DATE_EPOCH: '17e8' }), { code: 'USAGE' });
  assert.throws(() => sbomCreated({ SOURCE_DATE_EPOCH: '-1' }), { code: 'USAGE' });
});

test('scanDirectory: a root file system puts its os-release distribution in OS package purls', async (t) => {
  const root = await realpath(await mkdtemp(join(tmpdir(), 'vouch-scan-rootfs-')));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, 'usr/lib'), { recursive: true });
  await mkdir(join(root, 'etc'), { recursive: true });
  await mkdir(join(root, 'var/lib/dpkg'), { recursive: true });
  // As on Debian: etc/os-release is a relative link into usr/lib.
  await writeFile(join(root, 'usr/lib/os-release'), 'ID=debian\nVERSION_ID="12"\n');
  await symlink('../usr/lib/os-release', join(root, 'etc/os-release'));
  await writeFile(
    join(root, 'var/lib/dpkg/status'),
    'Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:1.2.13.dfsg-1\n\n',
  );
  const sbom = await scanDirectory(root);
  assert.deepEqual(
    sbom.components.map((c) => c.purl),
    ['pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12'],
  );

  // An os-release link leaving the root is not followed: no distro, not the host's.
  await rm(join(root, 'etc/os-release'));
  await rm(join(root, 'usr/lib/os-release'));
  await symlink('/usr/lib/os-release', join(root, 'etc/os-release'));
  const outside = await scanDirectory(root);
  assert.doesNotMatch(outside.components[0]?.purl ?? '', /distro=/);
});
