/**
 * Mutation fuzz of the OCI side: image index/manifest descriptors as a
 * registry returns them (indexDescriptors, parseDescriptor) and evidence
 * packs (readPack) made by writePack from real Sigstore bundles. See harness.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseJson } from '../../src/core/json.ts';
import { indexDescriptors, parseDescriptor } from '../../src/oci/client.ts';
import { readPack, writePack } from '../../src/oci/pack.ts';
import { MEDIA_OCI_INDEX } from '../../src/oci/types.ts';
import { SHARED } from '../shared.ts';
import { check } from './harness.ts';

const hex = (c: string) => c.repeat(64);
const INDEX = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_OCI_INDEX,
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: `sha256:${hex('a')}`,
        size: 1234,
        platform: { architecture: 'amd64', os: 'linux' },
      },
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: `sha256:${hex('b')}`,
        size: 777,
        artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        annotations: { 'dev.sigstore.bundle.predicateType': 'https://slsa.dev/provenance/v1' },
      },
    ],
  }),
);

describe('fuzz: OCI parsers', () => {
  test('image index descriptors (indexDescriptors)', async () => {
    await check(
      {
        name: 'oci-index',
        kind: 'json',
        seeds: [INDEX],
        file: 'registry.example/app@sha256:abc',
        // A registry response is not a file: the error names it in the message.
        naming: 'message',
        run(b, f) {
          const json = parseJson(b.toString(), f);
          if (typeof json !== 'object' || json === null || Array.isArray(json)) return;
          indexDescriptors(
            {
              digest: `sha256:${hex('c')}`,
              mediaType: MEDIA_OCI_INDEX,
              bytes: b,
              json: json as Record<string, unknown>,
            },
            f,
          );
          for (const m of ((json as { manifests?: unknown }).manifests as unknown[]) ?? [])
            parseDescriptor(m, f);
        },
      },
      assert,
    );
  });

  test('evidence pack (readPack)', async () => {
    const bundle = readFileSync(
      join(SHARED, 'vectors/sigstore/sigstore-js/bundles/bundleV03-dsse.sigstore'),
      'utf8',
    );
    const seeds = [
      writePack({
        subject: { name: 'app.bin', sha256: hex('d') },
        bundles: [{ source: 'store', text: bundle }],
        policy: {
          name: 'policy.yaml',
          text: 'apiVersion: vouch.dev/policy/v1\nkind: Policy\n',
          files: { 'keys/ci.pub': 'x' },
        },
      }),
    ];
    const path = join(mkdtempSync(join(tmpdir(), 'vouch-fuzz-pack-')), 'evidence.pack');
    await check(
      {
        name: 'pack',
        kind: 'json',
        seeds,
        file: 'evidence.pack',
        async run(b, f) {
          writeFileSync(path, b);
          await readPack(path, f);
        },
      },
      assert,
    );
  });
});
