// One policy file, one set of evidence, four deciders: `vouch verify
// sha256:… --policy` over a directory store, `vouch verify oci://…
// --policy` over a real registry (Debian's docker-registry 2.8), and the
// admission webhook over HTTPS with the same store and the same registry.
// They must agree on allow/deny and on which rules failed, image by image,
// by digest and by tag.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { PREDICATE_TYPES } from '../../src/core/predicates.ts';
import { makeStatement } from '../../src/core/statement.ts';
import { pushEvidence, RegistryClient } from '../../src/oci/index.ts';
import { loadPolicy, type Policy } from '../../src/policy/index.ts';
import { RegistryEvidenceSource, StoreEvidenceSource } from '../../src/server/index.ts';
import { loadSigningKey, signStatement } from '../../src/sign/index.ts';
import { DirectoryStore } from '../../src/store/index.ts';
import { isolatedEnv, jsonOf, show, vouch } from '../cli/helpers.ts';
import {
  admit,
  alice,
  fileContext,
  makeTls,
  mallory,
  pushImage,
  type Registry,
  type RunningWebhook,
  review,
  startRegistry,
  startWebhook,
  tempDir,
  workload,
} from './helpers.ts';

const suite = fileContext();

const POLICY = (pub: string) => `apiVersion: vouch.dev/policy/v1
kind: Policy
metadata: { name: parity }
requireDigest: false
trust:
  signers:
    - name: ci
      key: |
        ${pub.trim().replace(/\n/g, '\n        ')}
require:
  - name: provenance
    predicateType: slsaprovenance
    signers: [ci]
    maxAge: 7d
    where: predicate.runDetails.builder.id == "https://ci.example.com/builder"
  - name: sbom
    anyOf:
      - { name: sbom-cyclonedx, predicateType: cyclonedx }
      - { name: sbom-spdx, predicateType: spdx }
  - name: no-critical
    predicateType: vuln
    where: >-
      predicate.scanner.result.all(r, r.severity.all(s, double(s.score) < 9.0))
  - name: latest-no-critical
    predicateType: vuln
    select: newest
    where: >-
      predicate.scanner.result.all(r, r.severity.all(s, double(s.score) < 9.0))
`;

type Part =
  | 'provenance'
  | 'old-provenance'
  | 'other-builder'
  | 'sbom'
  | 'clean'
  | 'older-clean'
  | 'critical';

const now = new Date().toISOString();
const old = new Date(Date.now() - 30 * 86_400_000).toISOString();
const yesterday = new Date(Date.now() - 86_400_000).toISOString();
const provenance = (builder: string, finishedOn: string) => ({
  buildDefinition: { buildType: 'https://example.com/b', externalParameters: {} },
  runDetails: { builder: { id: builder }, metadata: { finishedOn } },
});
const vulns = (score: string, finished = now) => ({
  scanner: {
    uri: 'https://example.com/scanner',
    result: score ? [{ id: 'CVE-1', severity: [{ method: 'CVSSv3', score }] }] : [],
  },
  metadata: { scanStartedOn: finished, scanFinishedOn: finished },
});
const PREDICATES: Record<Part, [keyof typeof PREDICATE_TYPES, unknown]> = {
  provenance: ['slsaprovenance', provenance('https://ci.example.com/builder', now)],
  'old-provenance': ['slsaprovenance', provenance('https://ci.example.com/builder', old)],
  'other-builder': ['slsaprovenance', provenance('https://elsewhere.example/builder', now)],
  sbom: [
    'cyclonedx',
    { bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, metadata: { timestamp: now } },
  ],
  clean: ['vuln', vulns('')],
  'older-clean': ['vuln', vulns('', yesterday)],
  critical: ['vuln', vulns('9.8')],
};

/** Each image: its evidence, who signed it, and the rules every decider must fail (none: allow). */
const CASES: Array<{ name: string; parts: Part[]; key?: 'mallory'; fails: string[] }> = [
  { name: 'good', parts: ['provenance', 'sbom', 'clean'], fails: [] },
  {
    name: 'no-sbom',
    parts: ['provenance', 'clean'],
    fails: ['sbom', 'sbom-cyclonedx', 'sbom-spdx'],
  },
  {
    name: 'critical',
    parts: ['provenance', 'sbom', 'critical'],
    fails: ['no-critical', 'latest-no-critical'],
  },
  // Yesterday's scan was clean, today's is not: only the select-newest rule sees it.
  {
    name: 'rescanned',
    parts: ['provenance', 'sbom', 'older-clean', 'critical'],
    fails: ['latest-no-critical'],
  },
  { name: 'other-builder', parts: ['other-builder', 'sbom', 'clean'], fails: ['provenance'] },
  { name: 'stale', parts: ['old-provenance', 'sbom', 'clean'], fails: ['provenance'] },
  {
    name: 'forged',
    parts: ['provenance', 'sbom', 'clean'],
    key: 'mallory',
    fails: [
      'provenance',
      'sbom',
      'sbom-cyclonedx',
      'sbom-spdx',
      'no-critical',
      'latest-no-critical',
    ],
  },
];

let dir: string;
let registry: Registry;
let policyFile: string;
let policy: Policy;
let storeDir: string;
const digests = new Map<string, string>();
let viaStore: RunningWebhook;
let viaRegistry: RunningWebhook;

before(async () => {
  dir = await tempDir(suite);
  const tls = await makeTls(dir);
  registry = await startRegistry(suite, dir);
  policyFile = join(dir, 'policy.yaml');
  await writeFile(policyFile, POLICY(alice.publicKeyPem));
  const loaded = await loadPolicy(policyFile);
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.problems));
  policy = loaded.policy;
  storeDir = join(dir, 'store');
  const store = new DirectoryStore(storeDir);
  const client = new RegistryClient({
    insecure: true,
    auth: { kind: 'anonymous' },
    warn: () => {},
  });
  for (const c of CASES) {
    const digest = await pushImage(dir, registry, `team/${c.name}`, 'v1', `image ${c.name}\n`);
    digests.set(c.name, digest);
    const key = loadSigningKey((c.key === 'mallory' ? mallory : alice).privateKeyPem, 'test');
    for (const part of c.parts) {
      const [type, predicate] = PREDICATES[part];
      const st = makeStatement(
        [{ name: c.name, digest: { sha256: digest.slice('sha256:'.length) } }],
        PREDICATE_TYPES[type],
        predicate,
      );
      // The same signed bytes go to the store and to the registry.
      const bundle = Buffer.from(JSON.stringify(await signStatement(st, { mode: 'key', key })));
      await store.put(bundle);
      await pushEvidence(
        { registry: registry.host, repository: `team/${c.name}`, digest },
        bundle,
        client,
      );
    }
  }
  viaStore = await startWebhook(suite, tls, { policy, source: new StoreEvidenceSource(storeDir) });
  viaRegistry = await startWebhook(suite, tls, {
    policy,
    source: new RegistryEvidenceSource({
      insecure: true,
      auth: { kind: 'anonymous' },
      timeoutMs: 5000,
      warn: () => {},
    }),
  });
});

interface Outcome {
  allowed: boolean;
  failed: string[];
}

/** Failed rules the way the webhook names them: a failed rule, then its failed children. */
function failedRules(
  rules: Array<{ name: string; status: string; children?: unknown[] }>,
): string[] {
  const out: string[] = [];
  const walk = (r: { name: string; status: string; children?: unknown[] }) => {
    if (r.status !== 'fail') return;
    out.push(r.name);
    for (const c of (r.children ?? []) as (typeof r)[]) walk(c);
  };
  for (const r of rules) walk(r);
  return out.sort();
}

async function cli(target: string, digest: string, ...extra: string[]): Promise<Outcome> {
  const r = await vouch(['verify', target, '--policy', policyFile, '--json', ...extra], {
    cwd: dir,
    env: isolatedEnv(dir),
  });
  assert.ok(r.code === 0 || r.code === 1, show(r));
  const v = jsonOf(r);
  assert.equal(v.ok, r.code === 0, show(r));
  assert.equal(v.subject, digest, 'the decision is about the digest');
  return { allowed: v.ok, failed: failedRules(v.rules) };
}

async function webhook(hook: RunningWebhook, image: string): Promise<Outcome> {
  const r = await admit(hook, review(workload('Pod', { containers: [image] })));
  const response = (r.json as { response: { allowed: boolean; status: { message: string } } })
    .response;
  const failed = [...response.status.message.matchAll(/^ {2}- rule ([^:]+):/gm)].map(
    (m) => m[1] as string,
  );
  return { allowed: response.allowed, failed: failed.sort() };
}

describe('one policy, one evidence set: the CLI, the registry gate and the webhook agree', () => {
  for (const c of CASES) {
    test(`${c.name}: ${c.fails.length ? `deny (${c.fails.join(', ')})` : 'allow'} everywhere, by digest and by tag`, async () => {
      const digest = digests.get(c.name) as string;
      const repo = `${registry.host}/team/${c.name}`;
      const expected: Outcome = { allowed: c.fails.length === 0, failed: [...c.fails].sort() };
      const outcomes: Record<string, Outcome> = {
        'verify --store': await cli(digest, digest, '--store', storeDir),
        'verify oci:// by digest': await cli(
          `oci://${repo}@${digest}`,
          digest,
          '--insecure-registry',
        ),
        'verify oci:// by tag': await cli(`oci://${repo}:v1`, digest, '--insecure-registry'),
        'webhook, store': await webhook(viaStore, `${repo}@${digest}`),
        'webhook, registry, by digest': await webhook(viaRegistry, `${repo}@${digest}`),
        'webhook, registry, by tag': await webhook(viaRegistry, `${repo}:v1`),
      };
      for (const [where, got] of Object.entries(outcomes)) assert.deepEqual(got, expected, where);
    });
  }

  test('rescanned: the denial names the newest scan and its time, in the webhook and in the verdict', async () => {
    const digest = digests.get('rescanned') as string;
    const image = `${registry.host}/team/rescanned@${digest}`;
    const r = await admit(viaStore, review(workload('Pod', { containers: [image] })));
    const message = (r.json as { response: { status: { message: string } } }).response.status
      .message;
    const line = message.split('\n').find((l) => l.includes('rule latest-no-critical:'));
    assert.ok(line, message);
    assert.match(
      line,
      new RegExp(
        `newest of 2 verified statement\\(s\\): .*, at ${now.replace(/\./g, '\\.')} \\(predicate\\.metadata\\.scanFinishedOn`,
      ),
    );
    const v = await vouch(
      ['verify', digest, '--policy', policyFile, '--json', '--store', storeDir],
      {
        cwd: dir,
        env: isolatedEnv(dir),
      },
    );
    const rule = jsonOf(v).rules.find((x: { name: string }) => x.name === 'latest-no-critical');
    assert.equal(rule.selected.time, now);
    assert.equal(rule.selected.timeSource, 'predicate');
    // The same bundle: the webhook names it by its store id, the CLI by path and digest.
    const id = /statement\(s\): store:([0-9a-f]{12}),/.exec(line)?.[1];
    assert.ok(id, line);
    assert.ok(
      rule.selected.bundles[0].digest.startsWith(`sha256:${id}`),
      JSON.stringify(rule.selected),
    );
  });
});
