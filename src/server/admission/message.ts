import type { PolicyVerdict, RuleResult } from '../../policy/index.ts';

/** Longest single reason kept; the API server shows the message to kubectl users. */
export const MAX_REASON = 300;
/** Longest denial message (the whole `status.message`). */
export const MAX_MESSAGE = 3000;
/** Longest warning: the API server truncates warnings at 256 characters. */
export const MAX_WARNING = 256;
/** Most warnings sent in one response (their total is capped at 4 KiB by the API server). */
export const MAX_WARNINGS = 12;

export function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** Every failing rule with its reasons, innermost first, as short lines. */
export function failingRules(verdict: PolicyVerdict): string[] {
  const out: string[] = [];
  const walk = (r: RuleResult) => {
    if (r.status !== 'fail') return;
    const own = r.reasons.filter((x) => !/ failed$/.test(x));
    out.push(clip(`rule ${r.name}: ${own.join('; ') || 'failed'}`, MAX_REASON));
    for (const c of r.children ?? []) walk(c);
  };
  for (const r of verdict.rules) walk(r);
  const rejected = verdict.evidence.filter((e) => !e.accepted);
  if (rejected.length > 0) {
    const first = rejected[0];
    out.push(
      clip(
        `${rejected.length} of ${verdict.evidence.length} bundle(s) rejected${first ? ` (${first.source}: ${first.reasons.join('; ')})` : ''}`,
        MAX_REASON,
      ),
    );
  }
  if (verdict.evidence.length === 0) out.push('no evidence found for this digest');
  return out;
}

/** Joins lines up to `max` characters, saying how many were left out. */
export function joinCapped(lines: readonly string[], max: number, sep = '\n'): string {
  let text = '';
  for (const [i, line] of lines.entries()) {
    const next = text === '' ? line : `${text}${sep}${line}`;
    const more = lines.length - i;
    if (next.length > max - 40) {
      return `${text}${sep}… (${more} more line(s) left out)`;
    }
    text = next;
  }
  return text;
}
