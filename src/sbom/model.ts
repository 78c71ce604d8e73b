/**
 * The one internal SBOM model. Every reader converts its format into this at
 * the edge; writers (CycloneDX, SPDX), diff, vulnerability matching and
 * dependency policy only ever see this model.
 */

/** Package ecosystems, named as purl types. */
export type Ecosystem =
  | 'npm'
  | 'pypi'
  | 'golang'
  | 'maven'
  | 'cargo'
  | 'gem'
  | 'composer'
  | 'nuget'
  | 'deb'
  | 'apk'
  | 'rpm'
  | 'generic';

/** Why a component is there, from the lockfile's own flags. */
export type Scope = 'required' | 'dev' | 'optional' | 'peer';

export interface Hash {
  /** CycloneDX algorithm names: 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512' | 'MD5'. */
  algorithm: 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512' | 'MD5';
  /** Lower-case hex. */
  value: string;
}

/** Where one copy of a package was resolved from. */
export interface Source {
  kind: 'registry' | 'git' | 'tarball' | 'file' | 'link' | 'workspace';
  /** Registry base URL, git URL, tarball URL or path; a `registry` without one is the public registry. */
  url?: string;
}

export interface Component {
  /**
   * Stable reference, unique within one SBOM: the purl, plus `#<n>` only when
   * the same purl must appear twice (never for plain duplicates — those merge).
   */
  ref: string;
  ecosystem: Ecosystem;
  /** purl namespace: npm '@scope', maven groupId, golang module path prefix, deb/apk/rpm vendor ('debian', 'alpine'). */
  namespace?: string;
  name: string;
  version: string;
  /** Package URL (https://github.com/package-url/purl-spec). */
  purl: string;
  scope: Scope;
  /** SPDX license expressions or ids, as the source records them. */
  licenses: string[];
  hashes: Hash[];
  /** Where this came from: the lockfile path relative to the scanned root (and `!/inner` for archives). */
  foundIn: string[];
  /**
   * Where the package itself comes from when not the default registry: the
   * first such origin among its copies (in source order; across files, in
   * path order). Absent: the ecosystem's public registry.
   */
  source?: Source;
  /**
   * Every other distinct origin a copy of the same package was resolved from,
   * when copies disagree (npm v1 nests copies: one may come over plain HTTP,
   * another from git). Sorted (kind, then url), without duplicates and without
   * `source`; `{ kind: 'registry' }` with no url stands for the public
   * registry (a copy that recorded no source). Absent when every copy agrees.
   * A policy about origins must look at `source` and each of these.
   */
  otherSources?: Source[];
  /** Free-form extra facts worth keeping (e.g. 'npm:alias' => 'string-width-cjs'), sorted by key on output. */
  properties?: Record<string, string>;
}

/** An edge of the dependency graph: `from` depends on each of `to` (refs). */
export interface Dependency {
  ref: string;
  dependsOn: string[];
}

/** One entry a reader saw but could not turn into a component, and why. */
export interface Skipped {
  /** The entry's key or line as it appears in the source. */
  entry: string;
  reason: string;
}

/**
 * Completeness accounting per source file: how many package entries the
 * source declares, how many components were emitted, and every entry that
 * was not mapped, with the reason. `declared === emitted + skipped.length +
 * merged` must hold; a reader that cannot make it hold has a bug.
 */
export interface Accounting {
  file: string;
  reader: string;
  /** Format and version as understood, e.g. 'package-lock.json v3'. */
  format: string;
  declared: number;
  emitted: number;
  /** Entries that were the same package as another entry (same purl) and merged into it. */
  merged: number;
  skipped: Skipped[];
  /** True when the source can only be partial by nature (e.g. pom.xml declared dependencies). */
  incomplete?: boolean;
  incompleteReason?: string;
}

/** What one reader returns for one source. */
export interface ReaderResult {
  components: Component[];
  dependencies: Dependency[];
  /** Refs of the root project(s)/workspace(s) in this source, when it names them. */
  roots: string[];
  accounting: Accounting;
}

/** A whole SBOM: the merged results of every reader, plus what it is about. */
export interface Sbom {
  /** What was scanned: a directory, an image, a file. */
  subject: { kind: 'directory' | 'image' | 'file'; name: string; digest?: { sha256: string } };
  components: Component[];
  dependencies: Dependency[];
  roots: string[];
  accounting: Accounting[];
  /** RFC 3339; from SOURCE_DATE_EPOCH when set, so output is reproducible. */
  created: string;
  tool: { name: 'vouch'; version: string };
}
