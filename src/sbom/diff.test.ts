import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { SHARED } from '../../test/shared.ts';
import { diffSboms, readSbomDocument } from './diff.ts';
import type { Component, Sbom } from './model.ts';
import { toCycloneDx } from './writers/cyclonedx.ts';
import { toSpdx } from './writers/spdx.ts';
import { everyFeatureSbom } from './writers/testing.ts';

const JABREF = `${SHARED}/vectors/sbom/real-sboms/jabref.cyclonedx-1.6.bom.json`;

function npm(name: string, version: string, licenses: string[] = []): Component {
  const purl = `pkg:npm/${name}@${version}`;
  return {
    ref: purl,
    ecosystem: 'npm',
    name,
    version,
    purl,
    scope: 'required',
    licenses,
    hashes: [],
    foundIn: ['package-lock.json'],
  };
}

function sbomOf(components: Component[]): Sbom {
  return {
    subject: { kind: 'directory', name: 'p' },
    created: '2024-01-01T00:00:00Z',
    tool: { name: 'vouch', version: '0.1.0' },
    components,
    dependencies: [],
    roots: [],
    accounting: [],
  };
}

test('the same SBOM in CycloneDX and in SPDX is identical to itself and to the other format', () => {
  const cdx = toCycloneDx(everyFeatureSbom());
  const spdx = toSpdx(everyFeatureSbom());
  for (const [a, b] of [
    [cdx, cdx],
    [spdx, spdx],
    [cdx, spdx],
    [spdx, cdx],
  ]) {
    const d = diffSboms(a, b);
    assert.equal(d.identical, true, JSON.stringify(d, null, 2));
    assert.equal(d.unchanged, 5);
  }
  // The subject (metadata.component / the DESCRIBES target) is not a component.
  assert.equal(readSbomDocument(spdx, 'x').components.length, 5);
});

test('added, removed, version and licence changes', () => {
  const before = toCycloneDx(
    sbomOf([npm('a', '1.0.0', ['MIT']), npm('b', '1.0.0'), npm('c', '2.0.0', ['MIT'])]),
  );
  const after = toSpdx(
    sbomOf([npm('a', '1.1.0', ['MIT']), npm('c', '2.0.0', ['Apache-2.0']), npm('d', '0.1.0')]),
  );
  const d = diffSboms(before, after, ['before.json', 'after.json']);
  assert.equal(d.identical, false);
  assert.deepEqual(
    d.added.map((c) => c.purl),
    ['pkg:npm/d@0.1.0'],
  );
  assert.deepEqual(
    d.removed.map((c) => c.purl),
    ['pkg:npm/b@1.0.0'],
  );
  assert.deepEqual(
    d.changed.map((c) => [c.key, c.from.version, c.to.version, c.version, c.licenses]),
    [
      ['pkg:npm/a', '1.0.0', '1.1.0', true, false],
      ['pkg:npm/c', '2.0.0', '2.0.0', false, true],
    ],
  );
  assert.deepEqual(d.changed[1]?.from.licenses, ['MIT']);
  assert.deepEqual(d.changed[1]?.to.licenses, ['Apache-2.0']);
  assert.equal(d.unchanged, 0);
});

test('a changed set of origins is a change, in either format and across formats', () => {
  const a = everyFeatureSbom();
  const b = everyFeatureSbom();
  const pad = b.components.find((c) => c.name === 'left-pad') as Component;
  // One copy now comes over plain HTTP from another host; nothing else changed.
  pad.otherSources = [...(pad.otherSources ?? []), { kind: 'registry', url: 'http://npm.evil' }];
  for (const [x, y] of [
    [toCycloneDx(a), toCycloneDx(b)],
    [toSpdx(a), toSpdx(b)],
    [toCycloneDx(a), toSpdx(b)],
  ]) {
    const d = diffSboms(x, y);
    assert.equal(d.identical, false);
    assert.deepEqual(
      d.changed.map((c) => [c.key, c.version, c.licenses, c.sources]),
      [['pkg:npm/left-pad', false, false, true]],
    );
    assert.deepEqual(d.changed[0]?.from.sources, [
      'file:vendor/left-pad',
      'git:https://github.com/left-pad/left-pad.git#0123456',
      'registry',
      'registry:http://registry.npmjs.org',
      'tarball:https://example.com/left-pad-1.3.0.tgz',
    ]);
    assert.ok(d.changed[0]?.to.sources.includes('registry:http://npm.evil'));
    assert.equal(d.unchanged, 4);
  }
  // Another tool's documents: their download and VCS URLs are the origins.
  const foreign = (url: string) => ({
    bomFormat: 'CycloneDX',
    components: [
      { name: 'x', version: '1', purl: 'pkg:npm/x@1', externalReferences: [{ type: 'vcs', url }] },
    ],
  });
  assert.equal(diffSboms(foreign('https://a/x.git'), foreign('https://a/x.git')).identical, true);
  assert.deepEqual(
    diffSboms(foreign('https://a/x.git'), foreign('https://b/x.git')).changed[0]?.to.sources,
    ['https://b/x.git'],
  );
});

test('several versions of one package: common ones match, the rest pair in version order', () => {
  const a = toCycloneDx(sbomOf([npm('x', '1.0.0'), npm('x', '2.0.0'), npm('x', '3.0.0')]));
  const b = toCycloneDx(sbomOf([npm('x', '2.0.0'), npm('x', '10.0.0')]));
  const d = diffSboms(a, b);
  assert.equal(d.unchanged, 1);
  // 1.0.0 → 10.0.0 is the pairing in numeric version order; 3.0.0 is left over.
  assert.deepEqual(
    d.changed.map((c) => [c.from.version, c.to.version]),
    [['1.0.0', '10.0.0']],
  );
  assert.deepEqual(
    d.removed.map((c) => c.version),
    ['3.0.0'],
  );
});

test('licences compare by AND operands across formats and spellings', () => {
  const a = toCycloneDx(sbomOf([npm('x', '1.0.0', ['MIT', 'ISC'])]));
  const b = toSpdx(sbomOf([npm('x', '1.0.0', ['(ISC) AND MIT'])]));
  assert.equal(diffSboms(a, b).identical, true);
});

test('a real third-party CycloneDX SBOM (JabRef) against itself and an edited copy', () => {
  const jabref = JSON.parse(readFileSync(JABREF, 'utf8'));
  const same = diffSboms(jabref, structuredClone(jabref));
  assert.equal(same.identical, true);
  assert.ok(same.unchanged > 50, `only ${same.unchanged} components read`);
  const edited = structuredClone(jabref);
  const removed = edited.components.pop();
  const d = diffSboms(jabref, edited);
  assert.equal(d.removed.length, 1);
  assert.equal(d.removed[0]?.purl, removed.purl);
});

test('bad input is PREDICATE_MALFORMED naming the source', () => {
  for (const bad of [
    null,
    [],
    'x',
    { hello: 1 },
    { bomFormat: 'CycloneDX', components: {} },
    { spdxVersion: 'SPDX-2.3', packages: [1] },
  ]) {
    assert.throws(
      () => diffSboms(bad, toCycloneDx(sbomOf([])), ['left.json', 'right.json']),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'PREDICATE_MALFORMED');
        assert.match(e.message, /^left\.json/);
        return true;
      },
    );
  }
});
