import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isComplete, mergeResults, totalsOf } from './merge.ts';
import type { Component, ReaderResult } from './model.ts';

function comp(file: string, extra: Partial<Component> = {}): Component {
  return {
    ref: 'pkg:npm/a@1.0.0',
    ecosystem: 'npm',
    name: 'a',
    version: '1.0.0',
    purl: 'pkg:npm/a@1.0.0',
    scope: 'dev',
    licenses: [],
    hashes: [],
    foundIn: [file],
    ...extra,
  };
}

function result(
  file: string,
  components: Component[],
  extra: Partial<ReaderResult> = {},
): ReaderResult {
  return {
    components,
    dependencies: [],
    roots: [],
    accounting: {
      file,
      reader: 'r',
      format: 'f',
      declared: components.length,
      emitted: components.length,
      merged: 0,
      skipped: [],
    },
    ...extra,
  };
}

const meta = {
  subject: { kind: 'directory' as const, name: 'x' },
  created: '2020-01-01T00:00:00Z',
  tool: { name: 'vouch' as const, version: '0' },
};

test('mergeResults: one component per ref; unions; strongest scope; first file in path order wins', () => {
  const inB = comp('b/lock', {
    scope: 'required',
    licenses: ['MIT'],
    hashes: [{ algorithm: 'SHA-512', value: 'bb' }],
    source: { kind: 'tarball', url: 'https://b' },
    properties: { k: 'from-b', only: 'b' },
  });
  const inA = comp('a/lock', {
    licenses: ['ISC', 'MIT'],
    hashes: [{ algorithm: 'SHA-1', value: 'aa' }],
    source: { kind: 'git', url: 'https://a' },
    properties: { k: 'from-a' },
  });
  // Given in reverse path order: the outcome must not depend on it.
  const sbom = mergeResults(
    [
      result('b/lock', [inB], {
        dependencies: [{ ref: 'pkg:npm/a@1.0.0', dependsOn: ['pkg:npm/z@1'] }],
        roots: ['pkg:npm/a@1.0.0'],
      }),
      result('a/lock', [inA], {
        dependencies: [{ ref: 'pkg:npm/a@1.0.0', dependsOn: ['pkg:npm/y@1', 'pkg:npm/z@1'] }],
      }),
    ],
    meta,
  );
  assert.equal(sbom.components.length, 1);
  const c = sbom.components[0] as Component;
  assert.deepEqual(c.foundIn, ['a/lock', 'b/lock']);
  assert.equal(c.scope, 'required');
  assert.deepEqual(c.licenses, ['ISC', 'MIT']);
  assert.deepEqual(
    c.hashes.map((h) => h.algorithm),
    ['SHA-1', 'SHA-512'],
  );
  assert.deepEqual(c.source, { kind: 'git', url: 'https://a' });
  assert.deepEqual(c.properties, { k: 'from-a', only: 'b' });
  assert.deepEqual(sbom.dependencies, [
    { ref: 'pkg:npm/a@1.0.0', dependsOn: ['pkg:npm/y@1', 'pkg:npm/z@1'] },
  ]);
  assert.deepEqual(sbom.roots, ['pkg:npm/a@1.0.0']);
  assert.deepEqual(
    sbom.accounting.map((a) => a.file),
    ['a/lock', 'b/lock'],
  );
  // Inputs untouched.
  assert.deepEqual(inA.foundIn, ['a/lock']);
  assert.equal(inA.scope, 'dev');
  const t = totalsOf(sbom);
  assert.equal(t.components, 1);
  assert.equal(t.emitted, 2);
  assert.equal(isComplete(sbom), true);
});

test('mergeResults: every origin of a package across files, the same whatever the read order', () => {
  const files = [
    result('a/lock', [comp('a/lock')]), // the public registry
    result('b/lock', [
      comp('b/lock', {
        source: { kind: 'registry', url: 'http://registry.npmjs.org' },
        otherSources: [{ kind: 'registry' }],
      }),
    ]),
    result('c/lock', [
      comp('c/lock', {
        source: { kind: 'git', url: 'https://example.com/a.git' },
        otherSources: [{ kind: 'registry', url: 'http://registry.npmjs.org' }],
      }),
    ]),
  ];
  const orders = [
    [0, 1, 2],
    [2, 1, 0],
    [1, 2, 0],
    [2, 0, 1],
  ];
  const [first, ...others] = orders.map((o) =>
    mergeResults(
      o.map((i) => files[i] as ReaderResult),
      meta,
    ),
  );
  for (const other of others) assert.deepEqual(other, first);
  const c = first?.components[0] as Component;
  // b/lock is the first file in path order that records a source.
  assert.deepEqual(c.source, { kind: 'registry', url: 'http://registry.npmjs.org' });
  assert.deepEqual(c.otherSources, [
    { kind: 'git', url: 'https://example.com/a.git' },
    { kind: 'registry' },
  ]);
  // Inputs untouched.
  assert.deepEqual(files[2]?.components[0]?.otherSources, [
    { kind: 'registry', url: 'http://registry.npmjs.org' },
  ]);
});

test('isComplete: false with a skipped entry or an incomplete source', () => {
  const skipped = result('a', []);
  skipped.accounting.skipped.push({ entry: 'x', reason: 'y' });
  assert.equal(isComplete(mergeResults([skipped], meta)), false);
  const partial = result('b', []);
  partial.accounting.incomplete = true;
  assert.equal(isComplete(mergeResults([partial], meta)), false);
});
