import type { PolicyVerdict, RuleResult } from './evaluate.ts';

const MARK: Record<RuleResult['status'], string> = {
  pass: '✓',
  fail: '✗',
  'pass-with-exception': '!',
};

/** The evaluation as an indented tree, for people: evidence first, then every rule with every reason. */
export function explainVerdict(v: PolicyVerdict): string {
  const out: string[] = [];
  out.push(`policy ${v.policy.name} (${v.policy.digest}) on ${v.subject} at ${v.evaluatedAt}`);
  out.push('evidence:');
  if (v.evidence.length === 0) out.push('  (none found)');
  for (const e of v.evidence) {
    if (e.accepted) {
      const when = e.signedAt
        ? `signed ${e.signedAt} (${e.timeSource})`
        : 'no trusted signing time';
      out.push(
        `  ✓ ${e.source}  ${e.predicateType}  by ${e.signers.map((s) => s.name).join(', ')}, ${when}`,
      );
    } else {
      out.push(`  ✗ ${e.source}  dropped`);
    }
    for (const r of e.reasons) out.push(`      ${r}`);
  }
  out.push('rules:');
  const walk = (r: RuleResult, depth: number) => {
    const pad = '  '.repeat(depth);
    out.push(`${pad}${MARK[r.status]} ${r.name} [${r.status}]  ${r.summary}`);
    for (const e of r.evidence)
      out.push(
        `${pad}    uses ${e.source} by ${e.signers.join(', ')}${e.time ? ` at ${e.time}` : ''}`,
      );
    for (const reason of r.reasons) out.push(`${pad}    - ${reason}`);
    for (const c of r.children ?? []) walk(c, depth + 1);
  };
  for (const r of v.rules) walk(r, 1);
  out.push(`decision: ${v.decision.toUpperCase()}`);
  return `${out.join('\n')}\n`;
}
