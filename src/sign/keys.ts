import {
  constants,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
  X509Certificate,
} from 'node:crypto';
import { errorMessage, VouchError } from '../core/errors.ts';
import type { KeyAlgorithm, SigningKey, VerificationKey } from './types.ts';

/** Algorithms `generateKeyPair` creates; RSA keys are only read. */
export type GeneratedKeyAlgorithm = 'ecdsa-p256' | 'ecdsa-p384' | 'ed25519';

export interface GeneratedKeyPair {
  /** PKCS#8 PEM, `ENCRYPTED PRIVATE KEY` when a passphrase was given. */
  privateKeyPem: string;
  /** SPKI PEM. */
  publicKeyPem: string;
  keyid: string;
}

export interface SigningKeyOptions {
  /** Sign with RSASSA-PSS instead of PKCS#1 v1.5 for a plain RSA key. */
  rsaPadding?: 'pkcs1v15' | 'pss';
}

const PASSPHRASE_HINT = 'encrypted key needs a passphrase: set VOUCH_PASSPHRASE';
const MIN_RSA_BITS = 2048;

/**
 * Creates a key pair. With a passphrase the private key is PKCS#8 encrypted
 * with PBES2 / AES-256-CBC, which is what `openssl pkcs8 -topk8 -v2 aes256`
 * and cosign-style tools read.
 *
 * @throws VouchError USAGE when the passphrase is the empty string.
 */
export function generateKeyPair(
  algorithm: GeneratedKeyAlgorithm,
  passphrase: string | undefined,
): GeneratedKeyPair {
  if (passphrase === '') {
    // An empty passphrase encrypts with nothing secret; refuse rather than pretend.
    throw new VouchError('USAGE', 'passphrase must not be empty (omit it for an unencrypted key)');
  }
  const { privateKey, publicKey } =
    algorithm === 'ed25519'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('ec', { namedCurve: algorithm === 'ecdsa-p256' ? 'P-256' : 'P-384' });
  const privateKeyPem =
    passphrase === undefined
      ? privateKey.export({ type: 'pkcs8', format: 'pem' })
      : privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase });
  return {
    privateKeyPem: String(privateKeyPem),
    publicKeyPem: spkiPem(publicKey),
    keyid: keyidOf(publicKey),
  };
}

/** Lower-case hex sha256 of the SPKI DER encoding of a public key. */
export function keyidOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

function spkiPem(publicKey: KeyObject): string {
  return String(publicKey.export({ type: 'spki', format: 'pem' }));
}

/**
 * Reads a private key: PKCS#8 (plain or encrypted), PKCS#1 RSA or SEC1 EC PEM.
 *
 * @throws VouchError KEY_MALFORMED | KEY_UNSUPPORTED | KEY_PASSPHRASE
 */
export function loadSigningKey(
  pem: string,
  source: string,
  passphrase?: string,
  options: SigningKeyOptions = {},
): SigningKey {
  const block = findPemBlock(pem, source, 'private');
  const encrypted =
    block.label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type:\s*4,ENCRYPTED/.test(block.text);
  if (encrypted && (passphrase === undefined || passphrase === '')) {
    throw new VouchError('KEY_PASSPHRASE', PASSPHRASE_HINT, { file: source });
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(
      encrypted
        ? { key: block.text, format: 'pem', passphrase }
        : { key: block.text, format: 'pem' },
    );
  } catch (e) {
    if (encrypted) {
      // A wrong passphrase usually fails the CBC padding check, but about one
      // time in 256 it decrypts to garbage that fails to decode instead.
      const message = isDecryptError(e) ? 'wrong passphrase' : 'wrong passphrase or corrupted key';
      throw new VouchError('KEY_PASSPHRASE', message, { file: source });
    }
    throw new VouchError(
      'KEY_MALFORMED',
      `cannot read the ${block.label} block: ${cryptoReason(e)}`,
      {
        file: source,
        cause: e,
      },
    );
  }
  const publicKey = createPublicKey(privateKey);
  let algorithm = detectAlgorithm(privateKey, source);
  if (algorithm === 'rsa-pkcs1v15' && options.rsaPadding === 'pss') algorithm = 'rsa-pss';
  const scheme = signatureScheme(algorithm);
  const keyid = keyidOf(publicKey);
  return {
    algorithm,
    keyid,
    publicKey,
    publicKeyPem: spkiPem(publicKey),
    async sign(message: Buffer): Promise<Buffer> {
      return nodeSign(scheme.hash, message, { key: privateKey, ...scheme.signOptions });
    },
  };
}

/**
 * Reads a trusted public key: SPKI PEM, PKCS#1 RSA public key, or the key of
 * an X.509 certificate PEM.
 *
 * @throws VouchError KEY_MALFORMED | KEY_UNSUPPORTED
 */
export function loadVerificationKey(pem: string, source: string): VerificationKey {
  const block = findPemBlock(pem, source, 'public');
  let publicKey: KeyObject;
  try {
    publicKey =
      block.label === 'CERTIFICATE'
        ? new X509Certificate(block.text).publicKey
        : createPublicKey({ key: block.text, format: 'pem' });
  } catch (e) {
    throw new VouchError(
      'KEY_MALFORMED',
      `cannot read the ${block.label} block: ${cryptoReason(e)}`,
      {
        file: source,
        cause: e,
      },
    );
  }
  return verificationKeyFromKeyObject(publicKey, source);
}

/**
 * Wraps a public KeyObject (e.g. from a certificate) as a VerificationKey.
 *
 * @throws VouchError KEY_UNSUPPORTED
 */
export function verificationKeyFromKeyObject(
  publicKey: KeyObject,
  source: string,
): VerificationKey {
  const algorithm = detectAlgorithm(publicKey, source);
  const keyid = keyidOf(publicKey);
  return {
    algorithm,
    keyid,
    publicKey,
    verify(message: Buffer, signature: Buffer): boolean {
      return verifyWith(publicKey, algorithm, message, signature);
    },
  };
}

/**
 * Checks a signature the way the key's algorithm requires. ECDSA accepts
 * DER (what DSSE, Sigstore and cosign emit) and also IEEE P1363 r||s (what
 * the DSSE reference vectors use). A plain RSA key accepts PKCS#1 v1.5 and,
 * failing that, PSS: in-toto signs PSS with ordinary RSA keys.
 */
function verifyWith(
  key: KeyObject,
  algorithm: KeyAlgorithm,
  message: Buffer,
  signature: Buffer,
): boolean {
  // Without options the KeyObject goes in as is: wrapping it in { key, … } makes
  // node re-prepare the key on every call (~15-20 µs per ECDSA verification).
  const attempt = (hash: string | null, opts?: Record<string, number | string>): boolean => {
    try {
      return nodeVerify(hash, message, opts ? { key, ...opts } : key, signature);
    } catch {
      return false;
    }
  };
  switch (algorithm) {
    case 'ecdsa-p256':
    case 'ecdsa-p384': {
      const hash = algorithm === 'ecdsa-p256' ? 'sha256' : 'sha384';
      const width = algorithm === 'ecdsa-p256' ? 64 : 96;
      // DER is node's default dsaEncoding for a bare KeyObject.
      if (attempt(hash)) return true;
      return signature.length === width && attempt(hash, { dsaEncoding: 'ieee-p1363' });
    }
    case 'ed25519':
      return attempt(null);
    case 'rsa-pkcs1v15':
      return (
        attempt('sha256', { padding: constants.RSA_PKCS1_PADDING }) ||
        attempt('sha256', {
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: constants.RSA_PSS_SALTLEN_AUTO,
        })
      );
    case 'rsa-pss':
      return attempt('sha256', {
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: constants.RSA_PSS_SALTLEN_AUTO,
      });
    default:
      return assertNever(algorithm);
  }
}

interface SignatureScheme {
  hash: string | null;
  signOptions: Record<string, number | string>;
}

function signatureScheme(algorithm: KeyAlgorithm): SignatureScheme {
  switch (algorithm) {
    case 'ecdsa-p256':
      return { hash: 'sha256', signOptions: { dsaEncoding: 'der' } };
    case 'ecdsa-p384':
      return { hash: 'sha384', signOptions: { dsaEncoding: 'der' } };
    case 'ed25519':
      return { hash: null, signOptions: {} };
    case 'rsa-pkcs1v15':
      return { hash: 'sha256', signOptions: { padding: constants.RSA_PKCS1_PADDING } };
    case 'rsa-pss':
      // Salt = digest length, as in-toto-golang and securesystemslib sign.
      return {
        hash: 'sha256',
        signOptions: {
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
        },
      };
    default:
      return assertNever(algorithm);
  }
}

const CURVE_NAMES: Record<string, string> = {
  secp521r1: 'ECDSA P-521',
  secp256k1: 'ECDSA secp256k1',
  'P-521': 'ECDSA P-521',
};

function detectAlgorithm(key: KeyObject, source: string): KeyAlgorithm {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  const unsupported = (what: string) =>
    new VouchError(
      'KEY_UNSUPPORTED',
      `${what} keys are not supported: use ECDSA P-256, ECDSA P-384, Ed25519 or RSA (2048 bits or more)`,
      { file: source },
    );
  switch (type) {
    case 'ec': {
      const curve = details.namedCurve ?? 'unknown curve';
      if (curve === 'prime256v1' || curve === 'P-256') return 'ecdsa-p256';
      if (curve === 'secp384r1' || curve === 'P-384') return 'ecdsa-p384';
      throw unsupported(CURVE_NAMES[curve] ?? `ECDSA ${curve}`);
    }
    case 'ed25519':
      return 'ed25519';
    case 'rsa':
    case 'rsa-pss': {
      const bits = details.modulusLength ?? 0;
      if (bits < MIN_RSA_BITS) throw unsupported(`RSA ${bits}-bit`);
      if (type === 'rsa-pss') {
        // A restricted RSA-PSS key may pin another hash; we sign and verify with sha256.
        const hash = details.hashAlgorithm;
        if (hash !== undefined && hash !== 'sha256') throw unsupported(`RSA-PSS with ${hash}`);
        return 'rsa-pss';
      }
      return 'rsa-pkcs1v15';
    }
    default:
      throw unsupported(type === undefined ? 'unknown' : type.toUpperCase());
  }
}

interface PemBlock {
  label: string;
  text: string;
}

const PRIVATE_LABELS = new Set([
  'PRIVATE KEY',
  'ENCRYPTED PRIVATE KEY',
  'RSA PRIVATE KEY',
  'EC PRIVATE KEY',
]);
const PUBLIC_LABELS = new Set(['PUBLIC KEY', 'RSA PUBLIC KEY', 'CERTIFICATE']);

/** Finds the first PEM block of the wanted kind, explaining what was found instead. */
function findPemBlock(pem: string, source: string, want: 'private' | 'public'): PemBlock {
  const accepted = want === 'private' ? PRIVATE_LABELS : PUBLIC_LABELS;
  const expected =
    want === 'private'
      ? 'a PEM private key (PKCS#8, encrypted PKCS#8, PKCS#1 RSA or SEC1 EC)'
      : 'a PEM public key (SPKI "PUBLIC KEY", PKCS#1 "RSA PUBLIC KEY") or a PEM certificate';
  const re = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;
  const seen: string[] = [];
  for (const m of pem.matchAll(re)) {
    const label = m[1] as string;
    if (accepted.has(label)) return { label, text: m[0] };
    seen.push(label);
  }
  const found =
    seen.length > 0
      ? `found ${seen.map((l) => `"${l}"`).join(', ')}`
      : 'found no complete PEM block';
  const advice = seen.includes('OPENSSH PRIVATE KEY')
    ? ' (convert with: ssh-keygen -p -m PKCS8 -f <file>)'
    : '';
  throw new VouchError('KEY_MALFORMED', `expected ${expected}, ${found}${advice}`, {
    file: source,
  });
}

function isDecryptError(e: unknown): boolean {
  const code = (e as { code?: string }).code ?? '';
  const msg = errorMessage(e);
  return /BAD_DECRYPT|bad decrypt/i.test(code) || /bad decrypt|BAD_DECRYPT/i.test(msg);
}

/** OpenSSL's reason without anything from the key itself. */
function cryptoReason(e: unknown): string {
  const code = (e as { code?: string }).code;
  const msg = errorMessage(e).split('\n')[0] ?? '';
  return code ? `${msg} (${code})` : msg;
}

function assertNever(x: never): never {
  throw new Error(`unreachable: ${String(x)}`);
}
