import assert from 'node:assert/strict';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Sbom } from './model.ts';
import { detectTarget, formatByName, renderSbom, sbomStatement } from './sbom.ts';

test('detectTarget: OCI layouts, extracted docker save, .tar archives are images', async (t) => {
  const root = await realpath(await mkdtemp(join(tmpdir(), 'vouch-target-')));
  t.after(() => rm(root, { recursive: true, force: true }));
  const dir = async (name: string, files: Record<string, string>) => {
    await mkdir(join(root, name));
    for (const [f, text] of Object.entries(files)) await writeFile(join(root, name, f), text);
    return join(root, name);
  };
  const oci = await dir('oci', { 'oci-layout': '{"imageLayoutVersion":"1.0.0"}' });
  const saved = await dir('saved', {
    'manifest.json': '[{"Config":"c.json","RepoTags":["a:1"],"Layers":["l/layer.tar"]}]',
  });
  const webapp = await dir('webapp', { 'manifest.json': '{"name":"my pwa","icons":[]}' });
  const broken = await dir('broken', { 'manifest.json': '[{' });
  await writeFile(join(root, 'image.tar'), '');
  await writeFile(join(root, 'yarn.lock'), '');
  assert.deepEqual(await detectTarget(oci), { kind: 'image', path: oci });
  assert.deepEqual(await detectTarget(saved), { kind: 'image', path: saved });
  assert.deepEqual(await detectTarget(webapp), { kind: 'directory', path: webapp });
  assert.deepEqual(await detectTarget(broken), { kind: 'directory', path: broken });
  assert.equal((await detectTarget(join(root, 'image.tar'))).kind, 'image');
  assert.equal((await detectTarget(join(root, 'yarn.lock'))).kind, 'file');
  await assert.rejects(detectTarget(join(root, 'nope')), { code: 'FILE_NOT_FOUND' });
});

test('renderSbom and sbomStatement: format, predicate type, the document as predicate', () => {
  const sbom: Sbom = {
    subject: { kind: 'file', name: 'x' },
    created: '2020-01-01T00:00:00Z',
    tool: { name: 'vouch', version: '0' },
    components: [],
    dependencies: [],
    roots: [],
    accounting: [],
  };
  const cdx = renderSbom(sbom);
  assert.equal(cdx.format, 'cyclonedx-json');
  assert.equal(cdx.predicateType, 'https://cyclonedx.org/bom');
  assert.deepEqual(JSON.parse(cdx.text), cdx.document);
  const spdx = renderSbom(sbom, 'spdx-json');
  assert.equal(spdx.predicateType, 'https://spdx.dev/Document');
  const st = sbomStatement(spdx, { name: 'app', digest: { sha256: 'a'.repeat(64) } });
  assert.equal(st._type, 'https://in-toto.io/Statement/v1');
  assert.equal(st.predicate, spdx.document);
  assert.throws(() => formatByName('cyclonedx-xml'), { code: 'USAGE' });
});
