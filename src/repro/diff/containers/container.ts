import type { Codec, DiffContext } from '../source.ts';

export type MemberType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

/** What is compared about a member besides its bytes. Absent fields are not compared. */
export interface MemberMeta {
  /** Normalised `/`-separated path inside the container. */
  path: string;
  type: MemberType;
  size: number;
  /** Position in the container's own order. */
  index: number;
  mode?: number;
  /** Seconds since the epoch. */
  mtime?: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  linkname?: string;
  /** Format-specific raw metadata, e.g. a zip entry's extra field (hex). */
  extra?: string;
  /** Where the body starts in the node's file, when it is stored there as is (an uncompressed tar). */
  offset?: number;
}

export interface Member {
  meta: MemberMeta;
  /** The body; call at most once, before asking for the next member. */
  body(): AsyncIterable<Buffer>;
}

/** A file (or directory) as the differ sees it: where it is and what its first bytes are. */
export interface Node {
  /** Where the bytes are: the input itself or a copy in the private temp dir. */
  file: string;
  /** Nested display path. */
  name: string;
  isDirectory: boolean;
  /** A compression layer around the content, looked through. */
  codec?: Codec;
  /** The first bytes of the (decompressed) content. */
  head: Buffer;
}

/** One archive format the differ can list. */
export interface Container {
  readonly format: string;
  detect(node: Node): boolean;
  /**
   * Members in archive order.
   *
   * @throws VouchError ARCHIVE_MALFORMED | ARCHIVE_UNSAFE | ARCHIVE_TOO_LARGE | PATH_ESCAPE
   */
  members(node: Node, ctx: DiffContext): AsyncIterable<Member>;
}
