import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyPair, differingTokens, dominant, sameLinesReordered } from './classify.ts';
import { compareText, lineDiff } from './content.ts';

test('classifyPair names the usual causes from the differing tokens', () => {
  const cases: [string, string, string][] = [
    ['built Mon Jan  1 00:00:00 UTC 2024', 'built Tue Feb  4 04:05:06 UTC 2025', 'timestamp'],
    ['"buildTime": 1700000000', '"buildTime": 1700000123', 'timestamp'],
    ['built mer. 25 nov. 2026', 'built Wed Nov 25 2026', 'locale'],
    ['total 1,5 MB', 'total 1.5 MB', 'locale'],
    [
      'src: /tmp/vouch-repro-x/build/app/a.c',
      'src: /tmp/vouch-repro-x/build-varied-1/deeper/app-1/a.c',
      'embedded-build-path',
    ],
    [
      'id = 5f0c8a1e-2b3d-4e5f-8a9b-0c1d2e3f4a5b',
      'id = 9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b',
      'random-id',
    ],
    ['-rw-r--r--', '-rw-rw-r--', 'permissions-ownership'],
    ['644', '664', 'permissions-ownership'],
    ['version 1', 'version 2', 'unknown'],
  ];
  for (const [a, b, want] of cases) assert.equal(classifyPair(a, b), want, `${a} | ${b}`);
  // A build path given by the caller counts even when it is not a well-known prefix.
  assert.equal(
    classifyPair('from /opt/ci/job-1/x', 'from /opt/ci/job-2/x', ['/opt/ci/job-1']),
    'embedded-build-path',
  );
});

test('differingTokens widens to whole tokens; dominant prefers a known class', () => {
  assert.deepEqual(differingTokens('at 12:00:01 ok', 'at 12:00:09 ok'), ['12:00:01', '12:00:09']);
  assert.equal(dominant(['unknown', 'timestamp', 'unknown', 'locale', 'timestamp']), 'timestamp');
  assert.equal(dominant(['unknown']), 'unknown');
  assert.equal(sameLinesReordered(['a', 'b', 'c'], ['c', 'a', 'b']), true);
  assert.equal(sameLinesReordered(['a', 'b'], ['a', 'c']), false);
});

test('text diffs: JSON by value, lines reordered are file-order, unified context', () => {
  assert.equal(
    compareText('{"a":1,"b":[1,2]}', '{ "b": [1, 2], "a": 1 }\n', 'x.json', [])?.class,
    'json-key-order',
  );
  const j = compareText('{"a":1,"t":"2024-01-01"}', '{"t":"2025-02-03","a":1}', 'x.json', []);
  assert.equal(j?.class, 'timestamp');
  assert.match(j?.detail ?? '', /^- {2}"t": "2024-01-01"$/m);
  assert.equal(compareText('a\nb\nc\n', 'c\na\nb\n', 'list.txt', [])?.class, 'file-order');
  const lines = Array.from({ length: 20 }, (_, i) => `line ${i}`);
  const changed = [...lines];
  changed[10] = 'line ten';
  const { ops } = lineDiff(lines, changed, []);
  assert.deepEqual(ops.split('\n'), [
    '@@ -8 +8 @@',
    ' line 7',
    ' line 8',
    ' line 9',
    '-line 10',
    '+line ten',
    ' line 11',
    ' line 12',
    ' line 13',
  ]);
  assert.equal(compareText('same', 'same', 'x', []), undefined);
});

test('a random temp file name (mktemp) is random-id; a random directory above the file stays a build path', () => {
  const cases: [string, string, string][] = [
    ['/tmp/build.U8I9lY', '/tmp/build.XgfAqh', 'random-id'],
    ['cache: /tmp/tmp.a1B2c3D4e5', 'cache: /tmp/tmp.Zq9Wx8Yv7u', 'random-id'],
    // The build ran in a random directory: the file's own name is the same.
    ['/tmp/tmp.a1B2c3/pkg/a.c', '/tmp/tmp.Zq9Wx8/pkg/a.c', 'embedded-build-path'],
    // A date in a file name is a timestamp, not randomness.
    ['/var/log/build-20240101.log', '/var/log/build-20250203.log', 'timestamp'],
  ];
  for (const [a, b, want] of cases) assert.equal(classifyPair(a, b), want, `${a} | ${b}`);
});
