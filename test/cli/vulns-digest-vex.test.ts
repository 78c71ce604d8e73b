// `vouch vulns sha256:HEX` applies VEX as `vouch vulns rescan` does: the
// OpenVEX / CycloneDX VEX attestations in the store about that artifact,
// verified against the same trust flags, and the --vex files. Real CLI runs,
// keys generated here, real OSV records (requests 2.19.0 on PyPI).
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { DirectoryStore } from '../../src/store/index.ts';
import {
  generateKey,
  isolatedEnv,
  jsonOf,
  sha256File,
  show,
  tempDir,
  VECTORS,
  type VouchResult,
  vouch,
} from './helpers.ts';

const RECORDS = `${VECTORS}/osv-oracle/records-PyPI.jsonl`;
/** requests 2.19.0 has this one (fixed in 2.20.0) and others: the VEX names only this one. */
const CVE = 'CVE-2018-18074';
const REQUESTS = { '@id': 'pkg:pypi/requests@2.19.0' };

function openVex(products: Array<Record<string, unknown>>) {
  return {
    '@context': 'https://openvex.dev/ns/v0.2.0',
    '@id': 'https://example.com/vex/app-1',
    author: 'app security team',
    timestamp: '2026-01-01T00:00:00Z',
    version: 1,
    statements: [
      {
        vulnerability: { name: CVE },
        products,
        status: 'not_affected',
        justification: 'vulnerable_code_not_in_execute_path',
        impact_statement: 'the app never sends proxied requests',
      },
    ],
  };
}

interface Listed {
  id: string;
  aliases: string[];
  suppressed?: { status: string; justification: string; detail: string; source: string };
}

const named = (list: Listed[]) => list.some((f) => f.id === CVE || f.aliases.includes(CVE));

/** One project, database and key pair per test; each test builds its own stores. */
async function setup(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir, { SOURCE_DATE_EPOCH: '1764000000' });
  await writeFile(join(dir, 'requirements.txt'), 'requests==2.19.0\n');
  await writeFile(join(dir, 'app.bin'), 'the artifact\n');
  await writeFile(join(dir, 'other.bin'), 'another artifact\n');
  const db = await vouch(['db', 'import', RECORDS, '--db', 'db'], { cwd: dir, env });
  assert.equal(db.code, 0, show(db));
  const ci = await generateKey(dir, env, 'ci');
  const stranger = await generateKey(dir, env, 'stranger');
  const digest = `sha256:${await sha256File(join(dir, 'app.bin'))}`;
  const otherDigest = `sha256:${await sha256File(join(dir, 'other.bin'))}`;
  const run = (args: string[]) => vouch(args, { cwd: dir, env });
  const ok = async (args: string[]) => {
    const r = await run(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${show(r)}`);
    return r;
  };
  /** A store holding the SBOM attestation about app.bin, signed by the trusted key. */
  const store = async (name: string) => {
    await ok(['sbom', '.', '--attest', '--subject', 'app.bin', '--key', ci.key, '--store', name]);
    return name;
  };
  let n = 0;
  /** Signs a VEX predicate about a file into a store. */
  const attestVex = async (
    store: string,
    about: string,
    doc: unknown,
    key: string,
    type = 'openvex',
  ) => {
    const file = `vex-${++n}.json`;
    await writeFile(join(dir, file), JSON.stringify(doc));
    await ok([
      'attest',
      about,
      '--predicate-type',
      type,
      '--predicate',
      file,
      '--key',
      key,
      '--store',
      store,
    ]);
  };
  /** `vouch vulns sha256:<app.bin> --json`, trusting the ci key unless told otherwise. */
  const scan = (store: string, ...extra: string[]) =>
    run([
      'vulns',
      digest,
      '--db',
      'db',
      '--store',
      store,
      ...(extra.includes('--key') ? [] : ['--key', ci.pub]),
      '--json',
      ...extra,
    ]);
  return { dir, ci, stranger, digest, otherDigest, store, attestVex, scan, run };
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
  await s.attestVex(
    store,
    'app.bin',
    {
      bomFormat: 'CycloneDX',
      specVersion: '1.6',
      version: 1,
      vulnerabilities: [
        {
          id: CVE,
          analysis: {
            state: 'not_affected',
            justification: 'code_not_reachable',
            detail: 'proxies are never used',
          },
          affects: [{ ref: 'pkg:pypi/requests@2.19.0' }],
        },
      ],
    },
    s.ci.key,
    'cyclonedx',
  );
  const rep = reportOf(await s.scan(store));
  assert.ok(!named(rep.findings));
  assert.equal(rep.suppressed[0]?.suppressed?.justification, 'code_not_reachable');
  assert.equal(
    (rep as unknown as { totals: { components: number } }).totals.components,
    JSON.parse(components).totals.components,
    'the SBOM, not the VEX-only BOM, was scanned',
  );
});
