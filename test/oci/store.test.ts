// OciStore: the EvidenceStore interface over a real registry repository.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeStatement } from '../../src/core/statement.ts';
import { parseReference, RegistryClient } from '../../src/oci/index.ts';
import { generateKeyPair, loadSigningKey, signStatement } from '../../src/sign/index.ts';
import { OciStore } from '../../src/store/oci.ts';
import { pushImage, registrySkip, startRegistry } from './registry.ts';

const skip = registrySkip();

test('OciStore puts bundles as referrers of their subjects and finds them by digest', {
  skip,
}, async (t) => {
  const reg = await startRegistry(t);
  const digest = await pushImage(t, reg, 'store', 'v1', 'store\n');
  const key = loadSigningKey(generateKeyPair('ecdsa-p256', undefined).privateKeyPem, 'k');
  const absent = 'a'.repeat(64);
  const statement = makeStatement(
    [
      { name: 'image', digest: { sha256: digest.slice(7) } },
      { name: 'not-in-registry', digest: { sha256: absent } },
    ],
    'https://example.com/t/v1',
    {},
  );
  const bundle = Buffer.from(JSON.stringify(await signStatement(statement, { mode: 'key', key })));
  const client = new RegistryClient({ insecure: true, warn: () => {} });
  const store = new OciStore(parseReference(`oci://${reg.host}/store`), client, {
    now: () => new Date('2026-01-01T00:00:00Z'),
  });
  const put = await store.put(bundle);
  assert.equal(put.storedAt, '2026-01-01T00:00:00.000Z');
  assert.equal(put.predicateType, 'https://example.com/t/v1');

  const reader = new OciStore(parseReference(`oci://${reg.host}/store`), client);
  const found = await reader.find(digest);
  assert.deepEqual(
    found.map((e) => e.id),
    [put.id],
  );
  assert.deepEqual(await reader.read(put.id), bundle);
  assert.deepEqual(
    await reader.find(`sha256:${absent}`),
    [],
    'the subject with no image got nothing',
  );
  await assert.rejects(reader.read('b'.repeat(64)), /not found by this store/);

  // A bundle about no image in the repository is refused.
  const stray = makeStatement(
    [{ name: 'x', digest: { sha256: absent } }],
    'https://example.com/t/v1',
    {},
  );
  await assert.rejects(
    store.put(Buffer.from(JSON.stringify(await signStatement(stray, { mode: 'key', key })))),
    (e: Error & { code?: string }) => e.code === 'OCI_NOT_FOUND',
  );
});
