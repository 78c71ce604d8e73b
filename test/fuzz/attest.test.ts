/**
 * Mutation fuzz of the attestation-side parsers: DSSE envelopes, Sigstore
 * bundles, in-toto Statements, in-toto layouts and links, policy YAML and
 * release manifests. Seeds are real files from ../shared/vectors and the
 * examples in our own docs. See harness.ts for the rules.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseEnvelope } from '../../src/core/dsse.ts';
import { parseJson } from '../../src/core/json.ts';
import { parseStatement } from '../../src/core/statement.ts';
import { keyFromDict } from '../../src/policy/intoto/keys.ts';
import { parseLayout, parseLink, parseSignedMetadata } from '../../src/policy/intoto/model.ts';
import { loadPolicy } from '../../src/policy/parse.ts';
import { parseReleaseManifest } from '../../src/report/release-manifest.ts';
import { parseBundle } from '../../src/sign/verify.ts';
import { SHARED } from '../shared.ts';
import { check } from './harness.ts';

const V = join(SHARED, 'vectors');
const read = (...p: string[]) => readFileSync(join(V, ...p));
const ROOT = new URL('../../', import.meta.url);

/** The YAML of a markdown file (```yaml blocks and `<<'YAML'` heredocs) that contains `marker`. */
function yamlBlocks(path: URL, marker: string): Buffer[] {
  const text = readFileSync(path, 'utf8');
  return [...text.matchAll(/```yaml\n([\s\S]*?)```|<<'?YAML'?\n([\s\S]*?)\nYAML\n/g)]
    .map((m) => (m[1] ?? m[2]) as string)
    .filter((b) => b.includes(marker))
    .map((b) => Buffer.from(b));
}

const BUNDLES = [
  ...[
    'bundleV01-dsse-with-proof.sigstore',
    'bundleV02-intoto.sigstore',
    'bundleV03-dsse.sigstore',
  ].map((f) => read('sigstore', 'sigstore-js', 'bundles', f)),
  Buffer.from(
    read('slsa', 'gha_go_v2.1.0', 'binary-linux-amd64-push-v14.intoto.jsonl')
      .toString()
      .split('\n')[0] as string,
  ),
];

/** DSSE envelopes: those inside the real bundles. */
const ENVELOPES = BUNDLES.map((b) => JSON.parse(b.toString()).dsseEnvelope)
  .filter(Boolean)
  .map((e) => Buffer.from(JSON.stringify(e)));

const STATEMENTS = ENVELOPES.map((e) => Buffer.from(JSON.parse(e.toString()).payload, 'base64'));

const INTOTO = [
  'demo.layout',
  'demo.dsse.layout',
  'write-code.b7d643de.link',
  'package-dsse.2f89b927.link',
].map((f) => read('intoto', 'in-toto-golang', f));

describe('fuzz: attestation parsers', () => {
  test('DSSE envelope (parseEnvelope)', async () => {
    await check(
      {
        name: 'dsse',
        kind: 'json',
        seeds: ENVELOPES,
        run: (b, f) => parseEnvelope(b.toString(), f),
      },
      assert,
    );
  });

  test('Sigstore bundle (parseBundle)', async () => {
    await check(
      { name: 'bundle', kind: 'json', seeds: BUNDLES, run: (b, f) => parseBundle(b, f) },
      assert,
    );
  });

  test('in-toto Statement (parseStatement)', async () => {
    await check(
      { name: 'statement', kind: 'json', seeds: STATEMENTS, run: (b, f) => parseStatement(b, f) },
      assert,
    );
  });

  test('in-toto layouts and links (metablock and DSSE)', async () => {
    await check(
      {
        name: 'intoto-metadata',
        kind: 'json',
        seeds: INTOTO,
        run(b, f) {
          const m = parseSignedMetadata(parseJson(b.toString(), f), f);
          if (m.signed._type === 'layout') parseLayout(m.signed, f, keyFromDict);
          else parseLink(m.signed, f);
        },
      },
      assert,
    );
  });

  test('policy YAML (parsePolicy): problems, never a throw', async () => {
    const seeds = readdirSync(new URL('docs/policy/', ROOT))
      .filter((f) => f.endsWith('.md'))
      .flatMap((f) =>
        yamlBlocks(new URL(`docs/policy/${f}`, ROOT), 'apiVersion: vouch.dev/policy/v1'),
      );
    assert.ok(seeds.length > 0, 'policy examples in docs/policy');
    // Through loadPolicy, the public entry, with its size limit.
    const path = join(mkdtempSync(join(tmpdir(), 'vouch-fuzz-policy-')), 'policy.yaml');
    await check(
      {
        name: 'policy',
        kind: 'text',
        seeds,
        file: path,
        async run(b) {
          writeFileSync(path, b);
          const r = await loadPolicy(path);
          if (!r.ok) for (const p of r.problems) assert.equal(typeof p.message, 'string');
        },
      },
      assert,
    );
  });

  test('release manifest (parseReleaseManifest)', async () => {
    const seeds = yamlBlocks(new URL('docs/cli/comply.md', ROOT), 'vouch.dev/release/v1');
    seeds.push(
      Buffer.from(
        `apiVersion: vouch.dev/release/v1\nkind: Release\nname: app\nversion: "1.2.0"\nartifacts:\n  - path: dist/app.tgz\n    kind: binary\n  - digest: sha256:${'ab'.repeat(32)}\n    name: app-image\n    kind: image\n`,
      ),
    );
    await check(
      {
        name: 'release-manifest',
        kind: 'text',
        seeds,
        run: (b, f) => parseReleaseManifest(b.toString(), f),
      },
      assert,
    );
  });
});
