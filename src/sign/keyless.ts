import {
  CIContextProvider,
  FulcioSigner,
  type IdentityProvider,
  RekorWitness,
  type Signer,
  TSAWitness,
  type Witness,
} from '@sigstore/sign';
import { VouchError } from '../core/errors.ts';
import type { SigningMode } from './types.ts';

type KeylessMode = Extract<SigningMode, { mode: 'keyless' }>;

/** The audience Fulcio expects in OIDC tokens. */
const FULCIO_AUDIENCE = 'sigstore';

/**
 * The signer and witnesses for keyless signing: an ephemeral key certified
 * by Fulcio for the OIDC identity, logged to Rekor, optionally timestamped.
 */
export function keylessParts(mode: KeylessMode): { signer: Signer; witnesses: Witness[] } {
  const identityProvider: IdentityProvider =
    mode.identityToken !== undefined
      ? { getToken: async () => mode.identityToken as string }
      : new CIContextProvider(FULCIO_AUDIENCE);
  const signer = new FulcioSigner({ identityProvider, fulcioBaseURL: mode.fulcioURL });
  const witnesses: Witness[] = [
    new RekorWitness({ rekorBaseURL: mode.rekorURL, entryType: 'dsse' }),
  ];
  if (mode.tsaURL !== undefined) witnesses.push(new TSAWitness({ tsaBaseURL: mode.tsaURL }));
  return { signer, witnesses };
}

/** Maps a sigstore-js failure to a VouchError that says which step failed. */
export function keylessError(e: unknown): VouchError {
  const err = e as { code?: string; message?: string; cause?: unknown };
  const message = err.message ?? String(e);
  if (
    /identity token|OIDC|ACTIONS_ID_TOKEN|no identity/i.test(message) ||
    err.code === 'IDENTITY_TOKEN_READ_ERROR'
  ) {
    return new VouchError(
      'IDENTITY_TOKEN_MISSING',
      `no OIDC identity token: ${message} (run in a CI job with id-token permission, or pass an identity token)`,
      { cause: e },
    );
  }
  return new VouchError('SIGNING_FAILED', `keyless signing failed: ${message}`, { cause: e });
}
