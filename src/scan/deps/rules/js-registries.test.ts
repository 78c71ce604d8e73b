import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateSbom } from '../../../sbom/index.ts';
import { checkDependencies, parseDepsPolicy, registryAllowed, registryOfOrigin } from '../index.ts';

// Hand-written lockfiles (not made by the package managers): each format's
// registry record, one package per registry case — plain http, an allowed
// private registry, the public registry under its alias registry.yarnpkg.com,
// and the public one over https.
const SHA =
  'sha512-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==';
const PRIVATE = 'https://npm.acme.example/artifactory/api/npm/npm';

const YARN1 = `# yarn lockfile v1


http-pkg@^1.0.0:
  version "1.0.0"
  resolved "http://registry.npmjs.org/http-pkg/-/http-pkg-1.0.0.tgz#0123456789abcdef0123456789abcdef01234567"

private-pkg@^1.0.0:
  version "1.0.0"
  resolved "${PRIVATE}/private-pkg/-/private-pkg-1.0.0.tgz#0123456789abcdef0123456789abcdef01234567"

alias-pkg@^1.0.0:
  version "1.0.0"
  resolved "https://registry.yarnpkg.com/alias-pkg/-/alias-pkg-1.0.0.tgz#0123456789abcdef0123456789abcdef01234567"

public-pkg@^1.0.0:
  version "1.0.0"
  resolved "https://registry.npmjs.org/public-pkg/-/public-pkg-1.0.0.tgz#0123456789abcdef0123456789abcdef01234567"
`;

// Berry records no registry for `npm:` resolutions unless the tarball is
// somewhere else (`::__archiveUrl=`); alias-pkg has no URL at all.
const enc = encodeURIComponent;
const BERRY = `__metadata:
  version: 8
  cacheKey: 10c0

"http-pkg@npm:^1.0.0":
  version: 1.0.0
  resolution: "http-pkg@npm:1.0.0::__archiveUrl=${enc('http://registry.npmjs.org/http-pkg/-/http-pkg-1.0.0.tgz')}"
  checksum: 10c0/00
  languageName: node
  linkType: hard

"private-pkg@npm:^1.0.0":
  version: 1.0.0
  resolution: "private-pkg@npm:1.0.0::__archiveUrl=${enc(`${PRIVATE}/private-pkg/-/private-pkg-1.0.0.tgz`)}"
  checksum: 10c0/00
  languageName: node
  linkType: hard

"alias-pkg@npm:^1.0.0":
  version: 1.0.0
  resolution: "alias-pkg@npm:1.0.0::__archiveUrl=${enc('https://registry.yarnpkg.com/alias-pkg/-/alias-pkg-1.0.0.tgz')}"
  checksum: 10c0/00
  languageName: node
  linkType: hard

"public-pkg@npm:^1.0.0":
  version: 1.0.0
  resolution: "public-pkg@npm:1.0.0"
  checksum: 10c0/00
  languageName: node
  linkType: hard
`;

const PNPM = `lockfileVersion: '9.0'

importers:
  .:
    dependencies:
      http-pkg: {specifier: ^1.0.0, version: 1.0.0}
      private-pkg: {specifier: ^1.0.0, version: 1.0.0}
      alias-pkg: {specifier: ^1.0.0, version: 1.0.0}
      public-pkg: {specifier: ^1.0.0, version: 1.0.0}

packages:
  http-pkg@1.0.0:
    resolution: {integrity: ${SHA}, tarball: http://registry.npmjs.org/http-pkg/-/http-pkg-1.0.0.tgz}
  private-pkg@1.0.0:
    resolution: {integrity: ${SHA}, tarball: ${PRIVATE}/private-pkg/-/private-pkg-1.0.0.tgz}
  alias-pkg@1.0.0:
    resolution: {integrity: ${SHA}, tarball: https://registry.yarnpkg.com/alias-pkg/-/alias-pkg-1.0.0.tgz}
  public-pkg@1.0.0:
    resolution: {integrity: ${SHA}}

snapshots:
  http-pkg@1.0.0: {}
  private-pkg@1.0.0: {}
  alias-pkg@1.0.0: {}
  public-pkg@1.0.0: {}
`;

const bunPkg = (name: string, registry: string) =>
  `    "${name}": ["${name}@1.0.0", "${registry}", {}, "${SHA}"],`;
const BUN = `{
  "lockfileVersion": 1,
  "workspaces": {
    "": {
      "name": "app",
      "dependencies": { "http-pkg": "^1.0.0", "private-pkg": "^1.0.0", "alias-pkg": "^1.0.0", "public-pkg": "^1.0.0" },
    },
  },
  "packages": {
${bunPkg('http-pkg', 'http://registry.npmjs.org/http-pkg/-/http-pkg-1.0.0.tgz')}
${bunPkg('private-pkg', `${PRIVATE}/private-pkg/-/private-pkg-1.0.0.tgz`)}
${bunPkg('alias-pkg', 'https://registry.yarnpkg.com/alias-pkg/-/alias-pkg-1.0.0.tgz')}
${bunPkg('public-pkg', '')}
  }
}
`;

const CASES: Array<[string, string, string]> = [
  ['yarn v1', 'yarn.lock', YARN1],
  ['yarn berry', 'yarn.lock', BERRY],
  ['pnpm 9', 'pnpm-lock.yaml', PNPM],
  ['bun', 'bun.lock', BUN],
];

const policy = (yaml: string) => parseDepsPolicy(`version: 1\n${yaml}`, 'p.yaml');

for (const [label, file, text] of CASES) {
  test(`${label}: registry origins reach the SBOM and the registry rules`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'vouch-jsreg-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, file), text);
    await writeFile(join(dir, 'package.json'), '{"name":"app","version":"1.0.0"}');

    const sbom = await generateSbom(dir);
    const source = (n: string) => sbom.components.find((c) => c.name === n)?.source;
    assert.deepEqual(source('http-pkg'), { kind: 'registry', url: 'http://registry.npmjs.org' });
    assert.deepEqual(source('private-pkg'), { kind: 'registry', url: PRIVATE });
    // The alias over https and the public registry record nothing: public.
    assert.equal(source('alias-pkg'), undefined);
    assert.equal(source('public-pkg'), undefined);
    assert.ok(sbom.components.some((c) => c.name === 'public-pkg'));

    const ids = async (yaml: string, rule: string) =>
      (await checkDependencies(dir, policy(yaml))).findings
        .filter((f) => f.ruleId === rule)
        .map((f) => f.snippet)
        .sort();
    const allowed = `allowedRegistries: [https://registry.npmjs.org, ${PRIVATE}]\n`;
    const hits = await ids(allowed, 'dep/registry-not-allowed');
    // Only the plain-http copy fires; the private registry is allowed.
    assert.equal(hits.length, 1, hits.join('\n'));
    assert.match(hits[0] as string, /http-pkg@1\.0\.0/);
    // Without the private registry in the list, it fires too.
    const strict = await ids(
      'allowedRegistries: [https://registry.npmjs.org]\n',
      'dep/registry-not-allowed',
    );
    assert.equal(strict.length, 2, strict.join('\n'));
    assert.ok(strict.some((h) => h?.includes('private-pkg@1.0.0')));
    // An internal name from the alias host is from the public registry.
    const confusion = await ids(
      'internalPackages: [alias-pkg, private-pkg]\n',
      'dep/dependency-confusion',
    );
    assert.equal(confusion.length, 1, confusion.join('\n'));
    assert.match(confusion[0] as string, /alias-pkg@1\.0\.0/);
  });
}

test('registry.yarnpkg.com is registry.npmjs.org for allowedRegistries, http stays http', () => {
  assert.equal(
    registryAllowed('https://registry.yarnpkg.com', ['https://registry.npmjs.org']),
    true,
  );
  assert.equal(
    registryAllowed('https://registry.npmjs.org/', ['https://registry.yarnpkg.com']),
    true,
  );
  assert.equal(
    registryAllowed('http://registry.yarnpkg.com', ['https://registry.npmjs.org']),
    false,
  );
  assert.equal(
    registryAllowed('https://registry.yarnpkg.com.evil.example', ['https://registry.npmjs.org']),
    false,
  );
  // An npm lockfile's `registry` source on the alias host is the public registry.
  const npm = { ecosystem: 'npm' } as const;
  assert.deepEqual(
    registryOfOrigin(npm, { kind: 'registry', url: 'https://registry.yarnpkg.com' }),
    {
      url: 'https://registry.yarnpkg.com',
      public: true,
    },
  );
  assert.equal(
    registryOfOrigin(npm, { kind: 'registry', url: 'https://npm.acme.example' })?.public,
    false,
  );
});
