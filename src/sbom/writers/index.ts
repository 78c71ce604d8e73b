import { PREDICATE_TYPES } from '../../core/predicates.ts';
import type { Sbom } from '../model.ts';
import { toCycloneDx } from './cyclonedx.ts';
import { toSpdx } from './spdx.ts';

/** One output format: its CLI name, the in-toto predicate type, and the writer. */
export interface SbomFormat {
  readonly name: 'cyclonedx-json' | 'spdx-json';
  readonly predicateType: string;
  /** The document as a JSON value (the predicate of an SBOM attestation). */
  toJson(sbom: Sbom): Record<string, unknown>;
}

/** Every output format; the first is the default. */
export const FORMATS: readonly SbomFormat[] = [
  { name: 'cyclonedx-json', predicateType: PREDICATE_TYPES.cyclonedx, toJson: toCycloneDx },
  { name: 'spdx-json', predicateType: PREDICATE_TYPES.spdx, toJson: toSpdx },
];

export type FormatName = SbomFormat['name'];
