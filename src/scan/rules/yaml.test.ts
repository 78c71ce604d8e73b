import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVouchError } from '../../core/errors.ts';
import { parseYamlStream, type YNode } from './yaml.ts';

// Found by test/fuzz: every alias was resolved by a walk of the whole
// document, so a file of many aliases took time quadratic in its size (a
// 90 kB Kubernetes manifest took seconds; 1 MB would take hours). The
// timeout is a hang guard far above the linear cost (under a second), far
// below the quadratic one (minutes), not a speed assertion.

test('many aliases of one anchor resolve to it, each to the latest anchor before it', {
  timeout: 60_000,
}, () => {
  const n = 40_000;
  const text = `a: &x {k: v}\nb:\n${'  - *x\n'.repeat(n)}c: &x 2\nd: *x\n`;
  const s = parseYamlStream(text, 'many.yaml');
  const root = s.docs[0]?.root as YNode & { kind: string };
  const get = (k: string) =>
    (root as unknown as { entries: { key: string; value: YNode }[] }).entries.find(
      (e) => e.key === k,
    )?.value as unknown as Record<string, unknown>;
  const b = get('b') as unknown as { items: Record<string, unknown>[] };
  assert.equal(b.items.length, n);
  assert.equal((b.items[n - 1] as { kind: string }).kind, 'map');
  assert.equal((get('d') as { kind: string }).kind, 'scalar');
});

test('an alias before its anchor, or of no anchor, is SCAN_PARSE_ERROR naming the file and line', () => {
  for (const text of ['a: *x\nb: &x 1\n', 'a: 1\nb: *nope\n']) {
    assert.throws(
      () => parseYamlStream(text, 'bad.yaml'),
      (e: unknown) =>
        isVouchError(e) &&
        e.code === 'SCAN_PARSE_ERROR' &&
        e.file === 'bad.yaml' &&
        /alias/.test(e.message),
    );
  }
});
