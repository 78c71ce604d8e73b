import { alpine } from './alpine.ts';
import { composer } from './composer.ts';
import { cran } from './cran.ts';
import { debian } from './debian.ts';
import { go } from './go.ts';
import { hackage } from './hackage.ts';
import { maven } from './maven.ts';
import { nuget } from './nuget.ts';
import { pep440 } from './pep440.ts';
import { pub } from './pub.ts';
import { rpm } from './rpm.ts';
import { rubygems } from './rubygems.ts';
import type { VersionScheme } from './scheme.ts';
import { semver } from './semver.ts';

export { defineScheme, type VersionScheme } from './scheme.ts';

/** Every scheme, one file each. */
export const SCHEMES: readonly VersionScheme[] = [
  semver,
  go,
  pep440,
  maven,
  rubygems,
  nuget,
  composer,
  debian,
  alpine,
  rpm,
  cran,
  hackage,
  pub,
];

/**
 * OSV ecosystem name (the part before `:`) → scheme. Ecosystems whose
 * ranges are only GIT commits (OSS-Fuzz, Linux, GIT) have none: their
 * `versions` lists still match by exact string, ranges are not evaluable.
 */
const BY_ECOSYSTEM: ReadonlyMap<string, VersionScheme> = new Map<string, VersionScheme>([
  ['npm', semver],
  ['crates.io', semver],
  ['Hex', semver],
  ['SwiftURL', semver],
  ['Bitnami', semver],
  ['ConanCenter', semver],
  ['Julia', semver],
  ['Bioconductor', semver],
  ['Docker Hardened Images', semver],
  ['Go', go],
  ['PyPI', pep440],
  ['Maven', maven],
  ['RubyGems', rubygems],
  ['NuGet', nuget],
  ['Packagist', composer],
  ['Debian', debian],
  ['Ubuntu', debian],
  ['Alpine', alpine],
  ['Alpaquita', alpine],
  ['BellSoft Hardened Containers', alpine],
  ['Chainguard', alpine],
  ['MinimOS', alpine],
  ['Wolfi', alpine],
  ['AlmaLinux', rpm],
  ['Rocky Linux', rpm],
  ['Red Hat', rpm],
  ['SUSE', rpm],
  ['openSUSE', rpm],
  ['openEuler', rpm],
  ['Mageia', rpm],
  ['CRAN', cran],
  ['Hackage', hackage],
  ['GHC', hackage],
  ['Pub', pub],
]);

/** The ecosystem without its release suffix: `Debian:12` → `Debian`. */
export function baseEcosystem(ecosystem: string): string {
  const i = ecosystem.indexOf(':');
  return i < 0 ? ecosystem : ecosystem.slice(0, i);
}

/** The scheme for an OSV ecosystem string (suffixes such as `:12`, `:v3.19` ignored), or undefined. */
export function schemeFor(ecosystem: string): VersionScheme | undefined {
  return BY_ECOSYSTEM.get(baseEcosystem(ecosystem));
}

/** Ecosystems whose package names are case-insensitive (compared lower-cased). */
const CASE_INSENSITIVE = new Set([
  'PyPI',
  'crates.io',
  'NuGet',
  'Packagist',
  'Pub',
  'Hex',
  'Debian',
  'Ubuntu',
  'Alpine',
  'Wolfi',
  'Chainguard',
]);

/**
 * The key under which a package name is looked up in an ecosystem:
 * PyPI per PEP 503 (lower case, runs of `-_.` → `-`); crates.io also folds
 * `-`/`_` (crates.io treats them as one name); Maven as `group:artifact`
 * (a purl's `group/artifact` accepted); names of case-insensitive
 * registries lower-cased; Go module paths, npm, RubyGems, Hackage, CRAN
 * kept as they are (case matters there).
 */
export function normalizeName(ecosystem: string, name: string): string {
  const eco = baseEcosystem(ecosystem);
  const n = name.trim();
  switch (eco) {
    case 'PyPI':
      return n.toLowerCase().replace(/[-_.]+/g, '-');
    case 'crates.io':
      return n.toLowerCase().replaceAll('_', '-');
    case 'Maven': {
      const i = n.includes(':') ? n.indexOf(':') : n.lastIndexOf('/');
      return i < 0 ? n : `${n.slice(0, i).trim()}:${n.slice(i + 1).trim()}`;
    }
    default:
      return CASE_INSENSITIVE.has(eco) ? n.toLowerCase() : n;
  }
}
