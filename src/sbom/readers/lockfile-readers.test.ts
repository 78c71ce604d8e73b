import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cargoLockReader } from './cargo-lock.ts';
import { composerLockReader } from './composer-lock.ts';
import { gemfileLockReader } from './gemfile-lock.ts';
import { nugetLockReader } from './nuget-lock.ts';
import { byPurl, checkResult, fileAt, fileOf, rejectsWith, VECTORS } from './polyglot-testkit.ts';

const text = (p: string) => readFileSync(join(VECTORS, p), 'utf8');

test('Cargo.lock: real rustsec workspace lock (v4)', async () => {
  const p = 'cargo_rustsec/Cargo.lock';
  const r = await cargoLockReader.read(fileAt(join(VECTORS, p)));
  checkResult(r);
  const blocks = text(p)
    .split(/^\[\[package\]\]$/m)
    .slice(1);
  assert.equal(blocks.length, 421);
  assert.equal(r.components.length, blocks.length);
  assert.equal(r.accounting.format, 'Cargo.lock v4');
  assert.equal(r.roots.length, blocks.filter((b) => !/^source = /m.test(b)).length);
  const a = byPurl(r, 'pkg:cargo/abscissa_core@0.9.0');
  assert.deepEqual(a.hashes, [
    {
      algorithm: 'SHA-256',
      value: '7cd87587023faadfc7f6e93b1ad45074b72f1f6d22c1e0f19333a952446ab1c1',
    },
  ]);
  assert.equal(a.source, undefined, 'crates.io is the default registry');
  // "toml 0.9.12+spec-1.1.0" picks one of several toml versions.
  assert.ok(
    r.dependencies
      .find((d) => d.ref === a.ref)
      ?.dependsOn.includes('pkg:cargo/toml@0.9.12+spec-1.1.0'),
  );
});

test('Cargo.lock: v1 [metadata] checksums, git source, version 99, truncated', async () => {
  const v1 = [
    '[[package]]',
    'name = "app"',
    'version = "0.1.0"',
    'dependencies = ["dep 1.0.0 (registry+https://github.com/rust-lang/crates.io-index)", "g"]',
    '',
    '[[package]]',
    'name = "dep"',
    'version = "1.0.0"',
    'source = "registry+https://github.com/rust-lang/crates.io-index"',
    '',
    '[[package]]',
    'name = "g"',
    'version = "0.2.0"',
    'source = "git+https://github.com/x/g?rev=abc#abcdef0"',
    '',
    '[metadata]',
    `"checksum dep 1.0.0 (registry+https://github.com/rust-lang/crates.io-index)" = "${'ab'.repeat(32)}"`,
  ].join('\n');
  const r = await cargoLockReader.read(fileOf('Cargo.lock', v1));
  checkResult(r);
  assert.equal(r.accounting.format, 'Cargo.lock v1');
  assert.equal(byPurl(r, 'pkg:cargo/dep@1.0.0').hashes[0]?.value, 'ab'.repeat(32));
  const g = byPurl(r, 'pkg:cargo/g@0.2.0');
  assert.equal(g.source?.kind, 'git');
  assert.equal(g.properties?.['vcs:ref'], 'abcdef0');
  assert.deepEqual(r.roots, ['pkg:cargo/app@0.1.0']);
  assert.deepEqual(r.dependencies[0]?.dependsOn, ['pkg:cargo/dep@1.0.0', 'pkg:cargo/g@0.2.0']);
  await rejectsWith(
    cargoLockReader.read(fileOf('Cargo.lock', 'version = 99\n')),
    'LOCKFILE_UNSUPPORTED',
    'Cargo.lock',
    /version 99/,
  );
  const cut = text('cargo_rustsec/Cargo.lock').slice(0, 1234);
  await rejectsWith(
    cargoLockReader.read(fileOf('Cargo.lock', cut)),
    'LOCKFILE_MALFORMED',
    'Cargo.lock',
    /line \d+/,
  );
});

test('Gemfile.lock: real rubygems.org (Bundler 4, CHECKSUMS, two GEM sources)', async () => {
  const p = 'bundler_rubygems.org/Gemfile.lock';
  const r = await gemfileLockReader.read(fileAt(join(VECTORS, p)));
  checkResult(r);
  const specs = text(p)
    .split('\n')
    .filter((l) => /^ {4}\S/.test(l)).length;
  assert.equal(specs, 341);
  assert.equal(r.accounting.declared, specs);
  assert.equal(r.components.length, specs);
  assert.equal(r.accounting.format, 'Gemfile.lock (Bundler 4.0.16)');
  assert.equal(
    byPurl(r, 'pkg:gem/actioncable@8.1.3.1').hashes[0]?.value,
    'e318528295c878a3efdfe25f0f2267c80cb7a76eba41bb5f64d44aa380a3d91b',
  );
  assert.equal(
    byPurl(r, 'pkg:gem/avo-advanced@3.32.4').source?.url,
    'https://packager.dev/avo-hq/',
  );
});

test('Gemfile.lock: real sigstore-ruby (PATH roots, platform gems)', async () => {
  const p = 'bundler_sigstore-ruby/Gemfile.lock';
  const r = await gemfileLockReader.read(fileAt(join(VECTORS, p)));
  checkResult(r);
  assert.equal(
    r.components.length,
    text(p)
      .split('\n')
      .filter((l) => /^ {4}\S/.test(l)).length,
  );
  assert.deepEqual(r.roots, ['pkg:gem/sigstore@0.2.3']);
  const java = byPurl(r, 'pkg:gem/bigdecimal@3.1.9?platform=java');
  assert.equal(
    java.hashes[0]?.value,
    'dd9b8f7c870664cd9538a1325ce385ba57a6627969177258c4f0e661a7be4456',
  );
  byPurl(r, 'pkg:gem/bigdecimal@3.1.9');
  assert.equal(byPurl(r, 'pkg:gem/sigstore-cli@0.2.3').source?.url, 'cli');
});

test('Gemfile.lock: GIT section, unknown section, bad indentation', async () => {
  const lock =
    'GIT\n  remote: https://github.com/x/y.git\n  revision: abc123\n  specs:\n    y (0.1.0)\n\nDEPENDENCIES\n  y!\n';
  const r = await gemfileLockReader.read(fileOf('Gemfile.lock', lock));
  checkResult(r);
  assert.equal(byPurl(r, 'pkg:gem/y@0.1.0').properties?.['vcs:ref'], 'abc123');
  await rejectsWith(
    gemfileLockReader.read(fileOf('Gemfile.lock', 'GEM\n  specs:\n    a (1)\n\nWIDGETS\n  x\n')),
    'LOCKFILE_UNSUPPORTED',
    'Gemfile.lock',
    /line 5/,
  );
  await rejectsWith(
    gemfileLockReader.read(fileOf('Gemfile.lock', 'GEM\n  specs:\n     a (1)\n')),
    'LOCKFILE_MALFORMED',
    'Gemfile.lock',
    /line 3/,
  );
});

test('composer.lock: real composer/composer lock', async () => {
  const p = 'composer_composer/composer.lock';
  const r = await composerLockReader.read(fileAt(join(VECTORS, p)));
  checkResult(r);
  const doc = JSON.parse(text(p));
  assert.equal(r.components.length, doc.packages.length + doc['packages-dev'].length);
  assert.equal(r.components.filter((c) => c.scope === 'dev').length, doc['packages-dev'].length);
  const ca = byPurl(r, 'pkg:composer/composer/ca-bundle@1.5.12');
  assert.deepEqual(ca.licenses, ['MIT']);
  assert.equal(ca.properties?.['vcs:ref'], '00a2f4201641d5c53f7fc0195e6c8d9fcc321a78');
  const withSha = [...doc.packages, ...doc['packages-dev']].find(
    (x: { dist?: { shasum?: string } }) => x.dist?.shasum,
  );
  if (withSha) {
    const [ns, name] = withSha.name.split('/');
    assert.equal(
      byPurl(r, `pkg:composer/${ns}/${name}@${withSha.version}`).hashes[0]?.value,
      withSha.dist.shasum,
    );
  }
  await rejectsWith(
    composerLockReader.read(fileOf('composer.lock', '{"packages": 3}')),
    'LOCKFILE_MALFORMED',
    'composer.lock',
  );
});

test('packages.lock.json: real CycloneDX dotnet locks (v2, three target frameworks, project reference)', async () => {
  for (const p of [
    'nuget_cyclonedx-dotnet/CycloneDX/packages.lock.json',
    'nuget_cyclonedx-dotnet/CycloneDX.Tests/packages.lock.json',
  ]) {
    const r = await nugetLockReader.read(fileAt(join(VECTORS, p)));
    checkResult(r);
    const doc = JSON.parse(text(p));
    const entries = Object.values(doc.dependencies).flatMap((t) =>
      Object.entries(t as Record<string, { resolved?: string }>),
    );
    assert.equal(r.accounting.declared, entries.length);
    assert.equal(
      r.components.length,
      new Set(entries.map(([n, e]) => `${n}@${e.resolved ?? ''}`)).size,
    );
    const [name, e] = entries.find(([, x]) => (x as { contentHash?: string }).contentHash) as [
      string,
      { resolved: string; contentHash: string },
    ];
    const c = byPurl(r, `pkg:nuget/${name}@${e.resolved}`);
    assert.deepEqual(c.hashes, [
      { algorithm: 'SHA-512', value: Buffer.from(e.contentHash, 'base64').toString('hex') },
    ]);
  }
  const t = await nugetLockReader.read(
    fileAt(join(VECTORS, 'nuget_cyclonedx-dotnet/CycloneDX.Tests/packages.lock.json')),
  );
  assert.equal(byPurl(t, 'pkg:nuget/cyclonedx').source?.kind, 'workspace');
  assert.ok(
    t.dependencies
      .find((d) => d.ref === 'pkg:nuget/cyclonedx')
      ?.dependsOn.includes('pkg:nuget/CycloneDX.Core@12.1.1'),
  );
  await rejectsWith(
    nugetLockReader.read(fileOf('packages.lock.json', '{"version": 9, "dependencies": {}}')),
    'LOCKFILE_UNSUPPORTED',
    'packages.lock.json',
    /version 9/,
  );
  await rejectsWith(
    nugetLockReader.read(
      fileOf(
        'packages.lock.json',
        '{"version": 1, "dependencies": {"net8.0": {"A": {"type": "Weird"}}}}',
      ),
    ),
    'LOCKFILE_UNSUPPORTED',
    'packages.lock.json',
  );
});
