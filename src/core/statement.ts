import type { DigestSet } from './digest.ts';
import { VouchError } from './errors.ts';
import { isObject, parseJson } from './json.ts';

export const STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
/** Older Statement type; read for compatibility, never written. */
export const STATEMENT_V01 = 'https://in-toto.io/Statement/v0.1';
export const PAYLOAD_TYPE_INTOTO = 'application/vnd.in-toto+json';

export interface Subject {
  name: string;
  digest: DigestSet;
}

export interface Statement<P = unknown> {
  _type: typeof STATEMENT_V1 | typeof STATEMENT_V01;
  subject: Subject[];
  predicateType: string;
  predicate?: P;
}

const HEX_LENGTH: Record<string, number> = {
  sha256: 64,
  sha384: 96,
  sha512: 128,
  sha224: 56,
  sha1: 40,
  sha512_256: 64,
  sha3_256: 64,
  sha3_384: 96,
  sha3_512: 128,
  gitCommit: 40,
  gitTree: 40,
  gitBlob: 40,
};

const HEX_PATTERNS = new Map<number, RegExp>();

/** `^[0-9a-fA-F]{len}$`, compiled once per length. */
function hexOfLength(len: number): RegExp {
  let re = HEX_PATTERNS.get(len);
  if (re === undefined) {
    re = new RegExp(`^[0-9a-fA-F]{${len}}$`);
    HEX_PATTERNS.set(len, re);
  }
  return re;
}

/** Digest algorithms strong enough to identify an artifact. */
const STRONG = new Set([
  'sha256',
  'sha384',
  'sha512',
  'sha512_256',
  'sha3_256',
  'sha3_384',
  'sha3_512',
]);

/**
 * Validates a parsed Statement: type, at least one subject, every subject
 * with a digest set of well-formed hex digests, and a predicateType URI.
 *
 * @throws VouchError STATEMENT_MALFORMED
 */
export function statementFromJson(value: unknown, source: string): Statement {
  const bad = (field: string, message: string) =>
    new VouchError('STATEMENT_MALFORMED', message, { file: source, field });
  if (!isObject(value)) throw bad('/', 'statement is not a JSON object');
  if (value._type !== STATEMENT_V1 && value._type !== STATEMENT_V01) {
    throw bad('/_type', `expected ${STATEMENT_V1}, got ${JSON.stringify(value._type)}`);
  }
  if (!Array.isArray(value.subject) || value.subject.length === 0) {
    throw bad('/subject', 'must be a non-empty array');
  }
  const subject = value.subject.map((s, i): Subject => {
    const field = `/subject/${i}`;
    if (!isObject(s)) throw bad(field, 'not a JSON object');
    if (s.name !== undefined && typeof s.name !== 'string')
      throw bad(`${field}/name`, 'not a string');
    const emptyDigest = () =>
      bad(`${field}/digest`, 'must be a non-empty object of algorithm to hex digest');
    if (!isObject(s.digest)) throw emptyDigest();
    const digest: DigestSet = {};
    let algorithms = 0;
    for (const [alg, hex] of Object.entries(s.digest)) {
      algorithms++;
      if (typeof hex !== 'string') throw bad(`${field}/digest/${alg}`, 'not a string');
      // JSON.parse makes "__proto__" an own key; assigning it would set the prototype.
      if (alg === '__proto__') throw bad(`${field}/digest/${alg}`, 'not a digest algorithm name');
      const len = Object.hasOwn(HEX_LENGTH, alg) ? HEX_LENGTH[alg] : undefined;
      if (len !== undefined && !hexOfLength(len).test(hex)) {
        throw bad(`${field}/digest/${alg}`, `not a ${len}-character hex ${alg} digest`);
      }
      digest[alg] = len !== undefined ? hex.toLowerCase() : hex;
    }
    if (algorithms === 0) throw emptyDigest();
    return { name: s.name ?? '', digest };
  });
  if (typeof value.predicateType !== 'string' || !isUri(value.predicateType)) {
    throw bad('/predicateType', 'must be a URI');
  }
  if (value.predicate !== undefined && !isObject(value.predicate)) {
    throw bad('/predicate', 'must be a JSON object');
  }
  const out: Statement = { _type: value._type, subject, predicateType: value.predicateType };
  if (value.predicate !== undefined) out.predicate = value.predicate;
  return out;
}

export function parseStatement(payload: Uint8Array | string, source: string): Statement {
  const text =
    typeof payload === 'string'
      ? payload
      : Buffer.isBuffer(payload)
        ? payload.toString('utf8')
        : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');
  return statementFromJson(parseJson(text, source), source);
}

/** Builds a v1 Statement; the caller's subjects are sorted for determinism. */
export function makeStatement<P>(
  subject: Subject[],
  predicateType: string,
  predicate: P,
): Statement<P> {
  const sorted = [...subject].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { _type: STATEMENT_V1, subject: sorted, predicateType, predicate };
}

/**
 * True when one of the statement's subjects carries `hex` for `algorithm`.
 * Only strong algorithms match; a sha1 or gitCommit subject never does.
 */
export function statementHasSubject(st: Statement, algorithm: string, hex: string): boolean {
  if (!STRONG.has(algorithm)) return false;
  const want = hex.toLowerCase();
  return st.subject.some((s) => s.digest[algorithm]?.toLowerCase() === want);
}

/** URIs already accepted (predicate types repeat across statements); bounded. */
const ACCEPTED_URIS = new Set<string>();
const MAX_ACCEPTED_URIS = 256;

export function isUri(text: string): boolean {
  if (ACCEPTED_URIS.has(text)) return true;
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$/.test(text)) return false;
  try {
    new URL(text);
  } catch {
    return false;
  }
  if (ACCEPTED_URIS.size < MAX_ACCEPTED_URIS) ACCEPTED_URIS.add(text);
  return true;
}
