/**
 * How a glob's `**` behaves. Both are required: the two callers differ on
 * each, and each states which it wants.
 */
export interface GlobOptions {
  /**
   * `**` then `/` matches zero or more whole directories (`**` + `/x` matches
   * `x` and `a/x`, not `ax`), as gitwildmatch (in-toto's exclude patterns,
   * pathspec) does. When false, that `/` is literal and must be there.
   */
  doubleStarSlashOptional: boolean;
  /** `**` also matches line breaks (the RegExp `s` flag). */
  dotAll: boolean;
}

/**
 * One glob as an anchored RegExp over a whole `/`-separated name: `*` matches
 * within one component, `**` across components, `?` one character other than
 * `/`. Everything else is literal (there are no classes or braces).
 */
export function globRegExp(pattern: string, options: GlobOptions): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' && pattern[i + 1] === '*') {
      i++;
      if (options.doubleStarSlashOptional && pattern[i + 1] === '/') {
        re += '(?:.*/)?';
        i++;
      } else re += '.*';
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, options.dotAll ? 's' : '');
}
