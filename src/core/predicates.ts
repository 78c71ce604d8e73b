import { VouchError } from './errors.ts';
import { isUri } from './statement.ts';

/**
 * Predicate types vouch knows by name. `vouch attest --predicate-type` takes
 * either a short name from this table or any absolute URI.
 */
export const PREDICATE_TYPES = {
  slsaprovenance: 'https://slsa.dev/provenance/v1',
  slsaprovenance02: 'https://slsa.dev/provenance/v0.2',
  vsa: 'https://slsa.dev/verification_summary/v1',
  cyclonedx: 'https://cyclonedx.org/bom',
  spdx: 'https://spdx.dev/Document',
  vuln: 'https://in-toto.io/attestation/vulns/v0.1',
  openvex: 'https://openvex.dev/ns',
  'test-result': 'https://in-toto.io/attestation/test-result/v0.1',
  link: 'https://in-toto.io/attestation/link/v0.3',
  custom: 'https://vouch.dev/attestation/custom/v0.1',
} as const;

export type PredicateName = keyof typeof PREDICATE_TYPES;

/**
 * Resolves a short name or URI to a predicate type URI.
 *
 * @throws VouchError STATEMENT_UNKNOWN_TYPE
 */
export function resolvePredicateType(nameOrUri: string): string {
  const known = (PREDICATE_TYPES as Record<string, string>)[nameOrUri];
  if (known) return known;
  if (isUri(nameOrUri)) return nameOrUri;
  throw new VouchError(
    'STATEMENT_UNKNOWN_TYPE',
    `unknown predicate type ${JSON.stringify(nameOrUri)}: use a URI or one of ${Object.keys(PREDICATE_TYPES).join(', ')}`,
    { field: '--predicate-type' },
  );
}
