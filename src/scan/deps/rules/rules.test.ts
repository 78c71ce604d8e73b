import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SHARED } from '../../../../test/shared.ts';
import { generateSbom, toCycloneDx } from '../../../sbom/index.ts';
import { importExports, VulnDatabase } from '../../../vuln/index.ts';
import { checkDependencies, DEP_RULES, parseDepsPolicy } from '../index.ts';

// Real lockfiles (see ../shared/vectors/MANIFEST.md).
const SBOM = `${SHARED}/vectors/sbom`;
const policy = (yaml: string) => parseDepsPolicy(`version: 1\n${yaml}`, 'p.yaml');
const hits = async (dir: string, yaml: string, rule: string) =>
  (await checkDependencies(dir, policy(yaml))).findings
    .filter((f) => f.ruleId === rule)
    .map((f) => `${f.snippet} ${f.file}:${f.line}`)
    .sort();

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-deprules-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('every rule unit is in the catalogue with a reason and a fix', () => {
  for (const id of [
    'dep/install-script',
    'dep/registry-not-allowed',
    'dep/dependency-confusion',
    'dep/known-malicious',
  ]) {
    const r = DEP_RULES.find((x) => x.id === id);
    assert.ok(r, id);
    assert.ok(r.description.length > 100, id);
  }
});

test('dep/install-script: npm hasInstallScript in the real sigstore-js lockfile, with an allow-list', async () => {
  const dir = `${SBOM}/npm-v3_sigstore-js`;
  // Off unless the policy asks for it.
  assert.deepEqual(await hits(dir, '', 'dep/install-script'), []);
  assert.deepEqual(await hits(dir, 'installScripts: {}\n', 'dep/install-script'), [
    '@swc/core@1.5.0 package-lock.json:4130',
    'fsevents@2.3.3 package-lock.json:7414',
    'unrs-resolver@1.12.0 package-lock.json:12090',
  ]);
  assert.deepEqual(
    await hits(dir, 'installScripts:\n  allow: [fsevents, "@swc/*"]\n', 'dep/install-script'),
    ['unrs-resolver@1.12.0 package-lock.json:12090'],
  );
});

test('dep/install-script: pnpm requiresBuild in the real vite lockfile (pnpm 5.4)', async () => {
  const got = await hits(`${SBOM}/pnpm-5.4_vite`, 'installScripts: {}\n', 'dep/install-script');
  assert.ok(
    got.some((h) => h.startsWith('esbuild@')),
    got.join('\n'),
  );
  // pnpm 9 lockfiles no longer record it: nothing to report, nothing invented.
  assert.deepEqual(
    await hits(`${SBOM}/pnpm-9.0_vite`, 'installScripts: {}\n', 'dep/install-script'),
    [],
  );
});

test('dep/registry-not-allowed: plain-HTTP registry URLs in the real mocha v1 lockfile', async () => {
  const yaml = 'allowedRegistries: [https://registry.npmjs.org]\n';
  const mocha = await checkDependencies(`${SBOM}/npm-v1_mocha`, policy(yaml));
  const bad = mocha.findings.filter((f) => f.ruleId === 'dep/registry-not-allowed');
  // 29 packages, one finding each. minimist@1.2.0 is listed several times:
  // most copies come over https from the public registry, one (nested, line
  // 107) over plain HTTP. The component keeps every copy's origin (source and
  // otherSources) and the rule judges each, so the HTTP copy is found
  // whichever copy the reader meets first. (It used to be found only because
  // the first copy met recorded no registry and the HTTP copy's npm:registry
  // property filled the gap: a first copy from another registry hid it.)
  assert.equal(bad.length, 29);
  assert.equal(new Set(bad.map((f) => f.snippet)).size, 29);
  assert.ok(bad.some((f) => f.snippet === 'minimist@1.2.0'));
  assert.ok(
    bad.every((f) => /from http:\/\/registry\.npmjs\.org, .*\(plain HTTP\)$/.test(f.message)),
  );
  assert.ok(bad.some((f) => f.snippet === 'source-map@0.1.43'));
  // sigstore-js resolves everything over https from the public registry.
  assert.deepEqual(await hits(`${SBOM}/npm-v3_sigstore-js`, yaml, 'dep/registry-not-allowed'), []);
  // Without allowedRegistries the rule does not run.
  assert.deepEqual(await hits(`${SBOM}/npm-v1_mocha`, '', 'dep/registry-not-allowed'), []);
  // An allow-list without the public registry: every registry package is outside it.
  const other = await hits(
    `${SBOM}/npm-v3_sigstore-js`,
    'allowedRegistries: [https://npm.acme.example]\n',
    'dep/registry-not-allowed',
  );
  assert.ok(other.length > 500, String(other.length));
});

// Hand-written lockfile: no public lockfile resolves from a private registry.
async function privateRegistryLock(dir: string): Promise<void> {
  const lock = {
    name: 'app',
    version: '1.0.0',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: 'app', version: '1.0.0' },
      'node_modules/acme-utils': {
        version: '9.9.9',
        resolved: 'https://registry.npmjs.org/acme-utils/-/acme-utils-9.9.9.tgz',
      },
      'node_modules/@acme/core': {
        version: '2.0.0',
        resolved:
          'https://ci:s3cret@npm.acme.example/artifactory/api/npm/npm/@acme/core/-/core-2.0.0.tgz',
      },
      'node_modules/@acme/git-only': {
        version: '1.0.0',
        resolved:
          'git+ssh://git@github.com/acme/git-only.git#0123456789abcdef0123456789abcdef01234567',
      },
      'node_modules/left-pad': {
        version: '1.3.0',
        resolved: 'https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz',
      },
    },
  };
  await writeFile(join(dir, 'package-lock.json'), JSON.stringify(lock, null, 2));
}

test('dep/registry-not-allowed: a private registry, credentials never shown, git left to non-registry-source', async (t) => {
  const dir = await tempDir(t);
  await privateRegistryLock(dir);
  const r = await checkDependencies(
    dir,
    policy('allowedRegistries: [https://registry.npmjs.org]\n'),
  );
  const got = r.findings.map((f) => `${f.ruleId} ${f.snippet}`).sort();
  assert.deepEqual(got, [
    'dep/non-registry-source @acme/git-only@1.0.0',
    'dep/registry-not-allowed @acme/core@2.0.0',
  ]);
  assert.match(
    r.findings.find((f) => f.ruleId === 'dep/registry-not-allowed')?.message ?? '',
    /https:\/\/npm\.acme\.example\/artifactory\/api\/npm\/npm,/,
  );
  assert.ok(!JSON.stringify(r.findings).includes('s3cret'));
  const ok = await checkDependencies(
    dir,
    policy(
      'allowedRegistries: [https://registry.npmjs.org, "https://npm.acme.example/artifactory/"]\n',
    ),
  );
  assert.equal(ok.findings.filter((f) => f.ruleId === 'dep/registry-not-allowed').length, 0);
});

/**
 * Hand-written lockfileVersion 1 (real lockfiles with this shape are made by
 * npm 5-6, e.g. ../shared/vectors/sbom/npm-v1_mocha): minimist@1.2.0 twice,
 * the top-level copy over https, the copy nested under mkdirp over plain
 * HTTP. `nestedFirst` swaps the two URLs.
 */
async function twoOriginsV1Lock(dir: string, first: string, nested: string): Promise<void> {
  const tgz = (registry: string, name: string, v: string) =>
    `${registry}/${name}/-/${name}-${v}.tgz`;
  const lock = {
    name: 'app',
    version: '1.0.0',
    lockfileVersion: 1,
    requires: true,
    dependencies: {
      minimist: { version: '1.2.0', resolved: tgz(first, 'minimist', '1.2.0') },
      mkdirp: {
        version: '0.5.1',
        resolved: tgz('https://registry.npmjs.org', 'mkdirp', '0.5.1'),
        requires: { minimist: '1.2.0' },
        dependencies: {
          minimist: { version: '1.2.0', resolved: tgz(nested, 'minimist', '1.2.0') },
        },
      },
    },
  };
  await writeFile(join(dir, 'package-lock.json'), JSON.stringify(lock, null, 2));
}

test('dep/registry-not-allowed: every copy is judged — first copy https, a later copy plain HTTP', async (t) => {
  const allowed = 'allowedRegistries: [https://registry.npmjs.org, https://npm.acme.example]\n';
  for (const [first, nested] of [
    // An allowed private registry first: before every origin was kept, this hid the HTTP copy.
    ['https://npm.acme.example', 'http://registry.npmjs.org'],
    ['http://registry.npmjs.org', 'https://npm.acme.example'],
    ['https://registry.npmjs.org', 'http://registry.npmjs.org'],
    ['http://registry.npmjs.org', 'https://registry.npmjs.org'],
  ]) {
    const dir = await tempDir(t);
    await twoOriginsV1Lock(dir, first as string, nested as string);
    const r = await checkDependencies(dir, policy(allowed));
    const bad = r.findings.filter((f) => f.ruleId === 'dep/registry-not-allowed');
    assert.deepEqual(
      bad.map((f) => [f.snippet, f.message]),
      [
        [
          'minimist@1.2.0',
          'minimist@1.2.0 is resolved from http://registry.npmjs.org, not an allowed registry (plain HTTP)',
        ],
      ],
      `${first} then ${nested}`,
    );
    // The SBOM lists both origins of the one component.
    const sbom = await generateSbom(dir, { created: '1970-01-01T00:00:00Z' });
    const m = sbom.components.filter((c) => c.name === 'minimist');
    assert.equal(m.length, 1);
    const origins = [m[0]?.source, ...(m[0]?.otherSources ?? [])].map((o) =>
      o?.url ? `${o.kind}:${o.url}` : o?.kind,
    );
    const expected = [first, nested].map((u) =>
      u === 'https://registry.npmjs.org' ? 'registry' : `registry:${u}`,
    );
    assert.deepEqual([...origins].sort(), [...expected].sort());
    const cdx = toCycloneDx(sbom) as {
      components: { name: string; externalReferences?: { url: string }[] }[];
    };
    const refs = cdx.components.find((c) => c.name === 'minimist')?.externalReferences ?? [];
    assert.ok(
      refs.some((x) => x.url === 'http://registry.npmjs.org'),
      JSON.stringify(refs),
    );
  }
  // Both copies outside the list: one finding naming both.
  const dir = await tempDir(t);
  await twoOriginsV1Lock(dir, 'https://npm.other.example', 'http://registry.npmjs.org');
  assert.deepEqual(
    (
      await checkDependencies(dir, policy('allowedRegistries: [https://registry.npmjs.org]\n'))
    ).findings
      .filter((f) => f.ruleId === 'dep/registry-not-allowed')
      .map((f) => f.message),
    [
      'minimist@1.2.0 is resolved from https://npm.other.example and http://registry.npmjs.org (plain HTTP), none of them an allowed registry',
    ],
  );
});

test('dep/dependency-confusion: a public copy of an internal package beside the internal one', async (t) => {
  const dir = await tempDir(t);
  await twoOriginsV1Lock(dir, 'https://npm.acme.example', 'http://registry.npmjs.org');
  const rule = 'dep/dependency-confusion';
  const yaml = 'internalPackages: [minimist]\n';
  assert.deepEqual(await hits(dir, yaml, rule), ['minimist@1.2.0 package-lock.json:7']);
  const internal = await checkDependencies(
    dir,
    policy(`${yaml}internalRegistries: [https://npm.acme.example]\n`),
  );
  assert.deepEqual(
    internal.findings.filter((f) => f.ruleId === rule).map((f) => f.message),
    ['internal package minimist@1.2.0 is resolved from http://registry.npmjs.org'],
  );
});

test('dep/non-registry-source: first copy from a registry, a later copy from git', async (t) => {
  // npm: a git copy gets its vcs_url in the purl, so it is its own component and found as such.
  const npmDir = await tempDir(t);
  const lock = {
    name: 'app',
    version: '1.0.0',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: 'app', version: '1.0.0' },
      'node_modules/x': {
        version: '1.0.0',
        resolved: 'https://npm.acme.example/x/-/x-1.0.0.tgz',
      },
      'node_modules/y': { version: '2.0.0', dependencies: { x: 'github:acme/x#0123456' } },
      'node_modules/y/node_modules/x': {
        version: '1.0.0',
        resolved: 'git+ssh://git@github.com/acme/x.git#0123456789abcdef0123456789abcdef01234567',
      },
    },
  };
  await writeFile(join(npmDir, 'package-lock.json'), JSON.stringify(lock, null, 2));
  assert.deepEqual(
    (await checkDependencies(npmDir, policy(''))).findings
      .filter((f) => f.ruleId === 'dep/non-registry-source')
      .map((f) => f.message),
    [
      // User info is never shown (it may be a token); `git@` goes with it.
      'x@1.0.0 comes from a git source (git+ssh://github.com/acme/x.git#0123456789abcdef0123456789abcdef01234567), not a registry',
    ],
  );
  // Cargo: the same name and version from a private registry and from git are one component
  // (no qualifier tells them apart), so the git origin is an otherSource of the registry one.
  const dir = await tempDir(t);
  await writeFile(
    join(dir, 'Cargo.lock'),
    [
      '# Hand-written in the shape cargo writes (version 3): one crate from two sources.',
      'version = 3',
      '',
      '[[package]]',
      'name = "app"',
      'version = "0.1.0"',
      'dependencies = [',
      ' "serde 1.0.0 (registry+https://cargo.acme.example/index)",',
      ' "serde 1.0.0 (git+https://github.com/serde-rs/serde?rev=abc#0123456789abcdef0123456789abcdef01234567)",',
      ']',
      '',
      '[[package]]',
      'name = "serde"',
      'version = "1.0.0"',
      'source = "registry+https://cargo.acme.example/index"',
      '',
      '[[package]]',
      'name = "serde"',
      'version = "1.0.0"',
      'source = "git+https://github.com/serde-rs/serde?rev=abc#0123456789abcdef0123456789abcdef01234567"',
      '',
    ].join('\n'),
  );
  const r = await checkDependencies(
    dir,
    policy('allowedRegistries: [https://cargo.acme.example]\n'),
  );
  assert.deepEqual(
    r.findings.map((f) => [f.ruleId, f.message]),
    [
      [
        'dep/non-registry-source',
        'serde@1.0.0 comes from a git source (https://github.com/serde-rs/serde?rev=abc), not a registry',
      ],
    ],
  );
  // Allowing git clears it; the registry copy was never the problem.
  assert.deepEqual(
    (await checkDependencies(dir, policy('sources:\n  allow: [workspace, git]\n'))).findings,
    [],
  );
});

test('dep/dependency-confusion: internal names from the public registry', async (t) => {
  const dir = await tempDir(t);
  await privateRegistryLock(dir);
  const rule = 'dep/dependency-confusion';
  // Without internalRegistries: only the public registry is wrong.
  assert.deepEqual(await hits(dir, 'internalPackages: [acme-utils, "@acme/*"]\n', rule), [
    'acme-utils@9.9.9 package-lock.json:11',
  ]);
  // With it: anything but the internal registry, git included.
  assert.deepEqual(
    await hits(
      dir,
      'internalPackages: [acme-utils, "@acme/*"]\ninternalRegistries: [https://npm.acme.example]\n',
      rule,
    ),
    ['@acme/git-only@1.0.0 package-lock.json:19', 'acme-utils@9.9.9 package-lock.json:11'],
  );
  assert.deepEqual(await hits(dir, '', rule), []);
  // Real lockfile: were @sigstore/* internal, the published ones resolved from npmjs would be
  // confusable; the workspace packages themselves are the project, not dependencies.
  const real = await hits(
    `${SBOM}/npm-v3_sigstore-js`,
    'internalPackages: ["@sigstore/*"]\n',
    rule,
  );
  assert.ok(real.length > 0);
  assert.ok(real.every((h) => h.startsWith('@sigstore/')));
  assert.ok(!real.some((h) => h.startsWith('@sigstore/cli@')), 'a workspace reported');
});

test('policy: the new fields are strict', () => {
  for (const [text, re] of [
    ['version: 1\nallowedRegistries: [registry.npmjs.org]\n', /\/allowedRegistries\/0 \(line 2\)/],
    ['version: 1\nallowedRegistries: ["https://u:p@npm.acme.example"]\n', /no credentials/],
    [
      'version: 1\ninstallScripts:\n  alow: [x]\n',
      /\/installScripts\/alow \(line 3\): unknown field/,
    ],
    ['version: 1\ninternalPackages: acme\n', /list of non-empty strings/],
  ] as const) {
    assert.throws(
      () => parseDepsPolicy(text, 'p.yaml'),
      (e: Error & { code?: string }) =>
        e.code === 'SCAN_DEPS_POLICY_MALFORMED' && re.test(e.message),
      text,
    );
  }
});

test('dep/known-malicious: OSV MAL- records from a database; no database is "not checked"', async (t) => {
  const dir = await tempDir(t);
  await cp(`${SBOM}/npm-v1_mocha/package-lock.json`, join(dir, 'package-lock.json'));
  await cp(`${SBOM}/npm-v1_mocha/package.json`, join(dir, 'package.json'));
  const none = await checkDependencies(dir, policy(''));
  assert.deepEqual(
    none.notChecked.map((n) => n.ruleId),
    ['dep/known-malicious'],
  );
  assert.equal(none.findings.filter((f) => f.ruleId === 'dep/known-malicious').length, 0);

  // A HAND-WRITTEN record in the real OSV MAL- format (OpenSSF malicious-packages):
  // minimist is not malicious; the record only exercises the matching.
  const record = {
    schema_version: '1.5.0',
    id: 'MAL-2099-0001',
    modified: '2099-01-01T00:00:00Z',
    published: '2099-01-01T00:00:00Z',
    summary: 'Malicious code in minimist (npm)',
    details: 'Hand-written test record: not a real advisory.',
    affected: [
      {
        package: { ecosystem: 'npm', name: 'minimist' },
        versions: ['1.2.0'],
        database_specific: { 'malicious-packages-origins': [{ source: 'test' }] },
      },
    ],
    database_specific: { 'malicious-packages-origins': [{ source: 'test' }] },
  };
  // And a plain vulnerability record for another package: not a MAL- record, not this rule's.
  const vuln = {
    schema_version: '1.5.0',
    id: 'GHSA-test-test-test',
    modified: '2099-01-01T00:00:00Z',
    summary: 'A plain vulnerability (hand-written)',
    affected: [
      {
        package: { ecosystem: 'npm', name: 'debug' },
        ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }] }],
      },
    ],
  };
  const recs = join(dir, 'records');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(recs);
  await writeFile(join(recs, 'MAL-2099-0001.json'), JSON.stringify(record));
  await writeFile(join(recs, 'GHSA-test-test-test.json'), JSON.stringify(vuln));
  const dbDir = join(dir, 'db');
  await importExports(dbDir, [recs], { now: new Date('2026-01-01T00:00:00Z'), cwd: dir });
  const db = await VulnDatabase.open(dbDir);
  t.after(() => db.close());
  const r = await checkDependencies(dir, policy(''), { vulnDb: db });
  assert.deepEqual(r.notChecked, []);
  const mal = r.findings.filter((f) => f.ruleId === 'dep/known-malicious');
  assert.deepEqual(
    mal.map((f) => [f.snippet, f.severity, f.message]),
    [['minimist@1.2.0', 'critical', 'minimist@1.2.0 is known malicious (MAL-2099-0001)']],
  );
});
