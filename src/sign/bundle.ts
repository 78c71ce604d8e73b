import { bundleToJSON, toDSSEBundle } from '@sigstore/bundle';
import { pae } from '../core/dsse.ts';
import { VouchError } from '../core/errors.ts';
import { PAYLOAD_TYPE_INTOTO, type Statement } from '../core/statement.ts';
import type { SigningKey, SigningMode } from './types.ts';

export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/**
 * Signs a Statement into a Sigstore bundle v0.3 (JSON object) holding a DSSE
 * envelope of type application/vnd.in-toto+json. With a key the bundle names
 * the key by its keyid and carries no log entries; keyless bundles carry the
 * Fulcio certificate, a Rekor entry and, when asked, an RFC 3161 timestamp.
 *
 * @throws VouchError SIGNING_FAILED | IDENTITY_TOKEN_MISSING
 */
export async function signStatement(statement: Statement, mode: SigningMode): Promise<object> {
  const payload = Buffer.from(JSON.stringify(statement), 'utf8');
  switch (mode.mode) {
    case 'key':
      return keyBundle(payload, mode.key);
    case 'keyless': {
      // @sigstore/sign (with its HTTP stack) takes ~400 ms to load: only keyless signing needs it.
      const { keylessBundle } = await import('./keyless.ts');
      return keylessBundle(payload, PAYLOAD_TYPE_INTOTO, mode);
    }
    default:
      return assertNever(mode);
  }
}

/**
 * The bundle sigstore-js's DSSEBundleBuilder makes for a public-key signer
 * with no witnesses, built from @sigstore/bundle directly.
 */
async function keyBundle(payload: Buffer, key: SigningKey): Promise<object> {
  let signature: Buffer;
  try {
    signature = await key.sign(pae(PAYLOAD_TYPE_INTOTO, payload));
  } catch (e) {
    if (e instanceof VouchError) throw e;
    throw new VouchError('SIGNING_FAILED', `signing failed: ${(e as Error).message}`, { cause: e });
  }
  const bundle = toDSSEBundle({
    artifact: payload,
    artifactType: PAYLOAD_TYPE_INTOTO,
    signature,
    keyHint: key.keyid,
    // false: v0.3 media type, a single leaf certificate (none here).
    certificateChain: false,
  });
  bundle.verificationMaterial.tlogEntries = [];
  bundle.verificationMaterial.timestampVerificationData = { rfc3161Timestamps: [] };
  return bundleToJSON(bundle) as object;
}

function assertNever(x: never): never {
  throw new Error(`unreachable: ${JSON.stringify(x)}`);
}
