import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { cyclonedxValidator, schemaErrors } from '../../src/sbom/writers/testing.ts';
import {
  generateKey,
  isolatedEnv,
  jsonOf,
  sha256File,
  show,
  statementOf,
  tempDir,
  VECTORS,
  vouch,
} from './helpers.ts';

const RECORDS = `${VECTORS}/osv-oracle/records-PyPI.jsonl`;

/** A project with one known-vulnerable dependency (requests 2.19.0: CVE-2018-18074 and more). */
async function project(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir, { SOURCE_DATE_EPOCH: '1764000000' });
  await writeFile(join(dir, 'requirements.txt'), 'requests==2.19.0\n');
  const r = await vouch(['db', 'import', RECORDS, '--db', 'db'], { cwd: dir, env });
  assert.equal(r.code, 0, show(r));
  return { dir, env };
}

test('vouch vulns: a directory, the known CVE found; --fail-on gates; VEX suppresses with the justification shown', async (t) => {
  const { dir, env } = await project(t);
  const table = await vouch(['vulns', '.', '--db', 'db'], { cwd: dir, env });
  assert.equal(table.code, 0, show(table));
  assert.match(table.stdout, /CVE-2018-18074\s+requests\s+2\.19\.0\s+2\.20\.0/);
  assert.match(table.stderr, /1 components, 1 matched, 0 not matchable/);

  const json = jsonOf(await vouch(['vulns', '.', '--db', 'db', '--json'], { cwd: dir, env }));
  const ids: string[] = json.findings.map((f: { id: string }) => f.id);
  assert.ok(ids.includes('CVE-2018-18074'));
  assert.equal(json.totals.findings, ids.length);

  const gate = await vouch(['vulns', '.', '--db', 'db', '--fail-on', 'low'], { cwd: dir, env });
  assert.equal(gate.code, 1, show(gate));

  // Suppress every finding with OpenVEX: exit 0 under the gate, each still listed with its justification.
  const vex = {
    '@context': 'https://openvex.dev/ns/v0.2.0',
    '@id': 'https://example.com/vex/requests',
    author: 'security team',
    timestamp: '2026-01-01T00:00:00Z',
    version: 1,
    statements: ids.map((id) => ({
      vulnerability: { name: id },
      products: [{ '@id': 'pkg:pypi/requests@2.19.0' }],
      status: 'not_affected',
      justification: 'vulnerable_code_not_in_execute_path',
    })),
  };
  await writeFile(join(dir, 'vex.json'), JSON.stringify(vex));
  const quiet = await vouch(['vulns', '.', '--db', 'db', '--vex', 'vex.json', '--fail-on', 'low'], {
    cwd: dir,
    env,
  });
  assert.equal(quiet.code, 0, show(quiet));
  assert.match(quiet.stdout, /no open vulnerabilities found/);
  assert.match(
    quiet.stdout,
    /CVE-2018-18074 requests@2\.19\.0 {2}not_affected: vulnerable_code_not_in_execute_path {2}\(vex\.json\)/,
  );

  // SARIF for code scanning: every finding a result, the suppressed ones with suppressions.
  const sarif = await vouch(
    ['vulns', '.', '--db', 'db', '--vex', 'vex.json', '--format', 'sarif', '-o', 'v.sarif'],
    {
      cwd: dir,
      env,
    },
  );
  assert.equal(sarif.code, 0, show(sarif));
  const doc = JSON.parse(await readFile(join(dir, 'v.sarif'), 'utf8'));
  assert.equal(doc.version, '2.1.0');
  assert.equal(doc.runs[0].results.length, ids.length);
  assert.ok(
    doc.runs[0].results.every((r: { suppressions?: unknown[] }) => r.suppressions?.length === 1),
  );
  assert.equal(
    doc.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri,
    'requirements.txt',
  );
});

test('vouch vulns: an SBOM file in, a schema-valid CycloneDX VDR out, byte-identical on a rerun', async (t) => {
  const { dir, env } = await project(t);
  const sbom = await vouch(['sbom', '.', '-o', 'sbom.cdx.json'], { cwd: dir, env });
  assert.equal(sbom.code, 0, show(sbom));
  const run = () =>
    vouch(['vulns', 'sbom.cdx.json', '--db', 'db', '--format', 'cyclonedx-json'], {
      cwd: dir,
      env,
    });
  const a = await run();
  assert.equal(a.code, 0, show(a));
  const vdr = JSON.parse(a.stdout);
  assert.equal(schemaErrors(cyclonedxValidator(), vdr), undefined);
  const refs = new Set(vdr.components.map((c: Record<string, string>) => c['bom-ref']));
  assert.ok(vdr.vulnerabilities.length > 0);
  for (const v of vdr.vulnerabilities) for (const x of v.affects) assert.ok(refs.has(x.ref));
  assert.equal((await run()).stdout, a.stdout);
});

test('vouch vulns: bad input exits 2 with the error code', async (t) => {
  const { dir, env } = await project(t);
  const cases: Array<[string[], RegExp]> = [
    [['vulns', '.', '--db', 'nodb'], /VULN_DB_MISSING/],
    [['vulns', '.', '--db', 'db', '--fail-on', 'severe'], /--fail-on must be one of/],
    [['vulns', '.', '--db', 'db', '--format', 'xml'], /unknown --format/],
    [['vulns', '.', '--db', 'db', '--vex', 'requirements.txt'], /JSON_MALFORMED/],
    [['vulns', 'nothere', '--db', 'db'], /FILE_NOT_FOUND: nothere: no such file/],
    [['db', 'import', 'requirements.txt', '--db', 'db'], /VULN_DB_UPDATE_FAILED/],
    [['db', 'frobnicate'], /unknown subcommand/],
  ];
  await writeFile(
    join(dir, 'bad-vex.json'),
    '{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"products":[]}]}',
  );
  cases.push([['vulns', '.', '--db', 'db', '--vex', 'bad-vex.json'], /VEX_MALFORMED/]);
  for (const [args, re] of cases) {
    const r = await vouch(args, { cwd: dir, env });
    assert.equal(r.code, 2, `${args.join(' ')}: ${show(r)}`);
    assert.match(r.stderr, re, args.join(' '));
  }
  const st = jsonOf(await vouch(['db', 'status', '--db', 'db', '--json'], { cwd: dir, env }));
  assert.equal(st.sources.length, 1, 'the failed import left the database as it was');
  assert.ok(st.ecosystems.some((e: { ecosystem: string }) => e.ecosystem === 'PyPI'));
});

test('vouch vulns sha256:… verifies the stored SBOM first, attests the result, and rescan reports what is new', async (t) => {
  const { dir, env } = await project(t);
  await writeFile(join(dir, 'app.bin'), 'the artifact\n');
  const { key, pub } = await generateKey(dir, env);
  const other = await generateKey(dir, env, 'other');
  const s = await vouch(['sbom', '.', '--attest', '--subject', 'app.bin', '--key', key], {
    cwd: dir,
    env,
  });
  assert.equal(s.code, 0, show(s));
  const digest = `sha256:${await sha256File(join(dir, 'app.bin'))}`;

  const wrong = await vouch(['vulns', digest, '--db', 'db', '--key', other.pub], { cwd: dir, env });
  assert.equal(wrong.code, 1, show(wrong));
  assert.match(wrong.stderr, /rejected bundle/);

  const ok = await vouch(
    [
      'vulns',
      digest,
      '--db',
      'db',
      '--key',
      pub,
      '--json',
      '--attest-key',
      key,
      '--out',
      'vulns.sigstore.json',
    ],
    { cwd: dir, env },
  );
  assert.equal(ok.code, 0, show(ok));
  assert.ok(jsonOf(ok).findings.some((f: { id: string }) => f.id === 'CVE-2018-18074'));
  const st = await statementOf(join(dir, 'vulns.sigstore.json'));
  assert.equal(st.predicateType, 'https://in-toto.io/attestation/vulns/v0.1');
  assert.equal(`sha256:${st.subject[0].digest.sha256}`, digest);
  assert.ok(st.predicate.scanner.result.some((r: { id: string }) => r.id === 'CVE-2018-18074'));

  // Rescan: against a database without the requests records nothing is found; with them, they are new, once.
  await writeFile(
    join(dir, 'small.jsonl'),
    `${(await readFile(RECORDS, 'utf8')).split('\n')[0]}\n`,
  );
  const small = await vouch(['db', 'import', 'small.jsonl', '--db', 'small'], { cwd: dir, env });
  assert.equal(small.code, 0, show(small));
  const r1 = jsonOf(
    await vouch(['vulns', 'rescan', '--db', 'small', '--key', pub, '--json'], { cwd: dir, env }),
  );
  assert.equal(r1.artifacts.length, 1);
  assert.equal(r1.artifacts[0].new.length, 0);
  const r2 = jsonOf(
    await vouch(['vulns', 'rescan', '--db', 'db', '--key', pub, '--json'], { cwd: dir, env }),
  );
  assert.equal(r2.artifacts[0].digest, digest);
  assert.ok(r2.artifacts[0].new.some((f: { id: string }) => f.id === 'CVE-2018-18074'));
  assert.equal(r2.previous, r1.time);
  const r3 = jsonOf(
    await vouch(['vulns', 'rescan', '--db', 'db', '--key', pub, '--json'], { cwd: dir, env }),
  );
  assert.equal(r3.artifacts[0].new.length, 0, 'nothing new the second time');
  const gate = await vouch(['vulns', 'rescan', '--db', 'db', '--key', other.pub, '--fail-on-new'], {
    cwd: dir,
    env,
  });
  assert.equal(gate.code, 1, 'a bundle that does not verify fails the gate');
});

test('vouch vulns --json --attest-key: a signing failure leaves stdout to the one error document', async (t) => {
  const { dir, env } = await project(t);
  await writeFile(join(dir, 'app.bin'), 'the artifact\n');
  const { key } = await generateKey(dir, env);
  // --out below a regular file: signing works, writing the bundle fails.
  await writeFile(join(dir, 'blocker'), 'a file, not a directory\n');
  const r = await vouch(
    [
      'vulns',
      '.',
      '--db',
      'db',
      '--json',
      '--attest-key',
      key,
      '--subject',
      'app.bin',
      '--no-store',
      '--out',
      'blocker/vulns.sigstore.json',
    ],
    { cwd: dir, env },
  );
  assert.equal(r.code, 2, show(r));
  const doc = jsonOf(r);
  assert.ok(doc.error?.code, `one JSON document, the error: ${r.stdout.slice(0, 200)}`);
  assert.equal(doc.findings, undefined);
});
