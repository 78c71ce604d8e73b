// in-toto-run's exclude patterns are pathspec's gitwildmatch: vouch's
// excludeMatcher must answer as pathspec does (Debian's python3-pathspec,
// the library in-toto itself uses) on the same patterns and paths.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { excludeMatcher } from './artifacts.ts';

const PYTHON = '/usr/bin/python3';
const hasPathspec = spawnSync(PYTHON, ['-c', 'import pathspec']).status === 0;

const PATTERNS = [
  '**/b',
  'a/**/b',
  '**/*.pyc',
  'a/**',
  '*.pyc',
  '*.link*',
  '.git',
  '*~',
  'x/',
  'a/*/c',
  'docs/**/*.md',
  '/top.txt',
];
const PATHS = [
  'b',
  'ab',
  'x/b',
  'x/y/b',
  'a/b',
  'a/xb',
  'a/x/b',
  'a/x',
  'z.pyc',
  'x/z.pyc',
  'x/q',
  'step.link',
  'n/step.link.1',
  'f~',
  'a/b/c',
  'a/bb/c',
  'docs/a.md',
  'docs/x/y/a.md',
  'docsa.md',
  'top.txt',
  'sub/top.txt',
];

test('excludeMatcher agrees with pathspec gitwildmatch, pattern by pattern', {
  skip: !hasPathspec && `${PYTHON} has no pathspec (Debian python3-pathspec, pulled in by in-toto)`,
}, () => {
  const script = `
import json, sys, pathspec
patterns, paths = json.load(sys.stdin)
print(json.dumps({p: [f for f in paths if pathspec.PathSpec.from_lines('gitwildmatch', [p]).match_file(f)] for p in patterns}))
`;
  const r = spawnSync(PYTHON, ['-c', script], {
    input: JSON.stringify([PATTERNS, PATHS]),
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const oracle = JSON.parse(r.stdout) as Record<string, string[]>;
  for (const p of PATTERNS) {
    const match = excludeMatcher([p]);
    const ours = PATHS.filter((f) => match(f, false));
    assert.deepEqual(ours, oracle[p], `pattern ${JSON.stringify(p)}`);
  }
});
