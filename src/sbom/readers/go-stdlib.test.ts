// The Go standard library as a component of every Go binary: its version from the
// toolchain string (synthetic binaries from go-binary-testkit.ts, Debian's skopeo), and
// `vouch vulns` matching golang/vulndb's `stdlib` records (../shared/vectors/osv/golang)
// against it end to end.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { isolatedEnv, jsonOf, show, tempDir, VECTORS, vouch } from '../../../test/cli/helpers.ts';
import { goBinaryReader } from './go-binary.ts';
import { buildInfoBlob, elfWith, MODINFO } from './go-binary-testkit.ts';
import { stdlibVersion } from './go-stdlib.ts';
import { checkResult, fileOf } from './polyglot-testkit.ts';

test('stdlibVersion: Go release tags in the SemVer form of OSV stdlib records; anything else has none', () => {
  const ok: Array<[string, string]> = [
    ['go1', '1.0.0'],
    ['go1.0.3', '1.0.3'],
    ['go1.20', '1.20.0'],
    ['go1.21.0', '1.21.0'],
    ['go1.22.8', '1.22.8'],
    ['go1.21rc2', '1.21.0-rc.2'],
    ['go1.19beta1', '1.19.0-beta.1'],
    ['go1.9.2rc2', '1.9.2-rc.2'],
    // GOEXPERIMENTs and vendor notes follow a space; go/version's vendor suffix a dash.
    ['go1.22.8 X:boringcrypto', '1.22.8'],
    ['go1.24.1 X:nocoverageredesign,boringcrypto', '1.24.1'],
    ['go1.21.13 (Red Hat 1.21.13-2.el9_4)', '1.21.13'],
    ['go1.21.0-bigcorp', '1.21.0'],
  ];
  for (const [tag, version] of ok) assert.deepEqual(stdlibVersion(tag), { ok: true, version }, tag);
  const none: Array<[string, RegExp]> = [
    ['devel go1.23-abc123 Tue Jan 2 15:04:05 2024 +0000', /development toolchain/],
    ['devel +b7a301e Mon Dec 4 2017', /development toolchain/],
    ['go1.0', /no form Go releases use/],
    ['go1.021', /no form/],
    ['go1.22.8rc0', /no form/],
    ['go2.0', /no form/],
    ['go1rc1', /no form/],
    ['gccgo', /no form/],
    ['', /no form/],
  ];
  for (const [tag, re] of none) {
    const v = stdlibVersion(tag);
    assert.equal(v.ok, false, tag);
    if (!v.ok) assert.match(v.reason, re, tag);
  }
});

test('Go binary: the stdlib component: experiments read past, a devel toolchain without a version, counts kept', async () => {
  const read = async (toolchain: string) => {
    const r = await goBinaryReader.read(
      fileOf('usr/bin/app', elfWith(buildInfoBlob(toolchain, MODINFO))),
    );
    checkResult(r);
    assert.equal(r.accounting.format, `Go build info (${toolchain})`);
    // Three modules, the main module, the standard library: each declared and emitted.
    assert.deepEqual([r.accounting.declared, r.components.length], [5, 5]);
    const stdlib = r.components.filter((c) => c.name === 'stdlib');
    assert.equal(stdlib.length, 1);
    assert.deepEqual(
      r.dependencies.find((d) => d.ref === 'pkg:golang/example.com/cmd')?.dependsOn.at(-1),
      stdlib[0]?.ref,
    );
    return stdlib[0];
  };
  const boring = await read('go1.22.8 X:boringcrypto');
  assert.equal(boring?.purl, 'pkg:golang/stdlib@1.22.8');
  assert.equal(boring?.version, '1.22.8');
  assert.equal(boring?.namespace, undefined);
  assert.deepEqual(boring?.properties, { 'go:toolchain': 'go1.22.8 X:boringcrypto' });

  const devel = await read('devel go1.23-abc123 Tue Jan 2 15:04:05 2024 +0000');
  assert.equal(devel?.purl, 'pkg:golang/stdlib');
  assert.equal(devel?.version, '');
  assert.equal(
    devel?.properties?.['go:toolchain'],
    'devel go1.23-abc123 Tue Jan 2 15:04:05 2024 +0000',
  );
  assert.match(devel?.properties?.['go:stdlibVersionUnknown'] ?? '', /development toolchain/);

  assert.equal((await read('go1.21rc2'))?.purl, 'pkg:golang/stdlib@1.21.0-rc.2');
});

test('vouch sbom + vouch vulns: golang/vulndb stdlib records match the stdlib of Go binaries', async (t) => {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir, { SOURCE_DATE_EPOCH: '1764000000' });
  const tree = join(dir, 'tree');
  await mkdir(join(tree, 'bin'), { recursive: true });
  const bin = (toolchain: string) => elfWith(buildInfoBlob(toolchain, MODINFO));
  // GO-2023-2102 (HTTP/2 rapid reset): < 1.20.10, and 1.21.0-0 to < 1.21.3.
  // GO-2023-2185: < 1.20.11, 1.21.0-0 to < 1.21.4. GO-2023-1568: < 1.19.6, 1.20.0-0 to < 1.20.1.
  await writeFile(join(tree, 'bin/rc'), bin('go1.21rc2 X:boringcrypto'));
  await writeFile(join(tree, 'bin/fixed'), bin('go1.21.5'));
  await writeFile(join(tree, 'bin/fixed-too'), bin('go1.21.5'));
  await writeFile(join(tree, 'bin/tip'), bin('devel go1.23-abc123 Tue Jan 2 15:04:05 2024 +0000'));
  const skopeo = existsSync('/usr/bin/skopeo');
  // Debian's skopeo: GOPATH mode (no modules), built with Go 1.19.8.
  if (skopeo) await copyFile('/usr/bin/skopeo', join(tree, 'bin/skopeo'));

  const sbom = await vouch(['sbom', 'tree', '-o', 'sbom.json', '--json'], { cwd: dir, env });
  assert.equal(sbom.code, 0, show(sbom));
  const summary = jsonOf(sbom);
  // Each binary: its modules and its stdlib declared and emitted; skopeo's stdlib emitted,
  // its unrecorded modules counted and skipped.
  assert.deepEqual(
    summary.accounting.map((a: { file: string; declared: number; emitted: number }) => [
      a.file,
      a.declared,
      a.emitted,
    ]),
    [
      ['bin/fixed', 5, 5],
      ['bin/fixed-too', 5, 5],
      ['bin/rc', 5, 5],
      ...(skopeo ? [['bin/skopeo', 2, 1]] : []),
      ['bin/tip', 5, 5],
    ],
  );
  for (const a of summary.accounting) {
    assert.equal(a.declared, a.emitted + a.merged + a.skipped.length, a.file);
  }
  const doc = JSON.parse(await readFile(join(dir, 'sbom.json'), 'utf8'));
  const stdlib = doc.components.filter((c: { name: string }) => c.name === 'stdlib');
  const foundIn = (c: { properties: Array<{ name: string; value: string }> }) =>
    c.properties.filter((p) => p.name === 'vouch:foundIn').map((p) => p.value);
  // One component per stdlib version, found in every binary built with it.
  assert.deepEqual(
    stdlib.map((c: { purl: string }) => c.purl),
    [
      'pkg:golang/stdlib',
      ...(skopeo ? ['pkg:golang/stdlib@1.19.8'] : []),
      'pkg:golang/stdlib@1.21.0-rc.2',
      'pkg:golang/stdlib@1.21.5',
    ].sort(),
  );
  const fixed = stdlib.find((c: { purl: string }) => c.purl.endsWith('@1.21.5'));
  assert.deepEqual(foundIn(fixed), ['bin/fixed', 'bin/fixed-too']);

  const db = await vouch(['db', 'import', `${VECTORS}/osv/golang`, '--db', 'db'], {
    cwd: dir,
    env,
  });
  assert.equal(db.code, 0, show(db));
  const out = await vouch(['vulns', 'sbom.json', '--db', 'db', '--json'], { cwd: dir, env });
  assert.equal(out.code, 0, show(out));
  const report = jsonOf(out);
  const hits = (version: string) =>
    report.findings
      .filter(
        (f: { package: { name: string; version: string } }) =>
          f.package.name === 'stdlib' && f.package.version === version,
      )
      .flatMap((f: { records: string[] }) => f.records)
      .sort();
  const rc = hits('1.21.0-rc.2');
  assert.ok(rc.includes('GO-2023-2102') && rc.includes('GO-2023-2185'), rc.join(' '));
  assert.ok(!rc.includes('GO-2023-1568'), rc.join(' '));
  const clean = hits('1.21.5');
  assert.ok(!clean.includes('GO-2023-2102') && !clean.includes('GO-2023-2185'), clean.join(' '));
  assert.ok(clean.includes('GO-2026-5856'), clean.join(' '));
  if (skopeo) {
    const old = hits('1.19.8');
    assert.ok(old.includes('GO-2023-2102'), old.join(' '));
    assert.ok(!old.includes('GO-2023-1568'), old.join(' ')); // fixed in 1.19.6
  }
  // The devel toolchain's stdlib is listed as not matchable, not silently passed.
  const tip = report.notMatchable.find((n: { purl: string }) => n.purl === 'pkg:golang/stdlib');
  assert.equal(tip?.reason, 'no version', JSON.stringify(report.notMatchable));
});
