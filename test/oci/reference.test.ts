import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { dsseToBundle } from '../../src/oci/evidence.ts';
import { formatReference, parseReference } from '../../src/oci/index.ts';
import { readPack, writePack } from '../../src/oci/pack.ts';
import { tempDir } from './registry.ts';

const D = `sha256:${'ab'.repeat(32)}`;

test('parseReference: host, port, nested repository, tag, digest', () => {
  assert.deepEqual(parseReference('oci://Registry.Example.com:5000/team/app:v1.2'), {
    registry: 'registry.example.com:5000',
    repository: 'team/app',
    tag: 'v1.2',
    digest: undefined,
  });
  assert.deepEqual(parseReference(`oci://127.0.0.1:5000/app@${D}`), {
    registry: '127.0.0.1:5000',
    repository: 'app',
    tag: undefined,
    digest: D,
  });
  // tag and digest: the digest wins
  assert.equal(parseReference(`oci://h/app:v1@${D}`).digest, D);
  assert.equal(parseReference(`oci://h/app:v1@${D}`).tag, undefined);
  assert.equal(parseReference('oci://[::1]:5000/a/b').registry, '[::1]:5000');
  assert.equal(formatReference(parseReference(`oci://h:1/a/b@${D}`)), `oci://h:1/a/b@${D}`);
});

test('parseReference refuses malformed references with the reason', () => {
  const cases: Array<[string, RegExp]> = [
    ['docker://h/app', /missing oci:\/\//],
    ['oci://h', /missing registry host or repository/],
    ['oci:///app', /missing registry host/],
    ['oci://h/App', /invalid repository component "App"/],
    ['oci://h/a/../b', /invalid repository component "\.\."/],
    ['oci://h/app:', /invalid tag ""/],
    ['oci://h/app@sha256:12', /invalid digest/],
    [`oci://h/app@sha512:${'a'.repeat(128)}`, /invalid digest/],
    ['oci://h:99999/app', /invalid port/],
    ['oci://ho st/app', /invalid registry host/],
    [`oci://h/${'a'.repeat(3000)}`, /too long/],
  ];
  for (const [text, re] of cases) {
    assert.throws(
      () => parseReference(text),
      (e: Error & { code?: string }) => e.code === 'OCI_REFERENCE_MALFORMED' && re.test(e.message),
      text,
    );
  }
});

test('dsseToBundle wraps an envelope unchanged and refuses what is not one', () => {
  const env = {
    payloadType: 'application/vnd.in-toto+json',
    payload: Buffer.from('{}').toString('base64'),
    signatures: [{ keyid: 'k', sig: 'c2ln' }],
  };
  const b = dsseToBundle(Buffer.from(JSON.stringify(env)), 'x') as Record<string, unknown>;
  assert.equal(b.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
  assert.deepEqual(b.dsseEnvelope, env);
  assert.deepEqual(b.verificationMaterial, { publicKey: { hint: '' }, tlogEntries: [] });
  assert.throws(
    () => dsseToBundle(Buffer.from('{"payload":1}'), 'x'),
    (e: Error & { code?: string }) => e.code === 'OCI_MANIFEST_MALFORMED',
  );
  assert.throws(
    () => dsseToBundle(Buffer.from('{"payloadType":"t","payload":"","signatures":[]}'), 'x'),
    /not a DSSE envelope/,
  );
});

test('packs: deterministic, and hostile packs are refused with the field', async (t) => {
  const input = {
    subject: { name: 'a', sha256: 'ab'.repeat(32) },
    bundles: [
      { source: 'y', text: '{"b":2}' },
      { source: 'x', text: '{"a":1}' },
      { source: 'z', text: '{"a":1}' },
    ],
    policy: { name: 'p.yaml', text: 'x: 1\n', files: { 'z.pub': 'Z', 'a.pub': 'A' } },
  };
  const one = writePack(input);
  assert.deepEqual(one, writePack({ ...input, bundles: [...input.bundles].reverse() }));
  const dir = await tempDir(t);
  const ok = join(dir, 'ok.pack');
  await writeFile(ok, one);
  const pack = await readPack(ok, 'ok.pack');
  assert.equal(pack.bundles.length, 2, 'identical bundles are kept once');
  assert.deepEqual(Object.keys(pack.policy?.files ?? {}), ['a.pub', 'z.pub']);
  const base = JSON.parse(one.toString());
  const bad: Array<[string, (p: typeof base) => void, RegExp]> = [
    [
      'format',
      (p) => {
        p.format = 'zip';
      },
      /format is "zip"/,
    ],
    [
      'version',
      (p) => {
        p.version = 2;
      },
      /unsupported version 2/,
    ],
    [
      'bundle digest',
      (p) => {
        p.bundles[0].bundle += ' ';
      },
      /do not match their sha256/,
    ],
    [
      'traversal',
      (p) => {
        p.policy.files['../../etc/x'] = 'x';
      },
      /unsafe file name/,
    ],
    [
      'absolute',
      (p) => {
        p.policy.name = '/etc/passwd';
      },
      /unsafe file name/,
    ],
    [
      'subject',
      (p) => {
        p.subject.digest = 'sha1:00';
      },
      /subject must be/,
    ],
  ];
  for (const [name, mutate, re] of bad) {
    const p = structuredClone(base);
    mutate(p);
    const file = join(dir, `${name}.pack`);
    await writeFile(file, JSON.stringify(p));
    await assert.rejects(
      readPack(file, name),
      (e: Error & { code?: string }) => e.code === 'OCI_PACK_MALFORMED' && re.test(e.message),
      name,
    );
  }
  await writeFile(join(dir, 'trunc.pack'), one.subarray(0, 50));
  await assert.rejects(
    readPack(join(dir, 'trunc.pack'), 'trunc'),
    /OCI_PACK_MALFORMED|not an evidence pack/,
  );
});
