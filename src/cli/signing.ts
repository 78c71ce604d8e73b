import { VouchError } from '../core/errors.ts';
import { readTextFile } from '../core/json.ts';
// Not sign/index.ts: that would load the verifier (and its protobufs) into every signing verb.
import { ambientIdentityToken } from '../sign/identity-token.ts';
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

/**
 * The signing flags under a prefix, for the verbs whose `--key` already means a
 * trusted public key (docs/cli/README.md#conventions): `verify` signs its
 * decision with `sign-decision-` (`--sign-decision-key`, `--sign-decision-keyless`,
 * `--sign-decision-fulcio-url`…), `vulns` its scan with `attest-`. The keyless
 * service flags take the prefix too: on a verifying verb a bare `--rekor-url`
 * would read as the log to verify against (as in `cosign verify`).
 */
export type PrefixedSigningOptions<P extends string> = {
  [K in keyof typeof SIGNING_OPTIONS as `${P}${K}`]: (typeof SIGNING_OPTIONS)[K];
};

export type PrefixedSigningValues<P extends string> = {
  [K in keyof SigningValues as `${P}${K}`]?: SigningValues[K];
};

/** `vouch verify --policy`'s decision signing flags. */
export const DECISION_SIGNING = 'sign-decision-';
/** `vouch vulns`'s scan attestation flags. */
export const ATTEST_SIGNING = 'attest-';

export function prefixedSigningOptions<P extends string>(prefix: P): PrefixedSigningOptions<P> {
  return Object.fromEntries(
    Object.entries(SIGNING_OPTIONS).map(([k, o]) => [`${prefix}${k}`, o]),
  ) as PrefixedSigningOptions<P>;
}

/**
 * Help lines for the keyless flags under a prefix (the signing flags
 * themselves are described by each verb), description at `column`.
 */
export function prefixedKeylessHelp(prefix: string, column: number, indent = '  '): string {
  const rows: Array<[string, string[]]> = [
    [
      `--${prefix}identity-token T`,
      [
        "OIDC token, or a file holding one (default: the CI's own token:",
        'SIGSTORE_ID_TOKEN, e.g. GitLab id_tokens, or GitHub Actions id-token)',
      ],
    ],
    [`--${prefix}fulcio-url URL`, [`Fulcio (default ${DEFAULT_FULCIO_URL})`]],
    [`--${prefix}rekor-url URL`, [`Rekor (default ${DEFAULT_REKOR_URL})`]],
    [`--${prefix}tsa-url URL`, ['Sigstore timestamp authority (optional)']],
  ];
  const pad = ' '.repeat(column);
  return rows
    .map(([flag, text]) => {
      const head = `${indent}${flag}`;
      const first =
        head.length < column - 1 ? `${head.padEnd(column)}${text[0]}` : `${head}\n${pad}${text[0]}`;
      return [first, ...text.slice(1).map((t) => pad + t)].join('\n');
    })
    .join('\n');
}

/**
 * The values of prefixed signing flags under their plain names, for
 * signingModeFrom (which is then given the prefix for its messages).
 */
export function unprefixedSigningValues(
  prefix: string,
  given: object,
  resolvePath: (file: string) => string,
): SigningValues {
  const values = given as Record<string, unknown>;
  const v: SigningValues = {};
  const key = values[`${prefix}key`];
  if (typeof key === 'string') v.key = resolvePath(key);
  if (values[`${prefix}keyless`] === true) v.keyless = true;
  for (const f of KEYLESS_ONLY) {
    const value = values[`${prefix}${f}`];
    if (typeof value === 'string') v[f] = value;
  }
  return v;
}

export interface SigningValues {
  key?: string | undefined;
  keyless?: boolean | undefined;
  'identity-token'?: string | undefined;
  'fulcio-url'?: string | undefined;
  'rekor-url'?: string | undefined;
  'tsa-url'?: string | undefined;
}

/**
 * The signing flags' combinations, without reading anything: for a verb to
 * refuse them before any work, also when it will not sign. `prefix` is how
 * the verb spells them (see prefixedSigningOptions), for the messages.
 *
 * @throws VouchError USAGE
 */
export function checkSigningFlags(verb: string, v: SigningValues, prefix = ''): void {
  if (v.key !== undefined && v.keyless)
    throw usage(verb, `--${prefix}key and --${prefix}keyless exclude each other`);
  if (!v.keyless) {
    const stray = KEYLESS_ONLY.find((f) => v[f] !== undefined);
    if (stray !== undefined) throw usage(verb, `--${prefix}${stray} needs --${prefix}keyless`);
  }
}

/**
 * @throws VouchError USAGE | FILE_* | KEY_*
 */
export async function signingModeFrom(
  verb: string,
  v: SigningValues,
  io: Io,
  prefix = '',
): Promise<SigningMode> {
  checkSigningFlags(verb, v, prefix);
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
      mode.identityToken = await identityTokenFrom(verb, v['identity-token'], prefix);
    // A prefixed verb signs after other work (a decision after verifying, a scan
    // after matching): the CI's token is fetched now, so none is an error before
    // that work, naming the verb's own flag.
    else if (prefix !== '')
      mode.identityToken = await ambientIdentityToken(io.env, `--${prefix}identity-token`);
    if (v['tsa-url'] !== undefined) mode.tsaURL = v['tsa-url'];
    return mode;
  }
  throw usage(verb, `say how to sign: --${prefix}key FILE or --${prefix}keyless`);
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
async function identityTokenFrom(verb: string, value: string, prefix: string): Promise<string> {
  const trimmed = value.trim();
  if (trimmed === '') throw usage(verb, `--${prefix}identity-token is empty`);
  if (JWT_SHAPE.test(trimmed)) return trimmed;
  const token = (await readTextFile(value, 64 * 1024)).trim();
  if (token === '') throw usage(verb, `--${prefix}identity-token file ${value} is empty`);
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
