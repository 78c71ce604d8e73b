/**
 * Mutation fuzz of every SBOM reader (src/sbom/readers/*) through its public
 * `read`, over real lockfiles from ../shared/vectors/sbom, this machine's
 * dpkg database, real jars, and rpm databases made by the real rpm and
 * db_load (rpm-testkit). See harness.ts for the rules.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Reader, SourceFile } from '../../src/sbom/reader.ts';
import { copyrightLicenses } from '../../src/sbom/readers/dpkg-copyright.ts';
import { framed, MODINFO, syntheticGoBinary } from '../../src/sbom/readers/go-binary-testkit.ts';
import { READERS } from '../../src/sbom/readers/index.ts';
import {
  bdbFile,
  buildRpms,
  DB_LOAD,
  HAVE_RPM,
  installSqlite,
  ndbFile,
  sqliteHeaders,
} from '../../src/sbom/readers/rpm-testkit.ts';
import { SHARED } from '../shared.ts';
import { check, type Target } from './harness.ts';

const SBOM = join(SHARED, 'vectors', 'sbom');
const vec = (p: string) => readFileSync(join(SBOM, p));
const reader = (name: string): Reader => {
  const r = READERS.find((x) => x.name === name);
  assert.ok(r, `reader ${name}`);
  return r;
};

const tmp = mkdtempSync(join(tmpdir(), 'vouch-fuzz-sbom-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A SourceFile over mutant bytes, offering ranged reads and siblings as the walkers do. */
function source(
  path: string,
  bytes: Buffer,
  siblings: Record<string, Buffer> = {},
  tree: Record<string, Buffer> = {},
): SourceFile {
  return {
    path,
    bytes: async () => bytes,
    sibling: async (n) => siblings[n],
    readAt: async (offset, length) => bytes.subarray(offset, offset + length),
    treeFile: async (p) => tree[p],
    context: { distro: { id: 'debian', versionId: '12' } },
  };
}

/** A reader target: `path` must be one the reader matches by name. */
function readerTarget(
  name: string,
  path: string,
  seeds: Buffer[],
  siblings: Record<string, Buffer> = {},
  extra: Partial<Target> = {},
): Target {
  const r = reader(name);
  assert.ok(r.content || r.matches(path), `${name} matches ${path}`);
  return {
    name: `reader-${name}`,
    kind: 'text',
    seeds,
    file: path,
    run: (b) => r.read(source(path, b, siblings)),
    ...extra,
  };
}

/** The first `n` stanzas of this machine's dpkg status (the whole file is slow to mutate 200 times). */
function dpkgStatus(n: number): Buffer[] {
  if (!existsSync('/var/lib/dpkg/status')) return [];
  const stanzas = readFileSync('/var/lib/dpkg/status', 'utf8').split('\n\n');
  return [
    Buffer.from(stanzas.slice(0, n).join('\n\n')),
    Buffer.from(stanzas.slice(n, 2 * n).join('\n\n')),
  ];
}

const APK = Buffer.from(
  [
    'C:Q1SJxV9mdqS0nD9J+gG6q3qwVZ0dE=\nP:musl\nV:1.2.5-r0\nA:x86_64\nS:408415\nI:663552\nT:the musl c library (libc) implementation\nU:https://musl.libc.org/\nL:MIT\no:musl\nm:Natanael Copa <ncopa@alpinelinux.org>\nt:1712000000\nc:f93af038c3de7146121c2ea8124ba5ce29b4b058\np:so:libc.musl-x86_64.so.1=1\nF:lib\nR:ld-musl-x86_64.so.1\na:0:0:755\nZ:Q1\n',
    'C:Q1+abc=\nP:busybox\nV:1.36.1-r28\nA:x86_64\nL:GPL-2.0-only\no:busybox\nD:so:libc.musl-x86_64.so.1\np:cmd:busybox=1.36.1-r28\n',
  ].join('\n'),
);

describe('fuzz: SBOM readers', () => {
  const cases: Target[] = [
    readerTarget(
      'npm',
      'package-lock.json',
      [vec('npm-v1_mocha/package-lock.json'), vec('npm-v3_sigstore-js/package-lock.json')],
      {
        'package.json': vec('npm-v3_sigstore-js/package.json'),
      },
    ),
    readerTarget(
      'yarn',
      'yarn.lock',
      [vec('yarn-v1_jest/yarn.lock'), vec('yarn-berry-meta10_jest/yarn.lock')],
      {
        'package.json': vec('yarn-v1_jest/package.json'),
      },
    ),
    readerTarget(
      'pnpm',
      'pnpm-lock.yaml',
      ['pnpm-5.4_vite', 'pnpm-6.0_vite', 'pnpm-9.0_vite'].map((d) => vec(`${d}/pnpm-lock.yaml`)),
      {},
      // Half a megabyte of YAML per seed: fewer mutants keep the file near a minute.
      { mutants: 90 },
    ),
    // pnpm's hidden lockfile (what `pnpm install` writes into node_modules/.pnpm): the
    // same format; importers' package.json two directories up.
    readerTarget(
      'pnpm',
      'app/node_modules/.pnpm/lock.yaml',
      [readFileSync(join(SHARED, 'bench/lockfiles/pnpm9/small/pnpm-lock.yaml'))],
      {
        '../../package.json': readFileSync(
          join(SHARED, 'bench/lockfiles/pnpm9/small/package.json'),
        ),
      },
      { name: 'reader-pnpm-hidden', mutants: 60 },
    ),
    readerTarget('bun', 'bun.lock', [vec('bun_hono/bun.lock')], {
      'package.json': vec('bun_hono/package.json'),
    }),
    readerTarget('requirements', 'requirements.txt', [
      vec('pip-hashes_sigstore-conformance/requirements.txt'),
    ]),
    readerTarget('pipfile-lock', 'Pipfile.lock', [vec('pipenv_pipenv/Pipfile.lock')]),
    readerTarget('poetry-lock', 'poetry.lock', [vec('poetry_poetry/poetry.lock')], {
      'pyproject.toml': vec('poetry_poetry/pyproject.toml'),
    }),
    readerTarget('uv-lock', 'uv.lock', [vec('uv_pydantic/uv.lock')], {
      'pyproject.toml': vec('uv_pydantic/pyproject.toml'),
    }),
    readerTarget('go-mod', 'go.mod', [vec('go_slsa-verifier/go.mod')], {
      'go.sum': vec('go_slsa-verifier/go.sum'),
    }),
    readerTarget('gradle-lockfile', 'gradle.lockfile', [vec('gradle_jabref/gradle.lockfile')]),
    readerTarget('maven-pom', 'pom.xml', [vec('maven_cyclonedx-core-java/pom.xml')]),
    readerTarget('cargo-lock', 'Cargo.lock', [vec('cargo_rustsec/Cargo.lock')]),
    readerTarget('gemfile-lock', 'Gemfile.lock', [
      vec('bundler_rubygems.org/Gemfile.lock'),
      vec('bundler_sigstore-ruby/Gemfile.lock'),
    ]),
    readerTarget('composer-lock', 'composer.lock', [vec('composer_composer/composer.lock')]),
    readerTarget('nuget-lock', 'packages.lock.json', [
      vec('nuget_cyclonedx-dotnet/CycloneDX/packages.lock.json'),
    ]),
    readerTarget('apk', 'lib/apk/db/installed', [APK]),
  ];
  for (const c of cases) {
    test(`${c.name} (${c.file})`, async () => {
      if (
        c.name.endsWith('npm') ||
        c.name.endsWith('nuget-lock') ||
        c.name.endsWith('composer-lock') ||
        c.name.endsWith('pipfile-lock')
      )
        c.kind = 'json';
      await check(c, assert);
    });
  }

  test('python dist-info METADATA (with RECORD beside it)', async () => {
    const meta = Buffer.from(
      'Metadata-Version: 2.1\nName: requests\nVersion: 2.32.3\nLicense: Apache-2.0\nRequires-Dist: idna (<4,>=2.5)\nRequires-Dist: PySocks (!=1.5.7,>=1.5.6) ; extra == "socks"\n\nbody\n',
    );
    await check(
      readerTarget('python-dist-info', 'site-packages/requests-2.32.3.dist-info/METADATA', [meta]),
      assert,
    );
  });

  test('python egg-info PKG-INFO', async () => {
    const meta = Buffer.from(
      'Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\nLicense: MIT\nPlatform: UNKNOWN\n\n.. image:: x\n',
    );
    await check(
      readerTarget('python-dist-info', 'dist-packages/six-1.16.0.egg-info/PKG-INFO', [meta]),
      assert,
    );
  });

  test('npm installed package.json', async () => {
    const manifest = Buffer.from(
      JSON.stringify({
        name: '@npmcli/arborist',
        version: '7.5.4',
        license: 'ISC',
        licenses: [{ type: 'MIT' }],
        dependencies: { semver: '^7.3.7' },
      }),
    );
    await check(
      {
        ...readerTarget('npm-installed', 'node_modules/@npmcli/arborist/package.json', [manifest]),
        kind: 'json',
      },
      assert,
    );
  });

  test('dpkg status, with copyright files through treeFile', {
    skip: !existsSync('/var/lib/dpkg/status'),
  }, async () => {
    const r = reader('dpkg');
    const path = 'var/lib/dpkg/status';
    await check(
      {
        name: 'reader-dpkg',
        kind: 'text',
        seeds: dpkgStatus(40),
        file: path,
        run: (b) => r.read(source(path, b)),
      },
      assert,
    );
  });

  test('dpkg copyright (copyrightLicenses)', {
    skip: !existsSync('/usr/share/doc/bash/copyright'),
  }, async () => {
    const seeds = ['bash', 'coreutils', 'libc6', 'tar']
      .map((p) => `/usr/share/doc/${p}/copyright`)
      .filter(existsSync)
      .map((p) => readFileSync(p));
    await check(
      { name: 'dpkg-copyright', kind: 'text', seeds, run: (b, f) => copyrightLicenses(b, f) },
      assert,
    );
  });

  test('go binary build info (ELF, PE, Mach-O; both pointer layouts)', async () => {
    const seeds = [
      syntheticGoBinary({ format: 'elf', bits: 64, goVersion: 'go1.17', modinfo: framed(MODINFO) })
        .bytes,
      syntheticGoBinary({
        format: 'elf',
        bits: 32,
        bigEndian: true,
        goVersion: 'go1.16',
        modinfo: framed(MODINFO),
      }).bytes,
      syntheticGoBinary({ format: 'pe', bits: 64, goVersion: 'go1.17', modinfo: framed(MODINFO) })
        .bytes,
      // Toolchain strings the stdlib component is made from: an experiment, a devel build.
      syntheticGoBinary({
        format: 'elf',
        bits: 64,
        goVersion: 'go1.22.8 X:boringcrypto',
        modinfo: framed(MODINFO),
      }).bytes,
      syntheticGoBinary({
        format: 'elf',
        bits: 64,
        goVersion: 'devel go1.23-abc123 Tue Jan 2 15:04:05 2024 +0000',
        modinfo: framed(MODINFO),
      }).bytes,
      syntheticGoBinary({
        format: 'macho',
        bits: 64,
        goVersion: 'go1.15',
        modinfo: framed(MODINFO),
      }).bytes,
    ];
    const r = reader('go-binary');
    const content = r.content;
    assert.ok(content);
    await check(
      {
        name: 'reader-go-binary',
        kind: 'binary',
        seeds,
        file: 'usr/bin/app',
        async run(b, f) {
          const file = source(f, b) as SourceFile & Required<Pick<SourceFile, 'readAt'>>;
          if (content.head(b.subarray(0, content.headBytes)) && (await content.matches(file)))
            await r.read(file);
        },
      },
      assert,
    );
  });

  test('java archives (jar with pom.properties and a nested jar; Debian jars)', async () => {
    const dir = join(tmp, 'jar');
    await mkdir(join(dir, 'META-INF/maven/org.example/lib'), { recursive: true });
    writeFileSync(
      join(dir, 'META-INF/MANIFEST.MF'),
      'Manifest-Version: 1.0\nImplementation-Title: lib\nImplementation-Version: 1.2.3\n',
    );
    writeFileSync(
      join(dir, 'META-INF/maven/org.example/lib/pom.properties'),
      'groupId=org.example\nartifactId=lib\nversion=1.2.3\n',
    );
    execFileSync('zip', ['-qr', join(tmp, 'inner.jar'), 'META-INF'], { cwd: dir });
    await mkdir(join(dir, 'WEB-INF/lib'), { recursive: true });
    writeFileSync(join(dir, 'WEB-INF/lib/inner.jar'), readFileSync(join(tmp, 'inner.jar')));
    execFileSync('zip', ['-qr', join(tmp, 'app.war'), 'META-INF', 'WEB-INF'], { cwd: dir });
    const seeds = [readFileSync(join(tmp, 'inner.jar')), readFileSync(join(tmp, 'app.war'))];
    if (existsSync('/usr/share/java/aopalliance-1.0.jar'))
      seeds.push(readFileSync('/usr/share/java/aopalliance-1.0.jar'));
    const r = reader('java-archive');
    await check(
      {
        name: 'reader-java-archive',
        kind: 'binary',
        seeds,
        file: 'app.war',
        run: (b, f) => r.read(source(f, b)),
      },
      assert,
    );
  });

  describe('rpm databases made by the real rpm and db_load', {
    skip: !HAVE_RPM && 'rpm/rpmbuild not installed',
  }, () => {
    const SPEC = `Name: vouch-fz\nVersion: 1.0\nRelease: 1\nEpoch: 3\nSummary: t\nLicense: MIT AND Apache-2.0\nBuildArch: noarch\nRequires: vouch-other >= 1.0, /bin/sh\nProvides: vouch-virtual\n%description\nt\n%files\n`;
    const SPEC2 = `Name: vouch-other\nVersion: 2.0\nRelease: 5.fc40\nSummary: t\nLicense: GPL-2.0-or-later\nBuildArch: noarch\n%description\nt\n%files\n`;
    const r = reader('rpm');
    let sqlite: Buffer;
    let headers: Awaited<ReturnType<typeof sqliteHeaders>>;
    test('setup', async () => {
      const rpms = await buildRpms(join(tmp, 'rpmbuild'), { a: SPEC, b: SPEC2 });
      const db = join(tmp, 'rpmdb');
      await installSqlite(db, rpms);
      sqlite = readFileSync(join(db, 'rpmdb.sqlite'));
      headers = await sqliteHeaders(join(db, 'rpmdb.sqlite'));
    });
    test('sqlite rpmdb', async () => {
      const path = 'var/lib/rpm/rpmdb.sqlite';
      await check(
        {
          name: 'reader-rpm-sqlite',
          kind: 'binary',
          seeds: [sqlite],
          file: path,
          mutants: 100,
          run: (b) => r.read(source(path, b)),
        },
        assert,
      );
    });
    test('ndb Packages.db', async () => {
      const path = 'usr/lib/sysimage/rpm/Packages.db';
      const seeds = [ndbFile(headers), ndbFile(headers, 3)];
      await check(
        {
          name: 'reader-rpm-ndb',
          kind: 'binary',
          seeds,
          file: path,
          run: (b) => r.read(source(path, b)),
        },
        assert,
      );
    });
    test('Berkeley DB Packages', { skip: !DB_LOAD && 'db_load not installed' }, async () => {
      const path = 'var/lib/rpm/Packages';
      const seeds = [
        readFileSync(await bdbFile(join(tmp, 'bdb-le'), headers)),
        readFileSync(
          await bdbFile(join(tmp, 'bdb-be'), headers, { bigEndian: true, pageSize: 512 }),
        ),
      ];
      await check(
        {
          name: 'reader-rpm-bdb',
          kind: 'binary',
          seeds,
          file: path,
          run: (b) => r.read(source(path, b)),
        },
        assert,
      );
    });
  });
});
