import { VouchError } from '../core/errors.ts';
import { readTextFile } from '../core/json.ts';
// Not sign/index.ts: that would load the verifier (and its protobufs) into every signing verb.
import { loadSigningKey } from '../sign/keys.ts';
import { DEFAULT_FULCIO_URL, DEFAULT_REKOR_URL, type SigningMode } from '../sign/types.ts';
import { usage } from './args.ts';
import type { Io } from './io.ts';

/** Flags every signing verb (run, attest) takes. */
export const SIGNING_OPTIONS = {
  key: { type: 'string' },
  keyless: { type: 'boolean' },
  'identity-token': { type: 'string' },
  'fulcio-url': { type: 'string' },
  'rekor-url': { type: 'string' },
  'tsa-url': { type: 'string' },
} as const;

export const SIGNING_HELP = `Signing (one of):
  --key FILE               private key (PKCS#8, PKCS#1 RSA or SEC1 EC PEM); an encrypted key's
                           passphrase comes from VOUCH_PASSPHRASE or a terminal prompt
  --keyless                Sigstore keyless: Fulcio certificate for an OIDC identity, Rekor entry
    --identity-token T     OIDC token, or a file holding one (default: the CI's own token:
                           SIGSTORE_ID_TOKEN, e.g. GitLab id_tokens, or GitHub Actions id-token)
    --fulcio-url URL       default ${DEFAULT_FULCIO_URL}
    --rekor-url URL        default ${DEFAULT_REKOR_URL}
    --tsa-url URL          RFC 3161 timestamp authority (optional)`;

interface SigningValues {
  key?: string | undefined;
  keyless?: boolean | undefined;
  'identity-token'?: string | undefined;
  'fulcio-url'?: string | undefined;
  'rekor-url'?: string | undefined;
  'tsa-url'?: string | undefined;
}

/**
 * @throws VouchError USAGE | FILE_* | KEY_*
 */
export async function signingModeFrom(
  verb: string,
  v: SigningValues,
  io: Io,
): Promise<SigningMode> {
  if (v.key !== undefined && v.keyless) throw usage(verb, '--key and --keyless exclude each other');
  if (!v.keyless) {
    const stray = KEYLESS_ONLY.find((f) => v[f] !== undefined);
    if (stray !== undefined) throw usage(verb, `--${stray} needs --keyless`);
  }
  if (v.key !== undefined) {
    const pem = await readTextFile(v.key, 1024 * 1024);
    const passphrase = isEncryptedPem(pem) ? await passphraseFor(v.key, io) : undefined;
    return { mode: 'key', key: loadSigningKey(pem, v.key, passphrase) };
  }
  if (v.keyless) {
    const mode: SigningMode = {
      mode: 'keyless',
      fulcioURL: v['fulcio-url'] ?? DEFAULT_FULCIO_URL,
      rekorURL: v['rekor-url'] ?? DEFAULT_REKOR_URL,
    };
    if (v['identity-token'] !== undefined)
      mode.identityToken = await identityTokenFrom(verb, v['identity-token']);
    if (v['tsa-url'] !== undefined) mode.tsaURL = v['tsa-url'];
    return mode;
  }
  throw usage(verb, 'say how to sign: --key FILE or --keyless');
}

const KEYLESS_ONLY = ['identity-token', 'fulcio-url', 'rekor-url', 'tsa-url'] as const;

/** A JWT's shape: three base64url parts (the signature may be empty). */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * `--identity-token` is the token itself or a file holding it, as cosign
 * takes it (a file keeps the token out of the process list and shell history).
 *
 * @throws VouchError USAGE (empty) | FILE_NOT_FOUND | FILE_READ
 */
async function identityTokenFrom(verb: string, value: string): Promise<string> {
  const trimmed = value.trim();
  if (trimmed === '') throw usage(verb, '--identity-token is empty');
  if (JWT_SHAPE.test(trimmed)) return trimmed;
  const token = (await readTextFile(value, 64 * 1024)).trim();
  if (token === '') throw usage(verb, `--identity-token file ${value} is empty`);
  return token;
}

function isEncryptedPem(pem: string): boolean {
  return pem.includes('BEGIN ENCRYPTED PRIVATE KEY') || /Proc-Type:\s*4,ENCRYPTED/.test(pem);
}

/**
 * @throws VouchError KEY_PASSPHRASE when there is neither VOUCH_PASSPHRASE nor a terminal.
 */
export async function passphraseFor(keyFile: string, io: Io): Promise<string> {
  const fromEnv = io.env.VOUCH_PASSPHRASE;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const typed = await io.promptSecret(`Passphrase for ${keyFile}: `);
  if (typed === undefined) {
    throw new VouchError(
      'KEY_PASSPHRASE',
      'encrypted key needs a passphrase: set VOUCH_PASSPHRASE (no terminal to ask on)',
      { file: keyFile },
    );
  }
  return typed;
}
