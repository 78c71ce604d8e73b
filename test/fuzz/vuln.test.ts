/**
 * Mutation fuzz of the vulnerability-side parsers: OSV records (JSON and
 * YAML) and OSV export zips, VEX (OpenVEX, CycloneDX), CycloneDX/SPDX SBOM
 * input of `vouch vulns`, CVSS vectors and every version scheme. Seeds are
 * real records from ../shared/vectors/osv and real SBOMs. See harness.ts.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseJson } from '../../src/core/json.ts';
import { readSbomDocument } from '../../src/sbom/diff.ts';
import { scoreVector } from '../../src/vuln/cvss.ts';
import { importRecord, recordsOfBytes, type SkippedRecord } from '../../src/vuln/db/records.ts';
import { makeZip } from '../../src/vuln/fixtures/testkit.ts';
import { componentsOfSbom } from '../../src/vuln/match.ts';
import { parseOsvText } from '../../src/vuln/osv.ts';
import { affectedVersions } from '../../src/vuln/range.ts';
import { SCHEMES } from '../../src/vuln/versions/index.ts';
import { readVex } from '../../src/vuln/vex/index.ts';
import { SHARED } from '../shared.ts';
import { check } from './harness.ts';

const OSV = join(SHARED, 'vectors', 'osv');
const osvFiles = (eco: string, n: number) =>
  readdirSync(join(OSV, eco))
    .sort()
    .slice(0, n)
    .map((f) => ({ name: f, bytes: readFileSync(join(OSV, eco, f)) }));
const GO = osvFiles('golang', 4);
const PYPA = osvFiles('pypa', 3);
const RUST = osvFiles('rustsec', 3);

const OPENVEX = Buffer.from(
  JSON.stringify({
    '@context': 'https://openvex.dev/ns/v0.2.0',
    '@id': 'https://example.com/vex/1',
    author: 'vouch test',
    timestamp: '2024-01-01T00:00:00Z',
    version: 1,
    statements: [
      {
        vulnerability: { name: 'CVE-2023-1234', aliases: ['GHSA-aaaa-bbbb-cccc'] },
        products: [
          { '@id': 'pkg:oci/app@sha256:abc', subcomponents: [{ '@id': 'pkg:npm/lodash@4.17.20' }] },
        ],
        status: 'not_affected',
        justification: 'vulnerable_code_not_in_execute_path',
      },
      {
        vulnerability: 'CVE-2024-1',
        products: [{ identifiers: { purl: 'pkg:pypi/x@1' }, hashes: { 'sha-256': 'ab' } }],
        status: 'fixed',
        timestamp: '2024-02-01T00:00:00Z',
      },
    ],
  }),
);
const CDX_VEX = Buffer.from(
  JSON.stringify({
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    version: 1,
    components: [
      {
        'bom-ref': 'lib',
        type: 'library',
        name: 'lodash',
        version: '4.17.20',
        purl: 'pkg:npm/lodash@4.17.20',
      },
    ],
    vulnerabilities: [
      {
        id: 'CVE-2023-1234',
        references: [{ id: 'GHSA-aaaa-bbbb-cccc', source: { name: 'GitHub' } }],
        analysis: { state: 'not_affected', justification: 'code_not_reachable', detail: 'x' },
        affects: [{ ref: 'lib' }, { ref: 'pkg:npm/other@1.0.0' }],
      },
    ],
  }),
);

/** Version strings of each scheme's ecosystem, from the OSV vectors' events and `versions`. */
const VERSIONS: Record<string, string[]> = {
  semver: ['1.2.3', '0.0.0-rc.1+build.5', '10.20.30-alpha.beta.1'],
  go: ['v1.2.3', 'v0.0.0-20210101000000-abcdef123456', 'v2.0.0+incompatible'],
  pep440: ['1.0', '2.0.0rc1', '1!2.3.post4.dev5+local.7', '0.9b2'],
  maven: ['1.2.3-SNAPSHOT', '2.0.0.RELEASE', '1.0-alpha-1', '3.0.0-M1'],
  rubygems: ['1.2.3', '1.0.0.pre.1', '2.0.0.rc2'],
  nuget: ['1.2.3', '1.0.0-beta.1', '4.5.6.7'],
  composer: ['1.2.3', 'v2.0.0-RC1', '1.0.0-p1', 'dev-master'],
  debian: ['1:2.30-1ubuntu1', '2.36.1-8+deb11u1', '1.0~rc1-2'],
  alpine: ['1.2.3-r0', '2.6.0_rc1-r1', '1.36.1_git20230101-r28'],
  rpm: ['2:1.2.3-4.el8', '1.0-0.1.rc1.fc40', '5.1^20230101-1'],
  cran: ['1.2-3', '0.9.1'],
  hackage: ['1.2.3.4', '0.1'],
  pub: ['1.2.3', '2.0.0-dev.1+hotfix'],
};

describe('fuzz: vulnerability parsers', () => {
  test('OSV records, JSON and YAML (parseOsvText) and their range evaluation', async () => {
    await check(
      {
        name: 'osv-record',
        kind: 'text',
        seeds: [...GO, ...PYPA, ...RUST].map((f) => f.bytes),
        file: 'record.json',
        run(b, f) {
          const rec = parseOsvText(b.toString(), f);
          for (const a of rec.affected ?? [])
            for (const v of ['1.0.0', 'v1.2.3', '0']) affectedVersions(a, v);
        },
      },
      assert,
    );
  });

  test('OSV export zip (recordsOfBytes, importRecord)', async () => {
    const zip = makeZip([...GO, ...RUST].map((f) => ({ name: f.name, data: f.bytes })));
    const stored = makeZip(
      GO.slice(0, 2).map((f) => ({ name: f.name, data: f.bytes, method: 0 as const })),
    );
    await check(
      {
        name: 'osv-zip',
        kind: 'binary',
        seeds: [zip, stored],
        file: 'all.zip',
        run(b, f) {
          const skipped: SkippedRecord[] = [];
          for (const raw of recordsOfBytes(b, f, skipped)) importRecord(raw, skipped);
        },
      },
      assert,
    );
  });

  test('VEX: OpenVEX and CycloneDX (readVex)', async () => {
    await check(
      {
        name: 'vex',
        kind: 'json',
        seeds: [OPENVEX, CDX_VEX],
        run: (b, f) => readVex(parseJson(b.toString(), f), f),
      },
      assert,
    );
  });

  test('SBOM input of vouch vulns and sbom diff (componentsOfSbom, readSbomDocument)', async () => {
    const S = join(SHARED, 'vectors', 'sbom');
    const seeds = [
      readFileSync(join(S, 'schemas/spdx/SPDXJSONExample-v2.3.spdx.json')),
      readFileSync(join(S, 'schemas/cyclonedx/tests-1.6/valid-dependency-1.6.json')),
      readFileSync(join(S, 'schemas/cyclonedx/tests-1.6/valid-component-identifiers-1.6.json')),
    ];
    await check(
      {
        name: 'sbom-input',
        kind: 'json',
        seeds,
        file: 'app.cdx.json',
        run(b, f) {
          const v = parseJson(b.toString(), f);
          componentsOfSbom(v, f);
          readSbomDocument(v, f);
        },
      },
      assert,
    );
  });

  test('CVSS v2/v3/v4 vectors (scoreVector)', async () => {
    const seeds = [
      'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
      'CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:C/C:L/I:N/A:L/E:P/RL:O/RC:C',
      'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N',
      'CVSS:4.0/AV:A/AC:H/AT:P/PR:L/UI:P/VC:L/VI:N/VA:N/SC:H/SI:L/SA:N/E:A',
    ].map((s) => Buffer.from(s));
    await check(
      { name: 'cvss', kind: 'text', seeds, naming: 'none', run: (b) => scoreVector(b.toString()) },
      assert,
    );
  });

  for (const scheme of SCHEMES) {
    test(`version strings: ${scheme.name}`, async () => {
      const seeds = (VERSIONS[scheme.name] ?? ['1.2.3', '0.1']).map((v) => Buffer.from(v));
      await check(
        {
          name: `version-${scheme.name}`,
          kind: 'text',
          seeds,
          naming: 'none',
          mutants: 150,
          run(b) {
            const v = b.toString();
            const p = scheme.parse(v);
            for (const s of seeds) scheme.compareParsed(p, scheme.parse(s.toString()));
          },
        },
        assert,
      );
    });
  }
});
