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
  /**
   * Where the file sits inside its container, for messages about it: an
   * image's files give `layer N (sha256:…)`, the layer (0 = bottom) and its
   * diff_id. Absent for a directory's files.
   */
  origin?: string;
  /**
   * Reads up to `length` bytes at `offset` (fewer at the end of the file),
   * for readers that find what they need through a file's own tables instead
   * of reading all of it (executables). Offered only where a ranged read is
   * cheap (a file on disk, bytes already in memory); content detection
   * (Reader.content) is only tried on files that offer it.
   */
  readAt?(offset: number, length: number): Promise<Buffer>;
  /**
   * Reads another file of the scanned tree by its path from the tree's root
   * (`usr/share/doc/<pkg>/copyright` for a dpkg database), symbolic links
   * resolved inside the tree. Undefined when absent, not a regular file, or
   * outside the tree. Offered by the directory and image walkers.
   *
   * @throws VouchError FILE_READ | ARCHIVE_TOO_LARGE when larger than `maxBytes`
   */
  treeFile?(path: string, maxBytes: number): Promise<Buffer | undefined>;
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
  /**
   * Optional: recognise files by content, whatever their name and place
   * (an executable may be anywhere, named anything, with or without its
   * exec bit). Tried only on files no reader matched by name.
   */
  content?: ContentMatch;
  /**
   * Optional: other files of the tree this reader reads through
   * `SourceFile.treeFile` (by path from the root), so an image keeps their
   * bytes during its one pass over the layers instead of streaming a layer
   * again for each.
   */
  companions?(path: string): boolean;
}

/** How a reader recognises its files by content, with bounded reads. */
export interface ContentMatch {
  /** Bytes from the start of the file that `head` looks at. */
  readonly headBytes: number;
  /** Cheap first test on the first `headBytes` bytes (or fewer, for a short file): magic numbers. */
  head(bytes: Buffer): boolean;
  /**
   * The full test, for files whose head passed: reads only the ranges it
   * needs through `file.readAt`. False for a file this reader has nothing to
   * say about (so it gets no accounting entry); malformed content it does
   * claim is left for `read` to report.
   */
  matches(file: SourceFile & Required<Pick<SourceFile, 'readAt'>>): Promise<boolean>;
}
