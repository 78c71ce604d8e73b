// `vouch vulns rescan` applies VEX as `vouch vulns` does: --vex files, and
// the VEX attestations in the store about each artifact, verified against the
// rescan's trust flags. Real CLI runs, keys generated here, real OSV records.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { jsonOf, show, type VouchResult } from './helpers.ts';
import {
  CVE,
  CYCLONEDX_VEX,
  type Listed,
  named,
  openVex,
  REQUESTS,
  vexProject,
} from './vex-kit.ts';

/** The VEX project, and `vouch vulns rescan` trusting the ci key. */
async function setup(t: Parameters<typeof vexProject>[0]) {
  const s = await vexProject(t);
  const rescan = (name: string, ...extra: string[]) =>
    s.run(['vulns', 'rescan', '--db', 'db', '--store', name, '--key', s.ci.pub, ...extra]);
  return { ...s, rescan };
}

function artifactOf(r: VouchResult, digest: string) {
  assert.equal(r.code, 0, show(r));
  const a = jsonOf(r).artifacts.find((x: { digest: string }) => x.digest === digest);
  assert.ok(a, `no artifact ${digest}: ${r.stdout}`);
  return a as {
    new: Listed[];
    suppressed: Listed[];
    gone: string[];
    findings: number;
    vex: string[];
  };
}

test('rescan: a VEX attestation signed by a trusted key suppresses the finding (never new), with the justification', async (t) => {
  const s = await setup(t);
  const store = await s.store('s1');
  await s.attestVex(store, 'app.bin', openVex([REQUESTS]), s.ci.key);

  const first = await s.rescan(store, '--json');
  const a = artifactOf(first, s.digest);
  assert.ok(!named(a.new), `${CVE} is not new: ${JSON.stringify(a.new.map((f) => f.id))}`);
  assert.ok(a.new.length > 0, 'the findings VEX does not name are still new');
  const sup = a.suppressed.find((f) => f.id === CVE || f.aliases.includes(CVE));
  assert.ok(sup?.suppressed, JSON.stringify(a.suppressed));
  assert.equal(sup.suppressed.status, 'not_affected');
  assert.equal(sup.suppressed.justification, 'vulnerable_code_not_in_execute_path');
  assert.equal(sup.suppressed.detail, 'the app never sends proxied requests');
  assert.match(sup.suppressed.source, /^bundle [0-9a-f]{64}$/);
  assert.deepEqual(a.vex, [sup.suppressed.source]);
  assert.equal(a.findings, a.new.length, 'open findings do not count the suppressed one');
  assert.deepEqual(jsonOf(first).rejected, []);

  // Text output and the next rescan: still suppressed, not new, not "gone".
  const again = await s.rescan(store);
  assert.equal(again.code, 0, show(again));
  assert.match(
    again.stdout,
    new RegExp(
      `suppressed ${CVE} requests@2\\.19\\.0 {2}not_affected: vulnerable_code_not_in_execute_path: the app never sends proxied requests {2}\\(bundle [0-9a-f]{64}\\)`,
    ),
  );
  assert.match(again.stdout, /0 new, 1 suppressed by VEX\n/);
  assert.doesNotMatch(again.stdout, /\bnew \w+ /);
  assert.doesNotMatch(again.stdout, /gone/);
});

test('rescan: the same VEX signed by an untrusted key suppresses nothing, and is reported as rejected', async (t) => {
  const s = await setup(t);
  const store = await s.store('s2');
  await s.attestVex(store, 'app.bin', openVex([REQUESTS]), s.stranger.key);

  const r = await s.rescan(store, '--json');
  const a = artifactOf(r, s.digest);
  assert.ok(named(a.new), `${CVE} is new: the VEX did not verify`);
  assert.deepEqual(a.suppressed, []);
  assert.deepEqual(a.vex, []);
  const rejected = jsonOf(r).rejected as Array<{ digest: string; reason: string }>;
  assert.equal(rejected.length, 1, JSON.stringify(rejected));
  assert.equal(rejected[0]?.digest, s.digest);

  // A gate fails on it; trusting the stranger's key too makes the same bundle count.
  const gate = await s.rescan(store, '--fail-on-new');
  assert.equal(gate.code, 1, show(gate));
  assert.match(gate.stderr, /rejected bundle/);
  const both = await s.ok([
    'vulns',
    'rescan',
    '--db',
    'db',
    '--store',
    store,
    '--key',
    s.ci.pub,
    '--key',
    s.stranger.pub,
    '--json',
  ]);
  const b = artifactOf(both, s.digest);
  assert.ok(named(b.suppressed));
  // It was new yesterday; suppressed today: listed as suppressed, not as gone.
  assert.deepEqual(b.gone, []);
  assert.deepEqual(b.new, []);
});

test('rescan: VEX about another product, purl version or artifact does not suppress', async (t) => {
  const s = await setup(t);
  const store = await s.store('s3');
  // Other purls and another artifact's digest, signed by the trusted key, about app.bin.
  await s.attestVex(
    store,
    'app.bin',
    openVex([
      { '@id': 'pkg:pypi/requests@2.20.0' },
      { '@id': 'pkg:pypi/urllib3@1.23' },
      { '@id': 'pkg:npm/requests@2.19.0' },
      { '@id': s.otherDigest },
    ]),
    s.ci.key,
  );
  // The right purl, but attested about other.bin: not a statement about app.bin.
  await s.attestVex(store, 'other.bin', openVex([REQUESTS]), s.ci.key);

  const r = await s.rescan(store, '--json');
  const a = artifactOf(r, s.digest);
  assert.ok(named(a.new), `${CVE} stays new`);
  assert.deepEqual(a.suppressed, []);
  assert.equal(a.vex.length, 1, 'the VEX about app.bin was read (and matched nothing)');
  assert.deepEqual(jsonOf(r).rejected, []);

  // The product named by the artifact's own digest does suppress.
  const own = await s.store('s3b');
  await s.attestVex(own, 'app.bin', openVex([{ '@id': s.digest }]), s.ci.key);
  assert.ok(named(artifactOf(await s.rescan(own, '--json'), s.digest).suppressed));
});

test('rescan: --vex files and CycloneDX VEX attestations suppress; a VEX-only BOM is not taken for the SBOM', async (t) => {
  const s = await setup(t);
  const store = await s.store('s4');
  await writeFile(join(s.dir, 'vex.json'), JSON.stringify(openVex([REQUESTS])));
  const withFile = artifactOf(await s.rescan(store, '--vex', 'vex.json', '--json'), s.digest);
  assert.ok(!named(withFile.new));
  assert.equal(withFile.suppressed[0]?.suppressed?.source, 'vex.json');
  assert.deepEqual(withFile.vex, ['vex.json']);

  const cdx = await s.store('s5');
  const components = withFile.findings + withFile.suppressed.length;
  await s.attestVex(cdx, 'app.bin', CYCLONEDX_VEX, s.ci.key, 'cyclonedx');
  const r = await s.rescan(cdx, '--json');
  const a = artifactOf(r, s.digest);
  assert.ok(!named(a.new));
  assert.equal(a.suppressed[0]?.suppressed?.justification, 'code_not_reachable');
  assert.equal(a.findings + a.suppressed.length, components);
  assert.equal(jsonOf(r).artifacts[0].components, 1, 'the SBOM, not the VEX-only BOM, was scanned');

  // Bad --vex is bad input.
  await writeFile(join(s.dir, 'bad.json'), '{"@context":"https://openvex.dev/ns/v0.2.0"}');
  const bad = await s.rescan(cdx, '--vex', 'bad.json');
  assert.equal(bad.code, 2, show(bad));
  assert.match(bad.stderr, /VEX_MALFORMED/);
});
