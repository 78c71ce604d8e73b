import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { parseSyml } from '@yarnpkg/parsers';
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
import { yarnReader } from './yarn.ts';
import { BAIL, parseYarnV1 } from './yarn-v1-syml.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'js-workspaces');

describe('yarn reader: bench and real lockfiles vs oracle-yarn.mjs', () => {
  const dirs = [
    ...['yarn1', 'berry'].flatMap((f) => SIZES.map((s) => join(BENCH_LOCKFILES, f, s))),
    ...['yarn-v1_jest', 'yarn-berry-meta6_jest', 'yarn-berry-meta10_jest'].map((d) =>
      join(VECTORS, d),
    ),
  ];
  for (const dir of dirs) {
    it(dir.split('/').slice(-2).join('/'), async () => {
      const r = await yarnReader.read(sourceFromPath(join(dir, 'yarn.lock')));
      assertAccounting(r, assert);
      assert.deepEqual(r.accounting.skipped, []);
      sameSet(packageKeys(r), await oracle('oracle-yarn.mjs', dir), assert, dir);
    });
  }
});

describe('yarn reader: constructs', () => {
  it('berry fixture (yarn 4): workspaces, patch, alias, tarball URL, local tarball', async () => {
    const r = await yarnReader.read(sourceFromPath(join(FIXTURES, 'berry', 'yarn.lock')));
    assertAccounting(r, assert);
    assert.deepEqual(r.accounting.skipped, []);
    const by = new Map(r.components.map((c) => [npmKey(c), c]));
    assert.equal(r.roots.length, 3);
    assert.deepEqual(by.get('@fx/a@0.1.0')?.source, { kind: 'workspace', url: 'packages/a' });
    assert.match(
      by.get('left-pad@1.3.0')?.properties?.['yarn:patch'] ?? '',
      /^patch:left-pad@npm%3A1\.3\.0#/,
    );
    assert.equal(by.get('string-width@4.2.3')?.properties?.['npm:alias'], 'string-width-cjs');
    assert.equal(by.get('ms@2.1.3')?.source?.kind, 'tarball');
    assert.deepEqual(by.get('local-tgz@1.0.0')?.source, {
      kind: 'file',
      url: 'vendor/local-tgz-1.0.0.tgz',
    });
    // berry's checksum is of yarn's cache archive: a property, never a package hash.
    assert.match(by.get('once@1.4.0')?.properties?.['yarn:checksum'] ?? '', /^10c0\//);
    assert.deepEqual(by.get('once@1.4.0')?.hashes, []);
    assert.equal(by.get('once@1.4.0')?.scope, 'dev');
  });

  it('classic fixture (yarn 1.22.22): multi-descriptor blocks, alias, integrity', async () => {
    const r = await yarnReader.read(sourceFromPath(join(FIXTURES, 'yarn1', 'yarn.lock')));
    assertAccounting(r, assert);
    const by = new Map(r.components.map((c) => [npmKey(c), c]));
    assert.equal(by.get('string-width@4.2.3')?.properties?.['npm:alias'], 'string-width-cjs');
    assert.equal(by.get('is-number@7.0.0')?.hashes[0]?.algorithm, 'SHA-512');
    assert.equal(by.get('once@1.4.0')?.scope, 'dev');
    assert.deepEqual(r.roots, [by.get('fixture-root@1.0.0')?.ref]);
  });

  it('classic git and berry git/portal/link (hand-written)', async () => {
    const classic = [
      '# yarn lockfile v1',
      '',
      '"g@github:o/g#v2":',
      '  version "2.0.0"',
      '  resolved "git+https://github.com/o/g.git#0123456789abcdef0123456789abcdef01234567"',
      '',
      'a@^1.0.0, a@^1.1.0:',
      '  version "1.1.0"',
      '  resolved "https://registry.yarnpkg.com/a/-/a-1.1.0.tgz#0123456789abcdef0123456789abcdef01234567"',
      '',
    ].join('\n');
    const r1 = await yarnReader.read(sourceFromText('yarn.lock', classic));
    assertAccounting(r1, assert);
    assert.equal(r1.accounting.declared, 2);
    const g = r1.components.find((c) => c.name === 'g');
    assert.equal(g?.source?.kind, 'git');
    assert.deepEqual(r1.components.find((c) => c.name === 'a')?.hashes, [
      { algorithm: 'SHA-1', value: '0123456789abcdef0123456789abcdef01234567' },
    ]);
    const berry = [
      '__metadata:',
      '  version: 8',
      '',
      '"g@https://github.com/o/g.git#v2":',
      '  version: 2.0.0',
      '  resolution: "g@https://github.com/o/g.git#commit=0123456789abcdef0123456789abcdef01234567"',
      '',
      '"p@portal:../p::locator=root%40workspace%3A.":',
      '  version: 0.0.0-use.local',
      '  resolution: "p@portal:../p::locator=root%40workspace%3A."',
      '',
      '"root@workspace:.":',
      '  version: 0.0.0-use.local',
      '  resolution: "root@workspace:."',
      '  dependencies:',
      '    g: "https://github.com/o/g.git#v2"',
      '',
    ].join('\n');
    const r2 = await yarnReader.read(sourceFromText('yarn.lock', berry));
    assertAccounting(r2, assert);
    const by = new Map(r2.components.map((c) => [c.name, c]));
    assert.equal(by.get('g')?.source?.kind, 'git');
    assert.equal(by.get('g')?.version, '2.0.0');
    assert.deepEqual(by.get('p')?.source, { kind: 'link', url: '../p' });
    assert.deepEqual(r2.roots, [by.get('root')?.ref]);
    assert.deepEqual(r2.dependencies, [
      { ref: by.get('root')?.ref, dependsOn: [by.get('g')?.ref] },
    ]);
  });
});

describe('yarn reader: bad input', () => {
  const failure = (text: string) => readFailure(yarnReader, 'yarn.lock', text, assert);
  it('truncated classic lockfile names the line', async () => {
    const e = await failure('# yarn lockfile v1\n\na@^1:\n  version "1.0.0\n');
    assert.equal(e.code, 'LOCKFILE_MALFORMED');
    assert.match(e.message, /line \d/);
  });
  it('broken berry YAML names the line', async () => {
    const e = await failure(
      '__metadata:\n  version: 8\n"a@npm:1":\n  version: 1\n   resolution: x\n',
    );
    assert.equal(e.code, 'LOCKFILE_MALFORMED');
    assert.match(e.message, /line 5/);
  });
  it('neither flavour', async () => {
    assert.equal((await failure('{"not": "a yarn.lock"}')).code, 'LOCKFILE_UNSUPPORTED');
  });
  it('__metadata.version 99', async () => {
    const e = await failure('__metadata:\n  version: 99\n');
    assert.equal(e.code, 'LOCKFILE_UNSUPPORTED');
    assert.match(e.message, /99/);
  });
  it('a block of the wrong type', async () => {
    const e = await failure('__metadata:\n  version: 8\n"a@npm:1": 5\n');
    assert.equal(e.code, 'LOCKFILE_MALFORMED');
  });
});

/** For each key, the index of the first key sharing its value object (the header groups). */
function groups(doc: Record<string, unknown>): number[] {
  const first = new Map<unknown, number>();
  return Object.values(doc).map((v, i) => {
    if (!first.has(v)) first.set(v, i);
    return first.get(v) as number;
  });
}

describe('yarn v1: the fast syml parser agrees with @yarnpkg/parsers', () => {
  const files = [
    ...SIZES.map((s) => join(BENCH_LOCKFILES, 'yarn1', s, 'yarn.lock')),
    join(VECTORS, 'yarn-v1_jest', 'yarn.lock'),
  ];
  for (const f of files) {
    it(f.split('/').slice(-3).join('/'), () => {
      const text = readFileSync(f, 'utf8');
      const fast = parseYarnV1(text);
      assert.notEqual(fast, BAIL, 'real yarn v1 output stays inside the subset');
      const slow = parseSyml(text) as Record<string, unknown>;
      assert.ok(isDeepStrictEqual(fast, slow));
      assert.deepEqual(Object.keys(fast), Object.keys(slow));
      assert.deepEqual(groups(fast as Record<string, unknown>), groups(slow));
    });
  }
  const head = '# THIS IS AN AUTOGENERATED FILE.\n# yarn lockfile v1\n\n\n';
  it('reads headers, quoting, escapes, null and nested mappings as parseSyml does', () => {
    const text = `${head}"@a/b@^1", "@a/b@~1.2", plain@1:\n  version "1.2.3"\n  resolved "https://r/x.tgz#ab"\n  uid null\n  integrity sha512-AB/c+d==\n  dependencies:\n    "@s/t" "^2 || 3"\n    e "q\\"x\\u00e9"\n\n"c@*":\n  version "0.1.0"\n  optionalDependencies:\n`;
    const fast = parseYarnV1(text);
    assert.notEqual(fast, BAIL);
    assert.ok(isDeepStrictEqual(fast, parseSyml(text)));
    const doc = fast as Record<string, Record<string, unknown>>;
    assert.equal(doc['@a/b@^1'], doc['plain@1']);
    assert.equal(doc['@a/b@^1']?.uid, null);
    assert.deepEqual(doc['@a/b@~1.2']?.dependencies, { '@s/t': '^2 || 3', e: 'q"xé' });
    assert.deepEqual(doc['c@*'], { version: '0.1.0', optionalDependencies: {} });
  });
  it('leaves everything outside the subset to parseSyml', () => {
    for (const t of [
      '__metadata:\n  version: 8\n', // berry: no v1 header
      `${head}a@1:\n  version: "1"\n`, // key: value
      `${head}a@1:\n  # note\n  version "1"\n`, // comment inside a block
      `${head}a@1:\n\tversion "1"\n`, // tab
      `${head}a@1:\r\n  version "1"\r\n`, // CR
      `${head}a@1:\n   version "1"\n`, // odd indentation
      `${head}a@1:\n    version "1"\n`, // too deep
      `${head}a@1:\n  version  "1"\n`, // two spaces
      `${head}a@1:\n  version "1\n`, // unterminated
      `${head}a@1:\n  version nullable\n`, // the grammar's null does not back off
      `${head}a@1:\n  version "1" \n`, // trailing space
      `${head}__proto__:\n  version "1"\n`,
      `${head}a@1 b:\n  version "1"\n`,
    ]) {
      assert.equal(parseYarnV1(t), BAIL, JSON.stringify(t));
    }
  });
});
