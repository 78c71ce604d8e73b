import { createHash } from 'node:crypto';
import { canonicalize } from '../../core/canonical.ts';
import { totalsOf } from '../merge.ts';
import type { Component, Hash, Sbom } from '../model.ts';
import {
  asOperand,
  contentUuid,
  displayName,
  isWellFormedHash,
  jsonText,
  knownEdges,
  licenseForm,
  sourceText,
  topLevel,
} from './common.ts';
import { commentLine } from './spdx-comment.ts';

export const SPDX_VERSION = 'SPDX-2.3';
export const SPDX_SUBJECT_ID = 'SPDXRef-Subject';
/** documentNamespace prefix; the rest is the subject's name and a content-derived UUID. */
export const SPDX_NAMESPACE_BASE = 'https://vouch.dev/spdxdocs/';

const CHECKSUM_ALGORITHM: Record<Hash['algorithm'], string> = {
  'SHA-1': 'SHA1',
  'SHA-256': 'SHA256',
  'SHA-384': 'SHA384',
  'SHA-512': 'SHA512',
  MD5: 'MD5',
};

type Json = Record<string, unknown>;

/** The SPDX 2.3 document for an SBOM, as a JSON value. */
export function toSpdx(sbom: Sbom): Json {
  const creator = `Tool: ${sbom.tool.name}-${sbom.tool.version}`;
  const extracted = new Map<string, string>();
  const ids = new Map<string, string>();
  for (const c of sbom.components) ids.set(c.ref, spdxIdOf(c));

  const subject: Json = {
    name: sbom.subject.name,
    SPDXID: SPDX_SUBJECT_ID,
    downloadLocation: 'NOASSERTION',
    filesAnalyzed: false,
  };
  if (sbom.subject.digest) {
    subject.checksums = [{ algorithm: 'SHA256', checksumValue: sbom.subject.digest.sha256 }];
  }
  subject.primaryPackagePurpose = sbom.subject.kind === 'image' ? 'CONTAINER' : 'APPLICATION';

  const packages: Json[] = [subject];
  for (const c of sbom.components) packages.push(packageOf(c, ids.get(c.ref) as string, extracted));

  const relationships: Json[] = [
    {
      spdxElementId: 'SPDXRef-DOCUMENT',
      relationshipType: 'DESCRIBES',
      relatedSpdxElement: SPDX_SUBJECT_ID,
    },
  ];
  for (const ref of topLevel(sbom)) {
    relationships.push({
      spdxElementId: SPDX_SUBJECT_ID,
      relationshipType: 'DEPENDS_ON',
      relatedSpdxElement: ids.get(ref),
    });
  }
  for (const d of knownEdges(sbom)) {
    for (const to of d.dependsOn) {
      relationships.push({
        spdxElementId: ids.get(d.ref),
        relationshipType: 'DEPENDS_ON',
        relatedSpdxElement: ids.get(to),
      });
    }
  }

  const totals = totalsOf(sbom);
  const doc: Json = {
    spdxVersion: SPDX_VERSION,
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: sbom.subject.name,
    documentNamespace: '',
    creationInfo: { created: sbom.created, creators: [creator] },
    comment:
      `vouch completeness: ${totals.files} source file(s) declared ${totals.declared} entries; ` +
      `${totals.components} packages emitted, ${totals.merged} merged, ${totals.skipped} skipped, ` +
      `${totals.failed} file(s) failed, ${totals.incomplete} source(s) incomplete`,
    packages,
  };
  if (extracted.size > 0) {
    doc.hasExtractedLicensingInfos = [...extracted.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([licenseId, name]) => ({ licenseId, extractedText: name, name }));
  }
  doc.relationships = relationships;
  doc.annotations = [
    {
      annotationDate: sbom.created,
      annotationType: 'OTHER',
      annotator: creator,
      // The whole per-file accounting, canonical JSON, after a fixed prefix readers can find.
      comment: `vouch:accounting ${canonicalize(sbom.accounting)}`,
    },
  ];
  const { documentNamespace: _, ...rest } = doc;
  doc.documentNamespace = `${SPDX_NAMESPACE_BASE}${idstring(sbom.subject.name) || 'sbom'}-${contentUuid(rest)}`;
  return doc;
}

/** The SPDX 2.3 JSON text; byte-identical for the same SBOM. */
export function writeSpdx(sbom: Sbom): string {
  return jsonText(toSpdx(sbom));
}

/**
 * `SPDXRef-Package-<ecosystem>-<name>-<version>-<8 hex>`: readable, limited
 * to SPDX's idstring characters, and unique because the suffix is a hash of
 * the full ref (two purls that read the same once sanitised still differ).
 */
export function spdxIdOf(
  c: Pick<Component, 'ref' | 'ecosystem' | 'namespace' | 'name' | 'version'>,
): string {
  const hash = createHash('sha256').update(c.ref).digest('hex').slice(0, 8);
  return `SPDXRef-Package-${idstring(`${c.ecosystem}-${displayName(c)}-${c.version}`)}-${hash}`;
}

function idstring(text: string): string {
  return text.replace(/[^A-Za-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '');
}

function packageOf(c: Component, spdxId: string, extracted: Map<string, string>): Json {
  const out: Json = { name: displayName(c), SPDXID: spdxId };
  if (c.version) out.versionInfo = c.version;
  out.downloadLocation = downloadLocationOf(c);
  out.filesAnalyzed = false;
  const checksums = c.hashes
    .filter(isWellFormedHash)
    .map((h) => ({ algorithm: CHECKSUM_ALGORITHM[h.algorithm], checksumValue: h.value }));
  if (checksums.length > 0) out.checksums = checksums;
  out.sourceInfo = `found in: ${c.foundIn.join(', ')}`;
  out.licenseConcluded = 'NOASSERTION';
  out.licenseDeclared = licenseDeclaredOf(c.licenses, extracted);
  out.copyrightText = 'NOASSERTION';
  // One escaped `key=value` line per entry (spdx-comment.ts): a lockfile's
  // value can never start a line of its own.
  const notes = [commentLine('vouch:scope', c.scope)];
  // downloadLocation holds the source alone; every other origin is a line here.
  if (c.source) notes.push(commentLine('vouch:source', sourceText(c.source)));
  for (const s of c.otherSources ?? []) notes.push(commentLine('vouch:otherSource', sourceText(s)));
  for (const key of Object.keys(c.properties ?? {}).sort()) {
    notes.push(
      commentLine(`vouch:${key}`, (c.properties as Record<string, string>)[key] as string),
    );
  }
  out.comment = notes.join('\n');
  out.externalRefs = [
    { referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: c.purl },
  ];
  out.primaryPackagePurpose = 'LIBRARY';
  return out;
}

/**
 * SPDX ids and expressions as they are; a licence name that is not SPDX
 * becomes a `LicenseRef-` with the name kept in hasExtractedLicensingInfos.
 * Several licences are joined with AND: each one the sources reported applies.
 */
export function licenseDeclaredOf(
  licenses: readonly string[],
  extracted: Map<string, string>,
): string {
  if (licenses.length === 0) return 'NOASSERTION';
  const parts: string[] = [];
  for (const text of licenses) {
    const f = licenseForm(text);
    let part: string;
    if (f.kind === 'id') part = f.id;
    else if (f.kind === 'expression')
      part = licenses.length > 1 ? asOperand(f.expression) : f.expression;
    else {
      const clean = idstring(f.name);
      // A name that survives sanitising unchanged is its own id; otherwise a hash keeps ids apart.
      const suffix =
        clean === f.name
          ? clean
          : `${clean}-${createHash('sha256').update(f.name).digest('hex').slice(0, 8)}`;
      part = `LicenseRef-${suffix.replace(/^-+/, '')}`;
      extracted.set(part, f.name);
    }
    if (!parts.includes(part)) parts.push(part);
  }
  return parts.join(' AND ');
}

function downloadLocationOf(c: Component): string {
  const url = c.source?.url;
  if (!c.source || !url || !URL.canParse(url) || /\s/.test(url)) return 'NOASSERTION';
  switch (c.source.kind) {
    case 'git':
      // SPDX's VCS form is <vcs>+<transport>://…
      return url.startsWith('git+') ? url : /^(https?|ssh|git):/.test(url) ? `git+${url}` : url;
    case 'tarball':
    case 'registry':
      return url;
    case 'file':
    case 'link':
    case 'workspace':
      return 'NOASSERTION';
  }
}
