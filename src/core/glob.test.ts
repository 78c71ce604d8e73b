import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type GlobOptions, globRegExp } from './glob.ts';

// The two callers' options: in-toto exclude patterns (src/policy/intoto/artifacts.ts)
// and admission --images selection (src/server/admission/image.ts).
const IN_TOTO: GlobOptions = { doubleStarSlashOptional: true, dotAll: true };
const IMAGES: GlobOptions = { doubleStarSlashOptional: false, dotAll: false };

// [pattern, name, matches with IN_TOTO, matches with IMAGES].
const TABLE: ReadonlyArray<[string, string, boolean, boolean]> = [
  ['*.pyc', 'x.pyc', true, true],
  ['*.pyc', 'x/y.pyc', false, false],
  ['*.pyc', 'xpyc', false, false],
  ['*.link*', 'a.link.1', true, true],
  ['*~', 'foo~', true, true],
  ['.git', '.git', true, true],
  ['.git', 'xgit', false, false],
  ['?', 'a', true, true],
  ['?', '/', false, false],
  ['a/?/c', 'a/b/c', true, true],
  ['a/?/c', 'a//c', false, false],
  ['a/*', 'a/b', true, true],
  ['a/*', 'a/b/c', false, false],
  ['a/**', 'a/b/c', true, true],
  ['a/**', 'a/', true, true],
  // For in-toto, `**` + `/` is zero or more whole directories (gitwildmatch): not "ab" or "a/xb".
  ['**/b', 'b', true, false],
  ['**/b', 'x/y/b', true, true],
  ['**/b', 'ab', false, false],
  ['a/**/b', 'a/b', true, false],
  ['a/**/b', 'a/x/y/b', true, true],
  ['a/**/b', 'axb', false, false],
  ['a/**/b', 'a/xb', false, false],
  // dotAll: `**` crosses a line break only for in-toto; `*` always did.
  ['**', 'a\nb', true, false],
  ['*', 'a\nb', true, true],
  ['a/**', 'a/\nb', true, false],
  ['docker.io/library/*', 'docker.io/library/nginx', true, true],
  ['docker.io/library/*', 'docker.io/library/a/b', false, false],
  ['docker.io/library/*', 'dockerXio/library/nginx', false, false],
  ['ghcr.io/**', 'ghcr.io/acme/app', true, true],
  ['reg:5000/team/*', 'reg:5000/team/app', true, true],
  ['a+b', 'a+b', true, true],
  ['a+b', 'aab', false, false],
  ['a(b)', 'a(b)', true, true],
  ['a[b]', 'a[b]', true, true],
  ['a[b]', 'ab', false, false],
  ['a{1}', 'a{1}', true, true],
  ['a{1}', 'a', false, false],
  ['a|b', 'a|b', true, true],
  ['a|b', 'a', false, false],
  ['a^b$', 'a^b$', true, true],
  ['a\\b', 'a\\b', true, true],
  ['a/b', 'a/b', true, true],
  ['', '', true, true],
  ['', 'a', false, false],
];

test('globRegExp: each option set matches as its caller did (patterns × names)', () => {
  for (const [pattern, name, inToto, images] of TABLE) {
    const what = `${JSON.stringify(pattern)} on ${JSON.stringify(name)}`;
    assert.equal(globRegExp(pattern, IN_TOTO).test(name), inToto, `in-toto: ${what}`);
    assert.equal(globRegExp(pattern, IMAGES).test(name), images, `images: ${what}`);
  }
});

test('globRegExp: each option alone changes only what it says', () => {
  const dropsSlash = { doubleStarSlashOptional: true, dotAll: false };
  assert.ok(globRegExp('**/b', dropsSlash).test('b'));
  assert.ok(!globRegExp('**', dropsSlash).test('a\nb'));
  const dotAll = { doubleStarSlashOptional: false, dotAll: true };
  assert.ok(!globRegExp('**/b', dotAll).test('b'));
  assert.ok(globRegExp('**', dotAll).test('a\nb'));
});
