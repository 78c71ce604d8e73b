import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { parseDocument } from 'yaml';
import { npmKey } from './js-common.ts';
import { BAIL, fastParse } from './js-lockyaml.ts';
import {
  assertAccounting,
  BENCH_LOCKFILES,
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
import { pnpmReader } from './pnpm.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'js-workspaces');
const registryOnly = (c: { source?: unknown }) => c.source === undefined;

describe('pnpm reader: bench lockfiles vs oracle-pnpm.mjs', () => {
  for (const flavor of ['pnpm8', 'pnpm9']) {
    for (const size of SIZES) {
      it(`${flavor} ${size}`, async () => {
        const dir = join(BENCH_LOCKFILES, flavor, size);
        const r = await pnpmReader.read(sourceFromPath(join(dir, 'pnpm-lock.yaml')));
        assertAccounting(r, assert);
        assert.deepEqual(r.accounting.skipped, []);
        sameSet(packageKeys(r), await oracle('oracle-pnpm.mjs', dir), assert, `${flavor} ${size}`);
      });
    }
  }
});

describe('pnpm reader: real lockfiles (vite)', () => {
  it('pnpm-9.0_vite: exactly the oracle', async () => {
    const dir = join(VECTORS, 'pnpm-9.0_vite');
    const r = await pnpmReader.read(sourceFromPath(join(dir, 'pnpm-lock.yaml')));
    assertAccounting(r, assert);
    assert.deepEqual(r.accounting.skipped, []);
    sameSet(packageKeys(r), await oracle('oracle-pnpm.mjs', dir), assert, 'pnpm-9.0_vite');
  });

  it('pnpm-6.0_vite: the oracle, plus the file: packages it leaves out', async () => {
    const dir = join(VECTORS, 'pnpm-6.0_vite');
    const r = await pnpmReader.read(sourceFromPath(join(dir, 'pnpm-lock.yaml')));
    assertAccounting(r, assert);
    assert.deepEqual(r.accounting.skipped, []);
    // oracle-pnpm.mjs cannot split v6 `file:…` keys (no name in them) and drops them.
    sameSet(keys(r, registryOnly), await oracle('oracle-pnpm.mjs', dir), assert, 'pnpm-6.0_vite');
    const text = readFileSync(join(dir, 'pnpm-lock.yaml'), 'utf8');
    const fileKeys = text.match(/^ {2}file:[^\n]*:$/gm) ?? [];
    assert.ok(fileKeys.length > 0);
    assert.equal(r.components.filter((c) => c.source?.kind === 'file').length, fileKeys.length);
  });

  it('pnpm-5.4_vite: every /name/version key, peers stripped (the oracle does not read v5 keys)', async () => {
    const dir = join(VECTORS, 'pnpm-5.4_vite');
    const r = await pnpmReader.read(sourceFromPath(join(dir, 'pnpm-lock.yaml')));
    assertAccounting(r, assert);
    assert.deepEqual(r.accounting.skipped, []);
    const text = readFileSync(join(dir, 'pnpm-lock.yaml'), 'utf8');
    const expected = new Set<string>();
    for (const m of text.matchAll(/^ {2}\/((?:@[^/\s]+\/)?[^/\s]+)\/([^_:\s/]+)[^:\s]*:$/gm)) {
      expected.add(`${m[1]}@${m[2]}`);
    }
    sameSet(keys(r, registryOnly), expected, assert, 'pnpm-5.4_vite');
    const patched = r.components.filter((c) => c.properties?.['pnpm:patch']);
    assert.deepEqual(patched.map(npmKey), ['dotenv-expand@9.0.0']);
  });
});

describe('pnpm reader: constructs', () => {
  it('js-workspaces fixture (pnpm 9.15.9): importers, alias, tarballs, dev scope', async () => {
    const r = await pnpmReader.read(sourceFromPath(join(FIXTURES, 'pnpm9', 'pnpm-lock.yaml')));
    assertAccounting(r, assert);
    const by = new Map(r.components.map((c) => [npmKey(c), c]));
    assert.equal(r.roots.length, 3);
    assert.equal(by.get('string-width@4.2.3')?.properties?.['npm:alias'], 'string-width-cjs');
    assert.deepEqual(by.get('local-tgz@1.0.0')?.source, {
      kind: 'file',
      url: 'vendor/local-tgz-1.0.0.tgz',
    });
    assert.equal(by.get('once@1.4.0')?.scope, 'dev');
    assert.equal(by.get('wrappy@1.0.2')?.scope, 'dev');
    assert.equal(by.get('is-number@7.0.0')?.scope, 'required');
    const a = r.dependencies.find((d) => d.ref === by.get('@fx/a@0.1.0')?.ref);
    assert.ok(
      a?.dependsOn.includes(by.get('@fx/b@0.2.0')?.ref as string),
      'link: edge between importers',
    );
  });

  it('git and tarball resolutions, peer suffixes, patches, catalogs (hand-written 9.0)', async () => {
    const text = [
      "lockfileVersion: '9.0'",
      'catalogs:',
      '  default:',
      '    react:',
      '      specifier: ^18.0.0',
      '      version: 18.3.1',
      'patchedDependencies:',
      '  left-pad@1.3.0:',
      '    hash: abc',
      '    path: patches/left-pad@1.3.0.patch',
      'importers:',
      '  .:',
      '    dependencies:',
      '      g:',
      '        specifier: github:o/g',
      '        version: https://codeload.github.com/o/g/tar.gz/0123456',
      '      react-dom:',
      '        specifier: ^18',
      '        version: 18.3.1(react@18.3.1)',
      '      left-pad:',
      '        specifier: 1.3.0',
      '        version: 1.3.0(patch_hash=abc)',
      '    devDependencies:',
      '      r:',
      '        specifier: git+https://example.com/r.git',
      '        version: git+https://example.com/r.git#89abcde',
      'packages:',
      '  g@https://codeload.github.com/o/g/tar.gz/0123456:',
      '    resolution: {tarball: https://codeload.github.com/o/g/tar.gz/0123456}',
      '    version: 2.0.0',
      '  r@git+https://example.com/r.git#89abcde:',
      '    resolution: {commit: 89abcde, repo: https://example.com/r.git, type: git}',
      '    version: 3.0.0',
      '  react@18.3.1:',
      '    resolution: {integrity: sha512-AAAA}',
      '  react-dom@18.3.1:',
      '    resolution: {integrity: sha512-AAAA}',
      '    peerDependencies:',
      '      react: ^18.3.1',
      '  left-pad@1.3.0:',
      '    resolution: {integrity: sha512-AAAA}',
      'snapshots:',
      '  g@https://codeload.github.com/o/g/tar.gz/0123456: {}',
      '  r@git+https://example.com/r.git#89abcde: {}',
      '  react@18.3.1: {}',
      '  react-dom@18.3.1(react@18.3.1):',
      '    dependencies:',
      '      react: 18.3.1',
      '  left-pad@1.3.0(patch_hash=abc): {}',
      '',
    ].join('\n');
    const r = await pnpmReader.read(sourceFromText('pnpm-lock.yaml', text));
    assertAccounting(r, assert);
    const by = new Map(r.components.map((c) => [npmKey(c), c]));
    assert.deepEqual([...by.keys()].sort(), [
      'g@2.0.0',
      'left-pad@1.3.0',
      'r@3.0.0',
      'react-dom@18.3.1',
      'react@18.3.1',
    ]);
    assert.equal(by.get('g@2.0.0')?.source?.kind, 'tarball');
    assert.deepEqual(by.get('r@3.0.0')?.source, {
      kind: 'git',
      url: 'https://example.com/r.git#89abcde',
    });
    assert.equal(by.get('r@3.0.0')?.scope, 'dev');
    assert.equal(by.get('react@18.3.1')?.scope, 'required');
    assert.equal(
      by.get('left-pad@1.3.0')?.properties?.['pnpm:patch'],
      'patches/left-pad@1.3.0.patch',
    );
  });
});

describe('pnpm YAML: the fast subset parser agrees with the yaml library', () => {
  const files = [
    ...['pnpm8', 'pnpm9'].flatMap((f) =>
      SIZES.map((s) => join(BENCH_LOCKFILES, f, s, 'pnpm-lock.yaml')),
    ),
    ...['pnpm-5.4_vite', 'pnpm-6.0_vite', 'pnpm-9.0_vite'].map((d) =>
      join(VECTORS, d, 'pnpm-lock.yaml'),
    ),
    join(FIXTURES, 'pnpm9', 'pnpm-lock.yaml'),
  ];
  for (const f of files) {
    it(f.split('/').slice(-3).join('/'), () => {
      const text = readFileSync(f, 'utf8');
      const fast = fastParse(text);
      assert.notEqual(fast, BAIL, 'real pnpm output stays inside the subset');
      assert.ok(isDeepStrictEqual(fast, parseDocument(text).toJS()));
    });
  }
  it('leaves anchors, block scalars, several documents and tabs to the library', () => {
    for (const t of [
      'a: &x 1\nb: *x\n',
      'a: |\n  x\n',
      'a: 1\n---\nb: 2\n',
      'a:\n\tb: 1\n',
      'a: "x\n  y"\n',
    ]) {
      assert.equal(fastParse(t), BAIL, t);
    }
    assert.deepEqual(
      fastParse("a: 'it''s'\nb: \"\\u00e9\"\nc: [x, 'y', {k: v}]\nd: 5.4\ne: '6.0'\n"),
      {
        a: "it's",
        b: 'é',
        c: ['x', 'y', { k: 'v' }],
        d: 5.4,
        e: '6.0',
      },
    );
  });
});

describe('pnpm reader: bad input', () => {
  const failure = (text: string) => readFailure(pnpmReader, 'pnpm-lock.yaml', text, assert);
  it('truncated inside a flow mapping names the line', async () => {
    const e = await failure(
      "lockfileVersion: '9.0'\npackages:\n  a@1.0.0:\n    resolution: {integrity: sha512-",
    );
    assert.equal(e.code, 'LOCKFILE_MALFORMED');
    assert.match(e.message, /line 4/);
  });
  it('not YAML', async () => {
    assert.equal((await failure('{"lockfileVersion": ')).code, 'LOCKFILE_MALFORMED');
  });
  it('lockfileVersion 99', async () => {
    const e = await failure("lockfileVersion: '99.0'\n");
    assert.equal(e.code, 'LOCKFILE_UNSUPPORTED');
  });
  it('"packages" of the wrong type', async () => {
    const e = await failure("lockfileVersion: '9.0'\npackages: [a, b]\n");
    assert.equal(e.code, 'LOCKFILE_MALFORMED');
    assert.match(e.message, /packages/);
  });
  it('a YAML alias bomb fails fast with a clear error', async () => {
    const lines = ["lockfileVersion: '9.0'", 'a: &a ["x","x","x","x","x","x","x","x","x"]'];
    const names = 'bcdefghijklmnop';
    for (let i = 0; i < names.length; i++) {
      const prev = i === 0 ? 'a' : names[i - 1];
      lines.push(`${names[i]}: &${names[i]} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const start = performance.now();
    const e = await failure(lines.join('\n'));
    assert.equal(e.code, 'LOCKFILE_MALFORMED');
    assert.match(e.message, /alias/i);
    assert.ok(performance.now() - start < 5000);
  });
});
