import { createHash } from 'node:crypto';
import { isObject } from '../../core/json.ts';
import type { Finding, ScanComponent, Severity, SeverityRating } from '../match.ts';
import type { OutputFormat, ScanReport } from './report.ts';

/** OpenVEX justifications → CycloneDX `analysis.justification` (closest meaning). */
const JUSTIFICATIONS: Readonly<Record<string, string>> = {
  component_not_present: 'code_not_present',
  vulnerable_code_not_present: 'code_not_present',
  vulnerable_code_not_in_execute_path: 'code_not_reachable',
  vulnerable_code_cannot_be_controlled_by_adversary: 'protected_by_mitigating_control',
  inline_mitigations_already_exist: 'protected_by_mitigating_control',
};
const CDX_JUSTIFICATIONS = new Set([
  'code_not_present',
  'code_not_reachable',
  'requires_configuration',
  'requires_dependency',
  'requires_environment',
  'protected_by_compiler',
  'protected_at_runtime',
  'protected_at_perimeter',
  'protected_by_mitigating_control',
]);

/**
 * A CycloneDX 1.6 VDR: the scanned SBOM's components (a CycloneDX input is
 * copied, with a bom-ref added where a component had none; SPDX packages
 * become components whose bom-ref is their SPDXID) plus `vulnerabilities[]`,
 * one per (id, VEX outcome), whose `affects[].ref` are those bom-refs.
 * Suppressed findings carry `analysis` (state, justification, detail).
 */
export const cycloneDxOutput: OutputFormat = {
  name: 'cyclonedx-json',
  render(r) {
    return `${JSON.stringify(vdrOf(r), null, 2)}\n`;
  },
};

export function vdrOf(r: ScanReport): Record<string, unknown> {
  const components = componentsOf(r);
  const groups = new Map<string, Finding[]>();
  for (const f of r.result.findings) {
    const k = `${f.id}\0${f.suppressed ? `${f.suppressed.status}\0${f.suppressed.justification}\0${f.suppressed.detail}` : ''}`;
    const list = groups.get(k) ?? [];
    list.push(f);
    groups.set(k, list);
  }
  const vulnerabilities = [...groups.values()].map((list, i) => vulnerabilityOf(list, i));
  const metadata: Record<string, unknown> = {
    timestamp: r.time,
    tools: {
      components: [{ type: 'application', name: r.scanner.name, version: r.scanner.version }],
    },
  };
  const inputMeta = r.input.format === 'cyclonedx' ? r.input.document.metadata : undefined;
  if (isObject(inputMeta) && isObject(inputMeta.component))
    metadata.component = inputMeta.component;
  const doc: Record<string, unknown> = {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: serialOf(r, vulnerabilities),
    version: 1,
    metadata,
    components,
  };
  if (r.input.format === 'cyclonedx' && Array.isArray(r.input.document.dependencies)) {
    doc.dependencies = r.input.document.dependencies;
  }
  doc.vulnerabilities = vulnerabilities;
  return doc;
}

function componentsOf(r: ScanReport): unknown[] {
  if (r.input.format === 'spdx') return r.input.components.map(spdxComponent);
  // Copy, giving every component the ref the findings use (in input order).
  const refs = r.input.components.map((c) => c.ref);
  let i = 0;
  const walk = (list: unknown): unknown[] =>
    (Array.isArray(list) ? list : []).map((c) => {
      const copy = { ...(c as Record<string, unknown>) };
      copy['bom-ref'] = refs[i++];
      if (copy.components !== undefined) copy.components = walk(copy.components);
      return copy;
    });
  return walk(r.input.document.components);
}

function spdxComponent(c: ScanComponent): Record<string, unknown> {
  const out: Record<string, unknown> = { type: 'library', 'bom-ref': c.ref, name: c.name || c.ref };
  if (c.version) out.version = c.version;
  if (c.purl) out.purl = c.purl;
  return out;
}

function vulnerabilityOf(list: Finding[], index: number): Record<string, unknown> {
  const f = list[0] as Finding;
  const v: Record<string, unknown> = {
    'bom-ref': `vuln-${index + 1}-${f.id}`,
    id: f.id,
    source: {
      name: 'OSV',
      url: `https://osv.dev/vulnerability/${encodeURIComponent(f.records[0] ?? f.id)}`,
    },
  };
  if (f.aliases.length > 0) {
    v.references = f.aliases.map((a) => ({ id: a, source: { name: sourceName(a) } }));
  }
  const ratings = uniqueRatings(list.flatMap((x) => x.ratings)).map(ratingOf);
  if (ratings.length > 0) v.ratings = ratings;
  if (f.summary) v.description = f.summary;
  const fixed = [...new Set(list.flatMap((x) => x.fixed))].sort();
  if (fixed.length > 0) v.recommendation = `Upgrade to a fixed version: ${fixed.join(', ')}`;
  if (f.references.length > 0) v.advisories = f.references.slice(0, 20).map((url) => ({ url }));
  if (f.published) v.published = f.published;
  v.updated = f.modified;
  if (f.suppressed) {
    const s = f.suppressed;
    const state =
      s.status === 'false_positive'
        ? 'false_positive'
        : s.status === 'fixed'
          ? 'resolved'
          : 'not_affected';
    const just =
      JUSTIFICATIONS[s.justification] ??
      (CDX_JUSTIFICATIONS.has(s.justification) ? s.justification : undefined);
    const analysis: Record<string, unknown> = { state };
    if (just) analysis.justification = just;
    const detail = [s.justification && !just ? s.justification : '', s.detail, `(VEX: ${s.source})`]
      .filter((x) => x !== '')
      .join(' ');
    analysis.detail = detail;
    v.analysis = analysis;
  }
  v.affects = list.map((x) => ({
    ref: x.component.ref,
    // The version of the component `ref` points at (a deb matched on its
    // source package's version, e.g. a binNMU, is still listed as installed).
    versions: [
      {
        version: x.component.version || x.version,
        status: x.suppressed ? 'unaffected' : 'affected',
      },
    ],
  }));
  return v;
}

function uniqueRatings(list: SeverityRating[]): SeverityRating[] {
  const seen = new Set<string>();
  return list.filter((r) => {
    const k = `${r.source}\0${r.vector ?? r.severity}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function ratingOf(r: SeverityRating): Record<string, unknown> {
  const out: Record<string, unknown> = {
    source: { name: r.source === 'database_specific' ? 'OSV database_specific' : 'OSV' },
  };
  if (r.score !== undefined) out.score = r.score;
  out.severity = cdxSeverity(r.severity);
  out.method = methodOf(r);
  if (r.vector) out.vector = r.vector;
  return out;
}

function cdxSeverity(s: Severity): string {
  return s;
}

function methodOf(r: SeverityRating): string {
  const v = r.vector ?? '';
  if (v.startsWith('CVSS:4.0/')) return 'CVSSv4';
  if (v.startsWith('CVSS:3.1/')) return 'CVSSv31';
  if (v.startsWith('CVSS:3.0/')) return 'CVSSv3';
  if (r.source === 'CVSS_V2') return 'CVSSv2';
  return 'other';
}

function sourceName(id: string): string {
  if (id.startsWith('CVE-')) return 'NVD';
  if (id.startsWith('GHSA-')) return 'GitHub Advisories';
  return 'OSV';
}

/** Deterministic: the same report gives the same serial number. */
function serialOf(r: ScanReport, vulnerabilities: unknown[]): string {
  const h = createHash('sha256')
    .update(JSON.stringify([r.target, r.time, r.input.components, vulnerabilities]))
    .digest('hex');
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((Number.parseInt(h[16] as string, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
