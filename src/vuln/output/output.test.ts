import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { sarifValidator } from '../../../test/sarif.ts';
import { cyclonedxValidator, schemaErrors } from '../../sbom/writers/testing.ts';
import { importExports, VulnDatabase } from '../db/index.ts';
import { ORACLE } from '../fixtures/testkit.ts';
import { componentsOfSbom, matchComponents } from '../match.ts';
import { applyVex, readVex } from '../vex/index.ts';
import { OUTPUTS, type ScanReport, sarifOf, totalsOf, vdrOf, vulnsPredicate } from './index.ts';

const now = new Date('2026-11-25T12:00:00Z');

const SBOM = {
  bomFormat: 'CycloneDX',
  specVersion: '1.6',
  version: 1,
  metadata: { component: { type: 'application', 'bom-ref': 'app', name: 'app' } },
  components: [
    {
      type: 'library',
      'bom-ref': 'pkg:pypi/django@2.0.2',
      name: 'django',
      version: '2.0.2',
      purl: 'pkg:pypi/django@2.0.2',
    },
    { type: 'library', name: 'requests', version: '2.19.0', purl: 'pkg:pypi/requests@2.19.0' },
    { type: 'library', 'bom-ref': 'lib', name: 'mylib', version: '1.0' },
    {
      type: 'library',
      'bom-ref': 'g',
      name: 'openssl',
      version: '3.0.0',
      purl: 'pkg:generic/openssl@3.0.0',
    },
  ],
};

async function report(
  t: { after: (fn: () => Promise<void>) => void },
  vex: unknown[] = [],
): Promise<ScanReport> {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-vout-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await importExports(join(dir, 'db'), [`${ORACLE}/records-PyPI.jsonl`], { now, cwd: dir });
  const db = await VulnDatabase.open(join(dir, 'db'));
  try {
    const input = componentsOfSbom(structuredClone(SBOM), 'sbom.json');
    const result = matchComponents(db, input.components, { now });
    result.findings = applyVex(
      result.findings,
      vex.flatMap((v, i) => readVex(v, `vex-${i}.json`)),
    );
    const st = db.status();
    return {
      target: { kind: 'sbom', name: 'sbom.json' },
      input,
      result,
      db: {
        path: 'db',
        updatedAt: st.updatedAt,
        records: st.records,
        sources: ['records-PyPI.jsonl'],
      },
      vex: vex.map((_, i) => `vex-${i}.json`),
      scanner: { name: 'vouch', version: '0.1.0', uri: 'https://example.com/vouch' },
      time: '2026-11-25T12:00:00Z',
    };
  } finally {
    db.close();
  }
}

const openVex = (status: string, timestamp = '2026-01-01T00:00:00Z') => ({
  '@context': 'https://openvex.dev/ns/v0.2.0',
  '@id': 'https://example.com/vex/1',
  author: 'test',
  timestamp,
  version: 1,
  statements: [
    {
      vulnerability: { name: 'CVE-2018-18074' },
      products: [{ '@id': 'pkg:pypi/requests' }],
      status,
      justification: 'vulnerable_code_not_in_execute_path',
      timestamp,
    },
  ],
});

test('counts: matched, not matchable with reasons, findings', async (t) => {
  const r = await report(t);
  const totals = totalsOf(r);
  assert.equal(totals.components, 4);
  assert.equal(totals.matched, 2);
  assert.deepEqual(
    r.result.notMatchable.map((n) => n.reason),
    ['no purl', 'generic purl (no ecosystem)'],
  );
  assert.ok(r.result.findings.some((f) => f.id === 'CVE-2018-18074' && f.package === 'requests'));
  // The component without bom-ref got one, and findings point at it.
  assert.ok(r.result.findings.some((f) => f.component.ref === 'pkg:pypi/requests@2.19.0'));
});

test('VEX: OpenVEX not_affected suppresses (listed with justification); a later affected statement reopens', async (t) => {
  const r = await report(t, [openVex('not_affected')]);
  const f = r.result.findings.find((x) => x.id === 'CVE-2018-18074');
  assert.equal(f?.suppressed?.status, 'not_affected');
  assert.equal(f?.suppressed?.justification, 'vulnerable_code_not_in_execute_path');
  assert.equal(totalsOf(r).suppressed, 1);
  const table = (OUTPUTS[0] as (typeof OUTPUTS)[number]).render(r);
  assert.match(
    table,
    /suppressed by VEX \(1\):\n {2}CVE-2018-18074 requests@2\.19\.0 {2}not_affected: vulnerable_code_not_in_execute_path/,
  );
  const later = await report(t, [
    openVex('not_affected'),
    openVex('affected', '2026-06-01T00:00:00Z'),
  ]);
  assert.equal(later.result.findings.find((x) => x.id === 'CVE-2018-18074')?.suppressed, undefined);
  // A statement about another package does not suppress.
  const other = openVex('not_affected');
  (other.statements[0] as { products: unknown[] }).products = [{ '@id': 'pkg:pypi/urllib3' }];
  assert.equal(
    (await report(t, [other])).result.findings.find((x) => x.id === 'CVE-2018-18074')?.suppressed,
    undefined,
  );
});

test('VEX: CycloneDX analysis not_affected / false_positive suppress by bom-ref or purl; bad VEX is an error', async (t) => {
  const cdxVex = {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    version: 1,
    components: [
      { type: 'library', 'bom-ref': 'r1', name: 'requests', purl: 'pkg:pypi/requests@2.19.0' },
    ],
    vulnerabilities: [
      {
        id: 'CVE-2018-18074',
        analysis: { state: 'false_positive', detail: 'not used' },
        affects: [{ ref: 'r1' }],
      },
      { id: 'CVE-2023-32681', analysis: { state: 'in_triage' }, affects: [{ ref: 'r1' }] },
    ],
  };
  const r = await report(t, [cdxVex]);
  assert.equal(
    r.result.findings.find((x) => x.id === 'CVE-2018-18074')?.suppressed?.status,
    'false_positive',
  );
  assert.equal(r.result.findings.find((x) => x.id === 'CVE-2023-32681')?.suppressed, undefined);
  assert.throws(() => readVex({ statements: [] }, 'v.json'), /VEX|neither OpenVEX/);
  assert.throws(
    () =>
      readVex(
        {
          '@context': 'https://openvex.dev/ns/v0.2.0',
          statements: [
            { vulnerability: { name: 'X' }, products: [{ '@id': 'pkg:npm/a' }], status: 'bogus' },
          ],
        },
        'v.json',
      ),
    /status must be one of/,
  );
});

test('cyclonedx-json: a CycloneDX 1.6 VDR valid against the official schema; affects[].ref are component bom-refs', async (t) => {
  const r = await report(t, [openVex('not_affected')]);
  const vdr = vdrOf(r) as {
    components: Array<Record<string, unknown>>;
    vulnerabilities: Array<Record<string, unknown>>;
  };
  assert.equal(schemaErrors(cyclonedxValidator(), vdr), undefined);
  const refs = new Set(vdr.components.map((c) => c['bom-ref']));
  assert.equal(vdr.components.length, SBOM.components.length);
  assert.ok(vdr.vulnerabilities.length > 0);
  for (const v of vdr.vulnerabilities) {
    for (const a of v.affects as Array<{ ref: string }>) assert.ok(refs.has(a.ref), a.ref);
  }
  const suppressed = vdr.vulnerabilities.find((v) => v.id === 'CVE-2018-18074') as Record<
    string,
    unknown
  >;
  assert.deepEqual((suppressed.analysis as Record<string, unknown>).state, 'not_affected');
  assert.deepEqual(
    (suppressed.analysis as Record<string, unknown>).justification,
    'code_not_reachable',
  );
  // Deterministic.
  assert.equal(JSON.stringify(vdrOf(r)), JSON.stringify(vdr));
});

/**
 * The rules GitHub code scanning enforces on upload beyond the SARIF 2.1.0
 * schema (which is checked too, test/sarif.ts), written as a JSON Schema.
 */
const SARIF_RULES = {
  type: 'object',
  required: ['version', 'runs'],
  properties: {
    version: { const: '2.1.0' },
    $schema: { type: 'string' },
    runs: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['tool', 'results'],
        properties: {
          tool: {
            type: 'object',
            required: ['driver'],
            properties: {
              driver: {
                type: 'object',
                required: ['name', 'rules'],
                properties: {
                  rules: {
                    type: 'array',
                    items: {
                      type: 'object',
                      required: ['id', 'shortDescription', 'properties'],
                      properties: {
                        shortDescription: {
                          type: 'object',
                          required: ['text'],
                          properties: { text: { type: 'string', maxLength: 1024 } },
                        },
                        properties: {
                          type: 'object',
                          required: ['security-severity'],
                          properties: {
                            'security-severity': {
                              type: 'string',
                              pattern: '^(10\\.0|[0-9]\\.[0-9])$',
                            },
                          },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
          results: {
            type: 'array',
            items: {
              type: 'object',
              required: ['ruleId', 'ruleIndex', 'message', 'locations', 'level'],
              properties: {
                level: { enum: ['none', 'note', 'warning', 'error'] },
                message: { type: 'object', required: ['text'] },
                locations: {
                  type: 'array',
                  minItems: 1,
                  items: {
                    type: 'object',
                    required: ['physicalLocation'],
                    properties: {
                      physicalLocation: {
                        type: 'object',
                        required: ['artifactLocation'],
                        properties: { artifactLocation: { type: 'object', required: ['uri'] } },
                      },
                    },
                  },
                },
                suppressions: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['kind'],
                    properties: {
                      kind: { enum: ['inSource', 'external'] },
                      status: { enum: ['accepted', 'underReview', 'rejected'] },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};

test('sarif: structure GitHub accepts; ruleIndex points at the rule; suppressed findings carry suppressions', async (t) => {
  const r = await report(t, [openVex('not_affected')]);
  const sarif = sarifOf(r) as {
    runs: Array<{
      tool: { driver: { rules: Array<{ id: string }> } };
      results: Array<Record<string, unknown>>;
    }>;
  };
  const validate = new Ajv({ strict: false, allErrors: true }).compile(SARIF_RULES);
  assert.ok(validate(sarif), JSON.stringify(validate.errors?.slice(0, 5)));
  const schema = sarifValidator();
  assert.ok(schema(sarif), JSON.stringify(schema.errors?.slice(0, 5)));
  // Tamper: an unknown level is not SARIF 2.1.0.
  const bad = structuredClone(sarif) as {
    runs: Array<{ results: Array<Record<string, unknown>> }>;
  };
  (bad.runs[0]?.results[0] as Record<string, unknown>).level = 'fatal';
  assert.equal(schema(bad), false);
  const run = sarif.runs[0] as (typeof sarif.runs)[number];
  for (const res of run.results)
    assert.equal(run.tool.driver.rules[res.ruleIndex as number]?.id, res.ruleId);
  const sup = run.results.filter((x) => x.suppressions);
  assert.equal(sup.length, 1);
  assert.equal(sup[0]?.ruleId, 'CVE-2018-18074');
  assert.equal(run.results.length, r.result.findings.length);
});

test('in-toto vulns predicate: scanner, db and every finding with its severity', async (t) => {
  const r = await report(t);
  const p = vulnsPredicate(r) as {
    scanner: { result: Array<{ id: string }>; db: { lastUpdate: string } };
  };
  assert.equal(p.scanner.result.length, r.result.findings.length);
  assert.deepEqual(
    p.scanner.result.map((x) => x.id),
    r.result.findings.filter((f) => !f.suppressed).map((f) => f.id),
  );
  // Sources: export URLs as they are, local imports by file name (no machine path).
  const db = { ...r.db, sources: ['https://osv.example/PyPI/all.zip', '/home/ci/data/osv.jsonl'] };
  const signed = vulnsPredicate({ ...r, db }) as { scanner: { db: { uri: string } } };
  assert.equal(signed.scanner.db.uri, 'https://osv.example/PyPI/all.zip file:osv.jsonl');
});

test('table: an OS package matched by its source package names both (libc6 (glibc))', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-vout-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const records = join(dir, 'debian.jsonl');
  const { writeFile } = await import('node:fs/promises');
  await writeFile(
    records,
    `${JSON.stringify({
      id: 'DEBIAN-CVE-2026-0001',
      modified: '2026-01-01T00:00:00Z',
      summary: 'glibc bug',
      affected: [
        {
          package: { ecosystem: 'Debian:12', name: 'glibc' },
          ranges: [
            { type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '2.36-9+deb12u5' }] },
          ],
        },
      ],
    })}\n`,
  );
  await importExports(join(dir, 'db'), [records], { now, cwd: dir });
  const db = await VulnDatabase.open(join(dir, 'db'));
  t.after(() => db.close());
  const input = componentsOfSbom(
    {
      bomFormat: 'CycloneDX',
      specVersion: '1.6',
      components: ['libc6', 'libc-bin'].map((name) => ({
        type: 'library',
        name,
        version: '2.36-9+deb12u4',
        purl: `pkg:deb/debian/${name}@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc`,
      })),
    },
    'sbom.json',
  );
  const result = matchComponents(db, input.components, { now });
  const r: ScanReport = {
    target: { kind: 'sbom', name: 'sbom.json' },
    input,
    result,
    db: { path: 'db', updatedAt: db.status().updatedAt, records: 1, sources: [] },
    vex: [],
    scanner: { name: 'vouch', version: '0.1.0', uri: 'https://example.com/vouch' },
    time: '2026-11-25T12:00:00Z',
  };
  const table = (OUTPUTS[0] as (typeof OUTPUTS)[number]).render(r);
  assert.match(table, /DEBIAN-CVE-2026-0001 +libc-bin \(glibc\) +2\.36-9\+deb12u4/);
  assert.match(table, /DEBIAN-CVE-2026-0001 +libc6 \(glibc\) +2\.36-9\+deb12u4/);
  // A binNMU (binary version apart from its source's): matched on the source
  // version, while the VDR's affects[] gives the version of the component it points at.
  input.components.push({
    ref: 'binnmu',
    name: 'libc-l10n',
    version: '2.36-9+deb12u4+b1',
    purl: 'pkg:deb/debian/libc-l10n@2.36-9%2Bdeb12u4%2Bb1?arch=all&distro=debian-12&upstream=glibc%402.36-9%2Bdeb12u4',
  });
  r.result = matchComponents(db, input.components, { now });
  assert.equal(
    r.result.findings.find((f) => f.component.ref === 'binnmu')?.version,
    '2.36-9+deb12u4',
  );
  const vdr = vdrOf(r) as {
    vulnerabilities: { affects: { ref: string; versions: { version: string }[] }[] }[];
  };
  const affects = vdr.vulnerabilities.flatMap((v) => v.affects);
  assert.deepEqual(affects.find((a) => a.ref === 'binnmu')?.versions, [
    { version: '2.36-9+deb12u4+b1', status: 'affected' },
  ]);
});
