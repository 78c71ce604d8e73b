import { PackageURL } from 'packageurl-js';
import { VouchError } from '../core/errors.ts';
import { isObject } from '../core/json.ts';
import { cmp } from './merge.ts';
import { parseComment } from './writers/spdx-comment.ts';

/** One package of an SBOM document, as much as a diff needs. */
export interface DiffComponent {
  /** What identifies "the same package" across versions: the purl without version (arch kept). */
  key: string;
  purl?: string;
  name: string;
  version: string;
  /** Licences, each top-level AND operand separately, sorted: `MIT AND ISC` equals [MIT, ISC]. */
  licenses: string[];
  /**
   * Every origin the document records, sorted: vouch's `kind:url` (its
   * `vouch:source` and `vouch:otherSource`), else the document's own
   * download / VCS URLs. Empty: the default registry, or nothing recorded.
   */
  sources: string[];
}

/** A CycloneDX or SPDX JSON document read back into the light model a diff works on. */
export interface SbomDocument {
  format: 'cyclonedx' | 'spdx';
  components: DiffComponent[];
}

export interface ComponentChange {
  key: string;
  from: DiffComponent;
  to: DiffComponent;
  version: boolean;
  licenses: boolean;
  /** The set of origins changed (e.g. a copy now comes from git or over plain HTTP). */
  sources: boolean;
}

export interface SbomDiff {
  /** No component added, removed or changed. Timestamps, serial numbers and tools are not compared. */
  identical: boolean;
  added: DiffComponent[];
  removed: DiffComponent[];
  changed: ComponentChange[];
  unchanged: number;
}

/**
 * Compares two SBOMs (CycloneDX JSON or SPDX JSON, in any combination) by
 * package: a package is its purl without the version (`arch` kept, since
 * two architectures of one package are two packages). Where a package has
 * several versions on a side (npm allows that), versions on both sides are
 * the same component; the rest are paired in version order as upgrades, and
 * what is left over is added or removed.
 *
 * @throws VouchError PREDICATE_MALFORMED when an input is neither format.
 */
export function diffSboms(
  a: unknown,
  b: unknown,
  sources: [string, string] = ['A', 'B'],
): SbomDiff {
  const before = group(isSbomDocument(a) ? a : readSbomDocument(a, sources[0]));
  const after = group(isSbomDocument(b) ? b : readSbomDocument(b, sources[1]));
  const out: SbomDiff = { identical: true, added: [], removed: [], changed: [], unchanged: 0 };
  const keys = [...new Set([...before.keys(), ...after.keys()])].sort(cmp);
  for (const key of keys) {
    const va = before.get(key) ?? new Map<string, DiffComponent>();
    const vb = after.get(key) ?? new Map<string, DiffComponent>();
    const onlyA: DiffComponent[] = [];
    const onlyB: DiffComponent[] = [];
    for (const [version, from] of va) {
      const to = vb.get(version);
      if (!to) {
        onlyA.push(from);
        continue;
      }
      const licenses = !sameList(from.licenses, to.licenses);
      const sources = !sameList(from.sources, to.sources);
      if (!licenses && !sources) out.unchanged++;
      else out.changed.push({ key, from, to, version: false, licenses, sources });
    }
    for (const [version, to] of vb) if (!va.has(version)) onlyB.push(to);
    onlyA.sort(byVersion);
    onlyB.sort(byVersion);
    const pairs = Math.min(onlyA.length, onlyB.length);
    for (let i = 0; i < pairs; i++) {
      const from = onlyA[i] as DiffComponent;
      const to = onlyB[i] as DiffComponent;
      out.changed.push({
        key,
        from,
        to,
        version: true,
        licenses: !sameList(from.licenses, to.licenses),
        sources: !sameList(from.sources, to.sources),
      });
    }
    out.removed.push(...onlyA.slice(pairs));
    out.added.push(...onlyB.slice(pairs));
  }
  out.changed.sort((x, y) => cmp(x.key, y.key) || byVersion(x.from, y.from));
  out.identical = out.added.length === 0 && out.removed.length === 0 && out.changed.length === 0;
  return out;
}

/**
 * Reads a parsed CycloneDX (any 1.x JSON) or SPDX 2.x JSON document.
 *
 * @throws VouchError PREDICATE_MALFORMED
 */
export function readSbomDocument(value: unknown, source: string): SbomDocument {
  const bad = (field: string, message: string) =>
    new VouchError('PREDICATE_MALFORMED', message, { file: source, field });
  if (!isObject(value)) throw bad('/', 'not a CycloneDX or SPDX JSON document (not an object)');
  if (value.bomFormat === 'CycloneDX') {
    const components: DiffComponent[] = [];
    const walk = (list: unknown, path: string) => {
      if (list === undefined) return;
      if (!Array.isArray(list)) throw bad(path, 'must be an array');
      list.forEach((c, i) => {
        if (!isObject(c)) throw bad(`${path}/${i}`, 'not an object');
        components.push(cyclonedxComponent(c));
        walk(c.components, `${path}/${i}/components`);
      });
    };
    walk(value.components, '/components');
    return { format: 'cyclonedx', components };
  }
  if (typeof value.spdxVersion === 'string' && value.spdxVersion.startsWith('SPDX-2.')) {
    const packages = value.packages ?? [];
    if (!Array.isArray(packages)) throw bad('/packages', 'must be an array');
    const described = new Set<string>(
      Array.isArray(value.documentDescribes) ? value.documentDescribes.map(String) : [],
    );
    for (const r of Array.isArray(value.relationships) ? value.relationships : []) {
      if (isObject(r) && r.relationshipType === 'DESCRIBES' && r.spdxElementId === value.SPDXID) {
        described.add(String(r.relatedSpdxElement));
      }
    }
    const extracted = new Map<string, string>();
    for (const e of Array.isArray(value.hasExtractedLicensingInfos)
      ? value.hasExtractedLicensingInfos
      : []) {
      if (isObject(e) && typeof e.licenseId === 'string') {
        extracted.set(
          e.licenseId,
          typeof e.name === 'string' && e.name !== '' ? e.name : e.licenseId,
        );
      }
    }
    const components: DiffComponent[] = [];
    packages.forEach((p, i) => {
      if (!isObject(p)) throw bad(`/packages/${i}`, 'not an object');
      // The described package is the SBOM's subject, not one of its components.
      if (typeof p.SPDXID === 'string' && described.has(p.SPDXID)) return;
      components.push(spdxPackage(p, extracted));
    });
    return { format: 'spdx', components };
  }
  throw bad('/', 'not a CycloneDX (bomFormat) or SPDX 2.x (spdxVersion) JSON document');
}

function cyclonedxComponent(c: Record<string, unknown>): DiffComponent {
  const licenses: string[] = [];
  for (const l of Array.isArray(c.licenses) ? c.licenses : []) {
    if (!isObject(l)) continue;
    if (typeof l.expression === 'string') licenses.push(l.expression);
    else if (isObject(l.license)) {
      const text = l.license.id ?? l.license.name;
      if (typeof text === 'string') licenses.push(text);
    }
  }
  const group = typeof c.group === 'string' && c.group !== '' ? `${c.group}/` : '';
  const sources: string[] = [];
  for (const p of Array.isArray(c.properties) ? c.properties : []) {
    if (isObject(p) && SOURCE_PROPERTIES.has(p.name as string) && typeof p.value === 'string')
      sources.push(p.value);
  }
  if (sources.length === 0) {
    // Another tool's document: its VCS and download references.
    for (const r of Array.isArray(c.externalReferences) ? c.externalReferences : []) {
      if (
        isObject(r) &&
        (r.type === 'vcs' || r.type === 'distribution') &&
        typeof r.url === 'string'
      )
        sources.push(foreignUrl(r.url));
    }
  }
  return component(str(c.purl), `${group}${str(c.name) ?? ''}`, str(c.version), licenses, sources);
}

/** vouch's origin properties (CycloneDX property names, SPDX comment keys). */
const SOURCE_PROPERTIES = new Set(['vouch:source', 'vouch:otherSource']);

/** A URL of another tool's document, comparable across formats (SPDX writes git as `git+…`). */
function foreignUrl(url: string): string {
  return url.replace(/^git\+/, '');
}

function spdxPackage(p: Record<string, unknown>, extracted: Map<string, string>): DiffComponent {
  let purl: string | undefined;
  for (const r of Array.isArray(p.externalRefs) ? p.externalRefs : []) {
    if (
      isObject(r) &&
      (r.referenceCategory === 'PACKAGE-MANAGER' || r.referenceCategory === 'PACKAGE_MANAGER') &&
      r.referenceType === 'purl' &&
      typeof r.referenceLocator === 'string'
    ) {
      purl = r.referenceLocator;
      break;
    }
  }
  const declared = str(p.licenseDeclared);
  const concluded = str(p.licenseConcluded);
  const known = (s: string | undefined) => s !== undefined && s !== 'NOASSERTION' && s !== 'NONE';
  const expression = known(declared) ? declared : known(concluded) ? concluded : undefined;
  const licenses = expression ? andOperands(expression).map((op) => extracted.get(op) ?? op) : [];
  const sources: string[] = [];
  // One escaped `key=value` per line (writers/spdx-comment.ts): decoded, a
  // value with a line break stays one value and forges no entry.
  for (const [key, value] of parseComment(str(p.comment) ?? '')) {
    if (SOURCE_PROPERTIES.has(key)) sources.push(value);
  }
  const download = str(p.downloadLocation);
  if (sources.length === 0 && download && download !== 'NOASSERTION' && download !== 'NONE')
    sources.push(foreignUrl(download));
  return component(purl, str(p.name) ?? '', str(p.versionInfo), licenses, sources);
}

function component(
  purl: string | undefined,
  name: string,
  version: string | undefined,
  licenses: string[],
  sources: string[],
): DiffComponent {
  let key = `name:${name}`;
  let v = version;
  if (purl) {
    try {
      const p = PackageURL.fromString(purl);
      const arch = p.qualifiers?.arch;
      key = new PackageURL(
        p.type,
        p.namespace,
        p.name,
        undefined,
        arch ? { arch } : undefined,
        p.subpath,
      ).toString();
      v ??= p.version ?? undefined;
    } catch {
      // An unparsable purl still identifies the package, just less cleverly.
      key = purl.replace(/@[^@/?#]*(?=[?#]|$)/, '');
    }
  }
  const out: DiffComponent = {
    key,
    name,
    version: v ?? '',
    licenses: [...new Set(licenses.flatMap(andOperands))].sort(cmp),
    sources: [...new Set(sources)].sort(cmp),
  };
  if (purl) out.purl = purl;
  return out;
}

/** The top-level AND operands of a licence expression, outer parentheses removed. */
function andOperands(expression: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  const text = expression.trim();
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (depth === 0 && /\s/.test(ch as string)) {
      const m = /^\s+AND\s+/i.exec(text.slice(i));
      if (m) {
        out.push(text.slice(start, i));
        i += m[0].length - 1;
        start = i + 1;
      }
    }
  }
  out.push(text.slice(start));
  return out.map(unwrap).filter((s) => s !== '');
}

function unwrap(s: string): string {
  let t = s.trim();
  while (t.startsWith('(') && t.endsWith(')')) {
    let depth = 0;
    let closesAtEnd = true;
    for (let i = 0; i < t.length; i++) {
      if (t[i] === '(') depth++;
      else if (t[i] === ')' && --depth === 0 && i !== t.length - 1) {
        closesAtEnd = false;
        break;
      }
    }
    if (!closesAtEnd) break;
    t = t.slice(1, -1).trim();
  }
  return t;
}

function group(doc: SbomDocument): Map<string, Map<string, DiffComponent>> {
  const out = new Map<string, Map<string, DiffComponent>>();
  for (const c of doc.components) {
    let versions = out.get(c.key);
    if (!versions) {
      versions = new Map();
      out.set(c.key, versions);
    }
    const existing = versions.get(c.version);
    if (existing) {
      existing.licenses = [...new Set([...existing.licenses, ...c.licenses])].sort(cmp);
      existing.sources = [...new Set([...existing.sources, ...(c.sources ?? [])])].sort(cmp);
    } else {
      // A document built by a caller before `sources` existed has none.
      versions.set(c.version, { ...c, licenses: [...c.licenses], sources: [...(c.sources ?? [])] });
    }
  }
  return out;
}

const collator = new Intl.Collator('en', { numeric: true });

function byVersion(a: DiffComponent, b: DiffComponent): number {
  return collator.compare(a.version, b.version) || cmp(a.version, b.version);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function isSbomDocument(v: unknown): v is SbomDocument {
  return (
    isObject(v) && (v.format === 'cyclonedx' || v.format === 'spdx') && Array.isArray(v.components)
  );
}
