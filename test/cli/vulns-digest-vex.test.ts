// `vouch vulns sha256:HEX` applies VEX as `vouch vulns rescan` does: the
// OpenVEX / CycloneDX VEX attestations in the store about that artifact,
// verified against the same trust flags, and the --vex files. Real CLI runs,
// keys generated here, real OSV records (requests 2.19.0 on PyPI).
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { DirectoryStore } from '../../src/store/index.ts';
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

/** The VEX project, and `vouch vulns sha256:<app.bin> --json`, trusting the ci key unless told otherwise. */
async function setup(t: Parameters<typeof vexProject>[0]) {
  const s = await vexProject(t);
  const scan = (store: string, ...extra: string[]) =>
    s.run([
      'vulns',
      s.digest,
      '--db',
      'db',
      '--store',
      store,
      ...(extra.includes('--key') ? [] : ['--key', s.ci.pub]),
      '--json',
      ...extra,
    ]);
  return { ...s, scan };
}

function reportOf(r: VouchResult) {
  assert.equal(r.code, 0, show(r));
  return jsonOf(r) as {
    target: { kind: string; digest: string };
    findings: Listed[];
    suppressed: Listed[];
    totals: { findings: number; suppressed: number };
    rejected?: Array<{ bundle: string; digest: string; reason: string }>;
  };
}

test('vulns sha256: a VEX attestation by a trusted key suppresses the finding, with its justification', async (t) => {
  const s = await setup(t);
  const store = await s.store('s1');
  const before = reportOf(await s.scan(store));
  assert.ok(named(before.findings), `${CVE} is found without VEX`);
  assert.deepEqual(before.suppressed, []);

  await s.attestVex(store, 'app.bin', openVex([REQUESTS]), s.ci.key);
  const r = await s.scan(store);
  const rep = reportOf(r);
  assert.equal(rep.target.kind, 'attestation');
  assert.ok(!named(rep.findings), `${CVE} is no longer open`);
  assert.equal(rep.findings.length, before.findings.length - 1, 'the other findings stay open');
  assert.equal(rep.suppressed.length, 1);
  const sup = rep.suppressed[0]?.suppressed;
  assert.ok(sup, JSON.stringify(rep.suppressed));
  assert.equal(sup.status, 'not_affected');
  assert.equal(sup.justification, 'vulnerable_code_not_in_execute_path');
  assert.equal(sup.detail, 'the app never sends proxied requests');
  assert.match(sup.source, /^bundle [0-9a-f]{64}$/);
  assert.match(r.stderr, new RegExp(`verified VEX ${sup.source.slice(7)} about ${s.digest}`));
  assert.doesNotMatch(r.stderr, /rejected/);
  assert.deepEqual(rep.rejected, [], 'every bundle verified: an empty list, not a missing one');

  // The table shows the justification; --fail-on no longer fails on this finding alone.
  const table = await s.run(['vulns', s.digest, '--db', 'db', '--store', store, '--key', s.ci.pub]);
  assert.equal(table.code, 0, show(table));
  assert.match(
    table.stdout,
    /not_affected: vulnerable_code_not_in_execute_path: the app never sends proxied requests/,
  );

  // The same VEX as a --vex file says the same, and is named as its source.
  await writeFile(join(s.dir, 'vex.json'), JSON.stringify(openVex([REQUESTS])));
  const plain = reportOf(await s.scan(await s.store('s1b'), '--vex', 'vex.json'));
  assert.equal(plain.suppressed[0]?.suppressed?.source, 'vex.json');
  assert.equal(plain.totals.findings, rep.totals.findings);
});

test('vulns sha256: the same VEX signed by an untrusted key suppresses nothing and is reported as rejected', async (t) => {
  const s = await setup(t);
  const store = await s.store('s2');
  await s.attestVex(store, 'app.bin', openVex([REQUESTS]), s.stranger.key);

  const r = await s.scan(store);
  const rep = reportOf(r);
  assert.ok(named(rep.findings), `${CVE} stays open: its VEX did not verify`);
  assert.deepEqual(rep.suppressed, []);
  assert.match(r.stderr, /rejected bundle [0-9a-f]{64}: /);
  assert.doesNotMatch(r.stderr, /verified VEX/);
  // The JSON report lists it too, as rescan does: the VEX bundle (the SBOM verified).
  const stored = await new DirectoryStore(join(s.dir, store)).find(s.digest);
  const vexBundle = stored.find((b) => b.predicateType.startsWith('https://openvex.dev/ns'));
  assert.ok(vexBundle, JSON.stringify(stored));
  assert.equal(rep.rejected?.length, 1, JSON.stringify(rep.rejected));
  const rejected = rep.rejected?.[0];
  assert.deepEqual(Object.keys(rejected ?? {}).sort(), ['bundle', 'digest', 'reason']);
  assert.equal(rejected?.bundle, vexBundle.id);
  assert.equal(rejected?.digest, s.digest);
  assert.match(rejected?.reason ?? '', /does not verify with any of 1 trusted key/);
  assert.ok(r.stderr.includes(`rejected bundle ${vexBundle.id}: ${rejected?.reason}`), r.stderr);
  // The same with rescan: one list, one shape.
  const rescan = await s.run([
    'vulns',
    'rescan',
    '--db',
    'db',
    '--store',
    store,
    '--key',
    s.ci.pub,
    '--json',
  ]);
  assert.equal(rescan.code, 0, show(rescan));
  assert.deepEqual(jsonOf(rescan).rejected, rep.rejected);

  // Fail closed: a gate still fails on the finding.
  const gate = await s.run([
    'vulns',
    s.digest,
    '--db',
    'db',
    '--store',
    store,
    '--key',
    s.ci.pub,
    '--fail-on',
    'low',
  ]);
  assert.equal(gate.code, 1, show(gate));

  // Trusting the stranger's key as well makes the same bundle count.
  const both = reportOf(await s.scan(store, '--key', s.ci.pub, '--key', s.stranger.pub));
  assert.ok(named(both.suppressed));
  assert.ok(!named(both.findings));
});

test('vulns sha256: VEX about another artifact, or naming other products, does not suppress', async (t) => {
  const s = await setup(t);
  const store = await s.store('s3');
  // The right purl, but attested about other.bin: not a statement about app.bin.
  await s.attestVex(store, 'other.bin', openVex([REQUESTS]), s.ci.key);
  const r = await s.scan(store);
  const rep = reportOf(r);
  assert.ok(named(rep.findings), `${CVE} stays open`);
  assert.deepEqual(rep.suppressed, []);
  assert.doesNotMatch(r.stderr, /verified VEX|rejected/);

  // About app.bin, trusted, but naming other versions, ecosystems and another artifact's digest.
  await s.attestVex(
    store,
    'app.bin',
    openVex([
      { '@id': 'pkg:pypi/requests@2.20.0' },
      { '@id': 'pkg:npm/requests@2.19.0' },
      { '@id': s.otherDigest },
    ]),
    s.ci.key,
  );
  const r2 = await s.scan(store);
  const rep2 = reportOf(r2);
  assert.ok(named(rep2.findings));
  assert.deepEqual(rep2.suppressed, []);
  assert.match(r2.stderr, /verified VEX [0-9a-f]{64} about/, 'it was read (and matched nothing)');

  // Naming the artifact's own digest covers every component of it.
  const own = await s.store('s3b');
  await s.attestVex(own, 'app.bin', openVex([{ '@id': s.digest }]), s.ci.key);
  assert.ok(named(reportOf(await s.scan(own)).suppressed));
});

test('vulns sha256: a CycloneDX VEX attestation suppresses; a VEX-only BOM is not taken for the SBOM', async (t) => {
  const s = await setup(t);
  const store = await s.store('s4');
  const components = (await s.scan(store)).stdout;
  await s.attestVex(store, 'app.bin', CYCLONEDX_VEX, s.ci.key, 'cyclonedx');
  const rep = reportOf(await s.scan(store));
  assert.ok(!named(rep.findings));
  assert.equal(rep.suppressed[0]?.suppressed?.justification, 'code_not_reachable');
  assert.equal(
    (rep as unknown as { totals: { components: number } }).totals.components,
    JSON.parse(components).totals.components,
    'the SBOM, not the VEX-only BOM, was scanned',
  );
});
