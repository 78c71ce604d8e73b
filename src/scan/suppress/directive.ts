/**
 * Inline suppressions: a comment `# vouch:ignore <ruleId>[,<ruleId>…] -- <why>`
 * (or `// vouch:ignore …`) on the finding's line or on the line above it. The
 * justification after `--` is required: a directive without one suppresses
 * nothing and is itself a finding, so every accepted risk says why.
 */
export interface Directive {
  /** 1-based line of the comment. */
  line: number;
  column: number;
  ruleIds: string[];
  /** Empty when the directive has none (then it suppresses nothing). */
  justification: string;
}

const MARKER = 'vouch:ignore';
const DIRECTIVE = /(?:^|\s)(?:#|\/\/)\s*vouch:ignore(?:\s+([^\s]+))?(?:\s+--\s*(.*?))?\s*$/;

/**
 * Directives in `text`, whose first line is line `firstLine` of its file.
 */
export function parseDirectives(text: string, firstLine = 1): Directive[] {
  if (!text.includes(MARKER)) return [];
  const out: Directive[] = [];
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    if (!raw.includes(MARKER)) continue;
    const line = raw.replace(/\r$/, '');
    const m = DIRECTIVE.exec(line);
    if (!m) continue;
    const ids = (m[1] ?? '').split(',').filter((s) => s !== '' && s !== '--');
    out.push({
      line: firstLine + i,
      column: (m.index ?? 0) + (m[0].length - m[0].trimStart().length) + 1,
      ruleIds: ids,
      justification: (m[2] ?? '').trim(),
    });
  }
  return out;
}
