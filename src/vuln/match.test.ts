import assert from 'node:assert/strict';
import { mkdtemp, readFileSync, rm } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { PackageURL } from 'packageurl-js';
import { SHARED } from '../../test/shared.ts';
import { importExports, VulnDatabase } from './db/index.ts';
import { ORACLE, OSV_VECTORS } from './fixtures/testkit.ts';
import { componentsOfSbom, matchComponents, packageKeyOf, type ScanComponent } from './match.ts';

const now = new Date('2026-11-25T12:00:00Z');
let db: VulnDatabase;
let dir: string;

/** purl type of each oracle ecosystem the matcher reaches through purls. */
const PURL_TYPE: Record<string, { type: string; namespace?: string }> = {
  PyPI: { type: 'pypi' },
  Go: { type: 'golang' },
  'crates.io': { type: 'cargo' },
  AlmaLinux: { type: 'rpm', namespace: 'almalinux' },
  Hackage: { type: 'hackage' },
  CRAN: { type: 'cran' },
};

before(async () => {
  dir = await new Promise<string>((res, rej) =>
    mkdtemp(join(tmpdir(), 'vouch-match-'), (e, d) => (e ? rej(e) : res(d))),
  );
  const inputs = Object.keys(PURL_TYPE).map((e) => `${ORACLE}/records-${e}.jsonl`);
  await importExports(join(dir, 'db'), [...inputs, `${OSV_VECTORS}/golang`], { now, cwd: dir });
  db = await VulnDatabase.open(join(dir, 'db'));
});
test.after(() => {
  db?.close();
  rm(dir, { recursive: true, force: true }, () => {});
});

function purlOf(ecosystem: string, name: string, version: string, full = ecosystem): string {
  const t = PURL_TYPE[ecosystem] as { type: string; namespace?: string };
  const release = full.includes(':') ? full.slice(full.indexOf(':') + 1) : undefined;
  const qualifiers = release && t.namespace ? { distro: `${t.namespace}-${release}` } : undefined;
  let namespace = t.namespace;
  let n = name;
  if (t.type === 'golang' && name.includes('/')) {
    namespace = name.slice(0, name.lastIndexOf('/'));
    n = name.slice(name.lastIndexOf('/') + 1);
  }
  return new PackageURL(t.type, namespace, n, version, qualifiers, undefined).toString();
}

for (const ecosystem of Object.keys(PURL_TYPE)) {
  test(`oracle through purls and the database: ${ecosystem} ≥ 99.9 % on affected and unaffected lines`, () => {
    const lines = readFileSync(`${ORACLE}/oracle-${ecosystem}.jsonl`, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map(
        (l) =>
          JSON.parse(l) as {
            id: string;
            ecosystem: string;
            package: string;
            version: string;
            affected: boolean;
          },
      )
      // Every 8th line: the version schemes' own tests score every line; this checks the plumbing.
      .filter((_, i) => i % 8 === 0);
    const components: ScanComponent[] = lines.map((o, i) => ({
      ref: String(i),
      name: o.package,
      version: o.version,
      purl: purlOf(ecosystem, o.package, o.version, o.ecosystem),
    }));
    const result = matchComponents(db, components, { now });
    const found = new Map<string, Set<string>>();
    for (const f of result.findings) {
      const s = found.get(f.component.ref) ?? new Set<string>();
      for (const id of f.records) s.add(id);
      found.set(f.component.ref, s);
    }
    const tally = { t: 0, tOk: 0, f: 0, fOk: 0 };
    const wrong: string[] = [];
    lines.forEach((o, i) => {
      const got = found.get(String(i))?.has(o.id) ?? false;
      if (o.affected) tally.t++;
      else tally.f++;
      if (got === o.affected) {
        if (o.affected) tally.tOk++;
        else tally.fOk++;
      } else if (wrong.length < 5)
        wrong.push(`${o.id} ${o.package}@${o.version} expected ${o.affected}`);
    });
    if (tally.t > 0)
      assert.ok(
        tally.tOk / tally.t >= 0.999,
        `affected ${tally.tOk}/${tally.t}: ${wrong.join('; ')}`,
      );
    if (tally.f > 0)
      assert.ok(
        tally.fOk / tally.f >= 0.999,
        `unaffected ${tally.fOk}/${tally.f}: ${wrong.join('; ')}`,
      );
  });
}

test('aliases: records that alias each other give one finding with the preferred id', () => {
  // GO-2021-0113 aliases CVE-2021-38561 and GHSA-ppp9-7jff-5vj2 (golang/vulndb).
  const rec = JSON.parse(readFileSync(`${OSV_VECTORS}/golang/GO-2021-0113.json`, 'utf8'));
  const pkg = rec.affected[0].package.name as string;
  const version = '0.3.5';
  const r = matchComponents(
    db,
    [{ ref: 'x', name: pkg, version, purl: purlOf('Go', pkg, version) }],
    { now },
  );
  const hits = r.findings.filter(
    (f) => f.records.includes('GO-2021-0113') || f.aliases.includes('GO-2021-0113'),
  );
  assert.equal(hits.length, 1, JSON.stringify(r.findings.map((f) => [f.id, f.records])));
  const ids = new Set(r.findings.flatMap((f) => [f.id, ...f.aliases]));
  assert.equal(
    r.findings.length,
    new Set(r.findings.map((f) => f.id)).size,
    'no id reported twice for one component',
  );
  assert.ok(ids.has('CVE-2021-38561'));
  assert.equal(hits[0]?.id, 'CVE-2021-38561', 'CVE preferred over GO/GHSA ids');
});

test('withdrawn records are skipped and listed', () => {
  const files = ['GO-2024-2445', 'GO-2024-2447', 'GO-2025-3408'];
  let checked = 0;
  for (const id of files) {
    let rec: {
      withdrawn?: string;
      affected: Array<{
        package: { name: string };
        ranges: Array<{ events: Array<Record<string, string>> }>;
      }>;
    };
    try {
      rec = JSON.parse(readFileSync(`${OSV_VECTORS}/golang/${id}.json`, 'utf8'));
    } catch {
      continue;
    }
    if (!rec.withdrawn) continue;
    const a = rec.affected[0];
    const intro =
      a?.ranges[0]?.events.find((e) => e.introduced && e.introduced !== '0')?.introduced ?? '0.0.1';
    const r = matchComponents(
      db,
      [
        {
          ref: 'w',
          name: a?.package.name ?? '',
          version: intro,
          purl: purlOf('Go', a?.package.name ?? '', `v${intro.replace(/^v/, '')}`),
        },
      ],
      { now },
    );
    assert.ok(!r.findings.some((f) => f.records.includes(id)), `${id} withdrawn but reported`);
    assert.ok(r.withdrawn.includes(id));
    checked++;
  }
  assert.equal(checked, files.length);
});

test('severity: computed from CVSS vectors, GHSA words as fallback', () => {
  const r = matchComponents(
    db,
    [{ ref: 'd', name: 'django', version: '2.0.2', purl: 'pkg:pypi/django@2.0.2' }],
    { now },
  );
  assert.ok(r.findings.length > 3);
  for (const f of r.findings) {
    for (const rating of f.ratings) {
      if (rating.vector) assert.equal(typeof rating.score, 'number', `${f.id} ${rating.vector}`);
    }
  }
});

test('packageKeyOf: ecosystems, normalisation and the reasons a component cannot be matched', () => {
  assert.deepEqual(
    packageKeyOf({ purl: 'pkg:pypi/Django_Rest.Framework@3.0', version: undefined }),
    {
      ok: true,
      ecosystem: 'PyPI',
      name: 'django-rest-framework',
      version: '3.0',
    },
  );
  assert.deepEqual(packageKeyOf({ purl: 'pkg:npm/%40babel/core@7.0.0', version: undefined }), {
    ok: true,
    ecosystem: 'npm',
    name: '@babel/core',
    version: '7.0.0',
  });
  assert.deepEqual(
    packageKeyOf({
      purl: 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1',
      version: undefined,
    }),
    {
      ok: true,
      ecosystem: 'Maven',
      name: 'org.apache.logging.log4j:log4j-core',
      version: '2.14.1',
    },
  );
  assert.deepEqual(
    packageKeyOf({ purl: 'pkg:golang/golang.org/x/net@v0.1.0', version: undefined }),
    {
      ok: true,
      ecosystem: 'Go',
      name: 'golang.org/x/net',
      version: 'v0.1.0',
    },
  );
  const reason = (purl: string | undefined, version?: string) => {
    const k = packageKeyOf({ purl, version });
    return k.ok ? 'ok' : k.reason;
  };
  assert.equal(reason(undefined), 'no purl');
  assert.equal(reason('pkg:generic/openssl@3.0.0'), 'generic purl (no ecosystem)');
  assert.equal(reason('pkg:npm/left-pad'), 'no version');
  assert.match(reason('not a purl'), /^malformed purl/);
  assert.match(reason('pkg:unknowntype/x@1'), /has no OSV ecosystem/);
  // A version from the component when the purl has none.
  assert.equal(reason('pkg:npm/left-pad', '1.0.0'), 'ok');
});

test('componentsOfSbom: CycloneDX nested components and SPDX packages with purls; bad documents', () => {
  const cdx = componentsOfSbom(
    {
      bomFormat: 'CycloneDX',
      specVersion: '1.6',
      components: [
        {
          type: 'library',
          'bom-ref': 'a',
          name: 'a',
          version: '1',
          purl: 'pkg:npm/a@1',
          components: [{ type: 'library', name: 'b', version: '2', purl: 'pkg:npm/b@2' }],
        },
      ],
    },
    'x.json',
  );
  assert.deepEqual(
    cdx.components.map((c) => [c.ref, c.purl]),
    [
      ['a', 'pkg:npm/a@1'],
      ['pkg:npm/b@2', 'pkg:npm/b@2'],
    ],
  );
  const spdx = componentsOfSbom(
    JSON.parse(
      readFileSync(`${SHARED}/vectors/sbom/schemas/spdx/SPDXJSONExample-v2.3.spdx.json`, 'utf8'),
    ),
    'spdx.json',
  );
  assert.ok(spdx.components.length > 0);
  assert.ok(spdx.components.every((c) => c.ref.startsWith('SPDXRef-')));
  assert.throws(() => componentsOfSbom({ hello: 1 }, 'bad.json'), /bad\.json.*not a CycloneDX/);
  assert.throws(
    () => componentsOfSbom({ bomFormat: 'CycloneDX', components: {} }, 'bad.json'),
    /must be an array/,
  );
});

test('rpm: the epoch in the purl qualifier (as the rpm reader and Syft write it) is part of the version', () => {
  // AlmaLinux oracle lines whose version has an epoch, as `vouch sbom` lists
  // an installed rpm: `pkg:rpm/almalinux/NAME@VERSION-RELEASE?epoch=N`.
  const lines = readFileSync(`${ORACLE}/oracle-AlmaLinux.jsonl`, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map(
      (l) =>
        JSON.parse(l) as {
          id: string;
          ecosystem: string;
          package: string;
          version: string;
          affected: boolean;
        },
    )
    .filter((o) => /^[1-9]\d*:/.test(o.version))
    .filter((_, i) => i % 4 === 0);
  assert.ok(lines.length > 100, `${lines.length} oracle lines with an epoch`);
  const components: ScanComponent[] = lines.map((o, i) => {
    const epoch = o.version.slice(0, o.version.indexOf(':'));
    const bare = o.version.slice(o.version.indexOf(':') + 1);
    const release = o.ecosystem.slice(o.ecosystem.indexOf(':') + 1);
    return {
      ref: String(i),
      name: o.package,
      version: bare,
      purl: new PackageURL(
        'rpm',
        'almalinux',
        o.package,
        bare,
        { arch: 'x86_64', epoch, distro: `almalinux-${release}` },
        undefined,
      ).toString(),
    };
  });
  const result = matchComponents(db, components, { now });
  const found = new Set(
    result.findings.flatMap((f) => f.records.map((r) => `${f.component.ref} ${r}`)),
  );
  const wrong = lines.filter((o, i) => found.has(`${i} ${o.id}`) !== o.affected);
  assert.equal(
    wrong.length,
    0,
    wrong
      .slice(0, 5)
      .map((o) => `${o.id} ${o.package}@${o.version} expected ${o.affected}`)
      .join('; '),
  );
  // (The oracle's epoch lines are all at a fixed version: before the fix each one was a false positive.)
  assert.ok(lines.some((o) => !o.affected));
  // The key: the epoch joins the version; a version that already has one, or epoch 0, is kept.
  const key = (purl: string) => {
    const k = packageKeyOf({ purl, version: undefined });
    return k.ok ? k.version : k.reason;
  };
  assert.equal(
    key('pkg:rpm/almalinux/oci-umount@2.3.4-2.el8?arch=x86_64&epoch=2'),
    '2:2.3.4-2.el8',
  );
  assert.equal(key('pkg:rpm/almalinux/bash@4.4.20-4.el8?epoch=0'), '4.4.20-4.el8');
  assert.equal(key('pkg:rpm/almalinux/bash@1:4.4.20-4.el8?epoch=1'), '1:4.4.20-4.el8');
  assert.match(key('pkg:rpm/almalinux/bash@4.4.20-4.el8?epoch=x'), /epoch/);
});

test('deb and apk: binary packages are looked up by their source package (OSV names them so)', () => {
  const key = (purl: string) => {
    const k = packageKeyOf({ purl, version: undefined });
    return k.ok ? `${k.ecosystem} ${k.name} ${k.version}` : k.reason;
  };
  // Syft's form: `upstream=SOURCE`, or `SOURCE@SOURCE-VERSION` when dpkg records one
  // (a binNMU, or binaries versioned apart from their source): that version is
  // the one Debian's advisories speak of.
  assert.equal(
    key('pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc'),
    'Debian glibc 2.36-9+deb12u4',
  );
  assert.equal(
    key('pkg:deb/debian/bash@5.2.15-2%2Bb8?arch=amd64&distro=debian-12&upstream=bash%405.2.15-2'),
    'Debian bash 5.2.15-2',
  );
  assert.equal(
    key('pkg:deb/debian/cpp@4:12.2.0-3?arch=amd64&distro=debian-12&upstream=gcc-defaults%401.203'),
    'Debian gcc-defaults 1.203',
  );
  // Alpine's secdb and OSV name the origin package.
  assert.equal(
    key('pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&distro=alpine-3.19.1&upstream=openssl'),
    'Alpine openssl 3.1.4-r5',
  );
  assert.equal(key('pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64'), 'Alpine busybox 1.36.1-r15');
});

test('release scoping: Ubuntu:22.04:LTS and Ubuntu:Pro:18.04:LTS entries, codename distro qualifiers', async (t) => {
  const tmp = await new Promise<string>((res, rej) =>
    mkdtemp(join(tmpdir(), 'vouch-match-rel-'), (e, d) => (e ? rej(e) : res(d))),
  );
  t.after(() => rm(tmp, { recursive: true, force: true }, () => {}));
  const entry = (ecosystem: string, fixed: string) => ({
    package: { ecosystem, name: 'openssl' },
    ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }],
  });
  // The shape of OSV's Ubuntu records: one entry per release, source package names.
  const records = [
    {
      id: 'UBUNTU-CVE-2026-0001',
      modified: '2026-01-01T00:00:00Z',
      affected: [
        entry('Ubuntu:20.04:LTS', '1.1.1f-1ubuntu2.23'),
        entry('Ubuntu:22.04:LTS', '3.0.2-0ubuntu1.18'),
        entry('Ubuntu:24.04:LTS', '3.0.13-0ubuntu3.4'),
        entry('Ubuntu:Pro:18.04:LTS', '1.1.1-1ubuntu2.1~18.04.23+esm5'),
      ],
    },
    {
      id: 'DEBIAN-CVE-2026-0001',
      modified: '2026-01-01T00:00:00Z',
      affected: [entry('Debian:11', '1.1.1w-0+deb11u2'), entry('Debian:12', '3.0.15-1~deb12u1')],
    },
  ];
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(tmp, 'r.jsonl'), records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  await importExports(join(tmp, 'db'), [join(tmp, 'r.jsonl')], { now, cwd: tmp });
  const rdb = await VulnDatabase.open(join(tmp, 'db'));
  t.after(() => rdb.close());
  const hits = (purl: string) =>
    matchComponents(rdb, [{ ref: 'c', name: 'libssl', version: undefined, purl }], {
      now,
    }).findings.map((f) => `${f.records.join(',')} ${f.fixed.join(',')}`);
  const q = (distro: string) => `arch=amd64&distro=${distro}&upstream=openssl`;
  // Fixed in 22.04: the 24.04 entry's higher fix is about another release.
  assert.deepEqual(hits(`pkg:deb/ubuntu/libssl3@3.0.2-0ubuntu1.18?${q('ubuntu-22.04')}`), []);
  assert.deepEqual(hits(`pkg:deb/ubuntu/libssl3@3.0.2-0ubuntu1.17?${q('ubuntu-22.04')}`), [
    'UBUNTU-CVE-2026-0001 3.0.2-0ubuntu1.18',
  ]);
  assert.deepEqual(hits(`pkg:deb/ubuntu/libssl3@3.0.2-0ubuntu1.18?${q('jammy')}`), []);
  // Ubuntu Pro (ESM) fixes are about that release too: without them, it is affected.
  assert.deepEqual(
    hits(`pkg:deb/ubuntu/libssl1.1@1.1.1-1ubuntu2.1~18.04.23?${q('ubuntu-18.04')}`),
    ['UBUNTU-CVE-2026-0001 1.1.1-1ubuntu2.1~18.04.23+esm5'],
  );
  // Debian codenames (the purl spec's own examples, osv-scalibr) are releases.
  assert.deepEqual(hits(`pkg:deb/debian/libssl3@3.0.15-1~deb12u1?${q('bookworm')}`), []);
  assert.deepEqual(hits(`pkg:deb/debian/libssl1.1@1.1.1w-0+deb11u1?${q('bullseye')}`), [
    'DEBIAN-CVE-2026-0001 1.1.1w-0+deb11u2',
  ]);
  // No release known: every entry is evaluated (never silently dropped).
  assert.equal(hits('pkg:deb/ubuntu/libssl3@3.0.2-0ubuntu1.18?upstream=openssl').length, 1);
});

test('componentsOfSbom: an SBOM vouch wrote before purls carried upstream still names the source package', () => {
  // CycloneDX as `vouch sbom` wrote it until purls got `upstream`: the
  // source package only in properties. Attested SBOMs are rescanned for years.
  const input = componentsOfSbom(
    {
      bomFormat: 'CycloneDX',
      specVersion: '1.6',
      components: [
        {
          type: 'library',
          name: 'libc6',
          version: '2.36-9+deb12u4',
          purl: 'pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12',
          properties: [
            { name: 'vouch:deb:source', value: 'glibc' },
            { name: 'vouch:deb:source-version', value: '2.36-9+deb12u4' },
          ],
        },
        {
          type: 'library',
          name: 'bash',
          version: '5.2.15-2+b8',
          purl: 'pkg:deb/debian/bash@5.2.15-2%2Bb8?arch=amd64&distro=debian-12',
          properties: [
            { name: 'vouch:deb:source', value: 'bash' },
            { name: 'vouch:deb:source-version', value: '5.2.15-2' },
          ],
        },
        {
          type: 'library',
          name: 'libcrypto3',
          version: '3.1.4-r5',
          purl: 'pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&distro=alpine-3.19.1',
          properties: [{ name: 'vouch:apk:origin', value: 'openssl' }],
        },
        {
          // A purl's own upstream wins over properties.
          type: 'library',
          name: 'libssl3',
          version: '3.0.11-1~deb12u2',
          purl: 'pkg:deb/debian/libssl3@3.0.11-1~deb12u2?distro=debian-12&upstream=openssl',
          properties: [{ name: 'vouch:deb:source', value: 'other' }],
        },
      ],
    },
    'old.cdx.json',
  );
  assert.deepEqual(
    input.components.map((c) => {
      const k = packageKeyOf(c);
      return k.ok ? `${k.name} ${k.version}` : k.reason;
    }),
    ['glibc 2.36-9+deb12u4', 'bash 5.2.15-2', 'openssl 3.1.4-r5', 'openssl 3.0.11-1~deb12u2'],
  );
  // SPDX as vouch writes it: the same facts as comment lines.
  const spdx = componentsOfSbom(
    {
      spdxVersion: 'SPDX-2.3',
      SPDXID: 'SPDXRef-DOCUMENT',
      packages: [
        {
          name: 'libc6',
          SPDXID: 'SPDXRef-libc6',
          versionInfo: '2.36-9+deb12u4',
          comment:
            'vouch:scope=required\nvouch:deb:source=glibc\nvouch:deb:source-version=2.36-9+deb12u4',
          externalRefs: [
            {
              referenceCategory: 'PACKAGE-MANAGER',
              referenceType: 'purl',
              referenceLocator: 'pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64&distro=debian-12',
            },
          ],
        },
      ],
    },
    'old.spdx.json',
  );
  const k = packageKeyOf(spdx.components[0] as ScanComponent);
  assert.equal(k.ok && `${k.name} ${k.version}`, 'glibc 2.36-9+deb12u4');
  // Trivy's CycloneDX names the source package in a property of its own (the
  // purl has no upstream); its name is used, the installed version compared.
  const trivy = componentsOfSbom(
    {
      bomFormat: 'CycloneDX',
      specVersion: '1.5',
      components: [
        {
          type: 'library',
          name: 'libssl3',
          version: '3.0.11-1~deb12u2',
          purl: 'pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12.5',
          properties: [
            { name: 'aquasecurity:trivy:SrcName', value: 'openssl' },
            { name: 'aquasecurity:trivy:SrcVersion', value: '3.0.11' },
          ],
        },
      ],
    },
    'trivy.cdx.json',
  );
  const tk = packageKeyOf(trivy.components[0] as ScanComponent);
  assert.equal(tk.ok && `${tk.name} ${tk.version} ${tk.release}`, 'openssl 3.0.11-1~deb12u2 12.5');
});

test('counts: a version the scheme cannot read is not matchable (not also matched), with or without records', () => {
  const result = matchComponents(
    db,
    [
      // golang.org/x/net has records in the database; `zzz` is no Go version.
      {
        ref: 'bad-with-records',
        name: 'net',
        version: undefined,
        purl: 'pkg:golang/golang.org/x/net@zzz',
      },
      {
        ref: 'bad-without',
        name: 'nope',
        version: undefined,
        purl: 'pkg:golang/example.com/nope@zzz',
      },
      { ref: 'good', name: 'net', version: undefined, purl: 'pkg:golang/golang.org/x/net@v0.0.1' },
    ],
    { now },
  );
  assert.equal(result.components, 3);
  assert.equal(result.matched, 1);
  assert.deepEqual(
    result.notMatchable.map((n) => [n.ref, n.reason.replace(/:.*$/s, '')]),
    [
      ['bad-with-records', 'unreadable version "zzz"'],
      ['bad-without', 'unreadable version "zzz"'],
    ],
  );
  assert.equal(result.matched + result.notMatchable.length, result.components);
});
