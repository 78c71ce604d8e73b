import { bundleToJSON } from '@sigstore/bundle';
import { DSSEBundleBuilder, type Signer, type Witness } from '@sigstore/sign';
import { VouchError } from '../core/errors.ts';
import { PAYLOAD_TYPE_INTOTO, type Statement } from '../core/statement.ts';
import { keylessError, keylessParts } from './keyless.ts';
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
  let signer: Signer;
  let witnesses: Witness[];
  switch (mode.mode) {
    case 'key':
      signer = keySigner(mode.key);
      witnesses = [];
      break;
    case 'keyless':
      ({ signer, witnesses } = keylessParts(mode));
      break;
    default:
      return assertNever(mode);
  }
  const builder = new DSSEBundleBuilder({ signer, witnesses });
  try {
    const bundle = await builder.create({ data: payload, type: PAYLOAD_TYPE_INTOTO });
    // v0.3 wants a single leaf certificate, which is what the builder emits by default.
    return bundleToJSON(bundle) as object;
  } catch (e) {
    if (e instanceof VouchError) throw e;
    if (mode.mode === 'keyless') throw keylessError(e);
    throw new VouchError('SIGNING_FAILED', `signing failed: ${(e as Error).message}`, { cause: e });
  }
}

/** Adapts a vouch SigningKey to sigstore-js's one-method Signer; `data` is the PAE. */
function keySigner(key: SigningKey): Signer {
  return {
    async sign(data: Buffer) {
      return {
        signature: await key.sign(data),
        key: { $case: 'publicKey', publicKey: key.publicKeyPem, hint: key.keyid },
      };
    },
  };
}

function assertNever(x: never): never {
  throw new Error(`unreachable: ${JSON.stringify(x)}`);
}
