import { PackageURL } from 'packageurl-js';
import { errorMessage, isVouchError, VouchError } from '../core/errors.ts';
import { isObject } from '../core/json.ts';
import { scoreVector } from './cvss.ts';
import type { VulnDatabase } from './db/index.ts';
import { type OsvAffected, type OsvRecord, parseOsvRecord } from './osv.ts';
import { AliasGroups, affectedVersions, isWithdrawn, QueriedVersion } from './range.ts';
import { baseEcosystem, normalizeName, schemeFor } from './versions/index.ts';

/** One component of the input SBOM, as matching and the outputs need it. */
export interface ScanComponent {
  /** bom-ref (CycloneDX) or SPDXID (SPDX): what findings point at. */
  ref: string;
  name: string;
  version: string | undefined;
  purl: string | undefined;
  /** The file the component was found in (CycloneDX `vouch:foundIn` or evidence), when known. */
  location?: string | undefined;
  /**
   * The source (origin) package of a deb or apk component, `name` or
   * `name@version`, from the properties vouch wrote before its purls carried
   * `upstream` (`vouch:deb:source`, `vouch:apk:origin`); a purl's own
   * `upstream` wins.
   */
  upstream?: string | undefined;
}

/** An SBOM read for scanning: its components, and the document itself (for the VDR). */
export interface ScanInput {
  format: 'cyclonedx' | 'spdx';
  components: ScanComponent[];
  document: Record<string, unknown>;
}

/** purl type → OSV ecosystem. Types not here are not matchable (e.g. generic). */
const PURL_ECOSYSTEMS: Readonly<Record<string, string>> = {
  npm: 'npm',
  pypi: 'PyPI',
  golang: 'Go',
  cargo: 'crates.io',
  maven: 'Maven',
  nuget: 'NuGet',
  gem: 'RubyGems',
  composer: 'Packagist',
  hex: 'Hex',
  pub: 'Pub',
  hackage: 'Hackage',
  cran: 'CRAN',
  swift: 'SwiftURL',
  conan: 'ConanCenter',
  bitnami: 'Bitnami',
};

/** deb/rpm/apk purls: the namespace (distribution) names the ecosystem. */
const DISTRO_ECOSYSTEMS: Readonly<Record<string, string>> = {
  debian: 'Debian',
  ubuntu: 'Ubuntu',
  alpine: 'Alpine',
  wolfi: 'Wolfi',
  chainguard: 'Chainguard',
  almalinux: 'AlmaLinux',
  rocky: 'Rocky Linux',
  'rocky-linux': 'Rocky Linux',
  redhat: 'Red Hat',
  opensuse: 'openSUSE',
  suse: 'SUSE',
  mageia: 'Mageia',
};

/** Where a component is looked up, or why it cannot be. */
export type PackageKey =
  | {
      ok: true;
      ecosystem: string;
      name: string;
      version: string;
      /** The distribution release (`12`, `8.9`, `3.18`) of an OS package, when known. */
      release?: string;
    }
  | { ok: false; reason: string };

/**
 * The OSV (ecosystem, name, version) of a component, from its purl. A
 * component without a purl, with a generic or unknown purl type, or without
 * a version cannot be matched; the reason says which.
 */
export function packageKeyOf(
  c: Pick<ScanComponent, 'purl' | 'version'> & { upstream?: string | undefined },
): PackageKey {
  if (!c.purl) return { ok: false, reason: 'no purl' };
  let p: PackageURL;
  try {
    p = PackageURL.fromString(c.purl);
  } catch (e) {
    return { ok: false, reason: `malformed purl ${JSON.stringify(c.purl)}: ${errorMessage(e)}` };
  }
  let version = p.version ?? c.version;
  if (!version) return { ok: false, reason: 'no version' };
  if (p.type === 'generic') return { ok: false, reason: 'generic purl (no ecosystem)' };
  let ecosystem = PURL_ECOSYSTEMS[p.type];
  let name = p.name;
  switch (p.type) {
    case 'npm':
      name = p.namespace ? `${p.namespace}/${p.name}` : p.name;
      break;
    case 'golang':
    case 'composer':
    case 'swift':
      name = p.namespace ? `${p.namespace}/${p.name}` : p.name;
      break;
    case 'maven':
      if (!p.namespace) return { ok: false, reason: 'maven purl without a group' };
      name = `${p.namespace}:${p.name}`;
      break;
    case 'deb':
    case 'rpm':
    case 'apk': {
      ecosystem = p.namespace ? DISTRO_ECOSYSTEMS[p.namespace.toLowerCase()] : undefined;
      if (!ecosystem) {
        return {
          ok: false,
          reason: `${p.type} purl of unknown distribution ${JSON.stringify(p.namespace ?? '')}`,
        };
      }
      // OSV names Debian, Ubuntu and Alpine packages by source (origin)
      // package: Syft's `upstream=SOURCE`, or `SOURCE@VERSION` when dpkg
      // records a source version apart from the binary's (a binNMU `+b1`,
      // or binaries versioned on their own), which is what the advisories
      // speak of.
      const upstream = p.qualifiers?.upstream || c.upstream;
      if (
        (p.type === 'deb' || p.type === 'apk') &&
        typeof upstream === 'string' &&
        upstream !== ''
      ) {
        const at = upstream.indexOf('@');
        name = at < 0 ? upstream : upstream.slice(0, at);
        if (at >= 0 && p.type === 'deb' && upstream.length > at + 1)
          version = upstream.slice(at + 1);
      }
      // rpm keeps the epoch in its own qualifier (the rpm reader and Syft
      // write it so); OSV's rpm versions carry it as `N:`.
      const epoch = p.qualifiers?.epoch;
      if (p.type === 'rpm' && typeof epoch === 'string' && !version.includes(':')) {
        if (!/^\d{1,10}$/.test(epoch))
          return { ok: false, reason: `rpm purl with a bad epoch ${JSON.stringify(epoch)}` };
        if (Number(epoch) !== 0) version = `${Number(epoch)}:${version}`;
      }
      break;
    }
  }
  if (!ecosystem)
    return { ok: false, reason: `purl type ${JSON.stringify(p.type)} has no OSV ecosystem` };
  if (!schemeFor(ecosystem)) return { ok: false, reason: `no version scheme for ${ecosystem}` };
  const key: PackageKey = { ok: true, ecosystem, name: normalizeName(ecosystem, name), version };
  const release = releaseOf(p, version);
  if (release !== undefined) key.release = release;
  return key;
}

/**
 * The release of an OS package: from the purl's `distro` qualifier
 * (`debian-12`, `almalinux-8`, `alpine-3.18.4`), else an rpm's `.elN` tag.
 */
function releaseOf(p: PackageURL, version: string): string | undefined {
  if (p.type !== 'deb' && p.type !== 'rpm' && p.type !== 'apk') return undefined;
  const distro = p.qualifiers?.distro;
  if (typeof distro === 'string') {
    const m = /(?:^|-)v?(\d+(?:\.\d+)*)$/.exec(distro);
    if (m) return m[1];
    if (p.type === 'deb') {
      const codename = CODENAMES[distro.toLowerCase().replace(/^(debian|ubuntu)-/, '')];
      if (codename) return codename;
    }
  }
  if (p.type === 'rpm') return /\.el(\d+)/.exec(version)?.[1];
  return undefined;
}

/**
 * Debian and Ubuntu releases by codename (`distro=bookworm`, as in the purl
 * spec's examples): the numbers OSV's `Debian:12` / `Ubuntu:22.04:LTS` use.
 */
const CODENAMES: Readonly<Record<string, string>> = {
  squeeze: '6',
  wheezy: '7',
  jessie: '8',
  stretch: '9',
  buster: '10',
  bullseye: '11',
  bookworm: '12',
  trixie: '13',
  forky: '14',
  duke: '15',
  trusty: '14.04',
  xenial: '16.04',
  bionic: '18.04',
  focal: '20.04',
  jammy: '22.04',
  kinetic: '22.10',
  lunar: '23.04',
  mantic: '23.10',
  noble: '24.04',
  oracular: '24.10',
  plucky: '25.04',
  questing: '25.10',
};

/**
 * Whether an affected entry's ecosystem (`AlmaLinux:8`, `Alpine:v3.18`,
 * `Debian:12`, `Ubuntu:22.04:LTS`, `Ubuntu:Pro:18.04:LTS`) is about the
 * component's release. No suffix, or no known release, matches: the entry
 * is then evaluated (never silently dropped). Ubuntu Pro (ESM) entries are
 * about their release: without the ESM update the package is affected.
 */
function sameRelease(entryEcosystem: string, release: string | undefined): boolean {
  const i = entryEcosystem.indexOf(':');
  if (i < 0 || release === undefined) return true;
  let want = entryEcosystem.slice(i + 1).replace(/^v/, '');
  if (entryEcosystem.slice(0, i) === 'Ubuntu')
    want = want.replace(/^Pro:/, '').replace(/:LTS$/, '');
  if (!/^\d+(\.\d+)*$/.test(want)) return true;
  return release === want || release.startsWith(`${want}.`);
}

/** A vulnerability found in one component (one per alias group). */
export interface Finding {
  /** The preferred id of the alias group (CVE over GHSA over the rest). */
  id: string;
  /** Every other id of the group (record ids and aliases), sorted. */
  aliases: string[];
  /** Ids of the database records that matched. */
  records: string[];
  component: ScanComponent;
  ecosystem: string;
  package: string;
  version: string;
  severity: Severity;
  /** The ratings severity came from; the highest is first. */
  ratings: SeverityRating[];
  summary: string;
  /** Versions whose ranges say fixed, sorted; empty when no fix is known. */
  fixed: string[];
  /** Which range or list entry decided. */
  reason: string;
  published: string | undefined;
  modified: string;
  references: string[];
  /** Set when a VEX statement suppresses the finding. */
  suppressed?: Suppression;
}

export interface Suppression {
  /** The VEX file. */
  source: string;
  format: 'openvex' | 'cyclonedx';
  status: string;
  justification: string;
  detail: string;
}

export interface NotMatchable {
  ref: string;
  name: string;
  purl: string | undefined;
  reason: string;
}

export interface MatchResult {
  components: number;
  /** Components looked up in the database. */
  matched: number;
  notMatchable: NotMatchable[];
  /** Records skipped: withdrawn (per id), or unreadable in the database. */
  withdrawn: string[];
  /** Ranges that could not be evaluated, per record id and why (GIT ranges are normal). */
  unevaluable: Array<{ id: string; component: string; reason: string }>;
  findings: Finding[];
}

export interface MatchOptions {
  now: Date;
}

/**
 * Matches components against the database: purl → (ecosystem, normalised
 * name) → records → affectedVersions on each entry for that package.
 * Withdrawn records are skipped (and listed); findings of one component
 * whose records are aliases of each other are merged into one.
 */
export function matchComponents(
  db: VulnDatabase,
  components: readonly ScanComponent[],
  options: MatchOptions,
): MatchResult {
  const cache = new Map<string, OsvRecord | null>();
  const withdrawn = new Set<string>();
  const result: MatchResult = {
    components: components.length,
    matched: 0,
    notMatchable: [],
    withdrawn: [],
    unevaluable: [],
    findings: [],
  };
  const lookups = new Map<string, ReturnType<VulnDatabase['lookup']>>();
  for (const c of components) {
    const key = packageKeyOf(c);
    if (!key.ok) {
      result.notMatchable.push({ ref: c.ref, name: c.name, purl: c.purl, reason: key.reason });
      continue;
    }
    const lk = `${baseEcosystem(key.ecosystem)}\0${key.name}`;
    let rows = lookups.get(lk);
    if (!rows) {
      rows = db.lookup(key.ecosystem, key.name);
      lookups.set(lk, rows);
    }
    const hits: Array<{ rec: OsvRecord; entries: OsvAffected[]; reason: string }> = [];
    // Parsed once per scheme for all of this component's records.
    const version = new QueriedVersion(key.version);
    // A version the ecosystem's scheme cannot read is not matchable, unless
    // a record lists it explicitly (`versions`), which needs no parsing.
    let versionProblem = unreadable(key.ecosystem, version);
    for (const row of rows) {
      let rec = cache.get(row.id);
      if (rec === undefined) {
        try {
          rec = parseOsvRecord(JSON.parse(row.json), `database record ${row.id}`);
        } catch {
          rec = null;
        }
        cache.set(row.id, rec);
      }
      if (rec === null) continue;
      if (isWithdrawn(rec, options.now)) {
        withdrawn.add(rec.id);
        continue;
      }
      const entries: OsvAffected[] = [];
      let reason = '';
      for (const a of rec.affected) {
        if (!a.package) continue;
        if (baseEcosystem(a.package.ecosystem) !== baseEcosystem(key.ecosystem)) continue;
        if (normalizeName(a.package.ecosystem, a.package.name) !== key.name) continue;
        if (!sameRelease(a.package.ecosystem, key.release)) continue;
        try {
          const v = affectedVersions(a, version);
          if (v.affected) {
            entries.push(a);
            reason ||= v.reason;
          } else if (v.unevaluable && v.unevaluable !== 'git-range') {
            result.unevaluable.push({ id: rec.id, component: c.ref, reason: v.unevaluable });
          }
        } catch (e) {
          if (!isVouchError(e)) throw e;
          versionProblem ??= e.message;
        }
      }
      if (entries.length > 0) hits.push({ rec, entries, reason });
    }
    if (versionProblem !== undefined && hits.length === 0) {
      result.notMatchable.push({
        ref: c.ref,
        name: c.name,
        purl: c.purl,
        reason: `unreadable version ${JSON.stringify(key.version)}: ${versionProblem}`,
      });
      continue;
    }
    result.matched++;
    result.findings.push(...mergeAliases(hits, c, key));
  }
  result.withdrawn = [...withdrawn].sort();
  result.findings.sort(compareFindings);
  return result;
}

/**
 * Why the ecosystem's version scheme cannot read `version`, or undefined when
 * it can. Parsed through `version`, which keeps the result for the records.
 */
function unreadable(ecosystem: string, version: QueriedVersion): string | undefined {
  const scheme = schemeFor(ecosystem);
  try {
    if (scheme) version.parsedBy(scheme);
    return undefined;
  } catch (e) {
    if (!isVouchError(e)) throw e;
    return e.message;
  }
}

function mergeAliases(
  hits: Array<{ rec: OsvRecord; entries: OsvAffected[]; reason: string }>,
  c: ScanComponent,
  key: Extract<PackageKey, { ok: true }>,
): Finding[] {
  const groups = new AliasGroups();
  for (const h of hits) groups.add(h.rec);
  const byKey = new Map<string, typeof hits>();
  for (const h of hits) {
    const k = groups.keyOf(h.rec.id);
    const list = byKey.get(k) ?? [];
    list.push(h);
    byKey.set(k, list);
  }
  const out: Finding[] = [];
  for (const [id, list] of byKey) {
    list.sort((a, b) => cmp(a.rec.id, b.rec.id));
    const ids = new Set<string>();
    const fixed = new Set<string>();
    const refs = new Set<string>();
    const ratings: SeverityRating[] = [];
    for (const h of list) {
      for (const x of [h.rec.id, ...h.rec.aliases, ...h.rec.upstream]) ids.add(x);
      for (const a of h.entries) {
        for (const r of a.ranges) {
          // GIT ranges are fixed by commits, which are no version to upgrade to.
          if (r.type === 'GIT') continue;
          for (const e of r.events) if ('fixed' in e) fixed.add(e.fixed);
        }
      }
      for (const r of h.rec.references) refs.add(r.url);
      ratings.push(...severityOf(h.rec, h.entries));
    }
    ids.delete(id);
    const first = list[0] as (typeof list)[number];
    ratings.sort((a, b) => (b.score ?? -1) - (a.score ?? -1) || cmp(a.source, b.source));
    out.push({
      id,
      aliases: [...ids].sort(cmp),
      records: list.map((h) => h.rec.id),
      component: c,
      ecosystem: key.ecosystem,
      package: key.name,
      version: key.version,
      severity: worst(ratings.map((r) => r.severity)),
      ratings,
      summary:
        list.map((h) => h.rec.summary).find((s) => s !== undefined && s !== '') ??
        firstLine(first.rec.details),
      fixed: [...fixed].sort(cmp),
      reason: first.reason,
      published: list
        .map((h) => h.rec.published)
        .filter((p) => p !== undefined)
        .sort()[0],
      modified:
        list
          .map((h) => h.rec.modified)
          .sort()
          .at(-1) ?? first.rec.modified,
      references: [...refs].sort(cmp),
    });
  }
  return out;
}

function locationOf(c: Record<string, unknown>): string | undefined {
  for (const p of Array.isArray(c.properties) ? c.properties : []) {
    if (isObject(p) && p.name === 'vouch:foundIn' && typeof p.value === 'string') return p.value;
  }
  const occ =
    isObject(c.evidence) && Array.isArray(c.evidence.occurrences)
      ? c.evidence.occurrences[0]
      : undefined;
  return isObject(occ) && typeof occ.location === 'string' ? occ.location : undefined;
}

/** `vouch:deb:source[@vouch:deb:source-version]` or `vouch:apk:origin` of a CycloneDX component. */
function upstreamOf(c: Record<string, unknown>): string | undefined {
  const props = new Map<string, string>();
  for (const p of Array.isArray(c.properties) ? c.properties : []) {
    if (isObject(p) && typeof p.name === 'string' && typeof p.value === 'string' && p.value !== '')
      if (!props.has(p.name)) props.set(p.name, p.value);
  }
  return upstreamOfProperties(props);
}

/** The same from an SPDX package's comment, where vouch writes `name=value` lines. */
function upstreamOfComment(comment: unknown): string | undefined {
  if (typeof comment !== 'string' || !comment.includes('vouch:')) return undefined;
  const props = new Map<string, string>();
  for (const line of comment.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0 && eq < line.length - 1 && !props.has(line.slice(0, eq)))
      props.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return upstreamOfProperties(props);
}

function upstreamOfProperties(props: ReadonlyMap<string, string>): string | undefined {
  const deb = props.get('vouch:deb:source');
  if (deb) {
    const v = props.get('vouch:deb:source-version');
    return v ? `${deb}@${v}` : deb;
  }
  // Trivy: the source (origin) package's name; its SrcVersion is split
  // into parts Trivy's own way, so the installed version is compared.
  return props.get('vouch:apk:origin') ?? props.get('aquasecurity:trivy:SrcName');
}

function firstLine(s: string | undefined): string {
  return (
    (s ?? '')
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim()
      .slice(0, 200) ?? ''
  );
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareFindings(a: Finding, b: Finding): number {
  return cmp(a.component.ref, b.component.ref) || cmp(a.id, b.id);
}

/**
 * The components of a CycloneDX (1.x JSON, nested components walked) or
 * SPDX 2.x JSON document. The described package of an SPDX document and
 * CycloneDX `metadata.component` are the subject, not components.
 *
 * @throws VouchError PREDICATE_MALFORMED
 */
export function componentsOfSbom(value: unknown, source: string): ScanInput {
  const bad = (field: string, message: string) =>
    new VouchError('PREDICATE_MALFORMED', message, { file: source, field });
  if (!isObject(value)) throw bad('/', 'not a CycloneDX or SPDX JSON document (not an object)');
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  if (value.bomFormat === 'CycloneDX') {
    const components: ScanComponent[] = [];
    const refs = new Set<string>();
    const walk = (list: unknown, path: string) => {
      if (list === undefined) return;
      if (!Array.isArray(list)) throw bad(path, 'must be an array');
      list.forEach((c, i) => {
        if (!isObject(c)) throw bad(`${path}/${i}`, 'not an object');
        const group = str(c.group);
        const name = `${group ? `${group}/` : ''}${str(c.name) ?? ''}`;
        let ref = str(c['bom-ref']) ?? str(c.purl) ?? `${path}/${i}`;
        // Refs must be unique for the VDR to point at one component.
        while (refs.has(ref)) ref = `${ref}#${i}`;
        refs.add(ref);
        const component: ScanComponent = {
          ref,
          name,
          version: str(c.version),
          purl: str(c.purl),
          location: locationOf(c),
        };
        const upstream = upstreamOf(c);
        if (upstream) component.upstream = upstream;
        components.push(component);
        walk(c.components, `${path}/${i}/components`);
      });
    };
    walk(value.components, '/components');
    return { format: 'cyclonedx', components, document: value };
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
    const components: ScanComponent[] = [];
    packages.forEach((p, i) => {
      if (!isObject(p)) throw bad(`/packages/${i}`, 'not an object');
      const id = str(p.SPDXID) ?? `/packages/${i}`;
      if (described.has(id)) return;
      let purl: string | undefined;
      for (const r of Array.isArray(p.externalRefs) ? p.externalRefs : []) {
        if (
          isObject(r) &&
          (r.referenceCategory === 'PACKAGE-MANAGER' ||
            r.referenceCategory === 'PACKAGE_MANAGER') &&
          r.referenceType === 'purl' &&
          typeof r.referenceLocator === 'string'
        ) {
          purl = r.referenceLocator;
          break;
        }
      }
      const component: ScanComponent = {
        ref: id,
        name: str(p.name) ?? '',
        version: str(p.versionInfo),
        purl,
      };
      const upstream = upstreamOfComment(p.comment);
      if (upstream) component.upstream = upstream;
      components.push(component);
    });
    return { format: 'spdx', components, document: value };
  }
  throw bad('/', 'not a CycloneDX (bomFormat) or SPDX 2.x (spdxVersion) JSON document');
}

/** Severity levels, lowest first; `unknown` when no rating says anything. */
export const SEVERITIES = ['unknown', 'none', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** One rating a finding's severity came from. */
export interface SeverityRating {
  /** `CVSS_V3`, `CVSS_V4`, `CVSS_V2`, `Ubuntu` or `database_specific`. */
  source: string;
  severity: Severity;
  /** Base score computed from the vector (never copied from the record). */
  score?: number;
  vector?: string;
}

/** The qualitative CVSS v3/v4 rating of a base score. */
export function severityOfScore(score: number): Severity {
  if (score === 0) return 'none';
  if (score < 4) return 'low';
  if (score < 7) return 'medium';
  if (score < 9) return 'high';
  return 'critical';
}

export function worst(list: readonly Severity[]): Severity {
  let w: Severity = 'unknown';
  for (const s of list) if (SEVERITIES.indexOf(s) > SEVERITIES.indexOf(w)) w = s;
  return w;
}

const WORDS: Readonly<Record<string, Severity>> = {
  critical: 'critical',
  high: 'high',
  important: 'high',
  moderate: 'medium',
  medium: 'medium',
  low: 'low',
  negligible: 'low',
  none: 'none',
};

/**
 * Ratings of a record for the matched entries: CVSS vectors (record-level and
 * entry-level) scored by computing the base score from the vector; then
 * the words databases use (`database_specific.severity`: GHSA's MODERATE,
 * Ubuntu priorities).
 */
export function severityOf(rec: OsvRecord, entries: readonly OsvAffected[]): SeverityRating[] {
  const out: SeverityRating[] = [];
  for (const s of [...rec.severity, ...entries.flatMap((a) => a.severity)]) {
    if (s.type === 'CVSS_V3' || s.type === 'CVSS_V4') {
      try {
        const { score } = scoreVector(s.score);
        out.push({ source: s.type, severity: severityOfScore(score), score, vector: s.score });
      } catch (e) {
        // A vector the scorer refuses gives no rating; the others still do.
        if (!isVouchError(e)) throw e;
      }
    } else if (!s.type.startsWith('CVSS_')) {
      const w = WORDS[s.score.toLowerCase()];
      if (w) out.push({ source: s.type, severity: w });
    }
  }
  for (const ds of [rec.database_specific, ...entries.map((a) => a.database_specific)]) {
    if (isObject(ds) && typeof ds.severity === 'string') {
      const w = WORDS[ds.severity.toLowerCase()];
      if (w) out.push({ source: 'database_specific', severity: w });
    }
  }
  return out;
}
