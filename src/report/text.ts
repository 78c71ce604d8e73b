import type { EvidenceCell, TaskStatus } from './model.ts';

export const STATUS_LABEL: Record<TaskStatus, string> = {
  satisfied: 'satisfied',
  'not-satisfied': 'not satisfied',
  'not-applicable': 'not applicable',
};

/** `ci (key:ab12…)`: who signed, for people. */
export function signersText(e: EvidenceCell): string {
  if (e.signers.length === 0) return 'no signer recorded';
  return e.signers.map((s) => `${s.name} (${shortIdentity(s.identity)})`).join(', ');
}

function shortIdentity(identity: string): string {
  const m = /^key:([0-9a-f]{16})[0-9a-f]+$/.exec(identity);
  return m ? `key ${m[1]}…` : identity;
}

/** When, and on whose word. */
export function timeText(e: EvidenceCell): string {
  switch (e.timeSource) {
    case 'transparency-log':
      return `${e.time} (transparency log)`;
    case 'timestamp-authority':
      return `${e.time} (timestamp authority)`;
    case 'predicate':
      return `${e.time} (claimed in the signed predicate, not timestamped)`;
    case 'none':
      return 'no time recorded';
  }
}
