// vouch verify --policy with `extends`: an organisation base policy plus a
// service policy, merged, end to end with keys generated here.
import assert from 'node:assert/strict';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { jsonOf, provenanceProject, sha256, show } from './helpers.ts';

// The org base: one signer, one rule that names no signers ("any trusted signer").
const BASE = (description = 'org baseline') => `apiVersion: vouch.dev/policy/v1
kind: Policy
metadata: { name: org, description: ${description} }
trust:
  signers:
    - name: ci
      key: ../ci.pub
require:
  - name: provenance
    predicateType: slsaprovenance
    maxAge: 7d
ssdf:
  PS.3.1: [provenance]
`;

/** The service policy: extends the base, adds a signer and a rule. */
const SERVICE = (basePin: string, extra = '') => `apiVersion: vouch.dev/policy/v1
kind: Policy
metadata: { name: payments }
extends:
  - path: org/base.yaml
    sha256: ${basePin}
trust:
  signers:
    - name: qa
      key: qa.pub
require:
  - name: qa-signed
    predicateType: slsaprovenance
    signers: [qa]
ssdf:
  PS.3.1: [qa-signed]
${extra}`;

async function project(t: Parameters<typeof provenanceProject>[0]) {
  const { dir, run, attestProvenance } = await provenanceProject(t, ['ci', 'qa', 'rel']);
  await mkdir(join(dir, 'org'));
  await writeFile(join(dir, 'org', 'base.yaml'), BASE());
  await writeFile(join(dir, 'service.yaml'), SERVICE(sha256(BASE())));
  return { dir, run, attest: attestProvenance };
}

function vsaOf(text: string) {
  const env = JSON.parse(text);
  return JSON.parse(Buffer.from(env.dsseEnvelope.payload, 'base64').toString('utf8'));
}

test('extends: base + service rules both apply; a service signer never satisfies a base rule; the VSA digest follows the base', async (t) => {
  const { dir, run, attest } = await project(t);
  const verify = (...extra: string[]) =>
    run('verify', 'app.bin', '--policy', 'service.yaml', '--json', ...extra);

  // Only the service's signer: the base rule ("any trusted signer" of the base) is not met.
  assert.equal((await attest('qa.key')).code, 0);
  const qaOnly = await verify();
  assert.equal(qaOnly.code, 1, show(qaOnly));
  const q = jsonOf(qaOnly);
  const status = (v: { rules: Array<{ name: string; status: string }> }) =>
    Object.fromEntries(v.rules.map((r) => [r.name, r.status]));
  assert.deepEqual(status(q), { provenance: 'fail', 'qa-signed': 'pass' });

  // Both signers: allowed, and the signed decision is bound to the merged policy.
  assert.equal((await attest('ci.key')).code, 0);
  const ok = await verify('--sign-decision-key', 'rel.key', '--decision-out', 'vsa1.json');
  assert.equal(ok.code, 0, show(ok));
  assert.deepEqual(status(jsonOf(ok)), { provenance: 'pass', 'qa-signed': 'pass' });
  const vsa1 = vsaOf(await readFile(join(dir, 'vsa1.json'), 'utf8'));
  const service1 = await readFile(join(dir, 'service.yaml'), 'utf8');
  assert.equal(vsa1.predicate.policy.digest.sha256, sha256(service1));
  const ext1 = vsa1.predicate['https://vouch.dev/vsa/v1/verdict'].policyExtends;
  assert.deepEqual(ext1, [{ file: 'org/base.yaml', digest: `sha256:${sha256(BASE())}` }]);

  // The base changes underneath: the old pin no longer matches (exit 2, file and line).
  await writeFile(join(dir, 'org', 'base.yaml'), BASE('org baseline revised'));
  const stale = await run('verify', 'app.bin', '--policy', 'service.yaml');
  assert.equal(stale.code, 2, show(stale));
  assert.match(stale.stderr, /POLICY_MALFORMED/);
  assert.match(
    stale.stderr,
    /service\.yaml:6:\d+: \/extends\/0\/sha256: org\/base\.yaml has sha256 [0-9a-f]{64}, not the pinned/,
  );

  // Re-pinned: allowed again, and the VSA's policy digest is a different one.
  await writeFile(join(dir, 'service.yaml'), SERVICE(sha256(BASE('org baseline revised'))));
  const again = await verify('--sign-decision-key', 'rel.key', '--decision-out', 'vsa2.json');
  assert.equal(again.code, 0, show(again));
  const vsa2 = vsaOf(await readFile(join(dir, 'vsa2.json'), 'utf8'));
  assert.notEqual(vsa2.predicate.policy.digest.sha256, vsa1.predicate.policy.digest.sha256);
  assert.equal(
    vsa2.predicate['https://vouch.dev/vsa/v1/verdict'].policyExtends[0].digest,
    `sha256:${sha256(BASE('org baseline revised'))}`,
  );

  // An evidence pack carries the base policy (and its key) too: verified offline, allowed.
  const packed = await run(
    'pack',
    'app.bin',
    '--policy',
    'service.yaml',
    '-o',
    'ev.pack',
    '--json',
  );
  assert.equal(packed.code, 0, show(packed));
  // Its own policy decides only when pinned (a pack is not signed); the pin covers the base too.
  const pin = jsonOf(packed).packPolicySha256;
  const offline = await run(
    'verify',
    'app.bin',
    '--pack',
    'ev.pack',
    '--pack-policy-sha256',
    pin,
    '--no-store',
    '--json',
  );
  assert.equal(offline.code, 0, show(offline));
  assert.deepEqual(status(jsonOf(offline)), { provenance: 'pass', 'qa-signed': 'pass' });

  // Tampered artifact: no evidence about its digest, every rule fails.
  await writeFile(join(dir, 'app.bin'), 'the app, tampered\n');
  const bad = await verify();
  assert.equal(bad.code, 1, show(bad));
  assert.deepEqual(status(jsonOf(bad)), { provenance: 'fail', 'qa-signed': 'fail' });
});

test('extends: conflicts, cycles, depth, escapes and waivers are exit 2 naming file and line', async (t) => {
  const { dir, run } = await project(t);
  const pin = sha256(BASE());
  const w = (name: string, text: string) => writeFile(join(dir, name), text);
  const cases: Array<[string, string, RegExp]> = [];
  const add = async (name: string, text: string, want: RegExp) => {
    await w(name, text);
    cases.push([name, text, want]);
  };
  // The same signer name, another key.
  await add(
    'conflict-signer.yaml',
    SERVICE(pin).replace('- name: qa\n      key: qa.pub', '- name: ci\n      key: rel.pub'),
    /conflict-signer\.yaml:9:\d+: \/trust\/signers\/0\/name: signer ci is defined differently in org\/base\.yaml:6/,
  );
  // A rule the base already defines.
  await add(
    'conflict-rule.yaml',
    SERVICE(pin).replace('- name: qa-signed', '- name: provenance'),
    /conflict-rule\.yaml:12:\d+: \/require\/0\/name: duplicate rule name provenance \(also defined in org\/base\.yaml:9\)/,
  );
  // An exception cannot waive a base rule.
  await add(
    'waiver.yaml',
    SERVICE(
      pin,
      'exceptions:\n  - { rule: provenance, owner: me, reason: x, expires: 2099-01-01T00:00:00Z }\n',
    ),
    /waiver\.yaml:18:\d+: \/exceptions\/0\/rule: rule provenance is defined in org\/base\.yaml:9/,
  );
  // Escapes: .., absolute, a symbolic link out of the root.
  await w('../outside.yaml', BASE());
  await add(
    'escape.yaml',
    SERVICE(pin).replace('path: org/base.yaml', 'path: ../outside.yaml'),
    /escape\.yaml:5:\d+: \/extends\/0\/path: \.\.\/outside\.yaml is outside the policy root/,
  );
  await add(
    'absolute.yaml',
    SERVICE(pin).replace('path: org/base.yaml', `path: ${join(dir, 'org', 'base.yaml')}`),
    /absolute\.yaml:5:\d+: \/extends\/0\/path: .* is absolute/,
  );
  await symlink(join(dir, '..', 'outside.yaml'), join(dir, 'org', 'link.yaml'));
  await add(
    'symlink.yaml',
    SERVICE(pin).replace('path: org/base.yaml', 'path: org/link.yaml'),
    /symlink\.yaml:5:\d+: \/extends\/0\/path: org\/link\.yaml is outside the policy root/,
  );
  // A cycle: a → b → a (b's pin of a cannot be right; the cycle is found first).
  const head = 'apiVersion: vouch.dev/policy/v1\nkind: Policy\n';
  const b = `${head}extends:\n  - { path: a.yaml, sha256: '${'0'.repeat(64)}' }\n`;
  await w('b.yaml', b);
  await add(
    'a.yaml',
    `${head}extends:\n  - { path: b.yaml, sha256: ${sha256(b)} }\n`,
    /b\.yaml:4:\d+: \/extends\/0\/path: extends cycle: a\.yaml → b\.yaml → a\.yaml/,
  );
  // Depth: ten files, each pinning the next; nine levels below the top.
  let next = BASE().replace('../ci.pub', 'ci.pub');
  await w('l9.yaml', next);
  for (let i = 8; i >= 0; i--) {
    next = `${head}extends:\n  - { path: l${i + 1}.yaml, sha256: ${sha256(next)} }\n`;
    await w(`l${i}.yaml`, next);
  }
  cases.push([
    'l0.yaml',
    next,
    /l8\.yaml:4:\d+: \/extends\/0\/path: extends nested more than 8 deep/,
  ]);
  // A schema error inside a base is reported in the base, with its line.
  const broken = BASE().replace('maxAge: 7d', 'maxAge: a week');
  await w('org/broken.yaml', broken);
  await add(
    'broken.yaml',
    SERVICE(sha256(broken)).replace('org/base.yaml', 'org/broken.yaml'),
    /org\/broken\.yaml:11:\d+: \/require\/0\/maxAge: "a week" does not match/,
  );

  const results = await Promise.all(
    cases.map(([name]) => run('verify', 'app.bin', '--policy', name)),
  );
  for (const [i, [name]] of cases.entries()) {
    const r = results[i] as Awaited<ReturnType<typeof run>>;
    assert.equal(r.code, 2, `${name}: ${show(r)}`);
    assert.match(r.stderr, /vouch: error POLICY_MALFORMED/, name);
  }
  for (const [i, [name, , want]] of cases.entries()) {
    const r = results[i] as Awaited<ReturnType<typeof run>>;
    assert.match(r.stderr, want, `${name}: ${r.stderr}`);
  }

  // Eight levels is allowed: l1 has eight files below it.
  const eight = await run('policy', 'explain', 'l1.yaml', 'app.bin', '--json');
  assert.notEqual(eight.code, 2, show(eight));

  // --json carries the file of each problem.
  const j = await run('verify', 'app.bin', '--policy', 'broken.yaml', '--json');
  assert.equal(j.code, 2);
  const problem = jsonOf(j).error.problems[0];
  assert.equal(problem.file, 'org/broken.yaml');
  assert.equal(problem.path, '/require/0/maxAge');
  assert.equal(problem.line, 11);
});
