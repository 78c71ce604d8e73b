import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { makeStatement } from '../core/statement.ts';
import { evaluatePolicy, type Policy, parsePolicy } from '../policy/index.ts';
import {
  type ComplianceProfile,
  loadProfile,
  profileFromPolicy,
  profilePolicy,
} from '../policy/profiles/index.ts';
import { generateKeyPair, loadSigningKey, signStatement } from '../sign/index.ts';
import type { CandidateBundle } from '../verify/index.ts';
import {
  acceptedStatements,
  buildReport,
  type ComplianceReport,
  escapeHtml,
  mdText,
  RENDERERS,
  rendererFor,
  type TaskResult,
} from './index.ts';

// Real keys and real signed bundles, evaluated by the real policy engine: the
// report is only ever built from a verdict over verified evidence.

const ARTIFACT = Buffer.from('the release\n');
const HEX = createHash('sha256').update(ARTIFACT).digest('hex');
const NOW = new Date('2025-06-01T12:00:00Z');
const FRESH = '2025-06-01T10:00:00Z';
const ci = generateKeyPair('ecdsa-p256', undefined);
const stranger = generateKeyPair('ecdsa-p256', undefined);

/** OSCAL JSON, asserted on field by field. */
// biome-ignore lint/suspicious/noExplicitAny: the tests assert the shape
type J = any;

const SSDF_TASKS = [
  'PO.3.1',
  'PO.3.2',
  'PO.3.3',
  'PS.1.1',
  'PS.2.1',
  'PS.3.1',
  'PS.3.2',
  'PW.4.1',
  'PW.4.4',
  'PW.6.1',
  'PW.6.2',
  'PW.7.2',
  'PW.8.2',
  'RV.1.1',
  'RV.1.2',
  'RV.1.3',
  'RV.2.2',
];

function gitByproduct(status: string, dirty = false) {
  return {
    name: 'git',
    uri: 'https://vouch.dev/attestors/git/v1',
    mediaType: 'application/json',
    annotations: {
      present: true,
      commit: 'a'.repeat(40),
      subdir: '',
      dirty,
      changedPaths: dirty ? 1 : 0,
      signature: { status, code: status === 'good' ? 'G' : 'N' },
    },
  };
}

const PREDICATES = {
  provenance: (git: unknown = gitByproduct('good')) => ({
    buildDefinition: { buildType: 'https://vouch.dev/build/run/v1', externalParameters: {} },
    runDetails: {
      builder: { id: 'https://vouch.dev/builders/local@v1' },
      metadata: { startedOn: FRESH, finishedOn: FRESH },
      byproducts: [{ name: 'command', uri: 'https://vouch.dev/attestors/command/v1' }, git],
    },
  }),
  sbom: () => ({
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    metadata: { timestamp: FRESH },
    components: [],
  }),
  vulns: (scores: string[] = ['5.3', 'LOW'], finished = FRESH) => ({
    scanner: {
      uri: 'pkg:github/google/osv-scanner',
      version: '1.0.0',
      result: scores.map((score, i) => ({
        id: `CVE-2025-000${i}`,
        severity: [{ method: 'nvd', score }],
      })),
    },
    metadata: { scanStartedOn: finished, scanFinishedOn: finished },
  }),
  tests: (result = 'PASSED') => ({ result, passedTests: ['unit'], failedTests: [] }),
  scan: (findings: unknown[] = [{ ruleId: 'k8s/privileged', severity: 'medium' }]) => ({
    scanner: { name: 'vouch', version: '0.1.0', kinds: ['misconfiguration'], rules: 10 },
    target: { kind: 'directory', name: 'src' },
    scannedAt: FRESH,
    clean: findings.length === 0,
    findings,
    suppressed: [],
    parseErrors: [],
  }),
  rebuild: (reproducible = true, matches = true) => ({
    rebuilder: { id: 'https://rebuild.example/' },
    agreement: {
      reproducible,
      runs: 2,
      agreeing: reproducible ? 2 : 1,
      differing: [],
      culprits: [],
    },
    original: { matches, matched: ['release.tar'], mismatched: [], missing: [] },
    metadata: { startedOn: FRESH, finishedOn: FRESH },
  }),
};

const TYPE = {
  provenance: 'https://slsa.dev/provenance/v1',
  sbom: 'https://cyclonedx.org/bom',
  vulns: 'https://in-toto.io/attestation/vulns/v0.1',
  tests: 'https://in-toto.io/attestation/test-result/v0.1',
  scan: 'https://vouch.dev/attestation/scan/v1',
  rebuild: 'https://vouch.dev/attestation/rebuild/v1',
  tee: 'https://vouch.dev/attestation/tee/v1',
};

async function bundle(
  source: string,
  type: string,
  predicate: unknown,
  key = ci,
  hex = HEX,
): Promise<CandidateBundle> {
  const st = makeStatement([{ name: 'release.tar', digest: { sha256: hex } }], type, predicate);
  const b = await signStatement(st, {
    mode: 'key',
    key: loadSigningKey(key.privateKeyPem, source),
  });
  return { source, json: JSON.stringify(b) };
}

/** Evidence for every task of the default profile. */
async function fullEvidence(): Promise<CandidateBundle[]> {
  return [
    await bundle('prov.json', TYPE.provenance, PREDICATES.provenance()),
    await bundle('sbom.json', TYPE.sbom, PREDICATES.sbom()),
    await bundle('vulns.json', TYPE.vulns, PREDICATES.vulns()),
    await bundle('tests.json', TYPE.tests, PREDICATES.tests()),
    await bundle('scan.json', TYPE.scan, PREDICATES.scan()),
    await bundle('rebuild.json', TYPE.rebuild, PREDICATES.rebuild()),
  ];
}

async function trustPolicy(extra = ''): Promise<Policy> {
  const pem = ci.publicKeyPem.trim().replace(/\n/g, '\n        ');
  const r = await parsePolicy(
    `apiVersion: vouch.dev/policy/v1
kind: Policy
metadata: { name: trust }
trust:
  signers:
    - name: ci
      key: |
        ${pem}
require:
  - { name: provenance-own, predicateType: slsaprovenance }
${extra}`,
    { source: 'trust.yaml' },
  );
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.policy;
}

async function report(
  bundles: CandidateBundle[],
  options: {
    kind?: string;
    archived?: Set<string>;
    profile?: ComplianceProfile;
    policy?: Policy;
  } = {},
): Promise<ComplianceReport> {
  const trust = await trustPolicy();
  const profile = options.profile ?? loadProfile('ssdf');
  const policy = options.policy ?? (await profilePolicy(profile, trust.trust));
  const verdict = evaluatePolicy(policy, {
    subjectDigest: `sha256:${HEX}`,
    bundles,
    now: NOW,
  });
  const digests = verdict.evidence.map((e) => e.digest);
  return buildReport({
    profile,
    verdict,
    artifactKind: options.kind ?? 'binary',
    archived: options.archived ?? new Set(digests),
    statements: acceptedStatements(verdict, bundles),
    trust: { source: 'trust.yaml', digest: trust.digest },
    subjectName: 'release.tar',
  });
}

function task(r: ComplianceReport, id: string): TaskResult {
  const t = r.tasks.find((x) => x.id === id);
  assert.ok(t, `no task ${id}`);
  return t;
}

describe('the built-in SSDF profile', () => {
  test('lists exactly the SSDF build/deploy tasks, each mapped to rules the profile policy has', async () => {
    const profile = loadProfile('ssdf');
    assert.equal(profile.name, 'ssdf-default');
    assert.deepEqual(
      profile.tasks.map((t) => t.id),
      SSDF_TASKS,
    );
    assert.equal(loadProfile('ssdf-default').digest, profile.digest);
    const policy = await profilePolicy(profile, (await trustPolicy()).trust);
    const names = new Set<string>();
    const walk = (rs: Policy['require']) => {
      for (const r of rs) {
        names.add(r.name);
        if (r.kind !== 'evidence') walk(r.rules);
      }
    };
    walk(policy.require);
    for (const t of profile.tasks) {
      assert.ok(t.text.length > 20, `${t.id} has its task text`);
      for (const r of t.rules) assert.ok(names.has(r), `${t.id} maps to rule ${r}`);
      assert.deepEqual(policy.ssdf[t.id], t.rules);
    }
    assert.deepEqual(
      policy.trust.signers.map((s) => s.name),
      ['ci'],
      'trust is the user policy’s',
    );
    assert.equal(policy.digest, profile.digest);
  });

  test('an unknown profile name is a usage error', () => {
    assert.throws(() => loadProfile('iso27001'), { code: 'USAGE' });
  });
});

describe('buildReport from verified evidence', () => {
  test('every task is satisfied by a full set of verified evidence, each cell naming signer, time and bundle', async () => {
    const bundles = await fullEvidence();
    const r = await report(bundles);
    assert.deepEqual(
      r.tasks.filter((t) => t.status !== 'satisfied').map((t) => [t.id, t.missing]),
      [],
    );
    assert.equal(r.ok, true);
    assert.deepEqual(r.summary, { satisfied: 17, notSatisfied: 0, notApplicable: 0, total: 17 });
    const ps21 = task(r, 'PS.2.1');
    assert.equal(ps21.evidence.length, 1);
    const cell = ps21.evidence[0];
    assert.equal(cell?.source, 'prov.json');
    assert.equal(
      cell?.bundleDigest,
      `sha256:${createHash('sha256')
        .update(bundles[0]?.json as string)
        .digest('hex')}`,
    );
    assert.equal(cell?.signers[0]?.name, 'ci');
    assert.match(cell?.signers[0]?.identity ?? '', /^key:[0-9a-f]{64}$/);
    // Key-signed without a timestamp: the time is the provenance's own, and says so.
    assert.equal(cell?.time, '2025-06-01T10:00:00.000Z');
    assert.equal(cell?.timeSource, 'predicate');
    // Test results have no time field: no time is invented.
    const tests = task(r, 'PW.8.2').evidence[0];
    assert.equal(tests?.timeSource, 'none');
    assert.equal(tests?.time, undefined);
  });

  test('missing evidence makes a task not satisfied with every reason, never not applicable', async () => {
    const r = await report([]);
    assert.equal(r.ok, false);
    assert.equal(r.summary.notApplicable, 0);
    assert.equal(r.summary.notSatisfied, 17);
    const po32 = task(r, 'PO.3.2');
    assert.deepEqual(po32.missing[0]?.reasons.slice(-2), [
      'tee-attested-build: no verified evidence of type https://vouch.dev/attestation/tee/v1',
      'reproducible-rebuild: no verified evidence of type https://vouch.dev/attestation/rebuild/v1',
    ]);
  });

  test('not applicable only where the profile says so for the artifact kind', async () => {
    const r = await report([], { kind: 'source' });
    assert.deepEqual(
      r.tasks.filter((t) => t.status === 'not-applicable').map((t) => t.id),
      ['PW.6.1', 'PW.6.2'],
    );
    assert.match(task(r, 'PW.6.1').notApplicableReason ?? '', /source release/);
    assert.equal(r.summary.notApplicable, 2);
    await assert.rejects(report([], { kind: 'firmware' }), /artifact kind firmware/);
  });

  test('evidence by a signer outside trust, about another digest, or tampered is not counted', async () => {
    const good = await fullEvidence();
    const tests = await bundle('tests.json', TYPE.tests, PREDICATES.tests());
    const tampered = JSON.parse(tests.json as string);
    const st = JSON.parse(Buffer.from(tampered.dsseEnvelope.payload, 'base64').toString('utf8'));
    st.predicate.result = 'PASSED';
    st.predicate.failedTests = [];
    st.predicate.passedTests = ['forged'];
    tampered.dsseEnvelope.payload = Buffer.from(JSON.stringify(st)).toString('base64');
    const bundles = [
      ...good.filter((b) => b.source !== 'tests.json'),
      { source: 'tampered-tests.json', json: JSON.stringify(tampered) },
      await bundle('stranger-tests.json', TYPE.tests, PREDICATES.tests(), stranger),
      await bundle('replayed-tests.json', TYPE.tests, PREDICATES.tests(), ci, 'b'.repeat(64)),
    ];
    const r = await report(bundles);
    assert.equal(task(r, 'PW.8.2').status, 'not-satisfied');
    assert.equal(task(r, 'PW.8.2').evidence.length, 0);
    const dropped = Object.fromEntries(r.dropped.map((d) => [d.source, d.reasons.join(' | ')]));
    assert.deepEqual(Object.keys(dropped).sort(), [
      'replayed-tests.json',
      'stranger-tests.json',
      'tampered-tests.json',
    ]);
    assert.match(dropped['tampered-tests.json'] ?? '', /signature/);
    assert.match(dropped['stranger-tests.json'] ?? '', /signature|matches no signer/);
    assert.match(dropped['replayed-tests.json'] ?? '', /subject/);
    assert.equal(r.ok, false);
  });

  test('a failing test result does not satisfy PW.8.2', async () => {
    const bundles = (await fullEvidence()).filter((b) => b.source !== 'tests.json');
    bundles.push(await bundle('tests.json', TYPE.tests, PREDICATES.tests('FAILED')));
    const r = await report(bundles);
    assert.equal(task(r, 'PW.8.2').status, 'not-satisfied');
    assert.match(
      task(r, 'PW.8.2').missing[0]?.reasons.join(' ') ?? '',
      /where expression is false/,
    );
    assert.equal(task(r, 'RV.1.2').status, 'not-satisfied');
  });

  test('vulnerability threshold: high, critical, or an unreadable score fail; a stale scan fails freshness', async () => {
    const base = (await fullEvidence()).filter((b) => b.source !== 'vulns.json');
    for (const [scores, expect] of [
      [['6.9', 'MEDIUM'], 'satisfied'],
      [['7.0'], 'not-satisfied'],
      [['CRITICAL'], 'not-satisfied'],
      [['high'], 'not-satisfied'],
      [['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'], 'not-satisfied'],
    ] as const) {
      const r = await report([
        ...base,
        await bundle('v.json', TYPE.vulns, PREDICATES.vulns([...scores])),
      ]);
      assert.equal(task(r, 'PW.4.4').status, expect, `scores ${scores}`);
      assert.equal(task(r, 'RV.2.2').status, expect, `scores ${scores}`);
      assert.equal(task(r, 'RV.1.1').status, 'satisfied', 'a fresh scan, whatever it found');
    }
    const stale = await report([
      ...base,
      await bundle('old.json', TYPE.vulns, PREDICATES.vulns(['1.0'], '2025-05-01T00:00:00Z')),
    ]);
    assert.equal(task(stale, 'RV.1.1').status, 'not-satisfied');
    assert.match(task(stale, 'RV.1.1').missing[0]?.reasons.join(' ') ?? '', /stale, 31\.5d old/);
  });

  test('a finding VEX suppresses does not count against the threshold; an open one does', async () => {
    const base = (await fullEvidence()).filter((b) => b.source !== 'vulns.json');
    const finding = (suppressed: boolean) => {
      const v = PREDICATES.vulns(['HIGH']);
      const r = v.scanner.result[0] as Record<string, unknown>;
      r.annotations = [
        { package: 'pkg:npm/x@1.0.0' },
        ...(suppressed ? [{ suppressed: { status: 'not_affected' } }] : []),
      ];
      return v;
    };
    const vexed = await report([...base, await bundle('v.json', TYPE.vulns, finding(true))]);
    assert.equal(task(vexed, 'RV.2.2').status, 'satisfied');
    const open = await report([...base, await bundle('v.json', TYPE.vulns, finding(false))]);
    assert.equal(task(open, 'RV.2.2').status, 'not-satisfied');
  });

  test('scan, rebuild and TEE evidence count only when they say what the task needs', async () => {
    const base = (await fullEvidence()).filter(
      (b) => b.source !== 'scan.json' && b.source !== 'rebuild.json',
    );
    const cases: Array<[string, CandidateBundle[], Record<string, string>]> = [
      [
        'a scan with a high finding',
        [await bundle('s.json', TYPE.scan, PREDICATES.scan([{ ruleId: 'x', severity: 'high' }]))],
        { 'PW.7.2': 'not-satisfied', 'RV.1.2': 'not-satisfied' },
      ],
      [
        'a clean scan',
        [await bundle('s.json', TYPE.scan, PREDICATES.scan([]))],
        { 'PW.7.2': 'satisfied', 'PO.3.2': 'not-satisfied' },
      ],
      [
        'a rebuild that was not reproducible',
        [await bundle('r.json', TYPE.rebuild, PREDICATES.rebuild(false, true))],
        { 'PO.3.2': 'not-satisfied', 'PW.6.1': 'not-satisfied' },
      ],
      [
        'a reproducible rebuild that does not match the original',
        [await bundle('r.json', TYPE.rebuild, PREDICATES.rebuild(true, false))],
        { 'PO.3.2': 'not-satisfied' },
      ],
      [
        'a TEE verification that failed',
        [await bundle('t.json', TYPE.tee, { platform: 'tpm', verification: { ok: false } })],
        { 'PO.3.2': 'not-satisfied' },
      ],
      [
        'a verified TEE-attested build',
        [await bundle('t.json', TYPE.tee, { platform: 'tpm', verification: { ok: true } })],
        { 'PO.3.2': 'satisfied', 'PW.6.1': 'satisfied' },
      ],
    ];
    for (const [name, extra, expect] of cases) {
      const r = await report([...base, ...extra]);
      for (const [id, status] of Object.entries(expect))
        assert.equal(task(r, id).status, status, `${name}: ${id}`);
    }
  });

  test('PS.1.1 needs the provenance to record a good commit signature on a clean tree', async () => {
    const base = (await fullEvidence()).filter((b) => b.source !== 'prov.json');
    for (const [git, expect] of [
      [gitByproduct('good'), 'satisfied'],
      [gitByproduct('none'), 'not-satisfied'],
      [gitByproduct('good-unknown-validity'), 'not-satisfied'],
      [gitByproduct('good', true), 'not-satisfied'],
      [
        { name: 'git', uri: 'https://vouch.dev/attestors/git/v1', annotations: { present: false } },
        'not-satisfied',
      ],
    ] as const) {
      const r = await report([
        ...base,
        await bundle('p.json', TYPE.provenance, PREDICATES.provenance(git)),
      ]);
      assert.equal(task(r, 'PS.1.1').status, expect, JSON.stringify(git.annotations));
      assert.equal(task(r, 'PS.2.1').status, 'satisfied');
    }
  });

  test('PS.3.1 (archive) needs the evidence used to be in the evidence store', async () => {
    const bundles = await fullEvidence();
    const r = await report(bundles, { archived: new Set() });
    const ps31 = task(r, 'PS.3.1');
    assert.equal(ps31.status, 'not-satisfied');
    assert.equal(ps31.missing[0]?.rule, 'archived');
    assert.match(ps31.missing[0]?.reasons[0] ?? '', /prov\.json .* is not in the evidence store/);
    assert.equal(task(r, 'PS.3.2').status, 'satisfied', 'only the archive task asks for the store');
  });

  test('a rule passing only by an exception does not satisfy its task', async () => {
    const trust = await trustPolicy(`  - { name: tests, predicateType: test-result }
exceptions:
  - { rule: tests, owner: qa@example.com, reason: flaky, expires: 2099-01-01T00:00:00Z }
ssdf:
  PW.8.2: [tests]
  PS.2.1: [provenance-own]
`);
    const profile = profileFromPolicy(trust);
    assert.deepEqual(
      profile.tasks.map((t) => t.id),
      ['PS.2.1', 'PW.8.2'],
    );
    const r = await report([await bundle('prov.json', TYPE.provenance, PREDICATES.provenance())], {
      profile,
      policy: trust,
    });
    assert.equal(task(r, 'PS.2.1').status, 'satisfied');
    const pw82 = task(r, 'PW.8.2');
    assert.equal(pw82.status, 'not-satisfied');
    assert.match(
      pw82.missing[0]?.reasons.join(' ') ?? '',
      /exception by qa@example\.com .* not evidence/,
    );
  });
});

describe('renderers', () => {
  const HOSTILE = '<script>alert("x")</script> & <img src=x onerror=alert(1)>';

  test('HTML is self-contained and escapes evidence text; Markdown too', async () => {
    const bad = await bundle(HOSTILE, TYPE.tests, PREDICATES.tests(), stranger);
    const r = await report([...(await fullEvidence()), bad]);
    assert.ok(
      r.dropped.some((d) => d.source === HOSTILE),
      'the hostile text reaches the report',
    );
    const html = rendererFor('html')?.render(r) ?? '';
    assert.ok(!/<script/i.test(html), 'no script element');
    assert.ok(!/<img/i.test(html), 'no injected element');
    assert.ok(html.includes(escapeHtml(HOSTILE)));
    assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'));
    assert.ok(!/(?:src|href)=["']?(?:https?:)?\/\//i.test(html), 'no external asset');
    assert.match(html, /Content-Security-Policy" content="default-src &#39;none&#39;;/);
    const md = rendererFor('markdown')?.render(r) ?? '';
    assert.ok(!/<script|<img/i.test(md));
    assert.ok(md.includes(mdText(HOSTILE)));
    assert.equal(escapeHtml(`"'&<>`), '&quot;&#39;&amp;&lt;&gt;');
  });

  test('a newline or pipe in evidence text cannot break the Markdown table', () => {
    assert.equal(mdText('a|b\nc'), 'a\\|b c');
    assert.equal(mdText('[x](javascript:1)'), '\\[x\\](javascript:1)');
  });

  test('the JSON report is valid against schemas/ssdf-report-v1.json; a mutated one is not', async () => {
    const schema = JSON.parse(
      readFileSync(new URL('../../schemas/ssdf-report-v1.json', import.meta.url), 'utf8'),
    );
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats.default(ajv);
    const validate = ajv.compile(schema);
    const bad = await bundle('bad.json', TYPE.tests, PREDICATES.tests(), stranger);
    for (const r of [
      await report([...(await fullEvidence()), bad]),
      await report([], { kind: 'source' }),
    ]) {
      const doc = JSON.parse(rendererFor('json')?.render(r) ?? '') as J;
      // validate() is a type guard to `unknown`; call it through a plain predicate to keep `doc` typed.
      const valid = (d: J): boolean => validate(d);
      assert.ok(valid(doc), JSON.stringify(validate.errors));
      doc.tasks[0].status = 'mostly-satisfied';
      assert.equal(valid(doc), false);
    }
  });

  test('JSON is the report model; every renderer is deterministic', async () => {
    const r = await report(await fullEvidence());
    assert.deepEqual(JSON.parse(rendererFor('json')?.render(r) ?? ''), r);
    for (const renderer of RENDERERS) assert.equal(renderer.render(r), renderer.render(r));
    assert.deepEqual(
      RENDERERS.map((x) => x.format),
      ['markdown', 'html', 'json', 'oscal'],
    );
  });

  test('OSCAL assessment-results: required fields, one finding per task, observations linked to evidence', async () => {
    const bundles = await fullEvidence();
    const r = await report(
      bundles.filter((b) => b.source !== 'scan.json'),
      { kind: 'source' },
    );
    const doc = JSON.parse(rendererFor('oscal')?.render(r) ?? '') as J;
    const ar = doc['assessment-results'];
    const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    assert.match(ar.uuid, UUID);
    assert.deepEqual(Object.keys(ar.metadata).sort(), [
      'last-modified',
      'oscal-version',
      'props',
      'title',
      'version',
    ]);
    assert.equal(ar.metadata['oscal-version'], '1.1.2');
    assert.equal(ar.metadata['last-modified'], r.evaluatedAt);
    assert.match(ar['import-ap'].href, /^#/);
    const resources = new Map<string, J>(ar['back-matter'].resources.map((x: J) => [x.uuid, x]));
    assert.ok(resources.has(ar['import-ap'].href.slice(1)), 'import-ap points at a resource');
    assert.equal(ar.results.length, 1);
    const result = ar.results[0];
    for (const f of ['uuid', 'title', 'description', 'start', 'reviewed-controls'])
      assert.ok(result[f] !== undefined, `result.${f}`);
    assert.deepEqual(
      result['reviewed-controls']['control-selections'][0]['include-controls'].map(
        (c: J) => c['control-id'],
      ),
      SSDF_TASKS,
    );
    const observations = new Map<string, J>(result.observations.map((o: J) => [o.uuid, o]));
    for (const o of observations.values()) {
      assert.match(o.uuid, UUID);
      assert.ok(
        o.description && o.methods.length > 0 && o.collected,
        'observation required fields',
      );
      for (const ev of o['relevant-evidence'] ?? [])
        assert.ok(resources.has(ev.href.slice(1)), `evidence ${ev.href} resolves`);
    }
    assert.equal(result.findings.length, 17);
    const byTask = new Map<string, J>(result.findings.map((f: J) => [f.target['target-id'], f]));
    for (const f of byTask.values()) {
      assert.match(f.uuid, UUID);
      assert.equal(f.target.type, 'objective-id');
      assert.ok(['satisfied', 'not-satisfied'].includes(f.target.status.state));
      for (const rel of f['related-observations'] ?? [])
        assert.ok(observations.has(rel['observation-uuid']), 'related observation exists');
    }
    assert.equal(byTask.get('PW.7.2').target.status.state, 'not-satisfied');
    assert.equal(byTask.get('PW.6.1').target['implementation-status'].state, 'not-applicable');
    assert.equal(byTask.get('PW.6.1').target.status.reason, 'other');
    // PS.2.1's observation links to the provenance bundle's resource, with its SHA-256.
    const ps21 = byTask.get('PS.2.1');
    assert.equal(ps21.target.status.state, 'satisfied');
    const obs = observations.get(ps21['related-observations'][0]['observation-uuid']);
    const res = resources.get(obs['relevant-evidence'][0].href.slice(1));
    const provDigest = createHash('sha256')
      .update(bundles[0]?.json as string)
      .digest('hex');
    assert.equal(res.rlinks[0].hashes[0].value, provDigest);
    assert.equal(res.rlinks[0].hashes[0].algorithm, 'SHA-256');
    assert.match(obs.description, /signed by ci/);
    // The missing scan is an observation too, with the reason.
    const pw72 = byTask.get('PW.7.2');
    const missing = observations.get(pw72['related-observations'][0]['observation-uuid']);
    assert.match(
      missing.description,
      /no verified evidence of type https:\/\/vouch\.dev\/attestation\/scan\/v1/,
    );
  });
});
