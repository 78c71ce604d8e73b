import { bundleToJSON } from '@sigstore/bundle';
import {
  DSSEBundleBuilder,
  FulcioSigner,
  type IdentityProvider,
  RekorWitness,
  type Signer,
  TSAWitness,
  type Witness,
} from '@sigstore/sign';
import { errorMessage, VouchError } from '../core/errors.ts';
import { ambientIdentityToken, tokenRefusalHints } from './identity-token.ts';
import type { SigningMode } from './types.ts';

type KeylessMode = Extract<SigningMode, { mode: 'keyless' }>;

/**
 * Signs `payload` keyless into a Sigstore bundle v0.3 (JSON object).
 *
 * @throws VouchError SIGNING_FAILED | IDENTITY_TOKEN_MISSING | IDENTITY_TOKEN_INVALID
 */
export async function keylessBundle(
  payload: Buffer,
  payloadType: string,
  mode: KeylessMode,
): Promise<object> {
  const withToken = {
    ...mode,
    identityToken: mode.identityToken ?? (await ambientIdentityToken()),
  };
  const { signer, witnesses } = keylessParts(withToken);
  const builder = new DSSEBundleBuilder({ signer, witnesses });
  try {
    const bundle = await builder.create({ data: payload, type: payloadType });
    // v0.3 wants a single leaf certificate, which is what the builder emits by default.
    return bundleToJSON(bundle) as object;
  } catch (e) {
    if (e instanceof VouchError) throw e;
    throw keylessError(e, withToken);
  }
}

/**
 * The signer and witnesses for keyless signing: an ephemeral key certified
 * by Fulcio for the OIDC identity, logged to Rekor, optionally timestamped.
 * The token is resolved by the caller (keylessBundle: given, or the CI's).
 */
export function keylessParts(mode: KeylessMode & { identityToken: string }): {
  signer: Signer;
  witnesses: Witness[];
} {
  const identityProvider: IdentityProvider = { getToken: async () => mode.identityToken };
  const signer = new FulcioSigner({ identityProvider, fulcioBaseURL: mode.fulcioURL });
  const witnesses: Witness[] = [
    new RekorWitness({ rekorBaseURL: mode.rekorURL, entryType: 'dsse' }),
  ];
  if (mode.tsaURL !== undefined) witnesses.push(new TSAWitness({ tsaBaseURL: mode.tsaURL }));
  return { signer, witnesses };
}

/**
 * Maps a sigstore-js failure to a VouchError that says which step and which
 * service failed. Never quotes the token (sigstore-js's own parse error does).
 */
export function keylessError(e: unknown, mode?: KeylessMode): VouchError {
  for (let c: unknown = e; c instanceof Error; c = c.cause) {
    if (c instanceof VouchError) return c;
  }
  const err = e as { code?: string; message?: string; cause?: unknown };
  // sigstore-js keeps an HTTP status in the message but a network error only as the cause.
  const cause = err.cause === undefined ? '' : errorMessage(err.cause);
  const said = err.message ?? String(e);
  const message =
    cause && !said.includes(cause) && !said.includes(' - (') ? `${said}: ${cause}` : said;
  switch (err.code) {
    case 'IDENTITY_TOKEN_READ_ERROR':
      return new VouchError(
        'IDENTITY_TOKEN_MISSING',
        `no OIDC identity token: ${errorMessage(err.cause ?? e)}`,
        { cause: e },
      );
    case 'IDENTITY_TOKEN_PARSE_ERROR': {
      const why = errorMessage(err.cause);
      return new VouchError(
        'IDENTITY_TOKEN_INVALID',
        `the identity token is not a JWT with a subject: ${/^JWT /.test(why) ? why : 'its payload is not base64url JSON'}`,
      );
    }
    case 'CA_CREATE_SIGNING_CERTIFICATE_ERROR': {
      const where = `Fulcio ${mode?.fulcioURL ?? ''}`.trimEnd();
      const answer = message.replace(/^error creating signing certificate - /, '');
      if (/identity token/i.test(answer)) {
        const hints = mode?.identityToken ? tokenRefusalHints(mode.identityToken) : [];
        return new VouchError(
          'IDENTITY_TOKEN_INVALID',
          `${where} refused the identity token: ${answer}${hints.length ? ` (${hints.join('; ')})` : ''}`,
          { cause: e },
        );
      }
      return new VouchError('SIGNING_FAILED', `${where}: ${message}`, { cause: e });
    }
    case 'TLOG_CREATE_ENTRY_ERROR':
    case 'TLOG_FETCH_ENTRY_ERROR':
      return new VouchError(
        'SIGNING_FAILED',
        `Rekor ${mode?.rekorURL ?? ''}: ${message}`.replace('  ', ' '),
        { cause: e },
      );
    case 'TSA_CREATE_TIMESTAMP_ERROR':
      return new VouchError(
        'SIGNING_FAILED',
        `timestamp authority ${mode?.tsaURL ?? ''}: ${message}`.replace('  ', ' '),
        { cause: e },
      );
  }
  return new VouchError('SIGNING_FAILED', `keyless signing failed: ${message}`, { cause: e });
}
