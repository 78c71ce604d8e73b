// vouch verify --policy and vouch policy test|explain|init, end to end as a user runs them.
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { jsonOf, provenanceProject, sha256, show } from './helpers.ts';

const POLICY = `apiVersion: vouch.dev/policy/v1
kind: Policy
metadata: { name: release }
trust:
  signers:
    - name: ci
      key: ci.pub
require:
  - name: provenance
    predicateType: slsaprovenance
    signers: [ci]
    maxAge: 7d
    where: predicate.runDetails.builder.id == "https://ci.example/"
`;

async function project(t: Parameters<typeof provenanceProject>[0]) {
  const p = await provenanceProject(t, ['ci', 'rel', 'other']);
  await writeFile(join(p.dir, 'policy.yaml'), POLICY);
  return p;
}

test('verify --policy allows signed fresh provenance, signs a VSA, and denies a tampered artifact', async (t) => {
  const { dir, run, attestProvenance } = await project(t);
  const a = await attestProvenance('ci.key');
  assert.equal(a.code, 0, show(a));
  const ok = await run(
    'verify',
    'app.bin',
    '--policy',
    'policy.yaml',
    '--sign-decision-key',
    'rel.key',
    '--decision-out',
    'vsa.json',
    '--json',
  );
  assert.equal(ok.code, 0, show(ok));
  const v = jsonOf(ok);
  assert.equal(v.decision, 'allow');
  assert.equal(v.rules[0].status, 'pass');
  const vsa = JSON.parse(await readFile(join(dir, 'vsa.json'), 'utf8'));
  const st = JSON.parse(Buffer.from(vsa.dsseEnvelope.payload, 'base64').toString('utf8'));
  assert.equal(st.predicateType, 'https://slsa.dev/verification_summary/v1');
  assert.equal(st.subject[0].digest.sha256, sha256('the app\n'));
  assert.equal(st.predicate.verificationResult, 'PASSED');
  assert.equal(st.predicate.policy.digest.sha256, sha256(POLICY));
  // The VSA is stored and verifies with the decision key.
  const check = await run('verify', 'app.bin', '--key', 'rel.pub', '--type', 'vsa');
  assert.equal(check.code, 0, show(check));
  // A decision signed with --no-store and nowhere to write it would be lost: refused.
  const lost = await run(
    'verify',
    'app.bin',
    '--policy',
    'policy.yaml',
    '--no-store',
    '--bundle',
    'vsa.json',
    '--sign-decision-key',
    'rel.key',
  );
  assert.equal(lost.code, 2, show(lost));
  assert.match(lost.stderr, /signed decision with --no-store needs --decision-out/);

  await writeFile(join(dir, 'app.bin'), 'the app, tampered\n');
  const bad = await run('verify', 'app.bin', '--policy', 'policy.yaml');
  assert.equal(bad.code, 1, show(bad));
  assert.match(bad.stdout, /no verified evidence of type https:\/\/slsa.dev\/provenance\/v1/);
  assert.match(bad.stdout, /decision: DENY/);
});

test('verify --policy denies evidence from a key outside the policy, with the reason', async (t) => {
  const { run, attestProvenance } = await project(t);
  await attestProvenance('other.key');
  const r = await run('verify', 'app.bin', '--policy', 'policy.yaml');
  assert.equal(r.code, 1, show(r));
  assert.match(r.stdout, /signature does not verify with any of 1 trusted key/);
});

test('a policy with an unknown field is exit 2 naming the field and its line', async (t) => {
  const { dir, run } = await project(t);
  await writeFile(
    join(dir, 'policy.yaml'),
    POLICY.replace('    maxAge: 7d\n', '    maxAge: 7d\n    max_age: 1d\n'),
  );
  const r = await run('verify', 'app.bin', '--policy', 'policy.yaml', '--json');
  assert.equal(r.code, 2, show(r));
  const e = jsonOf(r).error;
  assert.equal(e.code, 'POLICY_MALFORMED');
  assert.deepEqual(
    e.problems.map((p: { path: string; line: number }) => [p.path, p.line]),
    [['/require/0/max_age', 13]],
  );
  assert.match(r.stderr, /policy.yaml:13:5: \/require\/0\/max_age: unknown field "max_age"/);
});

test('--policy excludes --key; a tag is refused (exit 2)', async (t) => {
  const { run } = await project(t);
  const both = await run('verify', 'app.bin', '--policy', 'policy.yaml', '--key', 'ci.pub');
  assert.equal(both.code, 2, show(both));
  assert.match(both.stderr, /--key and --policy exclude each other/);
  const tag = await run('verify', 'registry.example/app:1.2', '--policy', 'policy.yaml');
  assert.equal(tag.code, 2, show(tag));
  assert.match(tag.stderr, /neither a file nor a sha256 digest; the policy requires a digest/);
});

test('policy test runs fixture cases; a wrong expectation fails (exit 1)', async (t) => {
  const { dir, run, attestProvenance } = await project(t);
  const a = await attestProvenance('ci.key', '--no-store', '--out', 'good.sigstore.json');
  assert.equal(a.code, 0, show(a));
  const subject = `sha256:${sha256('the app\n')}`;
  const cases = join(dir, 'fixtures');
  for (const [name, expect, copy, now] of [
    ['fresh', 'allow', true, new Date().toISOString()],
    ['stale', 'deny', true, new Date(Date.now() + 30 * 86_400_000).toISOString()],
    ['missing', 'deny', false, new Date().toISOString()],
  ] as const) {
    await mkdir(join(cases, name), { recursive: true });
    await writeFile(
      join(cases, name, 'case.yaml'),
      `expect: ${expect}\nsubject: ${subject}\nnow: ${now}\n`,
    );
    if (copy)
      await writeFile(
        join(cases, name, 'good.sigstore.json'),
        await readFile(join(dir, 'good.sigstore.json')),
      );
  }
  const r = await run('policy', 'test', 'policy.yaml', '--fixtures', 'fixtures');
  assert.equal(r.code, 0, show(r));
  assert.match(r.stdout, /3 of 3 case\(s\) as expected/);
  await writeFile(
    join(cases, 'stale', 'case.yaml'),
    `expect: allow\nsubject: ${subject}\nnow: ${new Date(Date.now() + 30 * 86_400_000).toISOString()}\n`,
  );
  const wrong = await run('policy', 'test', 'policy.yaml', '--fixtures', 'fixtures', '--json');
  assert.equal(wrong.code, 1, show(wrong));
  const out = jsonOf(wrong);
  assert.deepEqual(
    out.cases.map((c: { name: string; ok: boolean }) => [c.name, c.ok]),
    [
      ['fresh', true],
      ['missing', true],
      ['stale', false],
    ],
  );
});

test('policy explain prints the tree; policy init writes a starter policy that loads', async (t) => {
  const { dir, run, attestProvenance } = await project(t);
  await attestProvenance('ci.key');
  const e = await run('policy', 'explain', 'policy.yaml', 'app.bin');
  assert.equal(e.code, 0, show(e));
  assert.match(e.stdout, /✓ provenance \[pass\]/);
  assert.match(e.stdout, /uses .*by ci/);
  const init = await run('policy', 'init', '--key', 'ci.pub', '-o', 'starter.yaml');
  assert.equal(init.code, 0, show(init));
  const text = await readFile(join(dir, 'starter.yaml'), 'utf8');
  assert.match(text, /key: ci.pub/);
  assert.match(text, /predicateType: slsaprovenance/);
  const again = await run('verify', 'app.bin', '--policy', 'starter.yaml');
  assert.equal(again.code, 0, show(again));
  assert.ok((await readdir(dir)).includes('starter.yaml'));
});
