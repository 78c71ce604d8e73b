import type { DigestSet } from '../core/digest.ts';
import { VouchError } from '../core/errors.ts';
import { isObject } from '../core/json.ts';
import { isUri } from '../core/statement.ts';

export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
/** The buildType of `vouch run`: externalParameters are `{ command, workdir }`. */
export const VOUCH_RUN_BUILD_TYPE = 'https://vouch.dev/buildtypes/run/v1';

/** in-toto ResourceDescriptor v1. At least one of uri, digest, content is set. */
export interface ResourceDescriptor {
  uri?: string;
  digest?: DigestSet;
  name?: string;
  downloadLocation?: string;
  mediaType?: string;
  /** Base64 of the resource's bytes. */
  content?: string;
  annotations?: Record<string, unknown>;
}

export interface BuildDefinition {
  buildType: string;
  externalParameters: Record<string, unknown>;
  internalParameters?: Record<string, unknown>;
  resolvedDependencies?: ResourceDescriptor[];
}

export interface Builder {
  id: string;
  version?: Record<string, string>;
  builderDependencies?: ResourceDescriptor[];
}

export interface BuildMetadata {
  invocationId?: string;
  startedOn?: string;
  finishedOn?: string;
}

export interface RunDetails {
  builder: Builder;
  metadata?: BuildMetadata;
  byproducts?: ResourceDescriptor[];
}

/** SLSA Provenance v1 predicate (https://slsa.dev/spec/v1.0/provenance). */
export interface ProvenancePredicate {
  buildDefinition: BuildDefinition;
  runDetails: RunDetails;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * Checks the shape SLSA v1 requires, naming the first offending field as a
 * JSON pointer. Unknown fields are allowed: the spec says consumers ignore them.
 *
 * @throws VouchError PREDICATE_MALFORMED
 */
export function validateProvenance(pred: unknown, source: string): ProvenancePredicate {
  const bad = (field: string, message: string) =>
    new VouchError('PREDICATE_MALFORMED', message, { file: source, field });
  if (!isObject(pred)) throw bad('/predicate', 'not a JSON object');

  const bd = pred.buildDefinition;
  if (!isObject(bd)) throw bad('/predicate/buildDefinition', 'missing or not an object');
  if (typeof bd.buildType !== 'string' || !isUri(bd.buildType)) {
    throw bad('/predicate/buildDefinition/buildType', 'must be a URI');
  }
  if (!isObject(bd.externalParameters)) {
    throw bad('/predicate/buildDefinition/externalParameters', 'missing or not an object');
  }
  if (bd.internalParameters !== undefined && !isObject(bd.internalParameters)) {
    throw bad('/predicate/buildDefinition/internalParameters', 'not an object');
  }
  checkDescriptors(bd.resolvedDependencies, '/predicate/buildDefinition/resolvedDependencies', bad);

  const rd = pred.runDetails;
  if (!isObject(rd)) throw bad('/predicate/runDetails', 'missing or not an object');
  if (!isObject(rd.builder)) throw bad('/predicate/runDetails/builder', 'missing or not an object');
  if (typeof rd.builder.id !== 'string' || !isUri(rd.builder.id)) {
    throw bad('/predicate/runDetails/builder/id', 'must be a URI');
  }
  if (rd.builder.version !== undefined && !isObject(rd.builder.version)) {
    throw bad('/predicate/runDetails/builder/version', 'not an object');
  }
  checkDescriptors(
    rd.builder.builderDependencies,
    '/predicate/runDetails/builder/builderDependencies',
    bad,
  );
  if (rd.metadata !== undefined) {
    if (!isObject(rd.metadata)) throw bad('/predicate/runDetails/metadata', 'not an object');
    const { invocationId, startedOn, finishedOn } = rd.metadata;
    if (invocationId !== undefined && typeof invocationId !== 'string') {
      throw bad('/predicate/runDetails/metadata/invocationId', 'not a string');
    }
    for (const [k, v] of [
      ['startedOn', startedOn],
      ['finishedOn', finishedOn],
    ] as const) {
      if (
        v !== undefined &&
        (typeof v !== 'string' || !RFC3339.test(v) || Number.isNaN(Date.parse(v)))
      ) {
        throw bad(`/predicate/runDetails/metadata/${k}`, 'not an RFC 3339 timestamp');
      }
    }
  }
  checkDescriptors(rd.byproducts, '/predicate/runDetails/byproducts', bad);
  return pred as unknown as ProvenancePredicate;
}

function checkDescriptors(
  list: unknown,
  at: string,
  bad: (field: string, message: string) => VouchError,
): void {
  if (list === undefined) return;
  if (!Array.isArray(list)) throw bad(at, 'not an array');
  list.forEach((rd, i) => {
    const f = `${at}/${i}`;
    if (!isObject(rd)) throw bad(f, 'not an object');
    if (rd.uri === undefined && rd.digest === undefined && rd.content === undefined) {
      throw bad(f, 'a resource descriptor needs at least one of uri, digest, content');
    }
    for (const k of ['uri', 'name', 'downloadLocation', 'mediaType', 'content'] as const) {
      if (rd[k] !== undefined && typeof rd[k] !== 'string') throw bad(`${f}/${k}`, 'not a string');
    }
    if (typeof rd.uri === 'string' && !isUri(rd.uri)) throw bad(`${f}/uri`, 'not a URI');
    if (rd.digest !== undefined) {
      if (!isObject(rd.digest) || Object.keys(rd.digest).length === 0) {
        throw bad(`${f}/digest`, 'must be a non-empty object of algorithm to hex digest');
      }
      for (const [alg, hex] of Object.entries(rd.digest)) {
        if (typeof hex !== 'string' || !/^[0-9a-fA-F]+$/.test(hex)) {
          throw bad(`${f}/digest/${alg}`, 'not a hex string');
        }
      }
    }
    if (rd.annotations !== undefined && !isObject(rd.annotations)) {
      throw bad(`${f}/annotations`, 'not an object');
    }
  });
}
