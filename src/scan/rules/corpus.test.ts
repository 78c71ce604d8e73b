/**
 * The corpus: real workflows, Dockerfiles, manifests and GitLab CI files from
 * public projects (sources and licences in ../corpus/LICENSES.md). Prints the
 * finding count per rule and pins known findings to their exact lines.
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
  assert.deepEqual(Object.fromEntries([...bySet].sort()), { docker: 3, gha: 8, gitlab: 1, k8s: 4 });
  const counts = new Map<string, number>();
  for (const f of findings) counts.set(f.ruleId, (counts.get(f.ruleId) ?? 0) + 1);
  const table = [...counts].sort(([a], [b]) => (a < b ? -1 : 1));
  t.diagnostic(`${files.length} files, ${findings.length} findings`);
  for (const [rule, n] of table) t.diagnostic(`${rule} ${n}`);
  // No rule fires twice at one place.
  const keys = findings.map((f) => `${f.file}:${f.line}:${f.column ?? 0}:${f.ruleId}`);
  assert.equal(new Set(keys).size, keys.length);
});

test('corpus: Kubernetes findings on known lines (multi-document stream)', () => {
  const nr = 'kubernetes-examples/newrelic-infra-daemonset.yaml';
  assert.deepEqual(at(nr, 'k8s/pss-host-namespaces'), [18, 19, 20]);
  assert.deepEqual(at(nr, 'k8s/pss-privileged'), [26]);
  assert.deepEqual(at(nr, 'k8s/pss-host-path'), [48, 51, 54, 57]);
  assert.deepEqual(at(nr, 'k8s/image-latest-tag'), [27]);
  const sd = 'kubernetes-examples/sysdig-daemonset.yaml';
  assert.deepEqual(at(sd, 'k8s/pss-host-path'), [20, 24, 27, 30, 33, 36]);
  assert.deepEqual(at(sd, 'k8s/pss-privileged'), [44]);
  // A Role that only reads endpoints is fine.
  assert.equal(
    findings.filter((f) => f.file === 'kubernetes-examples/elasticsearch-rbac.yaml').length,
    0,
  );
  // microservices-demo: hardened (runAsNonRoot, drop ALL, no escalation) but no seccomp profile
  // and tag-only images: one seccomp finding per Deployment, at the pod securityContext.
  const md = 'microservices-demo/release/kubernetes-manifests.yaml';
  const seccomp = at(md, 'k8s/pss-seccomp');
  assert.equal(seccomp.length, 12);
  assert.equal(seccomp[0], 39);
  assert.equal(at(md, 'k8s/image-not-pinned').length, 12);
  assert.deepEqual(at(md, 'k8s/pss-run-as-non-root'), []);
  assert.deepEqual(at(md, 'k8s/pss-capabilities-drop-all'), []);
  assert.deepEqual(at(md, 'k8s/pss-privilege-escalation'), []);
});

test('corpus: Dockerfile findings on known lines', () => {
  const py = 'pyenv/test/Dockerfile';
  assert.deepEqual(at(py, 'docker/unpinned-base-image'), [3]);
  // `FROM bash:$BASH` with an ARG without default cannot be judged.
  assert.deepEqual(at(py, 'docker/latest-base-image'), []);
  assert.deepEqual(at(py, 'docker/apk-no-cache'), [11, 15]);
  assert.ok(has(py, 'docker/root-user', 9));
  const lg = 'microservices-demo/src/loadgenerator/Dockerfile';
  assert.deepEqual(at(lg, 'docker/pip-no-cache-dir'), [31]);
  // FROM base names an earlier stage: no image pinning finding for it.
  assert.deepEqual(at(lg, 'docker/unpinned-base-image'), []);
  assert.deepEqual(at(lg, 'docker/latest-base-image'), []);
  const fe = 'microservices-demo/src/frontend/Dockerfile';
  assert.deepEqual(at(fe, 'docker/latest-base-image'), [32]);
  assert.deepEqual(at(fe, 'docker/unpinned-base-image'), []); // the builder is pinned by digest
});

test('corpus: CI findings on known lines', () => {
  const hp = 'httplib2/.github/workflows/publish.yaml';
  assert.deepEqual(at(hp, 'gha/cache-poisoning'), [21, 59, 97]);
  assert.deepEqual(at(hp, 'gha/excessive-permissions'), [10]);
  const gl = 'gitlab-runner/.gitlab-ci.yml';
  // Templates shared through anchors are reported once, at the template.
  assert.deepEqual(
    at(gl, 'gitlab/image-not-pinned'),
    [48, 82, 134, 183, 238, 240, 286, 341, 364, 666],
  );
  // `curl … | tar zx` is not a shell.
  assert.deepEqual(at(gl, 'gitlab/curl-pipe-shell'), []);
  // Checksums in variables are not secrets.
  assert.deepEqual(at(gl, 'gitlab/secret-in-variables'), []);
});
