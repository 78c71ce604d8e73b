// Test support (not shipped API): the official JSON Schemas loaded into ajv,
// and a model that uses every feature the writers map.
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { SHARED } from '../../../test/shared.ts';
import type { Sbom } from '../model.ts';

/** Official schemas, copied byte-for-byte (see ../shared/vectors/MANIFEST.md). */
export const SCHEMAS = `${SHARED}/vectors/sbom/schemas`;

const json = (path: string) => JSON.parse(readFileSync(`${SCHEMAS}/${path}`, 'utf8'));

// ajv-formats is CommonJS; under Node's ESM loader its default export is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

function newAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  // ajv-formats has no IRI or IDN formats (they come from ajv-formats-draft2019, not a
  // dependency here). Approximations that accept what the RFCs accept for our output:
  // an IRI reference is a URI reference once non-ASCII is percent-encoded.
  const uriReference = ajv.formats['uri-reference'];
  const isUriReference = (s: string): boolean => {
    if (uriReference instanceof RegExp) return uriReference.test(s);
    if (typeof uriReference === 'function') return uriReference(s) as boolean;
    throw new Error('ajv-formats did not define uri-reference');
  };
  ajv.addFormat('iri-reference', (s: string) =>
    isUriReference(s.replace(/[\u{80}-\u{10ffff}]/gu, (c) => encodeURIComponent(c))),
  );
  ajv.addFormat('idn-email', /^[^\s@]+@[^\s@]+$/u);
  return ajv;
}

let cdx: ValidateFunction | undefined;
let spdx: ValidateFunction | undefined;

/** CycloneDX 1.6 validator with spdx.schema.json and jsf-0.82.schema.json loaded by their $ids. */
export function cyclonedxValidator(): ValidateFunction {
  if (!cdx) {
    const ajv = newAjv();
    ajv.addSchema(json('cyclonedx/spdx.schema.json'));
    ajv.addSchema(json('cyclonedx/jsf-0.82.schema.json'));
    cdx = ajv.compile(json('cyclonedx/bom-1.6.schema.json'));
  }
  return cdx;
}

/** SPDX 2.3 validator (spdx-spec branch support/2.3). */
export function spdxValidator(): ValidateFunction {
  if (!spdx) spdx = newAjv().compile(json('spdx/spdx-2.3-schema.json'));
  return spdx;
}

/** The schema errors of a validation, readable in an assertion message. */
export function schemaErrors(validate: ValidateFunction, doc: unknown): string | undefined {
  if (validate(doc)) return undefined;
  return JSON.stringify(validate.errors?.slice(0, 10), null, 2);
}

/**
 * A model with every feature the writers map: scoped npm with a git source,
 * maven with a group, deb with qualifiers, a tarball source, licences as id,
 * as expression, as a name and as several, hashes, a graph, a root, dev and
 * optional and peer scopes, properties, a component found in two files, one
 * whose copies come from several origins, and
 * accounting with a skipped entry and an incomplete source.
 */
export function everyFeatureSbom(): Sbom {
  return {
    subject: { kind: 'directory', name: 'my project' },
    created: '2024-01-02T03:04:05Z',
    tool: { name: 'vouch', version: '0.1.0' },
    roots: ['pkg:npm/my-app@1.0.0'],
    components: [
      {
        ref: 'pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12',
        ecosystem: 'deb',
        namespace: 'debian',
        name: 'libssl3',
        version: '3.0.11-1~deb12u2',
        purl: 'pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12',
        scope: 'required',
        licenses: ['Apache-2.0', 'Artistic License'],
        hashes: [{ algorithm: 'MD5', value: '0123456789abcdef0123456789abcdef' }],
        foundIn: ['var/lib/dpkg/status'],
      },
      {
        ref: 'pkg:maven/org.apache.commons/commons-lang3@3.14.0',
        ecosystem: 'maven',
        namespace: 'org.apache.commons',
        name: 'commons-lang3',
        version: '3.14.0',
        purl: 'pkg:maven/org.apache.commons/commons-lang3@3.14.0',
        scope: 'optional',
        licenses: ['(MIT OR Apache-2.0)', 'BSD-3-Clause'],
        hashes: [{ algorithm: 'SHA-1', value: '0123456789abcdef0123456789abcdef01234567' }],
        foundIn: ['gradle.lockfile'],
      },
      {
        ref: 'pkg:npm/%40scope/lib@2.0.0',
        ecosystem: 'npm',
        namespace: '@scope',
        name: 'lib',
        version: '2.0.0',
        purl: 'pkg:npm/%40scope/lib@2.0.0',
        scope: 'dev',
        licenses: ['MIT OR Apache-2.0'],
        hashes: [{ algorithm: 'SHA-512', value: 'ab'.repeat(64) }],
        foundIn: ['package-lock.json', 'packages/a/package-lock.json'],
        source: { kind: 'git', url: 'git+ssh://git@github.com/scope/lib.git#0123456789abcdef' },
        properties: { 'npm:alias': 'lib-alias' },
      },
      {
        ref: 'pkg:npm/left-pad@1.3.0',
        ecosystem: 'npm',
        name: 'left-pad',
        version: '1.3.0',
        purl: 'pkg:npm/left-pad@1.3.0',
        scope: 'peer',
        licenses: ['WTFPL'],
        hashes: [
          { algorithm: 'SHA-1', value: 'cd'.repeat(20) },
          { algorithm: 'SHA-512', value: 'ef'.repeat(64) },
        ],
        foundIn: ['package-lock.json'],
        source: { kind: 'tarball', url: 'https://example.com/left-pad-1.3.0.tgz' },
        // Other copies of the same package, resolved elsewhere.
        otherSources: [
          { kind: 'file', url: 'vendor/left-pad' },
          { kind: 'git', url: 'https://github.com/left-pad/left-pad.git#0123456' },
          { kind: 'registry' },
          { kind: 'registry', url: 'http://registry.npmjs.org' },
        ],
      },
      {
        ref: 'pkg:npm/my-app@1.0.0',
        ecosystem: 'npm',
        name: 'my-app',
        version: '1.0.0',
        purl: 'pkg:npm/my-app@1.0.0',
        scope: 'required',
        licenses: ['ISC'],
        hashes: [],
        foundIn: ['package-lock.json'],
        source: { kind: 'workspace' },
      },
    ],
    dependencies: [
      { ref: 'pkg:npm/%40scope/lib@2.0.0', dependsOn: ['pkg:npm/left-pad@1.3.0'] },
      {
        ref: 'pkg:npm/my-app@1.0.0',
        dependsOn: ['pkg:npm/%40scope/lib@2.0.0', 'pkg:npm/left-pad@1.3.0'],
      },
    ],
    accounting: [
      {
        file: 'gradle.lockfile',
        reader: 'gradle',
        format: 'gradle.lockfile',
        declared: 1,
        emitted: 1,
        merged: 0,
        skipped: [],
      },
      {
        file: 'package-lock.json',
        reader: 'npm',
        format: 'package-lock.json v3',
        declared: 5,
        emitted: 3,
        merged: 1,
        skipped: [{ entry: 'node_modules/odd', reason: 'no version' }],
      },
      {
        file: 'packages/a/package-lock.json',
        reader: 'npm',
        format: 'package-lock.json v3',
        declared: 1,
        emitted: 1,
        merged: 0,
        skipped: [],
      },
      {
        file: 'var/lib/dpkg/status',
        reader: 'dpkg',
        format: 'dpkg status',
        declared: 1,
        emitted: 1,
        merged: 0,
        skipped: [],
        incomplete: true,
        incompleteReason: 'example of a source that is partial by nature',
      },
    ],
  };
}
