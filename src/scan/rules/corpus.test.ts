/**
 * The corpus: real workflows and Dockerfiles copied from software installed on
 * this machine (sources and licences in ../corpus/LICENSES.md). Prints the
 * finding count per rule and pins known findings to their exact lines.
 * There is no real Kubernetes manifest or GitLab CI file in the corpus (see
 * LICENSES.md); those rule sets are covered by their unit tests only.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import type { Finding } from '../finding.ts';
import { runRules, splitLines } from '../rule.ts';
import { RULE_SETS } from './index.ts';

const ROOT = join(import.meta.dirname, '..', 'corpus');

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

const files = walk(ROOT)
  .map((p) => relative(ROOT, p).split('\\').join('/'))
  .filter((p) => p !== 'LICENSES.md')
  .sort();
const findings: Finding[] = [];
const bySet = new Map<string, number>();
for (const f of files) {
  const text = readFileSync(join(ROOT, f), 'utf8');
  const set = RULE_SETS.find((s) => s.matches(f, text.slice(0, 4096)));
  if (!set) throw new Error(`no rule set for corpus file ${f}`);
  bySet.set(set.name, (bySet.get(set.name) ?? 0) + 1);
  findings.push(...runRules(set, set.parse(text, f), { file: f, lines: splitLines(text) }));
}
const has = (file: string, rule: string, line: number) =>
  findings.some((x) => x.file === file && x.ruleId === rule && x.line === line);
const at = (file: string, rule: string) =>
  findings
    .filter((x) => x.file === file && x.ruleId === rule)
    .map((x) => x.line)
    .sort((a, b) => a - b);

test('corpus: every file is claimed by a rule set and parses; counts per rule', (t) => {
  assert.deepEqual(Object.fromEntries([...bySet].sort()), { docker: 2, gha: 7 });
  const counts = new Map<string, number>();
  for (const f of findings) counts.set(f.ruleId, (counts.get(f.ruleId) ?? 0) + 1);
  const table = [...counts].sort(([a], [b]) => (a < b ? -1 : 1));
  t.diagnostic(`${files.length} files, ${findings.length} findings`);
  for (const [rule, n] of table) t.diagnostic(`${rule} ${n}`);
  // No rule fires twice at one place.
  const keys = findings.map((f) => `${f.file}:${f.line}:${f.column ?? 0}:${f.ruleId}`);
  assert.equal(new Set(keys).size, keys.length);
});

test('corpus: Dockerfile findings on known lines', () => {
  const py = 'pyenv/test/Dockerfile';
  assert.deepEqual(at(py, 'docker/unpinned-base-image'), [3]);
  // `FROM bash:$BASH` with an ARG without default cannot be judged.
  assert.deepEqual(at(py, 'docker/latest-base-image'), []);
  assert.deepEqual(at(py, 'docker/apk-no-cache'), [11, 15]);
  assert.ok(has(py, 'docker/root-user', 9));
  // A bare `FROM image` (no tag, no digest) means :latest.
  const go = 'google-cloud-sdk/platform/ext-runtime/go/data/Dockerfile';
  assert.deepEqual(at(go, 'docker/latest-base-image'), [3]);
  assert.deepEqual(at(go, 'docker/unpinned-base-image'), []);
  assert.ok(has(go, 'docker/root-user', 3));
});

test('corpus: CI findings on known lines', () => {
  const hp = 'httplib2/.github/workflows/publish.yaml';
  assert.deepEqual(at(hp, 'gha/cache-poisoning'), [21, 59, 97]);
  assert.deepEqual(at(hp, 'gha/excessive-permissions'), [10]);
});
