import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import type { SourceFile } from '../reader.ts';
import { dpkgReader, parseDepends } from './dpkg.ts';

function source(
  path: string,
  text: string | Buffer,
  siblings: Record<string, string> = {},
): SourceFile {
  return {
    path,
    bytes: async () => (typeof text === 'string' ? Buffer.from(text) : text),
    sibling: async (name) => (name in siblings ? Buffer.from(siblings[name] as string) : undefined),
    context: { distro: { id: 'debian', versionId: '12' } },
  };
}

function identity(r: Awaited<ReturnType<typeof dpkgReader.read>>): void {
  const a = r.accounting;
  assert.equal(a.declared, a.emitted + a.merged + a.skipped.length);
}

const HAS_DPKG = existsSync('/var/lib/dpkg/status');

describe('dpkg reader', () => {
  test("this machine's own /var/lib/dpkg/status: same package set as dpkg-query", {
    skip: !HAS_DPKG,
  }, async () => {
    const r = await dpkgReader.read(
      source('var/lib/dpkg/status', await readFile('/var/lib/dpkg/status')),
    );
    identity(r);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
    const fmt = '${db:Status-Status} ${Package} ${Version} ${Architecture}\n';
    const rows = execFileSync('dpkg-query', ['-W', '-f', fmt], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' '));
    const present = rows.filter(
      (r) => r[0] !== 'config-files' && r[0] !== 'not-installed' && r[0] !== 'half-installed',
    );
    // The brief's own cross-check: every 'install ok installed' package is among them.
    const installedOk = execFileSync(
      'sh',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
      ['-c', "dpkg-query -W -f '${Status}\\n' | grep -c 'install ok installed' || true"],
      {
        encoding: 'utf8',
      },
    );
    assert.ok(Number(installedOk) <= present.length);
    assert.equal(r.components.length, present.length);
    const got = new Set(
      r.components.map((c) => `${c.name} ${c.version} ${c.purl.match(/arch=([^&]+)/)?.[1]}`),
    );
    for (const [, name, version, arch] of present)
      assert.ok(got.has(`${name} ${version} ${arch}`), `${name} ${version}`);
    // dpkg itself depends on its libraries: the graph has edges to installed packages only.
    const refs = new Set(r.components.map((c) => c.ref));
    for (const d of r.dependencies) for (const to of d.dependsOn) assert.ok(refs.has(to));
    const dpkg = r.components.find((c) => c.name === 'dpkg');
    assert.ok(dpkg);
    assert.match(dpkg.purl, /^pkg:deb\/debian\/dpkg@.+\?arch=amd64&distro=debian-12$/);
    assert.ok(r.dependencies.find((d) => d.ref === dpkg.ref)?.dependsOn.length);
  });

  const stanzas = `Package: libc6
Status: install ok installed
Architecture: amd64
Source: glibc
Version: 2.36-9+deb12u4
Provides: libc6-x
Description: GNU C Library
 multi-line
 .
 description

Package: foo
Status: install ok installed
Architecture: amd64
Source: foo-src (1:1.0-1)
Version: 1:1.0-1+b1
Pre-Depends: libc6 (>= 2.34)
Depends: missing-pkg | bar, libc6-x, awk

Package: bar
Status: hold ok installed
Architecture: all
Version: 2.0
Provides: awk

Package: gone
Status: deinstall ok config-files
Architecture: amd64
Version: 0.1

Package: noversion
Status: install ok installed
Architecture: amd64
`;

  test('stanzas: epochs, Source versions, alternatives, provides, states', async () => {
    const r = await dpkgReader.read(source('var/lib/dpkg/status', stanzas));
    identity(r);
    assert.equal(r.accounting.declared, 5);
    // purl encoding of `+` and `:` is packageurl-js's (the builder's) business.
    assert.deepEqual(
      r.components.map((c) => c.purl),
      [
        'pkg:deb/debian/bar@2.0?arch=all&distro=debian-12',
        // The source package as Syft writes it (`upstream=SOURCE[@VERSION]`):
        // OSV's Debian advisories name the source, so vulns looks it up.
        'pkg:deb/debian/foo@1:1.0-1+b1?arch=amd64&distro=debian-12&upstream=foo-src%401%3A1.0-1',
        'pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64&distro=debian-12&upstream=glibc',
      ],
    );
    const foo = r.components.find((c) => c.name === 'foo');
    assert.equal(foo?.version, '1:1.0-1+b1');
    assert.deepEqual(foo?.properties, { 'deb:source': 'foo-src', 'deb:source-version': '1:1.0-1' });
    assert.deepEqual(r.components.find((c) => c.name === 'libc6')?.properties, {
      'deb:source': 'glibc',
      'deb:source-version': '2.36-9+deb12u4',
    });
    const edges = r.dependencies
      .find((d) => d.ref === foo?.ref)
      ?.dependsOn.map((x) => x.split('@')[0]);
    assert.deepEqual(edges, ['pkg:deb/debian/bar', 'pkg:deb/debian/libc6']);
    assert.deepEqual(
      r.accounting.skipped.map((s) => s.entry),
      ['gone (line 26)', 'noversion (line 31)'],
    );
    assert.match(r.accounting.skipped[0]?.reason ?? '', /not installed/);
  });

  test('without distro context: no distro qualifier, debian namespace', async () => {
    const r = await dpkgReader.read({ ...source('var/lib/dpkg/status', stanzas), context: {} });
    assert.ok(
      r.components.every(
        (c) => c.purl.startsWith('pkg:deb/debian/') && !c.purl.includes('distro='),
      ),
    );
  });

  test('status.d (distroless): one file per package, edges through sibling files', async () => {
    const r = await dpkgReader.read(
      source(
        'var/lib/dpkg/status.d/foo',
        'Package: foo\nVersion: 1.0\nArchitecture: amd64\nDepends: libc6 (>= 2.36), nothere\n',
        { libc6: 'Package: libc6\nVersion: 2.36-9\nArchitecture: amd64\n' },
      ),
    );
    identity(r);
    assert.equal(r.accounting.format, 'dpkg status.d');
    assert.deepEqual(r.dependencies, [
      {
        ref: 'pkg:deb/debian/foo@1.0?arch=amd64&distro=debian-12',
        dependsOn: ['pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12'],
      },
    ]);
    assert.ok(dpkgReader.matches('var/lib/dpkg/status.d/foo'));
    assert.ok(!dpkgReader.matches('var/lib/dpkg/status.d/foo.md5sums'));
    assert.ok(!dpkgReader.matches('var/lib/dpkg/status-old'));
  });

  test('malformed and truncated files name the line', async () => {
    await assert.rejects(dpkgReader.read(source('s', 'Package: a\nVersion 1.0\n')), {
      code: 'LOCKFILE_MALFORMED',
      message: /line 2: not a "Field: value" line/,
    });
    await assert.rejects(
      dpkgReader.read(source('s', 'Package: a\nStatus: install ok installed\nVers')),
      {
        code: 'LOCKFILE_MALFORMED',
        message: /line 3: file ends in the middle of a field \(truncated\?\)/,
      },
    );
    await assert.rejects(dpkgReader.read(source('s', ' continuation first\n')), {
      code: 'LOCKFILE_MALFORMED',
      message: /line 1/,
    });
    await assert.rejects(dpkgReader.read(source('s', 'Package: a\nPackage: b\n')), {
      message: /repeated/,
    });
    // A stanza cut after a complete line is read, and what it lacks is accounted for.
    const r = await dpkgReader.read(source('s', 'Package: a\nStatus: install ok installed\n'));
    assert.deepEqual(r.accounting.skipped, [
      { entry: 'a (line 1)', reason: 'installed stanza has no Version field' },
    ]);
    const empty = await dpkgReader.read(source('s', ''));
    assert.equal(empty.accounting.declared, 0);
  });

  test('Depends syntax', () => {
    assert.deepEqual(parseDepends('a (>= 1) | b:any, c [amd64] <!nocheck>, libx:i386'), [
      [{ name: 'a' }, { name: 'b', arch: 'any' }],
      [{ name: 'c' }],
      [{ name: 'libx', arch: 'i386' }],
    ]);
  });
});
