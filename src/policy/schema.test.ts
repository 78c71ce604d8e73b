import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { policySchema, schemaFieldPaths, validateSchema } from './schema.ts';

/** A policy that uses every field the schema defines (the sync test checks it does). */
const FULL = `apiVersion: vouch.dev/policy/v1
kind: Policy
extends:
  - { path: org/base.yaml, sha256: ${'ab'.repeat(32)} }
metadata: { name: full, description: every field }
requireDigest: true
trust:
  trustedRoot: trusted_root.json
  signers:
    - name: ci
      description: CI key
      key: ci.pub
      validFrom: 2024-01-01T00:00:00Z
      validUntil: 2026-01-01T00:00:00Z
      revoked: { at: 2025-06-01T00:00:00Z, reason: rotated }
    - name: gh
      keyless:
        issuer: https://token.actions.githubusercontent.com
        subject: https://github.com/o/r/.github/workflows/release.yml@refs/heads/main
        subjectRegExp: ^https://github.com/o/.*$
        repository: o/r
        ref: refs/heads/main
require:
  - name: provenance
    description: built by CI
    predicateType: slsaprovenance
    signers: [ci, gh]
    minSigners: 1
    maxAge: 7d
    select: newest
    where: predicate.runDetails.builder.id != ""
  - name: scans
    anyOf:
      - { name: vulns, predicateType: vuln }
    allOf:
      - { name: sbom, predicateType: cyclonedx }
exceptions:
  - { rule: sbom, owner: me@example.com, reason: INC-1, expires: 2030-01-01T00:00:00Z }
ssdf:
  PS.3.1: [provenance]
`;

function pathsOf(v: unknown, at = ''): string[] {
  if (Array.isArray(v)) return v.flatMap((x) => pathsOf(x, `${at}/*`));
  if (typeof v === 'object' && v !== null) {
    return Object.entries(v).flatMap(([k, x]) => {
      const key = at === '/ssdf' ? '*' : k;
      return [`${at}/${key}`, ...pathsOf(x, `${at}/${key}`)];
    });
  }
  return [];
}

// Rules nest: /require/N/anyOf/M/name is the same field as /require/N/name.
const collapse = (paths: Iterable<string>) =>
  [
    ...new Set(
      [...paths].map((p) => p.replace(/^\/require\/\*(\/(anyOf|allOf)\/\*)+/, '/require/*')),
    ),
  ].sort();

test('the FULL example uses exactly the fields the schema defines (parser accepts = schema)', () => {
  assert.deepEqual(collapse(pathsOf(parse(FULL))), collapse(schemaFieldPaths()));
});

test('ajv (strict) and vouch agree on the schema: FULL valid, mutations invalid', () => {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  const validate = ajv.compile(policySchema());
  const full = parse(FULL);
  assert.equal(validate(full), true, JSON.stringify(validate.errors));
  assert.deepEqual(validateSchema(full), []);
  const mutations: Array<[string, (p: Record<string, any>) => void]> = [
    [
      'unknown top-level field',
      (p) => {
        p.colour = 'blue';
      },
    ],
    [
      'unknown signer field',
      (p) => {
        p.trust.signers[0].kye = 'x';
      },
    ],
    [
      'unknown keyless field',
      (p) => {
        p.trust.signers[1].keyless.workflow = 'x';
      },
    ],
    [
      'unknown rule field',
      (p) => {
        p.require[0].minSigner = 2;
      },
    ],
    [
      'unknown nested rule field',
      (p) => {
        p.require[1].anyOf[0].typo = 1;
      },
    ],
    [
      'wrong apiVersion',
      (p) => {
        p.apiVersion = 'v2';
      },
    ],
    [
      'bad duration',
      (p) => {
        p.require[0].maxAge = '7 days';
      },
    ],
    [
      'bad time',
      (p) => {
        p.exceptions[0].expires = 'tomorrow';
      },
    ],
    [
      'select not all or newest',
      (p) => {
        p.require[0].select = 'latest';
      },
    ],
    [
      'select as a boolean',
      (p) => {
        p.require[0].select = true;
      },
    ],
    [
      'minSigners 0',
      (p) => {
        p.require[0].minSigners = 0;
      },
    ],
    [
      'bad SSDF id',
      (p) => {
        p.ssdf['XX.1'] = ['provenance'];
      },
    ],
    [
      'extends without a sha256 pin',
      (p) => {
        delete p.extends[0].sha256;
      },
    ],
    [
      'extends as a bare path',
      (p) => {
        p.extends[0] = 'org/base.yaml';
      },
    ],
    [
      'extends pin not 64 hex digits',
      (p) => {
        p.extends[0].sha256 = 'sha256:abc';
      },
    ],
    [
      'missing exception owner',
      (p) => {
        delete p.exceptions[0].owner;
      },
    ],
  ];
  for (const [name, mutate] of mutations) {
    const p = structuredClone(full);
    mutate(p);
    assert.equal(validate(p), false, `ajv accepted: ${name}`);
    assert.ok(validateSchema(p).length > 0, `vouch accepted: ${name}`);
  }
});
