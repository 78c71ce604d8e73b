/** Test helper: run one rule set over text as a file would be scanned. */
import type { Finding } from '../finding.ts';
import { type RuleSet, runRules, splitLines } from '../rule.ts';

// biome-ignore lint/suspicious/noExplicitAny: any rule set
export function scanText(set: RuleSet<any>, text: string, file = 'f'): Finding[] {
  return runRules(set, set.parse(text, file), { file, lines: splitLines(text) });
}

/** `ruleId@line` of each finding, sorted: compact to assert on. */
export function where(fs: Finding[], rule?: string): string[] {
  return fs
    .filter((f) => rule === undefined || f.ruleId === rule)
    .map((f) => `${f.ruleId}@${f.line}`)
    .sort();
}
