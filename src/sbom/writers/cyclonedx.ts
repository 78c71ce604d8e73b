import { canonicalize } from '../../core/canonical.ts';
import { isComplete, totalsOf } from '../merge.ts';
import type { Component, Sbom, Scope, Source } from '../model.ts';
import {
  asOperand,
  contentUuid,
  isWellFormedHash,
  jsonText,
  knownEdges,
  type LicenseForm,
  licenseForm,
  sourceText,
  topLevel,
} from './common.ts';

/**
 * CycloneDX 1.6 JSON, written directly rather than through
 * @cyclonedx/cyclonedx-library's models and serializer: the document is a
 * plain mapping of our model, and building it by hand keeps key order and
 * list order under our control (golden files and byte-reproducible output do
 * not depend on the library's normaliser from one release to the next), costs
 * one pass over the components for lockfiles of tens of thousands of
 * packages, and needs no bom-ref object bookkeeping. The library is used for
 * what it is the authority on: its SPDX licence-id table (via common.ts),
 * which is the one the schema enumerates. Tests validate every document
 * against the official schema.
 */
export const CYCLONEDX_SPEC_VERSION = '1.6';
export const CYCLONEDX_SCHEMA = 'http://cyclonedx.org/schema/bom-1.6.schema.json';
/** bom-ref of metadata.component; never a purl, so it cannot collide with a component's ref. */
export const SUBJECT_REF = 'vouch:subject';

/**
 * Model scope → CycloneDX scope. CycloneDX defines `excluded` as "not
 * reachable at runtime … for test and other non-runtime purposes", which is
 * what a dev dependency is; a peer dependency present in the lockfile is
 * needed at run time (the host provides it), so it is `required`. The model's
 * own scope is kept in the `vouch:scope` property either way.
 */
export const CYCLONEDX_SCOPE: Record<Scope, 'required' | 'optional' | 'excluded'> = {
  required: 'required',
  peer: 'required',
  optional: 'optional',
  dev: 'excluded',
};

type Json = Record<string, unknown>;

/** The CycloneDX 1.6 document for an SBOM, as a JSON value. */
export function toCycloneDx(sbom: Sbom): Json {
  const totals = totalsOf(sbom);
  const subject: Json = {
    type: sbom.subject.kind === 'image' ? 'container' : 'application',
    'bom-ref': SUBJECT_REF,
    name: sbom.subject.name,
  };
  if (sbom.subject.digest) {
    subject.hashes = [{ alg: 'SHA-256', content: sbom.subject.digest.sha256 }];
  }
  const metadata: Json = {
    timestamp: sbom.created,
    tools: {
      components: [{ type: 'application', name: sbom.tool.name, version: sbom.tool.version }],
    },
    component: subject,
    properties: [
      { name: 'vouch:declared', value: String(totals.declared) },
      { name: 'vouch:emitted', value: String(totals.components) },
      { name: 'vouch:skipped', value: String(totals.skipped) },
      { name: 'vouch:failed', value: String(totals.failed) },
      // The whole per-file accounting, canonical JSON: machine-readable and reproducible.
      { name: 'vouch:accounting', value: canonicalize(sbom.accounting) },
    ],
  };
  const dependencies: Json[] = [{ ref: SUBJECT_REF, dependsOn: topLevel(sbom) }];
  for (const d of graphOf(sbom)) dependencies.push(d);
  const doc: Json = {
    $schema: CYCLONEDX_SCHEMA,
    bomFormat: 'CycloneDX',
    specVersion: CYCLONEDX_SPEC_VERSION,
    serialNumber: '',
    version: 1,
    metadata,
    components: sbom.components.map(componentOf),
    dependencies,
    compositions: [
      {
        aggregate: isComplete(sbom) ? 'complete' : 'incomplete',
        assemblies: [SUBJECT_REF],
        dependencies: [SUBJECT_REF],
      },
    ],
  };
  // The serial number names the content: a hash of the document without it.
  const { serialNumber: _, ...rest } = doc;
  doc.serialNumber = `urn:uuid:${contentUuid(rest)}`;
  return doc;
}

/** The CycloneDX 1.6 JSON text; byte-identical for the same SBOM. */
export function writeCycloneDx(sbom: Sbom): string {
  return jsonText(toCycloneDx(sbom));
}

/**
 * The dependency graph. An empty `dependsOn` says "depends on nothing", so it
 * is written only for components from a source that records a graph (some
 * component found in the same file has edges); a component from a flat list
 * (requirements.txt) gets no entry, which CycloneDX reads as "unknown".
 */
function graphOf(sbom: Sbom): Array<{ ref: string; dependsOn: string[] }> {
  const edges = new Map(knownEdges(sbom).map((d) => [d.ref, d.dependsOn]));
  const withGraph = new Set<string>();
  for (const c of sbom.components) {
    if ((edges.get(c.ref)?.length ?? 0) > 0) for (const f of c.foundIn) withGraph.add(f);
  }
  return sbom.components
    .filter((c) => (edges.get(c.ref)?.length ?? 0) > 0 || c.foundIn.some((f) => withGraph.has(f)))
    .map((c) => ({ ref: c.ref, dependsOn: edges.get(c.ref) ?? [] }));
}

function componentOf(c: Component): Json {
  const out: Json = { type: 'library', 'bom-ref': c.ref };
  if (c.namespace && !['deb', 'apk', 'rpm'].includes(c.ecosystem)) out.group = c.namespace;
  out.name = c.name;
  if (c.version) out.version = c.version;
  out.scope = CYCLONEDX_SCOPE[c.scope];
  const hashes = c.hashes
    .filter(isWellFormedHash)
    .map((h) => ({ alg: h.algorithm, content: h.value }));
  if (hashes.length > 0) out.hashes = hashes;
  const licenses = licensesOf(c.licenses);
  if (licenses.length > 0) out.licenses = licenses;
  out.purl = c.purl;
  const refs = externalReferencesOf(c);
  if (refs.length > 0) out.externalReferences = refs;
  out.properties = propertiesOf(c);
  return out;
}

/**
 * CycloneDX allows either a list of `{license: {id | name}}` or exactly one
 * `{expression}`. One expression is written as one; several licences of which
 * some are expressions are joined with AND into one expression when every
 * part is SPDX (each reported licence applies), else all are written as
 * licences with expressions kept as names, so nothing is dropped.
 */
export function licensesOf(licenses: readonly string[]): Json[] {
  const forms = licenses.map(licenseForm);
  if (forms.length === 0) return [];
  const hasExpression = forms.some((f) => f.kind === 'expression');
  if (hasExpression && forms.every((f) => f.kind !== 'name')) {
    const parts = forms.map((f) => {
      if (f.kind === 'id') return f.id;
      const e = (f as { expression: string }).expression;
      return forms.length > 1 ? asOperand(e) : e;
    });
    return [{ expression: [...new Set(parts)].join(' AND ') }];
  }
  const seen = new Set<string>();
  const out: Json[] = [];
  for (const f of forms) {
    const license = disjunctive(f);
    const key = JSON.stringify(license);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ license });
  }
  return out;
}

function disjunctive(f: LicenseForm): Json {
  switch (f.kind) {
    case 'id':
      return { id: f.id };
    case 'expression':
      return { name: f.expression };
    case 'name':
      return { name: f.name };
  }
}

/**
 * One reference per origin with a URL (the source first, then the other
 * sources in their order): git as `vcs`, registry and tarball URLs as
 * `distribution`. Paths are not URLs and get none.
 */
function externalReferencesOf(c: Component): Json[] {
  const out: Json[] = [];
  const seen = new Set<string>();
  for (const s of c.source ? [c.source, ...(c.otherSources ?? [])] : (c.otherSources ?? [])) {
    const type = referenceType(s);
    if (!type || !s.url || !URL.canParse(s.url) || seen.has(`${type} ${s.url}`)) continue;
    seen.add(`${type} ${s.url}`);
    out.push({ type, url: s.url });
  }
  return out;
}

function referenceType(s: Source): 'vcs' | 'distribution' | undefined {
  switch (s.kind) {
    case 'git':
      return 'vcs';
    case 'tarball':
    case 'registry':
      return 'distribution';
    case 'file':
    case 'link':
    case 'workspace':
      return undefined;
  }
}

function propertiesOf(c: Component): Json[] {
  const props: Array<{ name: string; value: string }> = [];
  if (c.ecosystem === 'npm' && c.scope === 'dev') {
    // CycloneDX's registered property for npm dev dependencies (cdx:npm taxonomy).
    props.push({ name: 'cdx:npm:package:development', value: 'true' });
  }
  for (const f of c.foundIn) props.push({ name: 'vouch:foundIn', value: f });
  props.push({ name: 'vouch:scope', value: c.scope });
  if (c.source) props.push({ name: 'vouch:source', value: sourceText(c.source) });
  for (const s of c.otherSources ?? [])
    props.push({ name: 'vouch:otherSource', value: sourceText(s) });
  for (const key of Object.keys(c.properties ?? {}).sort()) {
    props.push({
      name: `vouch:${key}`,
      value: (c.properties as Record<string, string>)[key] as string,
    });
  }
  return props;
}
