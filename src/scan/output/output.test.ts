import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { sarifValidator } from '../../../test/sarif.ts';
import { scanPath } from '../engine/index.ts';
import { scanPredicate, scanStatement, toSarif } from './index.ts';

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

const j = (...p: string[]) => p.join('');

async function sample(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-scan-out-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(
    join(dir, 'a b.env'),
    j('URL=postgres://app:', 'Zq8v7Hn2Kx4s', '@db.prod.internal/app\n'),
  );
  await writeFile(
    join(dir, 'c.env'),
    j(
      '# vouch:ignore secret/database-url-password -- test db\nURL=mysql://app:',
      'Hq7x9Lm2Vb4k',
      '@db.internal/app\n# vouch:ignore\n',
    ),
  );
  return scanPath(dir, { only: ['secrets'] });
}

test('SARIF validates against the official SARIF 2.1.0 schema, with rules, regions and suppressions', async (t) => {
  const result = await sample(t);
  const sarif = toSarif(result) as any;
  const validate = sarifValidator();
  assert.ok(validate(sarif), JSON.stringify(validate.errors, null, 2));
  const run = sarif.runs[0];
  const ids = run.tool.driver.rules.map((r: { id: string }) => r.id);
  for (const r of run.results) {
    assert.equal(ids[r.ruleIndex], r.ruleId);
    assert.ok(r.locations[0].physicalLocation.region.startLine >= 1);
  }
  const byFile = new Map(
    run.results.map((r: any) => [r.locations[0].physicalLocation.artifactLocation.uri, r]),
  );
  assert.equal((byFile.get('a%20b.env') as any).level, 'error');
  assert.deepEqual(
    (byFile.get('c.env') as any).suppressions ??
      run.results.find((r: any) => r.suppressions)?.suppressions,
    [{ kind: 'inSource', status: 'accepted', justification: 'test db' }],
  );
  assert.ok(!JSON.stringify(sarif).includes('Zq8v7Hn2Kx4s'));

  // Tamper: a result without a message, or an unknown level, is invalid for the schema.
  const broken = structuredClone(sarif);
  delete broken.runs[0].results[0].message;
  assert.equal(validate(broken) as boolean, false);
  const badLevel = structuredClone(sarif);
  badLevel.runs[0].results[0].level = 'fatal';
  assert.equal(validate(badLevel) as boolean, false);
  // What GitHub code scanning requires, checked without the schema.
  assert.equal(sarif.version, '2.1.0');
  for (const r of run.results) {
    assert.ok(typeof r.message.text === 'string' && r.message.text.length > 0);
    assert.ok(['error', 'warning', 'note', 'none'].includes(r.level));
  }
});

test('the findings predicate validates against schemas/scan-findings-v1.json', async (t) => {
  const result = await sample(t);
  const schema = JSON.parse(
    readFileSync(new URL('../../../schemas/scan-findings-v1.json', import.meta.url), 'utf8'),
  );
  const ajv = new Ajv({ allErrors: true, strict: true });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  const predicate = scanPredicate(
    result,
    { kind: 'git', name: 'repo', commit: 'a'.repeat(40), dirty: false },
    '2024-01-01T00:00:00Z',
  );
  assert.ok(validate(predicate), JSON.stringify(validate.errors));
  assert.equal(predicate.clean, false);
  assert.equal((predicate.totals as any).findings, 2);
  assert.equal((predicate.totals as any).suppressed, 1);
  const st = scanStatement({ name: 'repo', digest: { sha256: 'b'.repeat(64) } }, predicate);
  assert.equal(st.predicateType, 'https://vouch.dev/attestation/scan/v1');
  const tampered = structuredClone(predicate) as any;
  tampered.findings[0].severity = 'urgent';
  assert.equal(validate(tampered), false);
});

test('SARIF artifact URIs are relative references that keep # and ? in file names (c#/app.env)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-scan-out-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const secret = j('URL=postgres://app:', 'Zq8v7Hn2Kx4s', '@db.prod.internal/app\n');
  await mkdir(join(dir, 'c#'));
  await writeFile(join(dir, 'c#', 'app.env'), secret);
  await writeFile(join(dir, 'why?.env'), secret);
  await writeFile(join(dir, '100% [x].env'), secret);
  const sarif = toSarif(await scanPath(dir, { only: ['secrets'] })) as any;
  const uris = sarif.runs[0].results
    .map((r: any) => r.locations[0].physicalLocation.artifactLocation.uri)
    .sort();
  assert.deepEqual(uris, ['100%25%20%5Bx%5D.env', 'c%23/app.env', 'why%3F.env']);
  // Each resolves back to the file's relative path.
  for (const u of uris)
    assert.ok(!new URL(u, 'file:///r/').hash && !new URL(u, 'file:///r/').search);
});

test('SARIF in a git work tree: URIs from the repository root with %SRCROOT% described; the JSON names stay from the scanned directory', async (t) => {
  const dir = await realpath(await mkdtemp(join(tmpdir(), 'vouch-scan-out-')));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const secret = j('URL=postgres://app:', 'Zq8v7Hn2Kx4s', '@db.prod.internal/app\n');
  await mkdir(join(dir, 'repo', 'deploy', 'c#'), { recursive: true });
  await writeFile(join(dir, 'repo', 'deploy', 'c#', 'app.env'), secret);
  await writeFile(join(dir, 'repo', 'deploy', 'a b.env'), secret);
  execFileSync('git', ['init', '-q', join(dir, 'repo')]);
  const result = await scanPath(join(dir, 'repo', 'deploy'), { only: ['secrets'] });
  assert.equal(result.repoPath, 'deploy');
  assert.deepEqual(result.findings.map((f) => f.file).sort(), ['a b.env', 'c#/app.env']);
  const sarif = toSarif(result) as any;
  const validate = sarifValidator();
  assert.ok(validate(sarif), JSON.stringify(validate.errors, null, 2));
  const run = sarif.runs[0];
  assert.deepEqual(Object.keys(run.originalUriBaseIds), ['%SRCROOT%']);
  assert.equal(run.originalUriBaseIds['%SRCROOT%'].uri, undefined);
  const root = pathToFileURL(`${join(dir, 'repo')}/`);
  const files = run.results.map((r: any) => {
    const loc = r.locations[0].physicalLocation.artifactLocation;
    assert.equal(loc.uriBaseId, '%SRCROOT%');
    return fileURLToPath(new URL(loc.uri, root));
  });
  assert.deepEqual(files.sort(), [
    join(dir, 'repo', 'deploy', 'a b.env'),
    join(dir, 'repo', 'deploy', 'c#', 'app.env'),
  ]);
  for (const f of files) assert.ok(existsSync(f));
  // Tamper: an originalUriBaseIds entry must be an artifactLocation (no bare string).
  const bad = structuredClone(sarif);
  bad.runs[0].originalUriBaseIds['%SRCROOT%'] = 'file:///r/';
  assert.equal(validate(bad) as boolean, false);
  // Same scan outside git: no repoPath, URIs from the scanned directory.
  await rm(join(dir, 'repo', '.git'), { recursive: true });
  const plain = toSarif(await scanPath(join(dir, 'repo', 'deploy'), { only: ['secrets'] })) as any;
  assert.deepEqual(
    plain.runs[0].results
      .map((r: any) => r.locations[0].physicalLocation.artifactLocation.uri)
      .sort(),
    ['a%20b.env', 'c%23/app.env'],
  );
});
