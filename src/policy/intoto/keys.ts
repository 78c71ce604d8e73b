import {
  constants,
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';
import { canonicalizeOlpc } from '../../core/canonical.ts';
import { errorMessage, VouchError } from '../../core/errors.ts';
import { isObject } from '../../core/json.ts';
import { loadSigningKey, loadVerificationKey } from '../../sign/index.ts';

/**
 * A key as in-toto metadata v0.9 and securesystemslib write it: the entries
 * of a layout's `keys`, and the JSON key files `in-toto-keygen -t ed25519|ecdsa`
 * writes. RSA and ECDSA public values are SPKI PEM, Ed25519 values raw hex.
 */
export interface KeyDict {
  keytype: string;
  scheme: string;
  keyid_hash_algorithms?: string[];
  keyval: { public: string; private?: string; certificate?: string };
  keyid?: string;
}

/** securesystemslib signature schemes vouch checks and creates. */
export type IntotoScheme =
  | 'rsassa-pss-sha256'
  | 'rsassa-pss-sha384'
  | 'rsassa-pss-sha512'
  | 'rsa-pkcs1v15-sha256'
  | 'rsa-pkcs1v15-sha384'
  | 'rsa-pkcs1v15-sha512'
  | 'ecdsa-sha2-nistp256'
  | 'ecdsa-sha2-nistp384'
  | 'ed25519';

/** A public key with its securesystemslib identity, checking signatures the way its scheme says. */
export interface IntotoPublicKey {
  /** securesystemslib key id: sha256 of the OLPC canonical public key dict. */
  readonly keyid: string;
  readonly scheme: IntotoScheme;
  /** The public key dict as a layout's `keys` holds it (keyid included). */
  readonly dict: KeyDict;
  readonly publicKey: KeyObject;
  /** Lower-case hex sha256 of the SPKI DER: the same key under two key ids counts once. */
  readonly fingerprint: string;
  verify(message: Buffer, signature: Buffer): boolean;
}

export interface IntotoSigningKey extends IntotoPublicKey {
  sign(message: Buffer): Promise<Buffer>;
}

/** Ids securesystemslib 0.26 lists in `keyid_hash_algorithms` (key ids themselves are sha256). */
const KEYID_HASH_ALGORITHMS = ['sha256', 'sha512'];

const SCHEMES: ReadonlySet<string> = new Set<IntotoScheme>([
  'rsassa-pss-sha256',
  'rsassa-pss-sha384',
  'rsassa-pss-sha512',
  'rsa-pkcs1v15-sha256',
  'rsa-pkcs1v15-sha384',
  'rsa-pkcs1v15-sha512',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ed25519',
]);

/**
 * The key id securesystemslib computes (keys._get_keyid): sha256 over the OLPC
 * canonical JSON of `{keytype, scheme, keyid_hash_algorithms, keyval: {public}}`,
 * with the public value exactly as stored (CRLF turned into LF).
 */
export function securesystemslibKeyid(dict: KeyDict): string {
  const meta = {
    keytype: dict.keytype,
    scheme: dict.scheme,
    keyid_hash_algorithms: dict.keyid_hash_algorithms ?? KEYID_HASH_ALGORITHMS,
    keyval: { public: dict.keyval.public.replace(/\r\n/g, '\n') },
  };
  return createHash('sha256').update(canonicalizeOlpc(meta), 'utf8').digest('hex');
}

/**
 * Reads a key dict from a layout's `keys` (or a securesystemslib key file).
 *
 * @throws VouchError KEY_MALFORMED | KEY_UNSUPPORTED
 */
export function keyFromDict(value: unknown, source: string): IntotoPublicKey {
  const dict = parseKeyDict(value, source);
  const publicKey = publicKeyOf(dict, source);
  const keyid = dict.keyid ?? securesystemslibKeyid(dict);
  return makePublicKey(dict, keyid, publicKey, source);
}

function parseKeyDict(value: unknown, source: string): KeyDict {
  if (!isObject(value)) throw malformed(source, 'key is not a JSON object');
  const { keytype, scheme, keyval, keyid, keyid_hash_algorithms } = value;
  if (typeof keytype !== 'string') throw malformed(source, 'keytype missing or not a string');
  if (typeof scheme !== 'string') throw malformed(source, 'scheme missing or not a string');
  if (!isObject(keyval) || typeof keyval.public !== 'string') {
    throw malformed(source, 'keyval.public missing or not a string');
  }
  if (keyid !== undefined && (typeof keyid !== 'string' || !/^[0-9a-f]{64}$/.test(keyid))) {
    throw malformed(source, 'keyid is not 64 lower-case hex digits');
  }
  if (
    keyid_hash_algorithms !== undefined &&
    (!Array.isArray(keyid_hash_algorithms) ||
      !keyid_hash_algorithms.every((a) => typeof a === 'string'))
  ) {
    throw malformed(source, 'keyid_hash_algorithms is not a list of strings');
  }
  const dict: KeyDict = { keytype, scheme, keyval: { public: keyval.public } };
  if (keyid_hash_algorithms !== undefined) dict.keyid_hash_algorithms = keyid_hash_algorithms;
  if (typeof keyval.private === 'string' && keyval.private !== '') {
    dict.keyval.private = keyval.private;
  }
  if (typeof keyid === 'string') dict.keyid = keyid;
  return dict;
}

function publicKeyOf(dict: KeyDict, source: string): KeyObject {
  const pub = dict.keyval.public;
  try {
    switch (dict.keytype) {
      case 'ed25519':
        if (!/^[0-9a-f]{64}$/.test(pub))
          throw malformed(source, 'ed25519 public key is not 64 hex');
        return createPublicKey({ key: ed25519Jwk(pub), format: 'jwk' });
      case 'rsa':
      case 'ecdsa':
      case 'ecdsa-sha2-nistp256':
      case 'ecdsa-sha2-nistp384':
        return createPublicKey({ key: pub, format: 'pem' });
      default:
        throw new VouchError('KEY_UNSUPPORTED', `in-toto keytype ${JSON.stringify(dict.keytype)}`, {
          file: source,
        });
    }
  } catch (e) {
    if (e instanceof VouchError) throw e;
    throw malformed(source, `cannot read the ${dict.keytype} public key: ${errorMessage(e)}`);
  }
}

function ed25519Jwk(publicHex: string, privateHex?: string) {
  const jwk: Record<string, string> = {
    kty: 'OKP',
    crv: 'Ed25519',
    x: Buffer.from(publicHex, 'hex').toString('base64url'),
  };
  if (privateHex !== undefined) jwk.d = Buffer.from(privateHex, 'hex').toString('base64url');
  return jwk;
}

function makePublicKey(
  dict: KeyDict,
  keyid: string,
  publicKey: KeyObject,
  source: string,
): IntotoPublicKey {
  if (!SCHEMES.has(dict.scheme)) {
    throw new VouchError(
      'KEY_UNSUPPORTED',
      `in-toto signature scheme ${JSON.stringify(dict.scheme)}`,
      {
        file: source,
      },
    );
  }
  const scheme = dict.scheme as IntotoScheme;
  checkSchemeFits(scheme, publicKey, source);
  const publicDict: KeyDict = {
    keyid,
    keytype: dict.keytype,
    scheme,
    keyid_hash_algorithms: dict.keyid_hash_algorithms ?? KEYID_HASH_ALGORITHMS,
    keyval: { public: dict.keyval.public },
  };
  return {
    keyid,
    scheme,
    dict: publicDict,
    publicKey,
    fingerprint: createHash('sha256')
      .update(publicKey.export({ type: 'spki', format: 'der' }))
      .digest('hex'),
    verify: (message, signature) => verifyScheme(scheme, publicKey, message, signature),
  };
}

function checkSchemeFits(scheme: IntotoScheme, key: KeyObject, source: string): void {
  const type = key.asymmetricKeyType;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const fits =
    scheme === 'ed25519'
      ? type === 'ed25519'
      : scheme === 'ecdsa-sha2-nistp256'
        ? type === 'ec' && curve === 'prime256v1'
        : scheme === 'ecdsa-sha2-nistp384'
          ? type === 'ec' && curve === 'secp384r1'
          : type === 'rsa' || type === 'rsa-pss';
  if (!fits) {
    throw new VouchError(
      'KEY_MALFORMED',
      `scheme ${scheme} does not fit a ${type ?? 'unknown'}${curve ? ` ${curve}` : ''} key`,
      { file: source },
    );
  }
}

function schemeOptions(scheme: IntotoScheme): {
  hash: string | null;
  sign: Record<string, number | string>;
} {
  switch (scheme) {
    case 'rsassa-pss-sha256':
    case 'rsassa-pss-sha384':
    case 'rsassa-pss-sha512':
      // securesystemslib signs with salt = digest length and verifies with any salt.
      return {
        hash: scheme.slice('rsassa-pss-'.length),
        sign: {
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
        },
      };
    case 'rsa-pkcs1v15-sha256':
    case 'rsa-pkcs1v15-sha384':
    case 'rsa-pkcs1v15-sha512':
      return {
        hash: scheme.slice('rsa-pkcs1v15-'.length),
        sign: { padding: constants.RSA_PKCS1_PADDING },
      };
    case 'ecdsa-sha2-nistp256':
      return { hash: 'sha256', sign: { dsaEncoding: 'der' } };
    case 'ecdsa-sha2-nistp384':
      return { hash: 'sha384', sign: { dsaEncoding: 'der' } };
    case 'ed25519':
      return { hash: null, sign: {} };
    default:
      return assertNever(scheme);
  }
}

function verifyScheme(
  scheme: IntotoScheme,
  key: KeyObject,
  message: Buffer,
  signature: Buffer,
): boolean {
  const { hash, sign } = schemeOptions(scheme);
  const attempt = (opts: Record<string, number | string>) => {
    try {
      return nodeVerify(hash, message, { key, ...opts }, signature);
    } catch {
      return false;
    }
  };
  if (scheme.startsWith('rsassa-pss')) {
    return attempt({
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_AUTO,
    });
  }
  if (scheme.startsWith('ecdsa')) {
    // securesystemslib and in-toto-golang sign DER; accept r||s as the DSSE vectors use.
    if (attempt({ dsaEncoding: 'der' })) return true;
    const width = scheme === 'ecdsa-sha2-nistp256' ? 64 : 96;
    return signature.length === width && attempt({ dsaEncoding: 'ieee-p1363' });
  }
  return attempt(sign);
}

/** The securesystemslib key dict for a public KeyObject read from PEM. */
function dictForPublicKey(publicKey: KeyObject, source: string): KeyDict {
  const type = publicKey.asymmetricKeyType;
  switch (type) {
    case 'rsa':
    case 'rsa-pss':
      return {
        keytype: 'rsa',
        scheme: 'rsassa-pss-sha256',
        keyval: { public: spkiPem(publicKey) },
      };
    case 'ec': {
      const curve = publicKey.asymmetricKeyDetails?.namedCurve;
      const scheme =
        curve === 'prime256v1'
          ? 'ecdsa-sha2-nistp256'
          : curve === 'secp384r1'
            ? 'ecdsa-sha2-nistp384'
            : undefined;
      if (!scheme) {
        throw new VouchError('KEY_UNSUPPORTED', `ECDSA ${curve ?? ''} keys: use P-256 or P-384`, {
          file: source,
        });
      }
      // securesystemslib's own ECDSA files keep the PEM's final newline.
      return { keytype: 'ecdsa', scheme, keyval: { public: `${spkiPem(publicKey)}\n` } };
    }
    case 'ed25519': {
      const jwk = publicKey.export({ format: 'jwk' });
      return {
        keytype: 'ed25519',
        scheme: 'ed25519',
        keyval: { public: Buffer.from(String(jwk.x), 'base64url').toString('hex') },
      };
    }
    default:
      throw new VouchError('KEY_UNSUPPORTED', `${type ?? 'unknown'} keys are not in-toto keys`, {
        file: source,
      });
  }
}

/** SPKI PEM as securesystemslib stores RSA keys: 64-column lines, no final newline. */
function spkiPem(publicKey: KeyObject): string {
  return String(publicKey.export({ type: 'spki', format: 'pem' })).trimEnd();
}

function isJsonText(text: string): boolean {
  return text.trimStart().startsWith('{');
}

/**
 * Reads a public key the way in-toto-verify's `--layout-keys` does: a PEM
 * public key (RSA, ECDSA; SPKI, PKCS#1 or a certificate) or a
 * securesystemslib JSON key file (`in-toto-keygen -t ed25519|ecdsa`).
 *
 * @throws VouchError KEY_MALFORMED | KEY_UNSUPPORTED
 */
export function loadIntotoPublicKey(text: string, source: string): IntotoPublicKey {
  if (isJsonText(text)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw malformed(source, `not a PEM key and not valid JSON: ${errorMessage(e)}`);
    }
    return keyFromDict(withoutKeyid(value), source);
  }
  const verification = loadVerificationKey(text, source);
  const dict = dictForPublicKey(verification.publicKey, source);
  return makePublicKey(dict, securesystemslibKeyid(dict), verification.publicKey, source);
}

/** A key file's own `keyid` is not trusted: the id is recomputed from the key. */
function withoutKeyid(value: unknown): unknown {
  if (!isObject(value)) return value;
  const { keyid: _ignored, ...rest } = value;
  return rest;
}

/**
 * Reads a private key for signing in-toto metadata: PEM (PKCS#8, encrypted
 * PKCS#8, PKCS#1 RSA as in-toto-keygen writes, SEC1 EC) or an unencrypted
 * securesystemslib JSON key file. RSA keys sign RSASSA-PSS/SHA-256, the only
 * RSA scheme in-toto 1.3.1 uses.
 *
 * @throws VouchError KEY_MALFORMED | KEY_UNSUPPORTED | KEY_PASSPHRASE
 */
export function loadIntotoSigningKey(
  text: string,
  source: string,
  passphrase?: string,
): IntotoSigningKey {
  let privateKey: KeyObject;
  let dict: KeyDict;
  if (isJsonText(text)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw malformed(source, `not a PEM key and not valid JSON: ${errorMessage(e)}`);
    }
    const parsed = parseKeyDict(withoutKeyid(value), source);
    const priv = parsed.keyval.private;
    if (priv === undefined) throw malformed(source, 'key file has no keyval.private');
    try {
      privateKey =
        parsed.keytype === 'ed25519'
          ? createPrivateKey({ key: ed25519Jwk(parsed.keyval.public, priv), format: 'jwk' })
          : createPrivateKey({ key: priv, format: 'pem' });
    } catch (e) {
      throw malformed(source, `cannot read the ${parsed.keytype} private key: ${errorMessage(e)}`);
    }
    dict = {
      keytype: parsed.keytype,
      scheme: parsed.scheme,
      keyval: { public: parsed.keyval.public },
    };
    if (parsed.keyid_hash_algorithms) dict.keyid_hash_algorithms = parsed.keyid_hash_algorithms;
  } else if (text.includes('-----BEGIN')) {
    // loadSigningKey does the PEM reading, the passphrase and the size checks.
    const loaded = loadSigningKey(text, source, passphrase);
    privateKey = keyObjectFromPem(text, passphrase);
    dict = dictForPublicKey(loaded.publicKey, source);
  } else {
    throw new VouchError(
      'KEY_MALFORMED',
      'expected a PEM private key or an unencrypted securesystemslib JSON key file (in-toto-keygen -p keys are encrypted in a format vouch does not read: use an unencrypted or PEM key)',
      { file: source },
    );
  }
  const pub = makePublicKey(dict, securesystemslibKeyid(dict), createPublicKey(privateKey), source);
  const { hash, sign } = schemeOptions(pub.scheme);
  return {
    ...pub,
    async sign(message: Buffer): Promise<Buffer> {
      return nodeSign(hash, message, { key: privateKey, ...sign });
    },
  };
}

function keyObjectFromPem(text: string, passphrase: string | undefined): KeyObject {
  const m = /-----BEGIN ((?:ENCRYPTED |RSA |EC )?PRIVATE KEY)-----[\s\S]*?-----END \1-----/.exec(
    text,
  );
  const pem = m ? m[0] : text;
  return passphrase === undefined
    ? createPrivateKey({ key: pem, format: 'pem' })
    : createPrivateKey({ key: pem, format: 'pem', passphrase });
}

function malformed(source: string, message: string): VouchError {
  return new VouchError('KEY_MALFORMED', message, { file: source });
}

function assertNever(x: never): never {
  throw new Error(`unreachable: ${String(x)}`);
}
