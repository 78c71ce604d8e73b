/**
 * How a glob's `**` behaves. Both are required: the two callers differ on
 * each, and each states which it wants.
 */
export interface GlobOptions {
  /**
   * The `/` right after `**` is dropped, so `**` then `/` also matches no
   * directory at all (`**` + `/x` matches `x`), as in-toto's exclude
   * patterns (gitwildmatch) want it. Dropped, not made optional: that pattern
   * also matches `ax`. When false, that `/` is literal and must be there.
   */
  doubleStarDropsSlash: boolean;
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
      re += '.*';
      i++;
      if (options.doubleStarDropsSlash && pattern[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, options.dotAll ? 's' : '');
}
