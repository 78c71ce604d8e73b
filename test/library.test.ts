import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as vouch from '../src/index.ts';

test('the library alone signs, stores and verifies a Statement about an artifact', async () => {
  const pair = vouch.generateKeyPair('ed25519', undefined);
  const key = vouch.loadSigningKey(pair.privateKeyPem, 'mem');
  const digest = vouch.digestBytes('artifact bytes');
  const statement = vouch.makeStatement([{ name: 'a.bin', digest }], 'https://example.com/p/v1', {
    ok: true,
  });
  const bundle = await vouch.signStatement(statement, { mode: 'key', key });
  const store = new vouch.DirectoryStore(join(mkdtempSync(join(tmpdir(), 'vouch-lib-')), '.vouch'));
  const entry = await store.put(Buffer.from(JSON.stringify(bundle)));
  const found = await store.find(`sha256:${digest.sha256}`);
  assert.deepEqual(
    found.map((e) => e.id),
    [entry.id],
  );

  const trust: vouch.TrustPolicy = {
    mode: 'key',
    keys: [vouch.loadVerificationKey(pair.publicKeyPem, 'pub')],
  };
  const candidates = [{ source: 'store', json: (await store.read(entry.id)).toString() }];
  const ok = vouch.verifyArtifact({ sha256: digest.sha256 as string, candidates, trust });
  assert.equal(ok.ok, true);
  assert.equal(ok.bundles[0]?.statement?.predicateType, 'https://example.com/p/v1');

  // The same bundle says nothing about another artifact.
  const other = vouch.digestBytes('other bytes').sha256 as string;
  const no = vouch.verifyArtifact({ sha256: other, candidates, trust });
  assert.equal(no.ok, false);
  assert.match(no.bundles[0]?.checks.find((c) => !c.ok)?.detail ?? '', /no subject/);

  // A policy sees only verified evidence: a required type that is absent fails.
  const typed = vouch.verifyArtifact({
    sha256: digest.sha256 as string,
    candidates,
    trust,
    policy: vouch.requireEvidence([vouch.SLSA_PROVENANCE_V1]),
  });
  assert.equal(typed.ok, false);
  assert.deepEqual(
    typed.policy.reasons.map((r) => r.ok),
    [true, false],
  );
});

test('the library exposes the SBOM producer and the policy engine as namespaces', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-lib-sbom-'));
  const { writeFileSync } = await import('node:fs');
  writeFileSync(
    join(dir, 'package-lock.json'),
    JSON.stringify({
      name: 'app',
      version: '1.0.0',
      lockfileVersion: 3,
      packages: {
        '': { name: 'app', version: '1.0.0', dependencies: { ms: '2.1.3' } },
        'node_modules/ms': { version: '2.1.3' },
      },
    }),
  );
  const result = await vouch.sbom.generateSbom(dir, {});
  const purls = result.components.map((c) => c.purl);
  assert.ok(purls.includes('pkg:npm/ms@2.1.3'), purls.join(' '));
  assert.equal(typeof vouch.policy.evaluatePolicy, 'function');
});
