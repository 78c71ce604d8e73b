// The registry client and evidence push/fetch against a real registry
// (docker-registry 2.8: no referrers API, so the tag-schema fallback).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { envelopeToJson, signEnvelope } from '../../src/core/dsse.ts';
import { makeStatement, PAYLOAD_TYPE_INTOTO } from '../../src/core/statement.ts';
import {
  fetchEvidence,
  MEDIA_DSSE_ENVELOPE,
  MEDIA_OCI_INDEX,
  parseReference,
  pushEvidence,
  RegistryClient,
  withDigest,
} from '../../src/oci/index.ts';
import {
  generateKeyPair,
  loadSigningKey,
  loadVerificationKey,
  signStatement,
} from '../../src/sign/index.ts';
import { verifyArtifact } from '../../src/verify/index.ts';
import { pushImage, registrySkip, startRegistry } from './registry.ts';

const skip = registrySkip();
const TYPE = 'https://example.com/test/v1';

function keys() {
  const pair = generateKeyPair('ecdsa-p256', undefined);
  return {
    signing: loadSigningKey(pair.privateKeyPem, 'test key'),
    verification: loadVerificationKey(pair.publicKeyPem, 'test key'),
  };
}

async function bundleAbout(digest: string, key: ReturnType<typeof keys>['signing'], n = 1) {
  const statement = makeStatement([{ name: 'image', digest: { sha256: digest.slice(7) } }], TYPE, {
    n,
  });
  return Buffer.from(JSON.stringify(await signStatement(statement, { mode: 'key', key })));
}

test('push and fetch evidence as referrers (tag schema on distribution 2.8)', {
  skip,
}, async (t) => {
  const reg = await startRegistry(t);
  const digest = await pushImage(t, reg, 'team/app', 'v1', 'one\n');
  const client = new RegistryClient({ insecure: true, warn: () => {} });
  const tagRef = parseReference(`oci://${reg.host}/team/app:v1`);
  assert.equal(await client.resolve(tagRef), digest, 'the tag resolves to the pushed manifest');
  const ref = withDigest(tagRef, digest);
  const k = keys();

  assert.deepEqual(await fetchEvidence(ref, client), [], 'no evidence before any push');
  const b1 = await bundleAbout(digest, k.signing, 1);
  const b2 = await bundleAbout(digest, k.signing, 2);
  const p1 = await pushEvidence(ref, b1, client);
  assert.equal(p1.via, 'tag-schema');
  // Pushing the same bundle again changes nothing (the manifest has no timestamp).
  assert.equal((await pushEvidence(ref, b1, client)).manifest, p1.manifest);
  const p2 = await pushEvidence(ref, b2, client);
  assert.notEqual(p2.manifest, p1.manifest);

  const index = await client.getManifest({
    ...ref,
    digest: undefined,
    tag: `sha256-${digest.slice(7)}`,
  });
  assert.equal(index.mediaType, MEDIA_OCI_INDEX);
  const listed = index.json.manifests as Array<{
    digest: string;
    artifactType: string;
    annotations: Record<string, string>;
  }>;
  assert.deepEqual(listed.map((m) => m.digest).sort(), [p1.manifest, p2.manifest].sort());
  assert.equal(listed[0]?.artifactType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
  assert.equal(listed[0]?.annotations['dev.sigstore.bundle.predicateType'], TYPE);

  const referrer = await client.getManifest(withDigest(ref, p1.manifest));
  assert.deepEqual((referrer.json.subject as { digest: string }).digest, digest);

  const candidates = await fetchEvidence(ref, client);
  assert.equal(candidates.length, 2);
  assert.deepEqual(
    candidates.map((c) => c.json).sort(),
    [b1.toString('utf8'), b2.toString('utf8')].sort(),
    'the exact bundle bytes come back',
  );
  const verdict = verifyArtifact({
    sha256: digest.slice(7),
    candidates,
    trust: { mode: 'key', keys: [k.verification] },
  });
  assert.equal(verdict.ok, true, JSON.stringify(verdict.bundles.map((b) => b.checks)));
  assert.equal(verdict.bundles.filter((b) => b.ok).length, 2);

  // Another key's trust rejects the same evidence.
  const other = keys();
  const wrong = verifyArtifact({
    sha256: digest.slice(7),
    candidates,
    trust: { mode: 'key', keys: [other.verification] },
  });
  assert.equal(wrong.ok, false);
});

test('concurrent pushes to one tag-schema index all end up listed', { skip }, async (t) => {
  const reg = await startRegistry(t);
  const digest = await pushImage(t, reg, 'app', 'v1', 'concurrent\n');
  const client = new RegistryClient({ insecure: true, warn: () => {} });
  const ref = withDigest(parseReference(`oci://${reg.host}/app`), digest);
  const k = keys();
  const bundles = await Promise.all([1, 2, 3, 4].map((n) => bundleAbout(digest, k.signing, n)));
  const pushed = await Promise.all(
    bundles.map((b) =>
      pushEvidence(ref, b, new RegistryClient({ insecure: true, warn: () => {} })),
    ),
  );
  const listed = await client.referrers(ref, digest);
  assert.deepEqual(
    listed.map((d) => d.digest).sort(),
    pushed.map((p) => p.manifest).sort(),
    "no concurrent writer lost another one's entry",
  );
});

test("cosign's legacy .att attestations are read and verify with the key", { skip }, async (t) => {
  const reg = await startRegistry(t);
  const digest = await pushImage(t, reg, 'legacy', 'v1', 'legacy\n');
  const client = new RegistryClient({ insecure: true, warn: () => {} });
  const ref = withDigest(parseReference(`oci://${reg.host}/legacy`), digest);
  const k = keys();
  // The layout cosign attest (before bundles) writes: an image tagged
  // sha256-<hex>.att, one DSSE envelope per layer.
  const statement = makeStatement(
    [{ name: 'image', digest: { sha256: digest.slice(7) } }],
    TYPE,
    {},
  );
  const envelope = await signEnvelope(PAYLOAD_TYPE_INTOTO, Buffer.from(JSON.stringify(statement)), [
    k.signing,
  ]);
  const layerBytes = Buffer.from(JSON.stringify(envelopeToJson(envelope)));
  const layer = await client.pushBlob(ref, layerBytes, MEDIA_DSSE_ENVELOPE);
  const config = await client.pushBlob(
    ref,
    Buffer.from('{"architecture":"","os":"","config":{},"rootfs":{"type":"layers","diff_ids":[]}}'),
    'application/vnd.oci.image.config.v1+json',
  );
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config,
    layers: [
      { ...layer, annotations: { predicateType: TYPE, 'dev.cosignproject.cosign/signature': '' } },
    ],
  };
  await client.pushManifest(
    ref,
    Buffer.from(JSON.stringify(manifest)),
    'application/vnd.oci.image.manifest.v1+json',
    `sha256-${digest.slice(7)}.att`,
  );

  const candidates = await fetchEvidence(ref, client);
  assert.equal(candidates.length, 1);
  assert.match(candidates[0]?.source ?? '', /:sha256-[0-9a-f]{64}\.att@sha256:[0-9a-f]{64}#0$/);
  const ok = verifyArtifact({
    sha256: digest.slice(7),
    candidates,
    trust: { mode: 'key', keys: [k.verification] },
  });
  assert.equal(ok.ok, true, JSON.stringify(ok.bundles.map((b) => b.checks)));
  const other = keys();
  const bad = verifyArtifact({
    sha256: digest.slice(7),
    candidates,
    trust: { mode: 'key', keys: [other.verification] },
  });
  assert.equal(bad.ok, false, "a wrapped envelope is trusted only through the policy's keys");
});
