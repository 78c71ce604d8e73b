import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  checkDependencies,
  parseDepsPolicy,
  parseLicenseExpression,
  satisfiable,
} from './index.ts';

test('SPDX expressions: precedence, WITH, parentheses, invalid input', () => {
  const ok = (allowed: string[]) => (id: string) => allowed.includes(id);
  const e = (s: string) => {
    const x = parseLicenseExpression(s);
    assert.ok(x, s);
    return x;
  };
  assert.ok(satisfiable(e('MIT OR GPL-3.0-only'), ok(['MIT'])));
  assert.equal(satisfiable(e('MIT AND GPL-3.0-only'), ok(['MIT'])), false);
  // AND binds tighter: MIT OR (Apache-2.0 AND GPL-3.0-only)
  assert.ok(satisfiable(e('MIT OR Apache-2.0 AND GPL-3.0-only'), ok(['MIT'])));
  assert.equal(satisfiable(e('(MIT OR Apache-2.0) AND GPL-3.0-only'), ok(['MIT'])), false);
  assert.ok(satisfiable(e('GPL-2.0-only WITH Classpath-exception-2.0'), ok(['GPL-2.0-only'])));
  assert.ok(satisfiable(e('mit or isc'), ok(['mit'])));
  for (const bad of [
    '',
    'MIT OR',
    '(MIT',
    'MIT)',
    'AND MIT',
    'MIT WITH',
    'MIT, ISC',
    'see LICENSE file',
  ]) {
    assert.equal(parseLicenseExpression(bad), undefined, bad);
  }
});

test('policy: strict parsing names the field and line', () => {
  const p = parseDepsPolicy(
    'version: 1\ndeny:\n  - name: "left-*"\nlicenses:\n  allow: [MIT]\nsources:\n  allow: [git]\n',
    'p.yaml',
  );
  assert.deepEqual(p.deny, [{ name: 'left-*' }]);
  assert.deepEqual(p.sources.allow, ['git']);
  const cases: [string, RegExp][] = [
    ['version: 1\nlicences:\n  allow: [MIT]\n', /\/licences \(line 2\): unknown field/],
    ['version: 2\n', /\/version/],
    [
      'version: 1\nsources:\n  allow: [svn]\n',
      /\/sources\/allow\/0 \(line 3\): unknown source kind "svn"/,
    ],
    ['version: 1\ndeny:\n  - name: a\n    purl: b\n', /exactly one of name or purl/],
    ['version: 1\ndeny:\n  - nme: a\n', /\/deny\/0\/nme \(line 3\): unknown field/],
    ['version: 1\nversion: 1\n', /not valid YAML/],
    ['version: 1\nlicenses:\n  allow: MIT\n', /list of non-empty strings/],
    ['a: &a [1]\nb: [*a, *a]\nversion: 1\n', /alias|not usable|unknown field/],
    ['[1, 2', /not valid YAML/],
  ];
  for (const [text, re] of cases) {
    assert.throws(
      () => parseDepsPolicy(text, 'p.yaml'),
      (e: Error & { code?: string }) =>
        e.code === 'SCAN_DEPS_POLICY_MALFORMED' && re.test(e.message),
      text,
    );
  }
});

test('checkDependencies over a real npm lockfile: denied, licences, non-registry sources, exceptions', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-deps-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const pkg = (name: string, version: string, license: string | undefined, resolved: string) => ({
    version,
    resolved,
    ...(license ? { license } : {}),
  });
  const lock = {
    name: 'app',
    version: '1.0.0',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: 'app', version: '1.0.0' },
      'node_modules/left-pad': pkg(
        'left-pad',
        '1.3.0',
        'WTFPL',
        'https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz',
      ),
      'node_modules/ok-lib': pkg(
        'ok-lib',
        '2.0.0',
        'MIT OR GPL-3.0-only',
        'https://registry.npmjs.org/ok-lib/-/ok-lib-2.0.0.tgz',
      ),
      'node_modules/gpl-lib': pkg(
        'gpl-lib',
        '1.0.0',
        'GPL-3.0-only',
        'https://registry.npmjs.org/gpl-lib/-/gpl-lib-1.0.0.tgz',
      ),
      'node_modules/nolicense': pkg(
        'nolicense',
        '1.0.0',
        undefined,
        'https://registry.npmjs.org/nolicense/-/nolicense-1.0.0.tgz',
      ),
      'node_modules/from-git': pkg(
        'from-git',
        '0.1.0',
        'MIT',
        'git+ssh://git@github.com/acme/from-git.git#0123456789abcdef0123456789abcdef01234567',
      ),
      'node_modules/@acme/internal': pkg(
        '@acme/internal',
        '3.0.0',
        'MIT',
        'https://user:tok3n@files.acme.example/internal-3.0.0.tgz',
      ),
    },
  };
  await writeFile(join(dir, 'package-lock.json'), JSON.stringify(lock, null, 2));
  const policy = parseDepsPolicy(
    'version: 1\ndeny:\n  - name: "left-*"\n    reason: unpublished in 2016\nlicenses:\n  allow: [MIT, ISC, WTFPL]\n  deny: [GPL-3.0-only]\n',
    'p.yaml',
  );
  const r = await checkDependencies(dir, policy);
  const got = r.findings.map((f) => `${f.ruleId} ${f.snippet} ${f.file}:${f.line}`).sort();
  assert.deepEqual(got, [
    'dep/denied-package left-pad@1.3.0 package-lock.json:11',
    'dep/license-denied gpl-lib@1.0.0 package-lock.json:21',
    'dep/license-unknown nolicense@1.0.0 package-lock.json:26',
    'dep/non-registry-source @acme/internal@3.0.0 package-lock.json:35',
    'dep/non-registry-source from-git@0.1.0 package-lock.json:30',
  ]);
  assert.ok(!JSON.stringify(r.findings).includes('tok3n'), 'credentials in a source URL leaked');
  // ok-lib (MIT OR GPL-3.0-only) is fine: one choice avoids GPL.
  policy.sources.exceptions = ['pkg:npm/%40acme/*'];
  policy.sources.allow = ['git'];
  const again = await checkDependencies(dir, policy);
  assert.equal(again.findings.filter((f) => f.ruleId === 'dep/non-registry-source').length, 0);
});
