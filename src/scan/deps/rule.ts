import type { Component } from '../../sbom/index.ts';
import type { Severity } from '../finding.ts';
import { canonicalRegistry, type DepsPolicy } from './policy.ts';

/** What a dependency rule sees besides the component. */
export interface DepContext {
  policy: DepsPolicy;
  /**
   * OSV `MAL-` record ids per component ref, when a vulnerability database
   * was given; undefined when none was (rules needing it do not run).
   */
  malicious?: ReadonlyMap<string, readonly string[]>;
}

/** One hit of a rule on one component. */
export interface DepHit {
  message: string;
  fix?: string;
}

/** One dependency rule: metadata for the catalogue, and a check of one component. */
export interface DepRule {
  id: string;
  severity: Severity;
  title: string;
  /** The reason and the fix. */
  description: string;
  /** Undefined when the rule does not apply to this component. */
  check(c: Component, ctx: DepContext): DepHit | undefined;
}

/** `@scope/name` for npm, `group/artifact` for Maven: what policy globs match. */
export function packageName(c: Component): string {
  return c.namespace ? `${c.namespace}/${c.name}` : c.name;
}

/** Each ecosystem's public registry: where a component with no recorded source comes from. */
const PUBLIC_REGISTRIES: Partial<Record<Component['ecosystem'], string>> = {
  npm: 'https://registry.npmjs.org',
  pypi: 'https://pypi.org',
  cargo: 'https://crates.io',
  gem: 'https://rubygems.org',
  composer: 'https://repo.packagist.org',
  nuget: 'https://api.nuget.org',
  golang: 'https://proxy.golang.org',
  maven: 'https://repo.maven.apache.org/maven2',
};

/** Where one copy of a component was resolved from. */
export type Origin = NonNullable<Component['source']>;

/**
 * Every origin of a component, each once: its source (absent: the public
 * registry) and its other sources. Copies of one package can come from
 * different places (npm v1 nests copies); a rule about origins judges each.
 */
export function originsOf(c: Component): Origin[] {
  return [c.source ?? { kind: 'registry' }, ...(c.otherSources ?? [])];
}

/** A source URL as findings may show it: credentials removed. */
export function shownUrl(url: string): string {
  return url.replace(/\/\/[^/@\s]*@/, '//');
}

/**
 * The registry one origin of a component stands for: a `registry` origin's
 * URL (credentials and trailing slashes removed), else (no URL: the copy
 * recorded none) the ecosystem's public registry. Undefined for git,
 * tarball, file… origins (the `dep/non-registry-source` rule's domain) and
 * for ecosystems without a known public registry.
 */
export function registryOfOrigin(
  c: Pick<Component, 'ecosystem'>,
  o: Origin,
): { url: string; public: boolean } | undefined {
  if (o.kind !== 'registry') return undefined;
  const pub = PUBLIC_REGISTRIES[c.ecosystem];
  const raw = o.url ?? pub;
  if (raw === undefined) return undefined;
  const url = shownUrl(raw).replace(/\/+$/, '');
  // The public registry over plain http, or under an alias host
  // (registry.yarnpkg.com), is still the public registry.
  const bare = (u: string) => canonicalRegistry(u).replace(/^https?:\/\//, '');
  return { url, public: pub !== undefined && bare(url) === bare(pub) };
}

/** The registries of every origin of a component, one per distinct URL, in origin order. */
export function registriesOf(c: Component): { url: string; public: boolean }[] {
  const out: { url: string; public: boolean }[] = [];
  for (const o of originsOf(c)) {
    const r = registryOfOrigin(c, o);
    if (r && !out.some((x) => x.url === r.url)) out.push(r);
  }
  return out;
}

/**
 * The registry of a component's primary origin (its `source`, absent: the
 * public registry); undefined when that origin is not a registry. Rules use
 * `registriesOf`, which sees every copy.
 */
export function registryOf(c: Component): { url: string; public: boolean } | undefined {
  return registryOfOrigin(c, c.source ?? { kind: 'registry' });
}
