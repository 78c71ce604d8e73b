import type { Component } from '../../sbom/index.ts';
import type { Severity } from '../finding.ts';
import type { DepsPolicy } from './policy.ts';

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

/**
 * The registry a component was resolved from: its recorded registry source,
 * the npm reader's `npm:registry` (set only when not the public one), else
 * the ecosystem's public registry. Undefined for non-registry sources (git,
 * tarball, file…: the `dep/non-registry-source` rule's domain) and for
 * ecosystems without a known public registry.
 */
export function registryOf(c: Component): { url: string; public: boolean } | undefined {
  const kind = c.source?.kind;
  if (kind !== undefined && kind !== 'registry') return undefined;
  const pub = PUBLIC_REGISTRIES[c.ecosystem];
  const recorded =
    kind === 'registry' && c.source?.url ? c.source.url : c.properties?.['npm:registry'];
  const url = (recorded ?? pub)?.replace(/\/\/[^/@\s]*@/, '//').replace(/\/+$/, '');
  if (url === undefined) return undefined;
  return { url, public: pub !== undefined && url.toLowerCase() === pub.toLowerCase() };
}
