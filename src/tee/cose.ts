import { verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { VouchError } from '../core/errors.ts';
import { type CborKey, type CborValue, decodeCbor, encodeCbor, isTagged } from './cbor.ts';

/** COSE algorithm identifiers (RFC 9053) we verify: ECDSA with SHA-2. */
const ALGORITHMS: Readonly<Record<number, { name: string; hash: string; size: number }>> = {
  [-7]: { name: 'ES256', hash: 'sha256', size: 64 },
  [-35]: { name: 'ES384', hash: 'sha384', size: 96 },
  [-36]: { name: 'ES512', hash: 'sha512', size: 132 },
};

/** COSE_Sign1 tag (RFC 9052 §4.2). */
export const COSE_SIGN1_TAG = 18;

export interface CoseSign1 {
  /** The protected header exactly as signed (a serialized map). */
  protectedBytes: Uint8Array;
  /** Algorithm name from the protected header ('ES384', …). */
  alg: string;
  payload: Uint8Array;
  signature: Uint8Array;
}

/**
 * Parses a COSE_Sign1 structure, tagged (18) or not (the AWS NSM returns it
 * untagged). The algorithm must be in the protected header; a detached
 * payload is refused.
 *
 * @throws VouchError TEE_MALFORMED
 */
export function parseCoseSign1(bytes: Uint8Array, source: string): CoseSign1 {
  let top = decodeCbor(bytes, source);
  if (isTagged(top)) {
    if (top.tag !== COSE_SIGN1_TAG)
      fail(source, 'tag', `CBOR tag ${top.tag}, expected 18 (COSE_Sign1)`);
    top = top.value;
  }
  if (!Array.isArray(top) || top.length !== 4)
    fail(
      source,
      'COSE_Sign1',
      'not an array of 4 items [protected, unprotected, payload, signature]',
    );
  const [prot, unprot, payload, signature] = top as [CborValue, CborValue, CborValue, CborValue];
  if (!(prot instanceof Uint8Array)) fail(source, 'protected', 'not a byte string');
  // Some producers (blocky/nitrite's self-signed samples) write null for an empty unprotected header;
  // nothing is read from it, so null is accepted alongside a map.
  if (!(unprot instanceof Map) && unprot !== null) fail(source, 'unprotected', 'not a map');
  if (!(payload instanceof Uint8Array))
    fail(source, 'payload', 'missing (detached payloads are not accepted)');
  if (!(signature instanceof Uint8Array)) fail(source, 'signature', 'not a byte string');
  const header =
    prot.length === 0
      ? new Map<CborKey, CborValue>()
      : decodeCbor(prot, `${source} (protected header)`);
  if (!(header instanceof Map)) fail(source, 'protected', 'not a serialized map');
  const algId = header.get(1);
  const alg = typeof algId === 'number' ? ALGORITHMS[algId] : undefined;
  if (!alg)
    fail(
      source,
      'protected/alg',
      `unsupported or missing algorithm ${String(algId)} (ES256, ES384, ES512 are accepted)`,
    );
  if (signature.length !== alg.size)
    fail(source, 'signature', `${signature.length} bytes, ${alg.name} signatures are ${alg.size}`);
  return { protectedBytes: prot, alg: alg.name, payload, signature };
}

/** The bytes a COSE_Sign1 signature covers (RFC 9052 §4.4), with empty external AAD. */
export function sigStructure(msg: CoseSign1): Buffer {
  return encodeCbor(['Signature1', msg.protectedBytes, new Uint8Array(0), msg.payload]);
}

/** Whether the signature verifies with `key` (an EC public key of the algorithm's curve). Never throws. */
export function verifyCoseSign1(msg: CoseSign1, key: KeyObject): boolean {
  const alg = Object.values(ALGORITHMS).find((a) => a.name === msg.alg);
  if (!alg) return false;
  try {
    return cryptoVerify(
      alg.hash,
      sigStructure(msg),
      { key, dsaEncoding: 'ieee-p1363' },
      msg.signature,
    );
  } catch {
    return false;
  }
}

function fail(source: string, field: string, message: string): never {
  throw new VouchError('TEE_MALFORMED', `COSE: ${message}`, { file: source, field });
}
