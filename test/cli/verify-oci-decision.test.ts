// The registry gate signs its decision: `vouch verify oci://… --policy P
// --sign-decision-key K` against a real registry (Debian's docker-registry,
// distribution 2.8: referrers by the tag-schema fallback), the VSA attached
// as a referrer and/or written to a file, then read back by a consumer policy.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildImage, pushImage, registrySkip, startRegistry } from '../oci/registry.ts';
import {
  attestTestResultArgs,
  GATE_POLICY,
  generateKey,
  isolatedEnv,
  jsonOf,
  show,
  statementOf,
  tempDir,
  vouch,
} from './helpers.ts';

const skip = registrySkip();

// What a deploy step would require of the gate's decision (docs/policy/decision.md).
const DEPLOY_POLICY = (gatePolicySha256: string) => `apiVersion: vouch.dev/policy/v1
kind: Policy
metadata:
  name: deploy
trust:
  signers:
    - name: gate
      key: gate.pub
require:
  - name: gate-passed
    predicateType: vsa
    signers: [gate]
    maxAge: 1d
    where: >-
      predicate.verificationResult == "PASSED"
      && predicate.verifier.id == "https://vouch.dev/verifier/v1"
      && predicate.policy.digest.sha256 == "${gatePolicySha256}"
`;

/**
 * A temp project for the gate tests: key pairs ci and gate, tests.json (a passing
 * test result) and gate.yaml (GATE_POLICY(requireDigest)).
 */
async function gateProject(
  t: { after: (fn: () => Promise<void>) => void },
  requireDigest: boolean,
) {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  const run = (args: string[]) => vouch(args, { cwd: dir, env });
  await generateKey(dir, env, 'ci');
  await generateKey(dir, env, 'gate');
  await writeFile(join(dir, 'tests.json'), '{"result":"PASSED"}');
  await writeFile(join(dir, 'gate.yaml'), GATE_POLICY(requireDigest));
  /** Signs tests.json as a test result about `subject` with ci.key; fails the test when that fails. */
  const attestTested = async (subject: string, ...extra: string[]) => {
    const r = await run([...attestTestResultArgs(subject), ...extra]);
    assert.equal(r.code, 0, show(r));
  };
  /** The gate: `vouch verify <ref> --policy gate.yaml` against the test registry. */
  const gate = (ref: string, ...extra: string[]) =>
    run(['verify', ref, '--policy', 'gate.yaml', '--insecure-registry', ...extra]);
  /** A signature check only: is there a VSA about `subject` signed with the gate's key? */
  const signedByGate = (subject: string, ...extra: string[]) =>
    run(['verify', subject, '--key', 'gate.pub', '--type', 'vsa', ...extra]);
  return { dir, run, attestTested, gate, signedByGate };
}

test('registry gate: signed decisions (VSA) about image digests, attached and written; consumers read them; tampering fails', {
  skip,
}, async (t) => {
  const reg = await startRegistry(t);
  const { dir, run, attestTested, gate, signedByGate } = await gateProject(t, false);
  await writeFile(join(dir, 'strict.yaml'), GATE_POLICY(true));
  const gateSha = createHash('sha256')
    .update(await readFile(join(dir, 'gate.yaml')))
    .digest('hex');
  await writeFile(join(dir, 'deploy.yaml'), DEPLOY_POLICY(gateSha));

  const repo = `oci://${reg.host}/team/app`;
  const good = await pushImage(t, reg, 'team/app', 'good', 'tested build\n');
  const bad = await pushImage(t, reg, 'team/app', 'bad', 'untested build\n');
  await attestTested(`${repo}@${good}`, '--insecure-registry');

  const consumer = (ref: string) =>
    run(['verify', ref, '--policy', 'deploy.yaml', '--insecure-registry']);

  // Usage is checked before the network: a registry nobody listens on is never asked.
  const nowhere = `oci://127.0.0.1:1/team/app@${good}`;
  for (const [args, why] of [
    [['--sign-decision-key', 'gate.key'], /needs --attach-decision .*and\/or --decision-out/],
    [['--attach-decision'], /--attach-decision needs --sign-decision-key/],
    [['--decision-out', 'x.json'], /--decision-out needs --sign-decision-key/],
    [
      ['--sign-decision-key', 'gate.key', '--sign-decision-keyless', '--attach-decision'],
      /exclude each other/,
    ],
    [['--sign-decision-key', 'missing.key', '--decision-out', 'x.json'], /FILE_NOT_FOUND/],
  ] as const) {
    const r = await gate(nowhere, ...args);
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, why);
    assert.doesNotMatch(r.stderr, /OCI_REGISTRY_UNAVAILABLE/);
  }
  const noPolicy = await run([
    'verify',
    nowhere,
    '--key',
    'ci.pub',
    '--sign-decision-key',
    'gate.key',
    '--decision-out',
    'x.json',
  ]);
  assert.equal(noPolicy.code, 2, show(noPolicy));
  assert.match(noPolicy.stderr, /needs --policy/);
  await writeFile(join(dir, 'app.bin'), 'app\n');
  const fileAttach = await run([
    'verify',
    'app.bin',
    '--policy',
    'gate.yaml',
    '--sign-decision-key',
    'gate.key',
    '--attach-decision',
  ]);
  assert.equal(fileAttach.code, 2, show(fileAttach));
  assert.match(fileAttach.stderr, /--attach-decision needs an oci:\/\/ target/);
  assert.ok(!existsSync(join(dir, 'x.json')));

  // Before the gate ran, a consumer finds no decision.
  const before = await consumer(`${repo}@${good}`);
  assert.equal(before.code, 1, show(before));

  // Allowed image: a PASSED VSA about its digest, attached and written.
  const allowed = await gate(
    `${repo}@${good}`,
    '--sign-decision-key',
    'gate.key',
    '--attach-decision',
    '--decision-out',
    'good.vsa.json',
    '--json',
  );
  assert.equal(allowed.code, 0, show(allowed));
  const signed = jsonOf(allowed).signedDecision;
  assert.equal(signed.resourceUri, `${repo}@${good}`);
  assert.equal(signed.verificationResult, 'PASSED');
  assert.equal(signed.out, 'good.vsa.json');
  assert.equal(signed.referrer.via, 'tag-schema');
  const vsa = await statementOf(join(dir, 'good.vsa.json'));
  assert.equal(vsa.predicateType, 'https://slsa.dev/verification_summary/v1');
  assert.deepEqual(vsa.subject, [
    { name: `${reg.host}/team/app`, digest: { sha256: good.slice('sha256:'.length) } },
  ]);
  assert.equal(vsa.predicate.resourceUri, `${repo}@${good}`);
  assert.equal(vsa.predicate.verificationResult, 'PASSED');
  assert.equal(vsa.predicate.policy.digest.sha256, gateSha);
  assert.equal(vsa.predicate.inputAttestations.length, 1, 'the test-result it used');

  // The consumer reads it from the registry, and from the file offline.
  const deploy = await consumer(`${repo}@${good}`);
  assert.equal(deploy.code, 0, show(deploy));
  const offline = (bundle: string, digest: string, ...how: string[]) =>
    run(['verify', digest, '--no-store', '--bundle', bundle, ...how]);
  const byFile = await offline('good.vsa.json', good, '--policy', 'deploy.yaml');
  assert.equal(byFile.code, 0, show(byFile));
  const byKey = await offline('good.vsa.json', good, '--key', 'gate.pub', '--type', 'vsa');
  assert.equal(byKey.code, 0, show(byKey));
  // It is about that image only.
  const elsewhere = await offline('good.vsa.json', bad, '--policy', 'deploy.yaml');
  assert.equal(elsewhere.code, 1, show(elsewhere));

  // Denied image: a FAILED VSA, signed and attached too; exit stays 1.
  const denied = await gate(
    `${repo}@${bad}`,
    '--sign-decision-key',
    'gate.key',
    '--attach-decision',
    '--decision-out',
    'bad.vsa.json',
  );
  assert.equal(denied.code, 1, show(denied));
  assert.match(denied.stderr, /signed decision \(VSA, FAILED\) bad\.vsa\.json, referrer sha256:/);
  const failed = await statementOf(join(dir, 'bad.vsa.json'));
  assert.equal(failed.predicate.verificationResult, 'FAILED');
  assert.equal(failed.subject[0].digest.sha256, bad.slice('sha256:'.length));
  assert.equal(failed.predicate.resourceUri, `${repo}@${bad}`);
  // Signed is signed (a key check passes), but a consumer that reads the result refuses.
  const signedBad = await signedByGate(`${repo}@${bad}`, '--insecure-registry');
  assert.equal(signedBad.code, 0, show(signedBad));
  const deployBad = await consumer(`${repo}@${bad}`);
  assert.equal(deployBad.code, 1, show(deployBad));
  assert.match(deployBad.stdout, /gate-passed/);

  // A tag (the policy allows resolving it): the VSA names the resolved digest, never the tag.
  const byTag = await gate(
    `${repo}:good`,
    '--sign-decision-key',
    'gate.key',
    '--decision-out',
    'tag.vsa.json',
  );
  assert.equal(byTag.code, 0, show(byTag));
  assert.match(byTag.stderr, new RegExp(`resolves to ${good}`));
  const tagVsa = await statementOf(join(dir, 'tag.vsa.json'));
  assert.equal(tagVsa.predicate.resourceUri, `${repo}@${good}`);
  assert.equal(tagVsa.subject[0].digest.sha256, good.slice('sha256:'.length));
  assert.doesNotMatch(JSON.stringify(tagVsa.subject) + tagVsa.predicate.resourceUri, /:good/);
  // A policy that requires a digest refuses the tag before anything is signed.
  const strict = await run([
    'verify',
    `${repo}:good`,
    '--policy',
    'strict.yaml',
    '--sign-decision-key',
    'gate.key',
    '--decision-out',
    'strict.vsa.json',
    '--insecure-registry',
  ]);
  assert.equal(strict.code, 2, show(strict));
  assert.ok(!existsSync(join(dir, 'strict.vsa.json')));

  // Tampering. One flipped bit in the signature: the bundle no longer verifies.
  const bundle = JSON.parse(await readFile(join(dir, 'good.vsa.json'), 'utf8'));
  const sig = Buffer.from(bundle.dsseEnvelope.signatures[0].sig, 'base64');
  sig[sig.length - 1] = (sig[sig.length - 1] as number) ^ 1;
  bundle.dsseEnvelope.signatures[0].sig = sig.toString('base64');
  await writeFile(join(dir, 'flipped.json'), JSON.stringify(bundle));
  const flipped = await offline('flipped.json', good, '--key', 'gate.pub', '--type', 'vsa');
  assert.equal(flipped.code, 1, show(flipped));
  assert.match(flipped.stdout, /signature/);
  // The denied image's FAILED turned into PASSED, signature kept: attached, yet refused.
  const forged = JSON.parse(await readFile(join(dir, 'bad.vsa.json'), 'utf8'));
  const payload = Buffer.from(forged.dsseEnvelope.payload, 'base64').toString('utf8');
  assert.ok(payload.includes('"verificationResult":"FAILED"'));
  forged.dsseEnvelope.payload = Buffer.from(
    payload.replace('"verificationResult":"FAILED"', '"verificationResult":"PASSED"'),
  ).toString('base64');
  await writeFile(join(dir, 'forged.json'), JSON.stringify(forged));
  const attachForged = await run([
    'attach',
    `${repo}@${bad}`,
    'forged.json',
    '--insecure-registry',
  ]);
  assert.equal(attachForged.code, 0, show(attachForged));
  const deployForged = await consumer(`${repo}@${bad}`);
  assert.equal(deployForged.code, 1, show(deployForged));
  const forgedOffline = await offline('forged.json', bad, '--policy', 'deploy.yaml');
  assert.equal(forgedOffline.code, 1, show(forgedOffline));
  // Control: the same consumer still passes the genuine PASSED decision.
  assert.equal((await consumer(`${repo}@${good}`)).code, 0);
});

test('registry gate on a multi-platform image: the VSA names the index digest the tag resolves to', {
  skip,
}, async (t) => {
  const reg = await startRegistry(t);
  const { dir, attestTested, gate, signedByGate } = await gateProject(t, false);
  // An OCI image index over one image manifest, pushed with skopeo --all.
  const image = await buildImage(t, 'multi\n');
  const layout = JSON.parse(await readFile(join(image.layout, 'index.json'), 'utf8'));
  const entry = layout.manifests[0];
  delete entry.annotations;
  const indexBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ ...entry, platform: { architecture: 'amd64', os: 'linux' } }],
    }),
  );
  const indexHex = createHash('sha256').update(indexBytes).digest('hex');
  await writeFile(join(image.layout, 'blobs', 'sha256', indexHex), indexBytes);
  layout.manifests = [
    {
      mediaType: 'application/vnd.oci.image.index.v1+json',
      digest: `sha256:${indexHex}`,
      size: indexBytes.length,
      annotations: { 'org.opencontainers.image.ref.name': 'latest' },
    },
  ];
  await writeFile(join(image.layout, 'index.json'), JSON.stringify(layout));
  execFileSync(
    'skopeo',
    [
      'copy',
      '--quiet',
      '--all',
      '--dest-tls-verify=false',
      '--preserve-digests',
      `oci:${image.layout}:latest`,
      `docker://${reg.host}/team/multi:v1`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const repo = `oci://${reg.host}/team/multi`;
  const index = `sha256:${indexHex}`;
  await attestTested(`${repo}@${index}`, '--insecure-registry');
  const decided = await gate(
    `${repo}:v1`,
    '--sign-decision-key',
    'gate.key',
    '--attach-decision',
    '--decision-out',
    'vsa.json',
  );
  assert.equal(decided.code, 0, show(decided));
  assert.match(decided.stderr, new RegExp(`resolves to ${index}`));
  const vsa = await statementOf(join(dir, 'vsa.json'));
  assert.equal(vsa.subject[0].digest.sha256, indexHex);
  assert.equal(vsa.predicate.resourceUri, `${repo}@${index}`);
  // Attached to the index: a signature check of the registry's evidence finds it there.
  const found = await signedByGate(`${repo}@${index}`, '--insecure-registry');
  assert.equal(found.code, 0, show(found));
  // The platform manifest inside is another artifact: no decision about it.
  const inner = await signedByGate(`${repo}@${image.digest}`, '--insecure-registry');
  assert.equal(inner.code, 1, show(inner));
});

test('verify --pack signs its decision to --decision-out (no registry: --attach-decision refused)', async (t) => {
  const { dir, run, attestTested, signedByGate } = await gateProject(t, true);
  await writeFile(join(dir, 'app.bin'), 'app\n');
  await attestTested('app.bin');
  const pack = await run(['pack', 'app.bin', '--policy', 'gate.yaml', '-o', 'ev.pack']);
  assert.equal(pack.code, 0, show(pack));
  const withPack = (...extra: string[]) =>
    run(['verify', 'app.bin', '--pack', 'ev.pack', '--policy', 'gate.yaml', ...extra]);
  const attach = await withPack('--sign-decision-key', 'gate.key', '--attach-decision');
  assert.equal(attach.code, 2, show(attach));
  assert.match(attach.stderr, /--attach-decision needs a registry/);
  const noOut = await withPack('--sign-decision-key', 'gate.key');
  assert.equal(noOut.code, 2, show(noOut));
  assert.match(noOut.stderr, /--pack needs --decision-out/);
  // Nothing to write without a signature, for a file as for a pack.
  for (const r of [
    await withPack('--decision-out', 'vsa.json'),
    await run(['verify', 'app.bin', '--policy', 'gate.yaml', '--decision-out', 'vsa.json']),
  ]) {
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /--decision-out needs --sign-decision-key/);
  }
  const ok = await withPack('--sign-decision-key', 'gate.key', '--decision-out', 'vsa.json');
  assert.equal(ok.code, 0, show(ok));
  const vsa = await statementOf(join(dir, 'vsa.json'));
  assert.equal(vsa.predicate.resourceUri, 'file:app.bin');
  assert.equal(vsa.predicate.verificationResult, 'PASSED');
  const check = await signedByGate('app.bin', '--no-store', '--bundle', 'vsa.json');
  assert.equal(check.code, 0, show(check));
});
