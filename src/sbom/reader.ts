import type { ReaderResult } from './model.ts';

/** The bytes of one source file, with its path relative to the scanned root. */
export interface SourceFile {
  /** Path relative to the scanned root, `/`-separated (the name errors and accounting use). */
  path: string;
  /** Reads the whole file (size-limited by the caller). */
  bytes(): Promise<Buffer>;
  /** Lists sibling files of this one (e.g. go.mod next to go.sum, METADATA beside RECORD). */
  sibling(name: string): Promise<Buffer | undefined>;
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
