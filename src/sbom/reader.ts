import type { ReaderResult } from './model.ts';

/** The bytes of one source file, with its path relative to the scanned root. */
export interface SourceFile {
  /** Path relative to the scanned root, `/`-separated (the name errors and accounting use). */
  path: string;
  /** Reads the whole file (size-limited by the caller). */
  bytes(): Promise<Buffer>;
  /** Lists sibling files of this one (e.g. go.mod next to go.sum, METADATA beside RECORD). */
  sibling(name: string): Promise<Buffer | undefined>;
  /**
   * Facts about the scanned tree as a whole that no sibling file holds: the
   * distribution from `etc/os-release`, which OS package readers put in purls
   * (`distro=debian-12`). Set by the directory and image walkers; absent when
   * unknown.
   */
  context?: SourceContext;
}

export interface SourceContext {
  /** From `etc/os-release` (or `usr/lib/os-release`): `ID` and `VERSION_ID`. */
  distro?: Distro;
}

export interface Distro {
  /** os-release `ID`, e.g. 'debian', 'ubuntu', 'alpine', 'fedora'. */
  id: string;
  /** os-release `VERSION_ID`, e.g. '12', '3.20.3'; absent on rolling releases (Debian sid). */
  versionId?: string;
}

/**
 * One lockfile / package-database format. One file per implementation in
 * src/sbom/readers/, listed in the explicit READERS array in src/sbom/readers/index.ts.
 *
 * Readers are pure and offline: they never run a package manager or touch the
 * network. A format version or construct a reader does not understand is an
 * error (VouchError with the file and, where possible, the line), never a
 * silently empty or partial result; entries it can read but not map go to
 * `accounting.skipped` with the reason.
 */
export interface Reader {
  /** Short stable name, e.g. 'npm', 'pnpm', 'dpkg'. */
  readonly name: string;
  /** True when this reader handles the file at `path` (relative, `/`-separated). Cheap: name only. */
  matches(path: string): boolean;
  read(file: SourceFile): Promise<ReaderResult>;
}
