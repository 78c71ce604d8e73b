// Test support only (not exported from index.ts): keys made by openssl at
// test time, so no private key is ever committed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PASSPHRASE = 'correct horse battery staple';

export interface OpensslKey {
  name: string;
  /** What vouch must detect. */
  algorithm: 'ecdsa-p256' | 'ecdsa-p384' | 'ed25519' | 'rsa-pkcs1v15' | 'rsa-pss';
  /** PEM label openssl wrote, asserted so the test really covers that format. */
  label: string;
  pem: string;
  passphrase: string | undefined;
  publicPem: string;
}

const pass = `pass:${PASSPHRASE}`;

/** How each key format is made with the openssl CLI (OpenSSL 3). */
const RECIPES: Array<Omit<OpensslKey, 'pem' | 'publicPem'> & { args: string[] }> = [
  {
    name: 'P-256 PKCS#8',
    algorithm: 'ecdsa-p256',
    label: 'PRIVATE KEY',
    passphrase: undefined,
    args: ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  },
  {
    name: 'P-256 PKCS#8 encrypted',
    algorithm: 'ecdsa-p256',
    label: 'ENCRYPTED PRIVATE KEY',
    passphrase: PASSPHRASE,
    args: [
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-aes-256-cbc',
      '-pass',
      pass,
    ],
  },
  {
    name: 'P-256 SEC1',
    algorithm: 'ecdsa-p256',
    label: 'EC PRIVATE KEY',
    passphrase: undefined,
    args: ['ecparam', '-name', 'prime256v1', '-genkey', '-noout'],
  },
  {
    name: 'P-384 PKCS#8',
    algorithm: 'ecdsa-p384',
    label: 'PRIVATE KEY',
    passphrase: undefined,
    args: ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
  },
  {
    name: 'P-384 PKCS#8 encrypted',
    algorithm: 'ecdsa-p384',
    label: 'ENCRYPTED PRIVATE KEY',
    passphrase: PASSPHRASE,
    args: [
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      'ec_paramgen_curve:P-384',
      '-aes-256-cbc',
      '-pass',
      pass,
    ],
  },
  {
    name: 'Ed25519 PKCS#8',
    algorithm: 'ed25519',
    label: 'PRIVATE KEY',
    passphrase: undefined,
    args: ['genpkey', '-algorithm', 'ed25519'],
  },
  {
    name: 'Ed25519 PKCS#8 encrypted',
    algorithm: 'ed25519',
    label: 'ENCRYPTED PRIVATE KEY',
    passphrase: PASSPHRASE,
    args: ['genpkey', '-algorithm', 'ed25519', '-aes-256-cbc', '-pass', pass],
  },
  {
    name: 'RSA PKCS#1 (genrsa)',
    algorithm: 'rsa-pkcs1v15',
    label: 'RSA PRIVATE KEY',
    passphrase: undefined,
    args: ['genrsa', '-traditional', '2048'],
  },
  {
    name: 'RSA PKCS#1 (genrsa) legacy-encrypted',
    algorithm: 'rsa-pkcs1v15',
    label: 'RSA PRIVATE KEY',
    passphrase: PASSPHRASE,
    args: ['genrsa', '-traditional', '-aes256', '-passout', pass, '2048'],
  },
  {
    name: 'RSA PKCS#8 (genpkey)',
    algorithm: 'rsa-pkcs1v15',
    label: 'PRIVATE KEY',
    passphrase: undefined,
    args: ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
  },
  {
    name: 'RSA PKCS#8 (genpkey) encrypted',
    algorithm: 'rsa-pkcs1v15',
    label: 'ENCRYPTED PRIVATE KEY',
    passphrase: PASSPHRASE,
    args: [
      'genpkey',
      '-algorithm',
      'RSA',
      '-pkeyopt',
      'rsa_keygen_bits:2048',
      '-aes-256-cbc',
      '-pass',
      pass,
    ],
  },
  {
    name: 'RSA-PSS PKCS#8 (genpkey)',
    algorithm: 'rsa-pss',
    label: 'PRIVATE KEY',
    passphrase: undefined,
    args: ['genpkey', '-algorithm', 'RSA-PSS', '-pkeyopt', 'rsa_keygen_bits:2048'],
  },
];

export function openssl(args: string[], input?: string | Buffer): Buffer {
  return execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Generates one key per recipe in a temporary directory, then removes it. */
export function opensslKeys(): OpensslKey[] {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-keys-'));
  try {
    return RECIPES.map(({ args, ...r }) => {
      const file = join(dir, 'key.pem');
      // -out goes right after the command: genrsa wants the bit count last.
      openssl([args[0] as string, '-out', file, ...args.slice(1)]);
      const pem = readFileSync(file, 'utf8');
      const passArgs = r.passphrase ? ['-passin', pass] : [];
      const publicPem = openssl(['pkey', '-in', file, '-pubout', ...passArgs]).toString('utf8');
      return { ...r, pem, publicPem };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `fn` with a scratch directory that is removed afterwards. */
export function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-sign-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Verifies `signature` over `message` with the openssl CLI, independent of Node's crypto API use. */
export function opensslVerifies(
  algorithm: OpensslKey['algorithm'],
  publicPem: string,
  message: Buffer,
  signature: Buffer,
): boolean {
  return withTempDir((dir) => {
    const pub = join(dir, 'pub.pem');
    const msg = join(dir, 'msg');
    const sig = join(dir, 'sig');
    writeFileSync(pub, publicPem);
    writeFileSync(msg, message);
    writeFileSync(sig, signature);
    const args =
      algorithm === 'ed25519'
        ? ['pkeyutl', '-verify', '-rawin', '-pubin', '-inkey', pub, '-in', msg, '-sigfile', sig]
        : [
            'dgst',
            algorithm === 'ecdsa-p384' ? '-sha384' : '-sha256',
            ...(algorithm === 'rsa-pss'
              ? ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:-2']
              : []),
            '-verify',
            pub,
            '-signature',
            sig,
            msg,
          ];
    try {
      openssl(args);
      return true;
    } catch {
      return false;
    }
  });
}
