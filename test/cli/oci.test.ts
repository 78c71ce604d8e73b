// `vouch attest|verify|attach|pack` against a real registry (Debian's
// docker-registry, distribution 2.8, no referrers API: tag-schema fallback),
// images pushed with skopeo from OCI layouts built on disk.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { pushImage, registrySkip, startRegistry } from '../oci/registry.ts';
import { generateKey, isolatedEnv, jsonOf, show, tempDir, vouch } from './helpers.ts';

const skip = registrySkip();

async function project(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  await writeFile(join(dir, 'pred.json'), '{"result":"PASSED"}');
  const { key, pub } = await generateKey(dir, env);
  return { dir, env, key, pub };
}

test('attest an image digest, verify by tag; tag moves; other digests; registry down', {
  skip,
}, async (t) => {
  const reg = await startRegistry(t);
  const p = await project(t);
  const run = (args: string[]) => vouch(args, { cwd: p.dir, env: p.env });
  const d1 = await pushImage(t, reg, 'team/app', 'prod', 'version one\n');
  const repo = `oci://${reg.host}/team/app`;

  // A test-result about d1 signed with the project key, attached in the registry.
  const attestD1 = (...extra: string[]) =>
    run([
      'attest',
      `${repo}@${d1}`,
      '--predicate-type',
      'test-result',
      '--predicate',
      'pred.json',
      '--key',
      p.key,
      '--insecure-registry',
      ...extra,
    ]);
  const attest = await attestD1('--json');
  assert.equal(attest.code, 0, show(attest));
  assert.equal(jsonOf(attest).referrer.via, 'tag-schema');
  assert.match(attest.stderr, /plain HTTP/, 'insecure mode warns');

  const ok = await run(['verify', `${repo}:prod`, '--key', p.pub, '--insecure-registry']);
  assert.equal(ok.code, 0, show(ok));
  assert.match(ok.stderr, new RegExp(`resolves to ${d1}`));
  assert.match(ok.stdout, new RegExp(`VERIFIED: ${d1}`), 'the decision names the digest');
  const okJson = jsonOf(
    await run(['verify', `${repo}:prod`, '--key', p.pub, '--insecure-registry', '--json']),
  );
  assert.equal(okJson.subject, d1);
  assert.equal(okJson.reference, `${repo}@${d1}`);

  // A key that did not sign: exit 1.
  const other = await generateKey(p.dir, p.env, 'other');
  const wrongKey = await run([
    'verify',
    `${repo}@${d1}`,
    '--key',
    other.pub,
    '--insecure-registry',
  ]);
  assert.equal(wrongKey.code, 1, show(wrongKey));

  // The tag moves to another image: the old digest still verifies, the tag does not.
  const d2 = await pushImage(t, reg, 'team/app', 'prod', 'version two\n');
  assert.notEqual(d2, d1);
  const old = await run(['verify', `${repo}@${d1}`, '--key', p.pub, '--insecure-registry']);
  assert.equal(old.code, 0, show(old));
  const moved = await run(['verify', `${repo}:prod`, '--key', p.pub, '--insecure-registry']);
  assert.equal(moved.code, 1, show(moved));
  assert.match(moved.stdout, new RegExp(`NOT VERIFIED: ${d2}`));

  // Evidence about a different digest, attached to this image: rejected.
  const bundleFile = join(p.dir, 'b.json');
  const other1 = await attestD1('--out', 'b.json');
  assert.equal(other1.code, 0, show(other1));
  const refused = await run(['attach', `${repo}@${d2}`, 'b.json', '--insecure-registry']);
  assert.equal(refused.code, 2, show(refused));
  assert.match(refused.stderr, /do not include/);
  // attach it where it belongs: fine (idempotent with the attest's own push).
  const attach = await run(['attach', `${repo}@${d1}`, 'b.json', '--insecure-registry', '--json']);
  assert.equal(attach.code, 0, show(attach));
  assert.ok(await readFile(bundleFile));

  // A policy file, by tag: allow for d1, deny after the tag moved.
  await writeFile(
    join(p.dir, 'policy.yaml'),
    `apiVersion: vouch.dev/policy/v1
kind: Policy
metadata:
  name: gate
requireDigest: false
trust:
  signers:
    - name: ci
      key: k.pub
require:
  - name: tested
    predicateType: test-result
    signers: [ci]
`,
  );
  const verifyByPolicy = (ref: string, ...extra: string[]) =>
    run(['verify', ref, '--policy', 'policy.yaml', '--insecure-registry', ...extra]);
  const pol = await verifyByPolicy(`${repo}@${d1}`, '--json');
  assert.equal(pol.code, 0, show(pol));
  assert.equal(jsonOf(pol).subject, d1);
  const polMoved = await verifyByPolicy(`${repo}:prod`);
  assert.equal(polMoved.code, 1, show(polMoved));

  // Offline pack of d1, verified with the registry stopped.
  const packD1 = (out: string) =>
    run(['pack', `${repo}@${d1}`, '--policy', 'policy.yaml', '-o', out, '--insecure-registry']);
  const pack = await packD1('ev.pack');
  assert.equal(pack.code, 0, show(pack));
  // A pack is not signed: its own policy decides only when pinned.
  const pin = /--pack-policy-sha256 ([0-9a-f]{64})/.exec(pack.stdout)?.[1] as string;
  assert.ok(pin, show(pack));
  const withPack = (ref: string, file: string, ...extra: string[]) =>
    run(['verify', ref, '--pack', file, '--pack-policy-sha256', pin, ...extra]);
  const packAgain = await packD1('ev2.pack');
  assert.equal(packAgain.code, 0, show(packAgain));
  assert.deepEqual(
    await readFile(join(p.dir, 'ev.pack')),
    await readFile(join(p.dir, 'ev2.pack')),
    'packs are deterministic',
  );

  await reg.stop();
  const down = await run(['verify', `${repo}:prod`, '--key', p.pub, '--insecure-registry']);
  assert.equal(down.code, 2, show(down));
  assert.match(down.stderr, /OCI_REGISTRY_UNAVAILABLE: .*cannot reach/);

  const offline = await withPack(`${repo}@${d1}`, 'ev.pack', '--json');
  assert.equal(offline.code, 0, show(offline));
  assert.equal(jsonOf(offline).subject, d1);
  const unpinned = await run(['verify', `${repo}@${d1}`, '--pack', 'ev.pack']);
  assert.equal(unpinned.code, 2, show(unpinned));
  assert.match(unpinned.stderr, /USAGE: .*--pack-policy-sha256/);
  const offlineKey = await run(['verify', `${repo}@${d1}`, '--pack', 'ev.pack', '--key', p.pub]);
  assert.equal(offlineKey.code, 0, show(offlineKey));
  const offlineOther = await withPack(`${repo}@${d2}`, 'ev.pack');
  assert.equal(offlineOther.code, 1, show(offlineOther));

  // A tampered pack is refused as input.
  const text = await readFile(join(p.dir, 'ev.pack'), 'utf8');
  const packJson = JSON.parse(text);
  assert.equal(packJson.bundles.length, 2);
  for (const b of packJson.bundles) b.bundle = b.bundle.replace('"sig":"', '"sig":"AA');
  await writeFile(join(p.dir, 'bad.pack'), JSON.stringify(packJson));
  const tampered = await withPack(`${repo}@${d1}`, 'bad.pack');
  assert.equal(tampered.code, 2, show(tampered));
  assert.match(tampered.stderr, /OCI_PACK_MALFORMED/);
  // …and one whose digests were recomputed still fails verification.
  const { createHash } = await import('node:crypto');
  for (const b of packJson.bundles) b.sha256 = createHash('sha256').update(b.bundle).digest('hex');
  await writeFile(join(p.dir, 'bad2.pack'), JSON.stringify(packJson));
  const forged = await withPack(`${repo}@${d1}`, 'bad2.pack');
  assert.equal(forged.code, 1, show(forged));
});

test('oci:// usage errors: tags for attest/attach, non-localhost insecure, bad references', async (t) => {
  const p = await project(t);
  const run = (args: string[]) => vouch(args, { cwd: p.dir, env: p.env });
  const tag = await run([
    'attest',
    'oci://127.0.0.1:1/app:v1',
    '--predicate-type',
    'test-result',
    '--predicate',
    'pred.json',
    '--key',
    p.key,
  ]);
  assert.equal(tag.code, 2, show(tag));
  assert.match(tag.stderr, /names a tag/);
  const remote = await run([
    'verify',
    'oci://registry.example.com/app:v1',
    '--key',
    p.pub,
    '--insecure-registry',
  ]);
  assert.equal(remote.code, 2, show(remote));
  assert.match(remote.stderr, /only for localhost/);
  const bad = await run(['verify', 'oci://127.0.0.1:1/UPPER:v1', '--key', p.pub]);
  assert.equal(bad.code, 2, show(bad));
  assert.match(bad.stderr, /OCI_REFERENCE_MALFORMED/);
  const offlineTag = await run([
    'verify',
    'oci://127.0.0.1:1/app:v1',
    '--pack',
    'x.pack',
    '--key',
    p.pub,
  ]);
  assert.equal(offlineTag.code, 2, show(offlineTag));
  // An unknown --type names --type (not attest's --predicate-type), before any network.
  const unknownType = await run([
    'verify',
    `oci://127.0.0.1:1/app@sha256:${'ab'.repeat(32)}`,
    '--key',
    p.pub,
    '--type',
    'nosuch',
    '--json',
  ]);
  assert.equal(unknownType.code, 2, show(unknownType));
  assert.equal(jsonOf(unknownType).error.code, 'STATEMENT_UNKNOWN_TYPE', show(unknownType));
  assert.match(jsonOf(unknownType).error.message, /^--type: unknown predicate type "nosuch"/);
});
