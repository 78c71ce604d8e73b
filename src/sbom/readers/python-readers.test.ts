import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { scanDirectory } from '../scan.ts';
import { pipfileLockReader } from './pipfile-lock.ts';
import { poetryLockReader } from './poetry-lock.ts';
import { byPurl, checkResult, fileAt, fileOf, rejectsWith, VECTORS } from './polyglot-testkit.ts';
import { distInfoReader } from './python-dist-info.ts';
import { pypiName } from './python-name.ts';
import { requirementsReader } from './requirements.ts';
import { uvLockReader } from './uv-lock.ts';

const text = (p: string) => readFileSync(join(VECTORS, p), 'utf8');

test('PEP 503 names', () => {
  assert.equal(pypiName('Foo_Bar.baz--Qux'), 'foo-bar-baz-qux');
  assert.equal(pypiName('backports.tarfile'), 'backports-tarfile');
});

test('requirements.txt: real uv-compiled file with hashes', async () => {
  const p = 'pip-hashes_sigstore-conformance/requirements.txt';
  const r = await requirementsReader.read(fileAt(join(VECTORS, p)));
  checkResult(r);
  // Independent count: requirement lines start in column 0 with name==version.
  const expected = text(p)
    .split('\n')
    .filter((l) => /^[A-Za-z0-9][\w.-]*==/.test(l)).length;
  assert.equal(expected, 28);
  assert.equal(r.components.length, expected);
  assert.equal(r.accounting.declared, expected);
  const at = byPurl(r, 'pkg:pypi/annotated-types@0.8.0');
  assert.deepEqual(
    at.hashes.map((h) => h.value),
    [
      '13b2beaad985e05e2d6407ee4c4f35590b11f8d693a258a561055cac8f64cab7',
      'f072f4d804ea359e4eaf198b1af7a8b0943881a87f31bb764f8bf219bb9419e0',
    ],
  );
  assert.equal(byPurl(r, 'pkg:pypi/betterproto@2.0.0b7').scope, 'required');
  // cffi lists one hash per wheel: count them independently in the text block.
  const block = /^cffi==2\.1\.1((?:.*\\\n)*.*)$/m.exec(text(p))?.[1] ?? '';
  assert.equal(
    byPurl(r, 'pkg:pypi/cffi@2.1.1').hashes.length,
    (block.match(/--hash=sha256:/g) ?? []).length,
  );
});

test('requirements.txt: pins, ranges, URLs, markers, continuations, includes, constraints, cycles', async () => {
  const main = [
    '# top comment',
    '-i https://pypi.org/simple',
    'Django_Rest.Framework[extra1, extra2] == 3.15.1 ; python_version >= "3.8" \\',
    '    --hash=sha256:AAAA0000aaaa0000aaaa0000aaaa0000aaaa0000aaaa0000aaaa0000aaaa0000',
    'requests>=2.0  # a range',
    'flask',
    'numpy===1.26.4',
    'pkg @ https://example.com/pkg-1.0.tar.gz',
    'https://example.com/other-1.0-py3-none-any.whl',
    '-e git+https://github.com/x/y.git#egg=y',
    'wild==1.*',
    '-r sub/dev.txt',
    '-r missing.txt',
    '-c constraints.txt',
  ].join('\n');
  const r = await requirementsReader.read(
    fileOf('requirements.txt', main, {
      'sub/dev.txt': 'pytest==8.0.0\n-r ../requirements.txt\n-r more.txt\n',
      'sub/more.txt': 'attrs==23.1.0\n',
      'constraints.txt': 'flask==3.0.0\nunused==1.0\n',
    }),
  );
  checkResult(r);
  const drf = byPurl(r, 'pkg:pypi/django-rest-framework@3.15.1');
  assert.equal(drf.properties?.['python:markers'], 'python_version >= "3.8"');
  assert.equal(drf.properties?.['python:extras'], 'extra1,extra2');
  assert.equal(
    drf.hashes[0]?.value,
    'aaaa0000aaaa0000aaaa0000aaaa0000aaaa0000aaaa0000aaaa0000aaaa0000',
  );
  byPurl(r, 'pkg:pypi/numpy@1.26.4');
  byPurl(r, 'pkg:pypi/pytest@8.0.0');
  byPurl(r, 'pkg:pypi/attrs@23.1.0'); // include of an include, relative to sub/
  assert.equal(
    byPurl(r, 'pkg:pypi/flask@3.0.0').properties?.['python:pinnedBy'],
    'constraints file',
  );
  assert.ok(!r.components.some((c) => c.name === 'unused'), 'constraints add no packages');
  const reasons = r.accounting.skipped.map((s) => `${s.entry} => ${s.reason}`).join('\n');
  assert.match(reasons, /requests>=2\.0 => unpinned: >=2\.0 is a range/);
  assert.match(reasons, /pkg @ https.* => URL requirement \(name @ url\)/);
  assert.match(reasons, /other-1\.0-py3-none-any\.whl => URL or path requirement/);
  assert.match(reasons, /-e git\+.* => editable requirement/);
  assert.match(reasons, /wild==1\.\* => unpinned/);
  assert.match(reasons, /missing\.txt => included file missing\.txt not found/);
  assert.match(reasons, /include cycle: requirements\.txt -> sub\/dev\.txt -> requirements\.txt/);
  assert.equal(r.accounting.skipped.length, 7);
  assert.equal(r.components.length, 5);
});

test('requirements.txt: an unknown option is an error naming file and line', async () => {
  await rejectsWith(
    requirementsReader.read(fileOf('requirements.txt', 'a==1\n--frobnicate x\n')),
    'LOCKFILE_UNSUPPORTED',
    'requirements.txt',
    /line 2/,
  );
});

test('Pipfile.lock: real pipenv lock, default required, develop dev', async () => {
  const p = 'pipenv_pipenv/Pipfile.lock';
  const r = await pipfileLockReader.read(fileAt(join(VECTORS, p)));
  checkResult(r);
  const doc = JSON.parse(text(p));
  const d = Object.entries(doc.default).map(
    ([k, e]) => `${k}${(e as { version: string }).version}`,
  );
  const v = Object.entries(doc.develop).map(
    ([k, e]) => `${k}${(e as { version: string }).version}`,
  );
  assert.equal(r.accounting.declared, d.length + v.length);
  // Same name and version in both sections is one component (default and develop differ in 4 here).
  assert.equal(r.components.length, new Set([...d, ...v]).size);
  assert.equal(r.accounting.merged, d.length + v.length - new Set([...d, ...v]).size);
  assert.equal(r.components.filter((c) => c.scope === 'required').length, d.length);
  const eg = byPurl(r, 'pkg:pypi/exceptiongroup@1.3.1');
  assert.equal(eg.scope, 'required');
  assert.ok(
    eg.hashes.some(
      (h) => h.value === '8b412432c6055b0b7d14c310000ae93352ed6754f70fa8f7c34141f91c4e3219',
    ),
  );
  assert.equal(eg.properties?.['python:markers'], "python_version >= '3.7'");
  assert.equal(byPurl(r, `pkg:pypi/sphinx@${doc.develop.sphinx.version.slice(2)}`).scope, 'dev');
});

test('Pipfile.lock: unknown spec and malformed JSON', async () => {
  await rejectsWith(
    pipfileLockReader.read(fileOf('Pipfile.lock', '{"_meta":{"pipfile-spec":9},"default":{}}')),
    'LOCKFILE_UNSUPPORTED',
    'Pipfile.lock',
  );
  await rejectsWith(
    pipfileLockReader.read(fileOf('Pipfile.lock', '{"_meta": {')),
    'JSON_MALFORMED',
    'Pipfile.lock',
    /line 1/,
  );
});

test('poetry.lock: real Poetry 2.x lock (lock-version 2.1), groups to scope', async () => {
  const p = 'poetry_poetry/poetry.lock';
  const r = await poetryLockReader.read(fileAt(join(VECTORS, p)));
  checkResult(r);
  const blocks = text(p)
    .split(/^\[\[package\]\]$/m)
    .slice(1);
  assert.equal(blocks.length, 78);
  assert.equal(r.components.length, blocks.length);
  const notMain = blocks.filter((b) => !/^groups = \[.*"main".*\]$/m.test(b)).length;
  assert.equal(r.components.filter((c) => c.scope === 'dev').length, notMain);
  assert.equal(r.accounting.format, 'poetry.lock lock-version 2.1');
  const anyio = byPurl(r, 'pkg:pypi/anyio@4.13.0');
  assert.equal(anyio.scope, 'required');
  assert.ok(
    anyio.hashes.some(
      (h) => h.value === '08b310f9e24a9594186fd75b4f73f4a4152069e3853f1ed8bfbf58369f4ad708',
    ),
  );
  assert.equal(byPurl(r, 'pkg:pypi/cfgv@3.5.0').scope, 'dev');
  assert.ok(
    r.dependencies
      .find((d) => d.ref === 'pkg:pypi/anyio@4.13.0')
      ?.dependsOn.some((t) => t.startsWith('pkg:pypi/idna@')),
  );
});

test('poetry.lock: lock-version 1.1 with category and [metadata.files]; version 9 unsupported; broken TOML', async () => {
  const v1 = [
    '[[package]]',
    'name = "Foo.Bar"',
    'version = "1.0"',
    'category = "dev"',
    'optional = false',
    '',
    '[[package]]',
    'name = "req"',
    'version = "2.0"',
    'category = "main"',
    'optional = true',
    '',
    '[metadata]',
    'lock-version = "1.1"',
    '',
    '[metadata.files]',
    '"Foo.Bar" = [{file = "foo.whl", hash = "sha256:abcd"}]',
    'req = []',
  ].join('\n');
  const r = await poetryLockReader.read(fileOf('poetry.lock', v1));
  checkResult(r);
  assert.equal(byPurl(r, 'pkg:pypi/foo-bar@1.0').scope, 'dev');
  assert.equal(byPurl(r, 'pkg:pypi/foo-bar@1.0').hashes[0]?.value, 'abcd');
  assert.equal(byPurl(r, 'pkg:pypi/req@2.0').scope, 'optional');
  await rejectsWith(
    poetryLockReader.read(fileOf('poetry.lock', '[metadata]\nlock-version = "9.0"\n')),
    'LOCKFILE_UNSUPPORTED',
    'poetry.lock',
    /lock-version 9\.0/,
  );
  await rejectsWith(
    poetryLockReader.read(fileOf('poetry.lock', '[[package]]\nname = "x"\nversion = \n')),
    'LOCKFILE_MALFORMED',
    'poetry.lock',
    /line 3/,
  );
  const truncated = text('poetry_poetry/poetry.lock').slice(0, 5000);
  await rejectsWith(
    poetryLockReader.read(fileOf('poetry.lock', truncated)),
    'LOCKFILE_MALFORMED',
    'poetry.lock',
  );
});

test('uv.lock: real pydantic lock (v1 rev 3), roots, scopes from the graph', async () => {
  const p = 'uv_pydantic/uv.lock';
  const r = await uvLockReader.read(fileAt(join(VECTORS, p)));
  checkResult(r);
  const n = (text(p).match(/^\[\[package\]\]$/gm) ?? []).length;
  assert.equal(n, 176);
  assert.equal(r.components.length, n);
  assert.deepEqual(r.roots, ['pkg:pypi/pydantic', 'pkg:pypi/pydantic-core']);
  assert.equal(byPurl(r, 'pkg:pypi/pydantic').source?.kind, 'file');
  // pydantic's own dependencies are required; an extra is optional; a docs/dev group tool is dev.
  assert.equal(byPurl(r, 'pkg:pypi/annotated-types@0.7.0').scope, 'required');
  assert.equal(byPurl(r, 'pkg:pypi/email-validator@2.2.0').scope, 'optional');
  assert.equal(byPurl(r, 'pkg:pypi/mkdocs@1.6.1').scope, 'dev');
  const git = r.components.find((c) => c.source?.kind === 'git');
  assert.equal(git?.name, 'pydantic-docs');
  assert.ok(
    r.components.every((c) => c.properties?.['uv:reachable'] === undefined),
    'every package reachable from a root',
  );
  const aiohttp = byPurl(r, 'pkg:pypi/aiohttp@3.14.3');
  assert.ok(
    aiohttp.hashes.some(
      (h) => h.value === '9491196535a88924a60afd5b5f434b5b203b6cc616250878dbdb223a8f7844bc',
    ),
  );
});

test('uv.lock: unknown version and unknown source kind', async () => {
  await rejectsWith(
    uvLockReader.read(fileOf('uv.lock', 'version = 9\n')),
    'LOCKFILE_UNSUPPORTED',
    'uv.lock',
    /version 9/,
  );
  await rejectsWith(
    uvLockReader.read(
      fileOf(
        'uv.lock',
        'version = 1\n\n[[package]]\nname = "a"\nversion = "1"\nsource = { teleport = "x" }\n',
      ),
    ),
    'LOCKFILE_UNSUPPORTED',
    'uv.lock',
    /line 3/,
  );
});

test('dist-info METADATA: name, version, License-Expression, RECORD presence', async () => {
  const meta = [
    'Metadata-Version: 2.4',
    'Name: Typing_Extensions',
    'Version: 4.12.2',
    'License-Expression: PSF-2.0',
    'License: a very long licence text that goes on',
    '        and on over several lines',
    '',
    'Long description.',
  ].join('\n');
  const r = await distInfoReader.read(
    fileOf('site-packages/typing_extensions-4.12.2.dist-info/METADATA', meta, { RECORD: 'x,,\n' }),
  );
  checkResult(r);
  const c = byPurl(r, 'pkg:pypi/typing-extensions@4.12.2');
  assert.deepEqual(c.licenses, ['PSF-2.0']);
  assert.equal(c.properties?.['python:record'], 'present');
  assert.ok(distInfoReader.matches('lib/python3.12/site-packages/a-1.dist-info/METADATA'));
  const r2 = await distInfoReader.read(
    fileOf('x.dist-info/METADATA', 'Name: a\nVersion: 1\nLicense: MIT\n'),
  );
  assert.deepEqual(r2.components[0]?.licenses, ['MIT']);
  assert.equal(r2.components[0]?.properties?.['python:record'], 'absent');
  await rejectsWith(
    distInfoReader.read(fileOf('x.dist-info/METADATA', 'Name: a\n')),
    'LOCKFILE_MALFORMED',
    'METADATA',
  );
});

test('egg-info: PKG-INFO in an .egg-info directory, and a single .egg-info file (distutils)', async () => {
  const r = await distInfoReader.read(
    fileOf(
      'usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO',
      'Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\nLicense: MIT\nPlatform: UNKNOWN\n\n.. image:: x\n',
    ),
  );
  checkResult(r);
  assert.equal(r.accounting.format, 'egg-info PKG-INFO 2.1');
  assert.deepEqual(byPurl(r, 'pkg:pypi/six@1.16.0').licenses, ['MIT']);
  const single = await distInfoReader.read(
    fileOf(
      'lib/python2.7/wsgiref.egg-info',
      'Metadata-Version: 1.0\nName: wsgiref\nVersion: 0.1.2\n',
    ),
  );
  assert.equal(single.components[0]?.purl, 'pkg:pypi/wsgiref@0.1.2');
  assert.ok(distInfoReader.matches('site-packages/PyJWT-2.6.0.egg-info/PKG-INFO'));
  assert.ok(distInfoReader.matches('lib/python2.7/wsgiref.egg-info'));
  assert.ok(!distInfoReader.matches('site-packages/PyJWT-2.6.0.egg-info/SOURCES.txt'));
  assert.ok(!distInfoReader.matches('src/PKG-INFO'));
  await rejectsWith(
    distInfoReader.read(fileOf('x.egg-info/PKG-INFO', 'Name: a\n')),
    'LOCKFILE_MALFORMED',
    'PKG-INFO',
  );
});

test("this machine's dist-packages: every installed distribution, dist-info and egg-info alike", async (t) => {
  const dir = '/usr/lib/python3/dist-packages';
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    t.skip(`no ${dir}`);
    return;
  }
  const installed = names.filter((n) => /\.(dist|egg)-info$/.test(n));
  if (!installed.some((n) => n.endsWith('.egg-info'))) {
    t.skip(`no .egg-info in ${dir}`);
    return;
  }
  const sbom = await scanDirectory(dir);
  const got = new Set(sbom.components.map((c) => c.name));
  // Each distribution found, under its PEP 503 name (what the directory is named after).
  for (const n of installed) {
    const dist = pypiName(n.replace(/\.(dist|egg)-info$/, '').replace(/-\d.*$/, ''));
    assert.ok(got.has(dist), `${n}: ${dist} not in the SBOM`);
  }
});
