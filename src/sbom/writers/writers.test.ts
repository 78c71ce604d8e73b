import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { SHARED } from '../../../test/shared.ts';
import type { Sbom } from '../model.ts';
import { licenseForm, spdxExpression } from './common.ts';
import { SUBJECT_REF, toCycloneDx, writeCycloneDx } from './cyclonedx.ts';
import { spdxIdOf, toSpdx, writeSpdx } from './spdx.ts';
import {
  cyclonedxValidator,
  everyFeatureSbom,
  SCHEMAS,
  schemaErrors,
  spdxValidator,
} from './testing.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests read JSON of a shape they assert on
type Any = any;

const emptySbom = (): Sbom => ({
  subject: { kind: 'directory', name: 'empty' },
  created: '1970-01-01T00:00:00Z',
  tool: { name: 'vouch', version: '0.1.0' },
  components: [],
  dependencies: [],
  roots: [],
  accounting: [],
});

test('schema loading: the real JabRef CycloneDX 1.6 SBOM validates', () => {
  const jabref = JSON.parse(
    readFileSync(`${SHARED}/vectors/sbom/real-sboms/jabref.cyclonedx-1.6.bom.json`, 'utf8'),
  );
  assert.equal(schemaErrors(cyclonedxValidator(), jabref), undefined);
});

test('schema loading: CycloneDX conformance BOMs pass and fail as the specification says', () => {
  const dir = `${SCHEMAS}/cyclonedx/tests-1.6`;
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  assert.ok(files.length > 40);
  const validate = cyclonedxValidator();
  for (const f of files) {
    const doc = JSON.parse(readFileSync(`${dir}/${f}`, 'utf8'));
    assert.equal(validate(doc), f.startsWith('valid-'), f);
  }
});

test('schema loading: the official SPDX 2.3 example validates', () => {
  const example = JSON.parse(
    readFileSync(`${SCHEMAS}/spdx/SPDXJSONExample-v2.3.spdx.json`, 'utf8'),
  );
  assert.equal(schemaErrors(spdxValidator(), example), undefined);
});

test('cyclonedx: a model with every feature validates against bom-1.6.schema.json', () => {
  const doc = toCycloneDx(everyFeatureSbom());
  assert.equal(schemaErrors(cyclonedxValidator(), doc), undefined);
});

test('cyclonedx: an empty SBOM validates and is complete', () => {
  const doc: Any = toCycloneDx(emptySbom());
  assert.equal(schemaErrors(cyclonedxValidator(), doc), undefined);
  assert.equal(doc.compositions[0].aggregate, 'complete');
  assert.deepEqual(doc.components, []);
});

test('cyclonedx: broken documents fail validation (the validator really checks)', () => {
  const validate = cyclonedxValidator();
  const broken = (edit: (d: Any) => void) => {
    const d: Any = toCycloneDx(everyFeatureSbom());
    edit(d);
    return validate(d);
  };
  assert.equal(
    broken((d) => {
      d.specVersion = 1.6;
    }),
    false,
  );
  assert.equal(
    broken((d) => {
      d.components[0].scope = 'dev';
    }),
    false,
  );
  assert.equal(
    broken((d) => {
      d.components[0].hashes[0].content = 'xyz';
    }),
    false,
  );
  assert.equal(
    broken((d) => {
      d.serialNumber = 'urn:uuid:not-a-uuid';
    }),
    false,
  );
  assert.equal(
    broken((d) => {
      d.components[1].licenses[0] = { license: { id: 'Not-A-Licence' } };
    }),
    false,
  );
  assert.equal(
    broken((d) => {
      d.components[0].unknownField = 1;
    }),
    false,
  );
});

test('cyclonedx: mapping of subject, scopes, licences, hashes, sources, graph, accounting', () => {
  const doc: Any = toCycloneDx(everyFeatureSbom());
  assert.equal(doc.bomFormat, 'CycloneDX');
  assert.equal(doc.specVersion, '1.6');
  assert.match(
    doc.serialNumber,
    /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  );
  assert.equal(doc.metadata.timestamp, '2024-01-02T03:04:05Z');
  assert.deepEqual(doc.metadata.tools.components[0], {
    type: 'application',
    name: 'vouch',
    version: '0.1.0',
  });
  assert.equal(doc.metadata.component['bom-ref'], SUBJECT_REF);
  const by = (ref: string) => doc.components.find((c: Any) => c['bom-ref'] === ref);

  const lib = by('pkg:npm/%40scope/lib@2.0.0');
  assert.equal(lib.group, '@scope');
  assert.equal(lib.name, 'lib');
  assert.equal(lib.scope, 'excluded');
  assert.deepEqual(lib.licenses, [{ expression: 'MIT OR Apache-2.0' }]);
  assert.deepEqual(lib.externalReferences, [
    { type: 'vcs', url: 'git+ssh://git@github.com/scope/lib.git#0123456789abcdef' },
  ]);
  const props = lib.properties.map((p: Any) => `${p.name}=${p.value}`);
  assert.ok(props.includes('cdx:npm:package:development=true'));
  assert.ok(props.includes('vouch:foundIn=package-lock.json'));
  assert.ok(props.includes('vouch:foundIn=packages/a/package-lock.json'));
  assert.ok(props.includes('vouch:scope=dev'));
  assert.ok(props.includes('vouch:npm:alias=lib-alias'));

  assert.equal(by('pkg:npm/left-pad@1.3.0').scope, 'required'); // peer
  assert.deepEqual(by('pkg:npm/left-pad@1.3.0').licenses, [{ license: { id: 'WTFPL' } }]);
  // Every origin with a URL, the source first: the git copy and the plain-HTTP registry copy too.
  assert.deepEqual(by('pkg:npm/left-pad@1.3.0').externalReferences, [
    { type: 'distribution', url: 'https://example.com/left-pad-1.3.0.tgz' },
    { type: 'vcs', url: 'https://github.com/left-pad/left-pad.git#0123456' },
    { type: 'distribution', url: 'http://registry.npmjs.org' },
  ]);
  assert.deepEqual(
    by('pkg:npm/left-pad@1.3.0')
      .properties.filter((p: Any) => /^vouch:(other)?[sS]ource$/.test(p.name))
      .map((p: Any) => `${p.name}=${p.value}`),
    [
      'vouch:source=tarball:https://example.com/left-pad-1.3.0.tgz',
      'vouch:otherSource=file:vendor/left-pad',
      'vouch:otherSource=git:https://github.com/left-pad/left-pad.git#0123456',
      'vouch:otherSource=registry',
      'vouch:otherSource=registry:http://registry.npmjs.org',
    ],
  );
  const maven = by('pkg:maven/org.apache.commons/commons-lang3@3.14.0');
  assert.equal(maven.group, 'org.apache.commons');
  assert.equal(maven.scope, 'optional');
  assert.deepEqual(maven.licenses, [{ expression: '(MIT OR Apache-2.0) AND BSD-3-Clause' }]);
  assert.deepEqual(maven.hashes, [
    { alg: 'SHA-1', content: '0123456789abcdef0123456789abcdef01234567' },
  ]);
  const deb = by('pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12');
  assert.equal(deb.group, undefined);
  assert.deepEqual(deb.licenses, [
    { license: { id: 'Apache-2.0' } },
    { license: { name: 'Artistic License' } },
  ]);

  const deps = new Map(doc.dependencies.map((d: Any) => [d.ref, d.dependsOn]));
  // The subject depends on the root and on what nothing else depends on.
  assert.deepEqual(deps.get(SUBJECT_REF), [
    'pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12',
    'pkg:maven/org.apache.commons/commons-lang3@3.14.0',
    'pkg:npm/my-app@1.0.0',
  ]);
  assert.deepEqual(deps.get('pkg:npm/my-app@1.0.0'), [
    'pkg:npm/%40scope/lib@2.0.0',
    'pkg:npm/left-pad@1.3.0',
  ]);
  // A leaf from a source with a graph is declared a leaf; flat sources are "unknown".
  assert.deepEqual(deps.get('pkg:npm/left-pad@1.3.0'), []);
  assert.equal(deps.has('pkg:maven/org.apache.commons/commons-lang3@3.14.0'), false);

  assert.equal(doc.compositions[0].aggregate, 'incomplete');
  const meta = new Map(doc.metadata.properties.map((p: Any) => [p.name, p.value]));
  assert.equal(meta.get('vouch:declared'), '8');
  assert.equal(meta.get('vouch:emitted'), '5');
  assert.equal(meta.get('vouch:skipped'), '1');
  assert.deepEqual(
    JSON.parse(meta.get('vouch:accounting') as string),
    everyFeatureSbom().accounting,
  );
});

test('spdx: a model with every feature validates against the SPDX 2.3 schema', () => {
  const doc = toSpdx(everyFeatureSbom());
  assert.equal(schemaErrors(spdxValidator(), doc), undefined);
  assert.equal(schemaErrors(spdxValidator(), toSpdx(emptySbom())), undefined);
});

test('spdx: broken documents fail validation (the validator really checks)', () => {
  const validate = spdxValidator();
  const broken = (edit: (d: Any) => void) => {
    const d: Any = toSpdx(everyFeatureSbom());
    edit(d);
    return validate(d);
  };
  assert.equal(
    broken((d) => {
      delete d.dataLicense;
    }),
    false,
  );
  assert.equal(
    broken((d) => {
      d.packages[1].checksums = [{ algorithm: 'SHA-256', checksumValue: 'x' }];
    }),
    false,
  );
  assert.equal(
    broken((d) => {
      d.relationships[0].relationshipType = 'LIKES';
    }),
    false,
  );
  assert.equal(
    broken((d) => {
      d.packages[1].externalRefs[0].referenceCategory = 'PACKAGE_MANAGER_X';
    }),
    false,
  );
});

test('spdx: ids, namespace, licences, download locations, relationships, accounting', () => {
  const doc: Any = toSpdx(everyFeatureSbom());
  assert.equal(doc.spdxVersion, 'SPDX-2.3');
  assert.equal(doc.dataLicense, 'CC0-1.0');
  assert.equal(doc.creationInfo.created, '2024-01-02T03:04:05Z');
  assert.deepEqual(doc.creationInfo.creators, ['Tool: vouch-0.1.0']);
  assert.match(doc.documentNamespace, /^https:\/\/vouch\.dev\/spdxdocs\/my-project-[0-9a-f-]{36}$/);
  const ids = new Set<string>();
  for (const p of doc.packages) {
    assert.match(p.SPDXID, /^SPDXRef-[A-Za-z0-9.-]+$/);
    assert.ok(!ids.has(p.SPDXID), `duplicate ${p.SPDXID}`);
    ids.add(p.SPDXID);
  }
  for (const r of doc.relationships) {
    assert.ok(r.spdxElementId === 'SPDXRef-DOCUMENT' || ids.has(r.spdxElementId), r.spdxElementId);
    assert.ok(ids.has(r.relatedSpdxElement), r.relatedSpdxElement);
  }
  const byPurl = (purl: string) =>
    doc.packages.find((p: Any) => p.externalRefs?.[0]?.referenceLocator === purl);
  const lib = byPurl('pkg:npm/%40scope/lib@2.0.0');
  assert.equal(lib.name, '@scope/lib');
  assert.equal(lib.versionInfo, '2.0.0');
  assert.equal(lib.downloadLocation, 'git+ssh://git@github.com/scope/lib.git#0123456789abcdef');
  assert.equal(lib.licenseDeclared, 'MIT OR Apache-2.0');
  assert.equal(lib.licenseConcluded, 'NOASSERTION');
  assert.deepEqual(lib.externalRefs, [
    {
      referenceCategory: 'PACKAGE-MANAGER',
      referenceType: 'purl',
      referenceLocator: 'pkg:npm/%40scope/lib@2.0.0',
    },
  ]);
  assert.deepEqual(lib.checksums, [{ algorithm: 'SHA512', checksumValue: 'ab'.repeat(64) }]);
  assert.equal(lib.sourceInfo, 'found in: package-lock.json, packages/a/package-lock.json');
  assert.equal(byPurl('pkg:npm/my-app@1.0.0').downloadLocation, 'NOASSERTION');
  // downloadLocation is the source; every other origin is a comment line.
  assert.equal(
    byPurl('pkg:npm/left-pad@1.3.0').downloadLocation,
    'https://example.com/left-pad-1.3.0.tgz',
  );
  assert.deepEqual(byPurl('pkg:npm/left-pad@1.3.0').comment.split('\n'), [
    'vouch:scope=peer',
    'vouch:source=tarball:https://example.com/left-pad-1.3.0.tgz',
    'vouch:otherSource=file:vendor/left-pad',
    'vouch:otherSource=git:https://github.com/left-pad/left-pad.git#0123456',
    'vouch:otherSource=registry',
    'vouch:otherSource=registry:http://registry.npmjs.org',
  ]);
  assert.equal(
    byPurl('pkg:maven/org.apache.commons/commons-lang3@3.14.0').name,
    'org.apache.commons:commons-lang3',
  );
  const deb = byPurl('pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12');
  assert.equal(deb.name, 'libssl3');
  assert.match(deb.licenseDeclared, /^Apache-2\.0 AND LicenseRef-Artistic-License-[0-9a-f]{8}$/);
  const ref = deb.licenseDeclared.split(' AND ')[1];
  assert.deepEqual(doc.hasExtractedLicensingInfos, [
    { licenseId: ref, extractedText: 'Artistic License', name: 'Artistic License' },
  ]);
  const rel = (a: string, type: string, b: string) =>
    doc.relationships.some(
      (r: Any) =>
        r.spdxElementId === a && r.relationshipType === type && r.relatedSpdxElement === b,
    );
  assert.ok(rel('SPDXRef-DOCUMENT', 'DESCRIBES', 'SPDXRef-Subject'));
  assert.ok(rel('SPDXRef-Subject', 'DEPENDS_ON', byPurl('pkg:npm/my-app@1.0.0').SPDXID));
  assert.ok(rel(byPurl('pkg:npm/my-app@1.0.0').SPDXID, 'DEPENDS_ON', lib.SPDXID));
  const note = doc.annotations[0].comment as string;
  assert.ok(note.startsWith('vouch:accounting '));
  assert.deepEqual(
    JSON.parse(note.slice('vouch:accounting '.length)),
    everyFeatureSbom().accounting,
  );
});

test('spdxIdOf: purls that sanitise the same still get different ids', () => {
  const a = spdxIdOf({ ref: 'pkg:npm/a@1.0', ecosystem: 'npm', name: 'a', version: '1.0' });
  const b = spdxIdOf({ ref: 'pkg:npm/a@1.0#2', ecosystem: 'npm', name: 'a', version: '1.0' });
  assert.notEqual(a, b);
});

test('output is byte-reproducible and the ids follow the content', () => {
  for (const write of [writeCycloneDx, writeSpdx]) {
    const one = write(everyFeatureSbom());
    assert.equal(write(everyFeatureSbom()), one);
    assert.ok(one.endsWith('}\n'));
    const later = everyFeatureSbom();
    later.created = '2024-01-02T03:04:06Z';
    const other = write(later);
    assert.notEqual(other, one);
  }
  const a: Any = toCycloneDx(everyFeatureSbom());
  const changed = everyFeatureSbom();
  (changed.components[0] as Any).version = '3.0.12';
  const b: Any = toCycloneDx(changed);
  assert.notEqual(a.serialNumber, b.serialNumber);
  assert.notEqual(
    (toSpdx(everyFeatureSbom()) as Any).documentNamespace,
    (toSpdx(changed) as Any).documentNamespace,
  );
});

test('licenseForm: SPDX ids (any case), expressions, names', () => {
  assert.deepEqual(licenseForm('MIT'), { kind: 'id', id: 'MIT' });
  assert.deepEqual(licenseForm('mit'), { kind: 'id', id: 'MIT' });
  assert.deepEqual(licenseForm('apache-2.0 or mit'), {
    kind: 'expression',
    expression: 'Apache-2.0 OR MIT',
  });
  assert.deepEqual(licenseForm('GPL-2.0-only WITH Classpath-exception-2.0'), {
    kind: 'expression',
    expression: 'GPL-2.0-only WITH Classpath-exception-2.0',
  });
  assert.deepEqual(licenseForm('LicenseRef-Proprietary'), {
    kind: 'expression',
    expression: 'LicenseRef-Proprietary',
  });
  assert.deepEqual(licenseForm('(MIT OR (BSD-2-Clause AND ISC))'), {
    kind: 'expression',
    expression: '(MIT OR (BSD-2-Clause AND ISC))',
  });
  assert.deepEqual(licenseForm('BSD'), { kind: 'name', name: 'BSD' });
  assert.deepEqual(licenseForm('MIT OR'), { kind: 'name', name: 'MIT OR' });
  assert.deepEqual(licenseForm('(MIT'), { kind: 'name', name: '(MIT' });
  assert.deepEqual(licenseForm('Public Domain'), { kind: 'name', name: 'Public Domain' });
  assert.equal(spdxExpression('MIT AND'), undefined);
  assert.equal(spdxExpression('MIT Apache-2.0'), undefined);
});
