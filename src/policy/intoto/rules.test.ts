import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Link } from './model.ts';
import { type ArtifactRule, applyRules, fnmatch, parseRule } from './rules.ts';

const A = { sha256: 'a'.repeat(64) };
const B = { sha256: 'b'.repeat(64) };

function link(name: string, materials: Link['materials'], products: Link['products']): Link {
  return { _type: 'link', name, command: [], materials, products, byproducts: {}, environment: {} };
}

function rules(...r: string[][]): ArtifactRule[] {
  return r.map((x, i) => parseRule(x, 'test', `/${i}`));
}

describe('fnmatch (Python semantics, as in-toto uses)', () => {
  test('* crosses directories, ? is one character, sets and negated sets', () => {
    assert.ok(fnmatch('a/b/c.py', '*.py'));
    assert.ok(fnmatch('a/b/c.py', 'a/*'));
    assert.ok(fnmatch('x1', 'x?'));
    assert.equal(fnmatch('x12', 'x?'), false);
    assert.ok(fnmatch('b', '[abc]'));
    assert.equal(fnmatch('b', '[!abc]'), false);
    assert.ok(fnmatch('d', '[!abc]'));
    assert.ok(fnmatch('[x', '[x'), 'an unclosed [ is literal');
    assert.ok(fnmatch('a.b', 'a.b'));
    assert.equal(fnmatch('axb', 'a.b'), false, '. is literal');
    assert.equal(fnmatch('A.py', 'a.py'), false, 'case-sensitive');
  });
  test('sets as Python 3.11 translates them: reversed ranges are empty, not an error', () => {
    // [name, pattern, fnmatch.fnmatchcase(name, pattern)] from Python 3.11.2.
    const cases: Array<[string, string, boolean]> = [
      ['b', '[z-a]', false],
      ['b', '[!z-a]', true],
      ['-', '[z-a]', false],
      ['b', '[a-cz-b]', true],
      ['z', '[a-cz-b]', false],
      ['y', '[a-cz-b]', false],
      ['-', '[a-]', true],
      ['-', '[!a-]', false],
      ['b', '[a-c-e]', true],
      ['-', '[a-c-e]', true],
      ['d', '[a-c-e]', false],
      ['^', '[^a]', true],
      ['a', '[^a]', true],
      ['\\', '[\\]', true],
      [']', '[]a]', true],
      ['&', '[&~]', true],
      ['~', '[&~]', true],
      ['|', '[a|b]', true],
      ['x', '[]', false],
      ['[]', '[]', true],
      ['é', '[é-ë]', true],
      ['😀', '[😀]', true],
      ['a/b', 'a[/]b', true],
      ['[', '[[]', true],
      ['\\d', '[\\d]d', true],
    ];
    for (const [name, pattern, expected] of cases) {
      assert.equal(fnmatch(name, pattern), expected, `fnmatch(${name}, ${pattern})`);
    }
  });
});

describe('parseRule', () => {
  test('all four MATCH forms, keywords case-insensitive', () => {
    assert.deepEqual(parseRule(['match', 'f', 'with', 'products', 'from', 's'], 't', ''), {
      type: 'match',
      pattern: 'f',
      sourcePrefix: '',
      destType: 'products',
      destPrefix: '',
      destName: 's',
      text: 'match f with products from s',
    });
    const r = parseRule(
      ['MATCH', '*', 'IN', 'src', 'WITH', 'MATERIALS', 'IN', 'dst', 'FROM', 'S'],
      't',
      '',
    );
    assert.equal(r.type, 'match');
    if (r.type === 'match') {
      assert.deepEqual(
        [r.sourcePrefix, r.destType, r.destPrefix, r.destName],
        ['src', 'materials', 'dst', 'S'],
      );
    }
  });
  test('malformed rules are input errors naming the rule', () => {
    for (const bad of [
      ['ALLOW'],
      ['PERMIT', 'x'],
      ['ALLOW', 'a', 'b'],
      ['MATCH', 'x', 'WITH', 'THINGS', 'FROM', 's'],
      ['MATCH', 'x', 'FROM', 's'],
    ]) {
      assert.throws(
        () => parseRule(bad, 'layout', '/steps/0'),
        /JSON_MALFORMED|in-toto artifact rule/,
      );
    }
  });
});

describe('applyRules: the queue semantics of spec §5.3', () => {
  test('CREATE, DELETE, MODIFY consume only what was created, deleted, modified', () => {
    const l = link('s', { kept: A, gone: A, changed: A }, { kept: A, changed: B, made: B });
    const create = applyRules(
      's',
      'products',
      rules(['CREATE', '*'], ['DISALLOW', '*']),
      l,
      new Map(),
    );
    assert.deepEqual(create.failures.length, 1);
    assert.match(create.failures[0] as string, /changed, kept/);
    const modify = applyRules(
      's',
      'products',
      rules(['CREATE', 'made'], ['MODIFY', '*'], ['ALLOW', 'kept'], ['DISALLOW', '*']),
      l,
      new Map(),
    );
    assert.deepEqual(modify.failures, []);
    const del = applyRules(
      's',
      'materials',
      rules(['DELETE', '*'], ['DISALLOW', 'gone']),
      l,
      new Map(),
    );
    assert.deepEqual(del.failures, []);
    assert.deepEqual(del.remaining, ['changed', 'kept']);
  });

  test('rules apply in order: a consumed artifact escapes a later DISALLOW; REQUIRE sees only the queue', () => {
    const l = link('s', {}, { 'foo.py': A, 'bar.py': B });
    const ok = applyRules(
      's',
      'products',
      rules(['ALLOW', 'foo.py'], ['DISALLOW', 'foo.py']),
      l,
      new Map(),
    );
    assert.deepEqual(ok.failures, []);
    const req = applyRules(
      's',
      'products',
      rules(['ALLOW', 'foo.py'], ['REQUIRE', 'foo.py'], ['REQUIRE', 'bar.py']),
      l,
      new Map(),
    );
    assert.equal(req.failures.length, 1);
    assert.match(req.failures[0] as string, /REQUIRE foo\.py' did not find foo\.py/);
  });

  test('every failing rule is reported, not just the first', () => {
    const l = link('s', {}, { a: A, b: B });
    const r = applyRules(
      's',
      'products',
      rules(['DISALLOW', 'a'], ['REQUIRE', 'zzz'], ['DISALLOW', 'b']),
      l,
      new Map(),
    );
    assert.equal(r.failures.length, 3);
  });

  test('MATCH consumes only artifacts whose digests equal the destination step’s, with IN prefixes', () => {
    const src = link('build', {}, { 'dist/app.js': A, 'dist/other.js': A, 'dist/bad.js': A });
    const dest = link('code', {}, { 'src/app.js': A, 'src/other.js': A, 'src/bad.js': B });
    const links = new Map([
      ['code', dest],
      ['build', src],
    ]);
    const r = applyRules(
      'build',
      'products',
      rules(
        ['MATCH', '*', 'IN', 'dist', 'WITH', 'PRODUCTS', 'IN', 'src', 'FROM', 'code'],
        ['DISALLOW', '*'],
      ),
      src,
      links,
    );
    assert.equal(r.failures.length, 1);
    assert.match(r.failures[0] as string, /matched dist\/bad\.js$/);
    const noStep = applyRules(
      'build',
      'products',
      rules(['MATCH', '*', 'WITH', 'PRODUCTS', 'FROM', 'nope']),
      src,
      links,
    );
    assert.deepEqual(noStep.remaining.length, 3, 'MATCH against a missing step consumes nothing');
    const materials = applyRules(
      'build',
      'products',
      rules(
        ['MATCH', 'dist/app.js', 'WITH', 'MATERIALS', 'FROM', 'code'],
        ['DISALLOW', 'dist/app.js'],
      ),
      src,
      links,
    );
    assert.equal(
      materials.failures.length,
      1,
      'WITH MATERIALS looks at the destination’s materials',
    );
  });
});
