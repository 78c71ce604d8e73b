import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { npmKey } from './js-common.ts';
import {
  assertAccounting,
  BENCH_LOCKFILES,
  difference,
  keys,
  oracle,
  packageKeys,
  readFailure,
  SIZES,
  sameSet,
  sourceFromPath,
  sourceFromText,
  VECTORS,
} from './js-testkit.ts';
import { npmReader } from './npm.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'js-workspaces');
/** Everything but the root project, which npm's own listings leave out. */
const notRoot = (c: { source?: { kind: string; url?: string } }) =>
  !(c.source?.kind === 'workspace' && c.source.url === '.');

describe('npm reader: bench lockfiles vs the oracle (package-lock "packages" read by oracle-npm.mjs)', () => {
  for (const size of SIZES) {
    it(size, async () => {
      const dir = join(BENCH_LOCKFILES, 'npm', size);
      const r = await npmReader.read(sourceFromPath(join(dir, 'package-lock.json')));
      assertAccounting(r, assert);
      assert.deepEqual(r.accounting.skipped, []);
      sameSet(
        keys(r, notRoot),
        await oracle('oracle-npm.mjs', dir, ['--source=lockfile']),
        assert,
        size,
      );
    });
  }
});

describe('npm reader: real lockfiles vs `npm ls --all --package-lock-only` (oracle-npm.mjs)', () => {
  for (const name of ['npm-v2_sigstore-js', 'npm-v3_sigstore-js']) {
    it(name, async () => {
      const dir = join(VECTORS, name);
      const r = await npmReader.read(sourceFromPath(join(dir, 'package-lock.json')));
      assertAccounting(r, assert);
      assert.deepEqual(r.accounting.skipped, []);
      // npm ls lists workspace packages (reached through their links) but not the root.
      sameSet(keys(r, notRoot), await oracle('oracle-npm.mjs', dir), assert, name);
    });
  }

  it('npm-v1_mocha: equal but for the git dependency npm ls cannot version offline', async () => {
    const dir = join(VECTORS, 'npm-v1_mocha');
    const r = await npmReader.read(sourceFromPath(join(dir, 'package-lock.json')));
    assertAccounting(r, assert);
    assert.deepEqual(r.accounting.skipped, []);
    assert.match(r.accounting.format, /v1$/);
    const expected = await oracle('oracle-npm.mjs', dir);
    const mine = keys(r, notRoot);
    assert.deepEqual(difference(expected, mine), []);
    // v1 records a git dependency's spec, not its package version, so `npm ls`
    // prints it without a version and does not descend into it. Everything we
    // list beyond npm ls must be a git package or a dependency of one.
    const git = r.components.filter((c) => c.source?.kind === 'git');
    assert.ok(git.length > 0);
    const under = new Set(git.map((c) => c.ref));
    for (const d of r.dependencies) if (under.has(d.ref)) for (const t of d.dependsOn) under.add(t);
    const allowed = new Set(r.components.filter((c) => under.has(c.ref)).map(npmKey));
    assert.deepEqual(difference(new Set(difference(mine, expected)), allowed), []);
    assert.ok(git.every((c) => c.properties?.['npm:spec']?.startsWith('github:')));
    // minimist@1.2.0: nested copies over https and one (line 107) over plain HTTP — both kept.
    const m = r.components.find((c) => npmKey(c) === 'minimist@1.2.0');
    assert.deepEqual(
      [m?.source, ...(m?.otherSources ?? [])],
      [{ kind: 'registry', url: 'http://registry.npmjs.org' }, { kind: 'registry' }],
    );
    assert.equal(m?.properties?.['npm:registry'], undefined);
  });
});

describe('npm reader: registries are sources', () => {
  it('another registry, or the public one over http, is a registry source; the public one is none', async () => {
    const tgz = (registry: string, name: string) =>
      `${registry}/${name}/-/${name.replace(/^@[^/]+\//, '')}-1.0.0.tgz`;
    const lock = {
      name: 'x',
      version: '1.0.0',
      lockfileVersion: 3,
      packages: {
        '': { name: 'x', version: '1.0.0' },
        'node_modules/pub': {
          version: '1.0.0',
          resolved: tgz('https://registry.npmjs.org', 'pub'),
        },
        'node_modules/http': {
          version: '1.0.0',
          resolved: tgz('http://registry.npmjs.org', 'http'),
        },
        'node_modules/@acme/a': {
          version: '1.0.0',
          resolved: tgz('https://npm.acme.example/api/npm', '@acme/a'),
        },
        'node_modules/yarnpub': {
          version: '1.0.0',
          resolved: tgz('https://registry.yarnpkg.com', 'yarnpub'),
        },
        'node_modules/yarnhttp': {
          version: '1.0.0',
          resolved: tgz('http://registry.yarnpkg.com', 'yarnhttp'),
        },
      },
    };
    const r = await npmReader.read(sourceFromText('package-lock.json', JSON.stringify(lock)));
    const by = new Map(r.components.map((c) => [npmKey(c), c]));
    assert.equal(by.get('pub@1.0.0')?.source, undefined);
    assert.deepEqual(by.get('http@1.0.0')?.source, {
      kind: 'registry',
      url: 'http://registry.npmjs.org',
    });
    assert.deepEqual(by.get('@acme/a@1.0.0')?.source, {
      kind: 'registry',
      url: 'https://npm.acme.example/api/npm',
    });
    // registry.yarnpkg.com is the public registry under another name; over http it is not.
    assert.equal(by.get('yarnpub@1.0.0')?.source, undefined);
    assert.deepEqual(by.get('yarnhttp@1.0.0')?.source, {
      kind: 'registry',
      url: 'http://registry.yarnpkg.com',
    });
    // A registry is no qualifier: copies from different registries stay one component.
    assert.equal(by.get('http@1.0.0')?.purl, 'pkg:npm/http@1.0.0');
  });
});

describe('npm reader: workspaces, links, aliases, tarballs (fixture made by npm 11)', () => {
  it('reads the js-workspaces fixture', async () => {
    const r = await npmReader.read(sourceFromPath(join(FIXTURES, 'npm', 'package-lock.json')));
    assertAccounting(r, assert);
    const by = new Map(r.components.map((c) => [npmKey(c), c]));
    // Links merge into their workspace folder entries: declared counts both.
    assert.equal(r.accounting.merged, 2);
    assert.deepEqual(by.get('@fx/a@0.1.0')?.source, { kind: 'workspace', url: 'packages/a' });
    assert.deepEqual(r.roots.length, 3);
    assert.equal(by.get('string-width@4.2.3')?.properties?.['npm:alias'], 'string-width-cjs');
    assert.equal(by.has('string-width-cjs@4.2.3'), false);
    assert.deepEqual(by.get('local-tgz@1.0.0')?.source, {
      kind: 'file',
      url: 'vendor/local-tgz-1.0.0.tgz',
    });
    assert.equal(by.get('once@1.4.0')?.scope, 'dev');
    assert.equal(by.get('wrappy@1.0.2')?.scope, 'dev');
    assert.equal(by.get('is-number@7.0.0')?.hashes[0]?.algorithm, 'SHA-512');
    // Node resolution: @fx/b's is-number is its nested 6.0.0, the root's is 7.0.0.
    const deps = new Map(r.dependencies.map((d) => [d.ref, d.dependsOn]));
    assert.deepEqual(deps.get(by.get('@fx/b@0.2.0')?.ref as string), [
      by.get('is-number@6.0.0')?.ref,
    ]);
    assert.ok(
      deps
        .get(by.get('fixture-root@1.0.0')?.ref as string)
        ?.includes(by.get('is-number@7.0.0')?.ref as string),
    );
    assert.ok(
      deps
        .get(by.get('@fx/a@0.1.0')?.ref as string)
        ?.includes(by.get('@fx/b@0.2.0')?.ref as string),
    );
  });

  it('git, remote tarball, bundled, optional, peer and devOptional entries (hand-written v3)', async () => {
    const lock = {
      name: 'x',
      version: '1.0.0',
      lockfileVersion: 3,
      packages: {
        '': {
          name: 'x',
          version: '1.0.0',
          dependencies: { g: 'github:o/g', t: 'https://example.com/t.tgz' },
        },
        'node_modules/g': {
          version: '2.0.0',
          resolved: 'git+ssh://git@github.com/o/g.git#0123456789abcdef0123456789abcdef01234567',
          license: 'MIT',
          dependencies: { b: '^1' },
        },
        'node_modules/g/node_modules/b': { version: '1.0.0', inBundle: true },
        'node_modules/t': {
          version: '3.0.0',
          resolved: 'https://example.com/t.tgz',
          integrity: 'sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA=',
        },
        'node_modules/o': { version: '1.0.0', optional: true },
        'node_modules/p': { version: '1.0.0', peer: true },
        'node_modules/d': { version: '1.0.0', devOptional: true },
        'node_modules/x': {},
      },
    };
    const r = await npmReader.read(sourceFromText('package-lock.json', JSON.stringify(lock)));
    assertAccounting(r, assert);
    const by = new Map(r.components.map((c) => [npmKey(c), c]));
    assert.equal(by.get('g@2.0.0')?.source?.kind, 'git');
    assert.match(by.get('g@2.0.0')?.purl as string, /vcs_url=/);
    assert.deepEqual(by.get('g@2.0.0')?.licenses, ['MIT']);
    assert.equal(by.get('b@1.0.0')?.properties?.['npm:inBundle'], 'true');
    assert.equal(by.get('t@3.0.0')?.source?.kind, 'tarball');
    assert.equal(by.get('t@3.0.0')?.hashes[0]?.algorithm, 'SHA-1');
    assert.equal(by.get('o@1.0.0')?.scope, 'optional');
    assert.equal(by.get('p@1.0.0')?.scope, 'peer');
    assert.equal(by.get('d@1.0.0')?.scope, 'optional');
    assert.deepEqual(r.accounting.skipped, [
      { entry: 'node_modules/x', reason: 'no version recorded (not installed?)' },
    ]);
  });

  it('v1 aliases and nested entries', async () => {
    const lock = {
      name: 'x',
      version: '1.0.0',
      lockfileVersion: 1,
      dependencies: {
        'sw-cjs': { version: 'npm:string-width@4.2.3', requires: { 'strip-ansi': '^6' } },
        'strip-ansi': {
          version: '6.0.1',
          dev: true,
          dependencies: { 'ansi-regex': { version: '5.0.1', dev: true } },
        },
      },
    };
    const r = await npmReader.read(sourceFromText('package-lock.json', JSON.stringify(lock)));
    assertAccounting(r, assert);
    assert.deepEqual([...packageKeys(r)].sort(), [
      'ansi-regex@5.0.1',
      'string-width@4.2.3',
      'strip-ansi@6.0.1',
    ]);
    const sw = r.components.find((c) => c.name === 'string-width');
    assert.equal(sw?.properties?.['npm:alias'], 'sw-cjs');
    const edge = r.dependencies.find((d) => d.ref === sw?.ref);
    assert.deepEqual(edge?.dependsOn, ['pkg:npm/strip-ansi@6.0.1']);
  });
});

describe('npm reader: bad input', () => {
  const code = (text: string, name = 'package-lock.json') =>
    readFailure(npmReader, name, text, assert);

  it('truncated JSON names the line', async () => {
    const text = JSON.stringify({ lockfileVersion: 3, packages: { '': {} } }, null, 2);
    const e = await code(text.slice(0, text.length - 8));
    assert.equal(e.code, 'LOCKFILE_MALFORMED');
    assert.match(e.message, /line \d+/);
  });
  it('not JSON', async () => {
    assert.equal((await code('lockfileVersion: 3\n')).code, 'LOCKFILE_MALFORMED');
  });
  it('lockfileVersion 99', async () => {
    const e = await code(JSON.stringify({ lockfileVersion: 99, packages: {} }));
    assert.equal(e.code, 'LOCKFILE_UNSUPPORTED');
    assert.match(e.message, /99/);
  });
  it('"packages" of the wrong type', async () => {
    const e = await code(JSON.stringify({ lockfileVersion: 3, packages: [] }));
    assert.equal(e.code, 'LOCKFILE_MALFORMED');
    assert.match(e.message, /packages/);
  });
  it('an entry of the wrong type', async () => {
    const e = await code(
      JSON.stringify({ lockfileVersion: 2, packages: { 'node_modules/a': 'x' } }),
    );
    assert.equal(e.code, 'LOCKFILE_MALFORMED');
    assert.match(e.message, /node_modules\/a/);
  });
  it('a link to nowhere is skipped with the reason', async () => {
    const r = await npmReader.read(
      sourceFromText(
        'package-lock.json',
        JSON.stringify({
          lockfileVersion: 3,
          packages: { 'node_modules/a': { link: true, resolved: 'gone' } },
        }),
      ),
    );
    assertAccounting(r, assert);
    assert.match(r.accounting.skipped[0]?.reason ?? '', /gone/);
  });
});
