import { PREDICATE_TYPES } from '../core/predicates.ts';
import type { Statement } from '../core/statement.ts';

/** Time fields of the predicate types that define one, first present wins. */
const TIME_FIELDS: Record<string, string[][]> = {
  [PREDICATE_TYPES.slsaprovenance]: [
    ['runDetails', 'metadata', 'finishedOn'],
    ['runDetails', 'metadata', 'startedOn'],
  ],
  [PREDICATE_TYPES.slsaprovenance02]: [
    ['metadata', 'buildFinishedOn'],
    ['metadata', 'buildStartedOn'],
  ],
  [PREDICATE_TYPES.vuln]: [
    ['metadata', 'scanFinishedOn'],
    ['metadata', 'scanStartedOn'],
  ],
  [PREDICATE_TYPES.vsa]: [['timeVerified']],
  [PREDICATE_TYPES.cyclonedx]: [['metadata', 'timestamp']],
  [PREDICATE_TYPES.spdx]: [['creationInfo', 'created']],
  [PREDICATE_TYPES.openvex]: [['timestamp']],
};

/** The predicate time field, when its type defines one and it is present. Exported for docs/tests. */
export function predicateTime(st: Statement): { path: string; value: string } | undefined {
  for (const path of TIME_FIELDS[st.predicateType] ?? []) {
    let v: unknown = st.predicate;
    for (const p of path)
      v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[p] : undefined;
    if (typeof v === 'string') return { path: `predicate.${path.join('.')}`, value: v };
  }
  return undefined;
}
