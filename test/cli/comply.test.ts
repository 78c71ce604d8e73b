// `vouch comply` end to end, from evidence made here by vouch itself: an
// SSH-signed commit built with `vouch run`, an SBOM from `vouch sbom --attest`,
// a misconfiguration scan from `vouch scan --attest`, test results and a
// vulnerability scan signed with `vouch attest`. Then tampered, untrusted and
// unsigned evidence, which must not count.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  generateKey,
  git,
  isolatedEnv,
  jsonOf,
  sha256,
  sha256File,
  show,
  tempDir,
  vouch,
} from './helpers.ts';

const SSDF = [
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

interface Fixture {
  root: string;
  env: NodeJS.ProcessEnv;
  artifact: string;
  keyid: string;
  provenanceFinishedOn: string;
  bundles: string[];
}

let fx: Fixture;

/** Everything made once: the tests below only read (or copy) it. */
async function makeFixture(t: { after: (fn: () => Promise<void>) => void }): Promise<Fixture> {
  const root = await tempDir(t);
  const home = join(root, '.home');
  await mkdir(home);
  const env = isolatedEnv(root);
  const proj = join(root, 'proj');
  await mkdir(proj);

  // A commit signed with an SSH key that git's allowed-signers file trusts.
  const sshKey = join(home, 'signing-key');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'dev', '-f', sshKey], { env });
  const pub = (await readFile(`${sshKey}.pub`, 'utf8')).trim();
  await writeFile(join(home, 'allowed_signers'), `test@example.com ${pub}\n`);
  await writeFile(join(proj, 'src.txt'), 'hello, build\n');
  await writeFile(join(proj, '.gitignore'), 'dist/\n');
  await writeFile(
    join(proj, 'package.json'),
    JSON.stringify({ name: 'app', version: '1.0.0', dependencies: { ms: '2.1.3' } }),
  );
  await writeFile(
    join(proj, 'package-lock.json'),
    JSON.stringify({
      name: 'app',
      version: '1.0.0',
      lockfileVersion: 3,
      requires: true,
      packages: {
        '': { name: 'app', version: '1.0.0', dependencies: { ms: '2.1.3' } },
        'node_modules/ms': {
          version: '2.1.3',
          resolved: 'https://registry.npmjs.org/ms/-/ms-2.1.3.tgz',
          integrity:
            'sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==',
        },
      },
    }),
  );
  git(proj, env, 'init', '-q', '-b', 'main');
  git(proj, env, 'config', 'gpg.format', 'ssh');
  git(proj, env, 'config', 'user.signingkey', `${sshKey}.pub`);
  git(proj, env, 'config', 'gpg.ssh.allowedSignersFile', join(home, 'allowed_signers'));
  git(proj, env, 'add', '-A');
  git(proj, env, 'commit', '-q', '-S', '-m', 'signed release');

  const { key } = await generateKey(root, env, 'ci');
  const ok = async (args: string[], cwd = root) => {
    const r = await vouch(args, { cwd, env });
    assert.equal(r.code, 0, `vouch ${args.join(' ')}\n${show(r)}`);
    return r;
  };
  const run = await ok(
    [
      'run',
      '--key',
      join(root, key),
      '--store',
      join(root, '.vouch'),
      '--products',
      'dist/*',
      '--json',
      '--',
      'sh',
      '-c',
      'mkdir -p dist && tr a-z A-Z < src.txt > dist/app.txt',
    ],
    proj,
  );
  assert.equal(jsonOf(run).subjects[0].name, 'dist/app.txt');
  const artifact = join(proj, 'dist', 'app.txt');
  await ok(['sbom', 'proj', '--attest', '--subject', artifact, '--key', key, '-o', 'sbom.json']);
  await ok([
    'scan',
    'proj',
    '--only',
    'misconfig',
    '--attest',
    '--subject',
    artifact,
    '--key',
    key,
  ]);
  await writeFile(
    join(root, 'tests.json'),
    JSON.stringify({ result: 'PASSED', passedTests: ['unit'], warnedTests: [], failedTests: [] }),
  );
  await ok([
    'attest',
    artifact,
    '--predicate-type',
    'test-result',
    '--predicate',
    'tests.json',
    '--key',
    key,
  ]);
  const now = new Date().toISOString();
  await writeFile(
    join(root, 'vulns.json'),
    JSON.stringify({
      scanner: {
        uri: 'pkg:npm/vouch',
        version: '0.1.0',
        result: [
          {
            id: 'GHSA-xxxx',
            severity: [
              { method: 'vouch', score: 'MEDIUM' },
              { method: 'nvd', score: '5.3' },
            ],
          },
        ],
      },
      metadata: { scanStartedOn: now, scanFinishedOn: now },
    }),
  );
  await ok([
    'attest',
    artifact,
    '--predicate-type',
    'vuln',
    '--predicate',
    'vulns.json',
    '--key',
    key,
  ]);
  await writeFile(
    join(root, 'policy.yaml'),
    `apiVersion: vouch.dev/policy/v1
kind: Policy
metadata: { name: release-trust }
trust:
  signers:
    - { name: ci, key: ci.pub }
require:
  - { name: provenance, predicateType: slsaprovenance }
`,
  );
  const stored = await storedBundles(root);
  const provenance = await statementIn(root, stored, 'https://slsa.dev/provenance/v1');
  const keyid = JSON.parse(await readFile(join(root, stored[0] as string), 'utf8'))
    .verificationMaterial.publicKey.hint as string;
  return {
    root,
    env,
    artifact,
    keyid,
    provenanceFinishedOn: provenance.predicate.runDetails.metadata.finishedOn,
    bundles: stored,
  };
}

async function storedBundles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for (const e of await readdir(join(root, dir), { withFileTypes: true })) {
      const rel = join(dir, e.name);
      if (e.isDirectory()) await walk(rel);
      else if (e.name.endsWith('.sigstore.json')) out.push(rel);
    }
  };
  await walk('.vouch');
  return out.sort();
}

// biome-ignore lint/suspicious/noExplicitAny: the Statement as JSON
async function statementIn(root: string, bundles: string[], type: string): Promise<any> {
  for (const b of bundles) {
    const bundle = JSON.parse(await readFile(join(root, b), 'utf8'));
    const st = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
    if (st.predicateType === type) return st;
  }
  throw new Error(`no ${type} bundle`);
}

async function comply(args: string[], cwd = fx.root) {
  return vouch(['comply', fx.artifact, '--policy', 'policy.yaml', ...args], { cwd, env: fx.env });
}

/** `comply --format json` run from `cwd` over the fixture's store plus the given bundles. */
async function complyWithBundles(cwd: string, bundles: string[]) {
  const policy = join(fx.root, 'policy.yaml');
  const store = join(fx.root, '.vouch');
  const given = bundles.flatMap((b) => ['--bundle', b]);
  return vouch(
    ['comply', fx.artifact, '--policy', policy, '--format', 'json', '--store', store, ...given],
    { cwd, env: fx.env },
  );
}

// biome-ignore lint/suspicious/noExplicitAny: the report as JSON
function task(report: any, id: string): any {
  // biome-ignore lint/suspicious/noExplicitAny: the report as JSON
  const t = report.tasks.find((x: any) => x.id === id);
  assert.ok(t, `no task ${id}`);
  return t;
}

describe('vouch comply', { concurrency: false }, () => {
  const cleanups: Array<() => Promise<void>> = [];
  before(async () => {
    fx = await makeFixture({ after: (fn) => cleanups.push(fn) });
  });
  after(async () => {
    for (const fn of cleanups) await fn();
  });

  test('the matrix shows tasks satisfied by real verified evidence, with signer, time and bundle, and the rest not satisfied with reasons', async () => {
    const r = await comply(['--format', 'json']);
    assert.equal(r.code, 1, show(r)); // no rebuild or TEE evidence: not every task is met
    const report = jsonOf(r);
    assert.deepEqual(
      report.tasks.map((t: { id: string }) => t.id),
      SSDF,
    );
    assert.equal(report.subject.digest, `sha256:${await sha256File(fx.artifact)}`);
    // Named as every verb names a file: relative to the working directory.
    assert.equal(report.subject.name, 'proj/dist/app.txt');
    const satisfied = report.tasks
      .filter((t: { status: string }) => t.status === 'satisfied')
      .map((t: { id: string }) => t.id);
    assert.deepEqual(satisfied, [
      'PO.3.1',
      'PO.3.3',
      'PS.1.1',
      'PS.2.1',
      'PS.3.1',
      'PS.3.2',
      'PW.4.1',
      'PW.4.4',
      'PW.6.2',
      'PW.7.2',
      'PW.8.2',
      'RV.1.1',
      'RV.1.2',
      'RV.1.3',
      'RV.2.2',
    ]);
    // PS.1.1 stands on the provenance `vouch run` made of the SSH-signed commit.
    const ps11 = task(report, 'PS.1.1');
    assert.equal(ps11.evidence.length, 1);
    const cell = ps11.evidence[0];
    assert.equal(cell.rule, 'signed-commit');
    assert.equal(cell.predicateType, 'https://slsa.dev/provenance/v1');
    assert.deepEqual(cell.signers, [{ name: 'ci', identity: `key:${fx.keyid}` }]);
    assert.equal(cell.time, new Date(fx.provenanceFinishedOn).toISOString());
    assert.equal(cell.timeSource, 'predicate');
    assert.equal(cell.archived, true);
    const bundleFile = fx.bundles.find((b) => cell.source.endsWith(b));
    assert.ok(bundleFile, `${cell.source} is a stored bundle`);
    assert.equal(cell.bundleDigest, `sha256:${sha256(await readFile(join(fx.root, bundleFile)))}`);
    assert.equal(
      task(report, 'PW.7.2').evidence[0].predicateType,
      'https://vouch.dev/attestation/scan/v1',
    );
    assert.equal(task(report, 'PS.3.2').evidence[1].predicateType, 'https://cyclonedx.org/bom');
    // What is missing is said, with the reasons.
    const po32 = task(report, 'PO.3.2');
    assert.equal(po32.status, 'not-satisfied');
    assert.equal(po32.evidence.length, 0);
    assert.match(
      po32.missing[0].reasons.join('\n'),
      /no verified evidence of type https:\/\/vouch\.dev\/attestation\/rebuild\/v1/,
    );
    assert.equal(task(report, 'PW.6.1').status, 'not-satisfied');
    assert.deepEqual(report.summary, {
      satisfied: 15,
      notSatisfied: 2,
      notApplicable: 0,
      total: 17,
    });
    assert.deepEqual(report.dropped, []);
    assert.equal(report.ok, false);
    assert.match(r.stderr, /NOT COMPLIANT: 15 of 17 applicable task\(s\) satisfied/);
  });

  test('--kind source: PW.6.1 and PW.6.2 are not applicable; missing evidence elsewhere never is', async () => {
    const report = jsonOf(await comply(['--format', 'json', '--kind', 'source']));
    assert.equal(task(report, 'PW.6.1').status, 'not-applicable');
    assert.equal(task(report, 'PW.6.2').status, 'not-applicable');
    assert.equal(task(report, 'PO.3.2').status, 'not-satisfied');
    assert.equal(report.summary.notApplicable, 2);
  });

  test('tampered, untrusted and unsigned evidence is not counted', async (t) => {
    const dir = await tempDir(t);
    // A test-result bundle whose statement was changed after signing.
    const st = await statementIn(
      fx.root,
      fx.bundles,
      'https://in-toto.io/attestation/test-result/v0.1',
    );
    let signed: string | undefined;
    for (const b of fx.bundles) {
      const text = await readFile(join(fx.root, b), 'utf8');
      const payload = JSON.parse(
        Buffer.from(JSON.parse(text).dsseEnvelope.payload, 'base64').toString(),
      );
      if (payload.predicateType === st.predicateType) signed = text;
    }
    const tampered = JSON.parse(signed as string);
    st.predicate.result = 'PASSED';
    st.predicate.passedTests = ['unit', 'forged'];
    tampered.dsseEnvelope.payload = Buffer.from(JSON.stringify(st)).toString('base64');
    await writeFile(join(dir, 'tampered.json'), JSON.stringify(tampered));
    // A valid bundle by a key the policy does not trust.
    await generateKey(fx.root, fx.env, 'stranger');
    const sr = await vouch(
      [
        'attest',
        fx.artifact,
        '--predicate-type',
        'test-result',
        '--predicate',
        'tests.json',
        '--key',
        'stranger.key',
        '--no-store',
        '--out',
        join(dir, 'stranger.json'),
      ],
      { cwd: fx.root, env: fx.env },
    );
    assert.equal(sr.code, 0, show(sr));
    // "Unsigned": the signature bytes replaced by garbage of the same shape.
    const unsigned = JSON.parse(signed as string);
    unsigned.dsseEnvelope.signatures[0].sig = Buffer.alloc(70, 1).toString('base64');
    await writeFile(join(dir, 'unsigned.json'), JSON.stringify(unsigned));

    const copy = await complyWithBundles(dir, [
      join(dir, 'tampered.json'),
      join(dir, 'stranger.json'),
      join(dir, 'unsigned.json'),
    ]);
    const report = jsonOf(copy);
    const dropped = Object.fromEntries(
      report.dropped.map((d: { source: string; reasons: string[] }) => [
        d.source.replace(/.*\//, ''),
        d.reasons.join(' | '),
      ]),
    );
    assert.deepEqual(Object.keys(dropped).sort(), [
      'stranger.json',
      'tampered.json',
      'unsigned.json',
    ]);
    assert.match(dropped['tampered.json'], /signature/);
    assert.match(dropped['unsigned.json'], /signature/);
    assert.match(dropped['stranger.json'], /signature|no signer/);
    // The stored, genuine test result still counts; none of the bad ones is used anywhere.
    const used = report.tasks.flatMap((x: { evidence: { source: string }[] }) =>
      x.evidence.map((e) => e.source),
    );
    assert.ok(!used.some((s: string) => /tampered|stranger|unsigned/.test(s)), used.join('\n'));
  });

  test('a newer vulnerability scan over the threshold decides: the stored clean one does not outweigh it (select: newest)', async (t) => {
    const dir = await tempDir(t);
    // Later than the stored scan (made by the fixture), not in the future.
    const later = new Date(Date.now() + 1000).toISOString();
    await writeFile(
      join(dir, 'critical.json'),
      JSON.stringify({
        scanner: {
          uri: 'pkg:npm/vouch',
          version: '0.1.0',
          result: [{ id: 'GHSA-crit', severity: [{ method: 'nvd', score: '9.8' }] }],
        },
        metadata: { scanStartedOn: later, scanFinishedOn: later },
      }),
    );
    const a = await vouch(
      [
        'attest',
        fx.artifact,
        '--predicate-type',
        'vuln',
        '--predicate',
        join(dir, 'critical.json'),
        '--key',
        'ci.key',
        '--no-store',
        '--out',
        join(dir, 'rescan.json'),
      ],
      { cwd: fx.root, env: fx.env },
    );
    assert.equal(a.code, 0, show(a));
    const r = await complyWithBundles(dir, [join(dir, 'rescan.json')]);
    assert.equal(r.code, 1, show(r));
    const report = jsonOf(r);
    for (const id of ['PW.4.4', 'RV.1.3', 'RV.2.2']) {
      const tk = task(report, id);
      assert.equal(tk.status, 'not-satisfied', id);
      const missing = tk.missing.find((m: { rule: string }) => m.rule === 'vulns-under-threshold');
      assert.ok(missing, `${id}: ${JSON.stringify(tk.missing)}`);
      const why = missing.reasons.join('\n');
      // The reason names the chosen bundle, its time and where that time comes from.
      assert.ok(
        missing.reasons.includes(
          `newest of 2 verified statement(s): ${join(dir, 'rescan.json')}, at ${later} (predicate.metadata.scanFinishedOn, claimed by its signer: no verified time)`,
        ),
        why,
      );
      assert.match(why, /rescan\.json: where expression is false/);
      assert.match(why, /not judged, older than the newest: .*\.sigstore\.json/);
    }
    // Freshness alone still holds: any fresh scan shows PW.4.1 and RV.1.1.
    assert.equal(task(report, 'PW.4.1').status, 'satisfied');
    assert.equal(task(report, 'RV.1.1').status, 'satisfied');
    assert.equal(report.summary.satisfied, 15 - 3);
    assert.deepEqual(report.dropped, []);
  });

  test('without the store, given bundles do not satisfy the archive task, and a lone bad bundle satisfies nothing', async (t) => {
    const dir = await tempDir(t);
    const empty = join(dir, 'empty-store');
    const args = ['--format', 'json', '--store', empty];
    for (const b of fx.bundles) args.push('--bundle', join(fx.root, b));
    const r = await vouch(
      ['comply', fx.artifact, '--policy', join(fx.root, 'policy.yaml'), ...args],
      { cwd: dir, env: fx.env },
    );
    const report = jsonOf(r);
    assert.equal(task(report, 'PS.2.1').status, 'satisfied');
    const ps31 = task(report, 'PS.3.1');
    assert.equal(ps31.status, 'not-satisfied');
    assert.equal(ps31.missing[0].rule, 'archived');
    assert.match(ps31.missing[0].reasons[0], /is not in the evidence store/);

    // The same evidence for another artifact: nothing is about it.
    await writeFile(join(dir, 'other.txt'), 'another artifact\n');
    const other = jsonOf(
      await vouch(['comply', 'other.txt', '--policy', join(fx.root, 'policy.yaml'), ...args], {
        cwd: dir,
        env: fx.env,
      }),
    );
    assert.equal(other.summary.satisfied, 0);
    assert.equal(other.dropped.length, fx.bundles.length, 'every bundle is about another digest');
    assert.match(other.dropped[0].reasons.join(' '), /subject/);
  });

  test('markdown, HTML and OSCAL outputs; -o writes the file; --json adds where it went', async () => {
    const md = await comply([]);
    assert.equal(md.code, 1);
    assert.match(md.stdout, /^# NIST SP 800-218 .* compliance report/);
    assert.match(md.stdout, /\| PS\.1\.1 \| ✅ satisfied \| signed-commit: by ci, /);
    assert.match(md.stdout, /\| PO\.3\.2 \| ❌ not satisfied \| missing hardened-build: /);

    const html = await comply(['--format', 'html', '-o', 'report.html']);
    assert.equal(html.code, 1, show(html));
    assert.equal(html.stdout, '');
    const page = await readFile(join(fx.root, 'report.html'), 'utf8');
    assert.match(page, /^<!DOCTYPE html>/);
    assert.ok(!/<script|<link|src=/i.test(page), 'self-contained, no scripts');
    assert.match(page, /<tr class="satisfied" id="PS.1.1">/);

    const oscal = await comply(['--format', 'oscal', '-o', 'ar.json', '--json']);
    const summary = jsonOf(oscal);
    assert.equal(summary.written, 'ar.json');
    const doc = JSON.parse(await readFile(join(fx.root, 'ar.json'), 'utf8'));
    const result = doc['assessment-results'].results[0];
    assert.equal(result.findings.length, 17);
    const ps11 = result.findings.find(
      (f: { target: { 'target-id': string } }) => f.target['target-id'] === 'PS.1.1',
    );
    assert.deepEqual(ps11.target.status, { state: 'satisfied', reason: 'pass' });
    assert.equal(doc['assessment-results'].metadata['oscal-version'], '1.1.2');
  });

  test('--attest signs the report about the artifact; vouch verify accepts it', async () => {
    const r = await comply([
      '--format',
      'json',
      '--attest',
      '--key',
      'ci.key',
      '--out',
      'ssdf.sigstore.json',
    ]);
    assert.equal(r.code, 1, show(r));
    const bundle = JSON.parse(await readFile(join(fx.root, 'ssdf.sigstore.json'), 'utf8'));
    const st = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
    assert.equal(st.predicateType, 'https://vouch.dev/attestation/ssdf-report/v1');
    assert.equal(st.subject[0].digest.sha256, await sha256File(fx.artifact));
    assert.equal(st.predicate.reportVersion, 'vouch.dev/compliance-report/v1');
    assert.equal(st.predicate.summary.satisfied, 15);
    const v = await vouch(
      [
        'verify',
        fx.artifact,
        '--key',
        'ci.pub',
        '--no-store',
        '--bundle',
        'ssdf.sigstore.json',
        '--type',
        'https://vouch.dev/attestation/ssdf-report/v1',
      ],
      { cwd: fx.root, env: fx.env },
    );
    assert.equal(v.code, 0, show(v));
  });

  test('bad input is exit 2', async () => {
    for (const args of [
      ['--format', 'pdf'],
      ['--profile', 'iso27001'],
      ['--kind', 'firmware'],
      ['--attest'],
      ['--key', 'ci.key'],
    ]) {
      const r = await comply(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${show(r)}`);
      assert.match(r.stderr, /USAGE/);
    }
    const noPolicy = await vouch(['comply', fx.artifact], { cwd: fx.root, env: fx.env });
    assert.equal(noPolicy.code, 2);
    assert.match(noPolicy.stderr, /--policy is required/);
    await writeFile(
      join(fx.root, 'bad.yaml'),
      'apiVersion: vouch.dev/policy/v1\nkind: Policy\ntrust: {}\nrequire: []\nbogus: 1\n',
    );
    const bad = await vouch(['comply', fx.artifact, '--policy', 'bad.yaml'], {
      cwd: fx.root,
      env: fx.env,
    });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /POLICY_MALFORMED/);
    const tag = await vouch(['comply', 'registry.example/app:1.0', '--policy', 'policy.yaml'], {
      cwd: fx.root,
      env: fx.env,
    });
    assert.equal(tag.code, 2);
    assert.match(tag.stderr, /tag can move/);
  });
});
