/**
 * The model of a structural diff: every difference is about one member,
 * named by its nested path (`pkg.tgz/package/lib/x.js`), of one kind, with a
 * class saying what usually causes it and a hint saying how to fix that.
 */

export type DiffClass =
  | 'timestamp'
  | 'file-order'
  | 'permissions-ownership'
  | 'embedded-build-path'
  | 'random-id'
  | 'locale'
  | 'compression-level'
  | 'json-key-order'
  | 'unknown';

export type DifferenceKind =
  /** Only in B. */
  | 'added'
  /** Only in A. */
  | 'removed'
  /** Same member, different bytes. */
  | 'content'
  /** Same member, different mtime/mode/owner/link target/type. */
  | 'metadata'
  /** The same members in a different order. */
  | 'order'
  /** A compression layer's own header (gzip name, mtime, level). */
  | 'header'
  /** Same decompressed content, different compressed bytes. */
  | 'compression';

export interface Difference {
  /** Nested path: the input's name, then member paths, `/`-joined. */
  path: string;
  kind: DifferenceKind;
  class: DiffClass;
  hint: string;
  /** For metadata/header: which field (mtime, mode, uid, gid, uname, gname, linkname, type). */
  field?: string;
  a?: string;
  b?: string;
  /** Unified text diff, hex context or a short explanation. */
  detail?: string;
}

export interface DiffResult {
  identical: boolean;
  a: string;
  b: string;
  differences: Difference[];
}

export interface DiffLimits {
  /** Deepest nesting of archives inside archives. */
  maxDepth: number;
  /** Bytes decompressed in total, over every layer of both inputs. */
  maxDecompressed: number;
  /** Largest decompressed/compressed ratio accepted for a stream over 1 MiB. */
  maxRatio: number;
  /** Bytes of differing members copied to the private temp dir, in total. */
  maxSpill: number;
  /** Largest text compared line by line; larger text is compared as binary. */
  maxTextBytes: number;
  /** Members per archive. */
  maxEntries: number;
}

export const DEFAULT_DIFF_LIMITS: DiffLimits = {
  maxDepth: 8,
  maxDecompressed: 16 * 1024 * 1024 * 1024,
  maxRatio: 1000,
  maxSpill: 4 * 1024 * 1024 * 1024,
  maxTextBytes: 4 * 1024 * 1024,
  maxEntries: 1_000_000,
};

export const HINTS: Record<DiffClass, string> = {
  timestamp:
    'set SOURCE_DATE_EPOCH and make the build use it (tar --mtime=@$SOURCE_DATE_EPOCH --clamp-mtime, touch -d @$SOURCE_DATE_EPOCH)',
  'file-order': 'sort inputs (tar --sort=name, sort file lists, zip members in sorted order)',
  'permissions-ownership':
    'fix ownership and modes (tar --owner=0 --group=0 --numeric-owner, umask 022)',
  'embedded-build-path':
    'do not embed the build directory (relative paths, -ffile-prefix-map=$PWD=., strip source maps)',
  'random-id': 'derive ids from content or a fixed seed instead of randomness',
  locale: 'set LC_ALL=C.UTF-8 (and TZ=UTC) for the build',
  'compression-level': 'compress with fixed settings and no header name/time (gzip -n -9, zip -X)',
  'json-key-order': 'write JSON with sorted keys',
  unknown: 'inspect the difference; run vouch repro check to find the variation that causes it',
};
