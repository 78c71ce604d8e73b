import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { bunReader } from './bun.ts';
import { npmKey } from './js-common.ts';
import {
  assertAccounting,
  BENCH_LOCKFILES,
  oracle,
  packageKeys,
  readFailure,
  SIZES,
  sameSet,
  sourceFromPath,
  sourceFromText,
  VECTORS,
} from './js-testkit.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'js-workspaces');

describe('bun reader: bench and real lockfiles vs oracle-bun.mjs', () => {
  const dirs = [...SIZES.map((s) => join(BENCH_LOCKFILES, 'bun', s)), join(VECTORS, 'bun_hono')];
  for (const dir of dirs) {
    it(dir.split('/').slice(-2).join('/'), async () => {
      const r = await bunReader.read(sourceFromPath(join(dir, 'bun.lock')));
      assertAccounting(r, assert);
      assert.deepEqual(r.accounting.skipped, []);
      sameSet(packageKeys(r), await oracle('oracle-bun.mjs', dir), assert, dir);
    });
  }
});

describe('bun reader: constructs', () => {
  it('js-workspaces fixture (bun 1.4.5)', async () => {
    const r = await bunReader.read(sourceFromPath(join(FIXTURES, 'bun', 'bun.lock')));
    assertAccounting(r, assert);
    const by = new Map(r.components.map((c) => [npmKey(c), c]));
    assert.equal(r.roots.length, 3);
    assert.equal(r.accounting.merged, 2, 'workspace packages are listed twice and merge');
    assert.equal(by.get('string-width@4.2.3')?.properties?.['npm:alias'], 'string-width-cjs');
    assert.equal(by.get('once@1.4.0')?.scope, 'dev');
    assert.equal(by.get('wrappy@1.0.2')?.scope, 'dev');
    const tarball = r.components.find((c) => c.name === 'ms');
    assert.equal(tarball?.source?.kind, 'tarball');
    assert.equal(r.components.find((c) => c.name === 'local-tgz')?.source?.kind, 'file');
    // @fx/b's is-number is the one nested under it.
    const b = r.dependencies.find((d) => d.ref === by.get('@fx/b@0.2.0')?.ref);
    assert.deepEqual(b?.dependsOn, [by.get('is-number@6.0.0')?.ref]);
  });

  it('github and git tuples, comments, lockfileVersion 0 (hand-written)', async () => {
    const text = `{
      // bun.lock is JSONC-like
      "lockfileVersion": 0,
      "workspaces": { "": { "name": "root", "dependencies": { "g": "github:o/g", "h": "git+https://example.com/h.git" } } },
      "packages": {
        "g": ["g@github:o/g#0123456", { "dependencies": { "x": "^1" } }, "o-g-0123456"],
        "h": ["h@git+https://example.com/h.git#89abcdef", {}, "89abcdef"],
        "x": ["x@1.0.0", "", {}, "sha512-AAAA"],
      },
    }`;
    const r = await bunReader.read(sourceFromText('bun.lock', text));
    assertAccounting(r, assert);
    const by = new Map(r.components.map((c) => [c.name, c]));
    assert.equal(by.get('g')?.source?.kind, 'git');
    assert.equal(by.get('g')?.version, '0123456');
    assert.equal(by.get('h')?.source?.kind, 'git');
    const g = r.dependencies.find((d) => d.ref === by.get('g')?.ref);
    assert.deepEqual(g?.dependsOn, [by.get('x')?.ref]);
  });
});

describe('bun reader: bad input', () => {
  const failure = (text: string) => readFailure(bunReader, 'bun.lock', text, assert);
  it('truncated names the line', async () => {
    const e = await failure(
      '{\n  "lockfileVersion": 1,\n  "packages": {\n    "a": ["a@1.0.0", "",',
    );
    assert.equal(e.code, 'LOCKFILE_MALFORMED');
    assert.match(e.message, /line 4/);
  });
  it('not JSON', async () => {
    assert.equal((await failure('lockfileVersion = 1\n')).code, 'LOCKFILE_MALFORMED');
  });
  it('lockfileVersion 99', async () => {
    assert.equal((await failure('{"lockfileVersion": 99}')).code, 'LOCKFILE_UNSUPPORTED');
  });
  it('"packages" of the wrong type', async () => {
    const e = await failure('{"lockfileVersion": 1, "packages": []}');
    assert.equal(e.code, 'LOCKFILE_MALFORMED');
    assert.match(e.message, /packages/);
  });
  it('an entry that is not a tuple', async () => {
    const e = await failure('{"lockfileVersion": 1, "packages": {"a": {"version": "1"}}}');
    assert.equal(e.code, 'LOCKFILE_MALFORMED');
  });
});
