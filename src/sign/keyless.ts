import { bundleToJSON } from '@sigstore/bundle';
import {
  CIContextProvider,
  DSSEBundleBuilder,
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

/**
 * Signs `payload` keyless into a Sigstore bundle v0.3 (JSON object).
 *
 * @throws VouchError SIGNING_FAILED | IDENTITY_TOKEN_MISSING
 */
export async function keylessBundle(
  payload: Buffer,
  payloadType: string,
  mode: KeylessMode,
): Promise<object> {
  const { signer, witnesses } = keylessParts(mode);
  const builder = new DSSEBundleBuilder({ signer, witnesses });
  try {
    const bundle = await builder.create({ data: payload, type: payloadType });
    // v0.3 wants a single leaf certificate, which is what the builder emits by default.
    return bundleToJSON(bundle) as object;
  } catch (e) {
    if (e instanceof VouchError) throw e;
    throw keylessError(e);
  }
}

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
