// Test fixtures (not a test file): certificate authorities and CRLs made by
// the real openssl command line in a temp directory, for the revocation
// tests. Keys are generated per run, never committed.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const CONFIG = `[ca]
default_ca = d
[d]
database = index.txt
crlnumber = crlnumber
default_md = sha256
[v3_ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
[v3_leaf]
basicConstraints = critical,CA:false
`;

export type KeyKind = 'p256' | 'p384' | 'rsa-pss';

function openssl(cwd: string, args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function keyArgs(kind: KeyKind): string[] {
  switch (kind) {
    case 'p256':
      return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
    case 'p384':
      return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'];
    case 'rsa-pss':
      return ['-newkey', 'rsa:2048'];
  }
}

function sigArgs(kind: KeyKind): string[] {
  return kind === 'rsa-pss'
    ? ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:48']
    : [];
}

/** A CA directory: the openssl config, an empty certificate database and the CRL number. */
function initCaDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'ca.cnf'), CONFIG);
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'crlnumber'), '01\n');
}

/** `openssl ca` in `ca`'s directory, with its config, key and certificate, then `args`. */
function opensslCa(ca: TestCa, args: string[]): void {
  openssl(ca.dir, ['ca', '-config', 'ca.cnf', '-keyfile', 'ca.key', '-cert', 'ca.pem', ...args]);
}

/** An openssl CA in its own directory: its certificate, key and CRL database. */
export interface TestCa {
  dir: string;
  kind: KeyKind;
  /** PEM of the CA certificate. */
  cert: Buffer;
}

/** A self-signed root CA named `subject` (openssl -subj syntax). */
export function makeRoot(dir: string, subject: string, kind: KeyKind = 'p256'): TestCa {
  initCaDir(dir);
  openssl(dir, [
    'req',
    '-x509',
    ...keyArgs(kind),
    ...sigArgs(kind),
    '-sha384',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-subj',
    subject,
    '-days',
    '3650',
    '-addext',
    'basicConstraints=critical,CA:true',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { dir, kind, cert: readFileSync(join(dir, 'ca.pem')) };
}

/** A certificate issued by `issuer`; a CA (with its own directory) when `ca`. */
export function issue(
  issuer: TestCa,
  dir: string,
  subject: string,
  serial: string,
  opts: { ca?: boolean; kind?: KeyKind } = {},
): TestCa {
  const kind = opts.kind ?? 'p256';
  initCaDir(dir);
  openssl(dir, [
    'req',
    ...keyArgs(kind),
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.csr',
    '-subj',
    subject,
  ]);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    'ca.csr',
    '-CA',
    join(issuer.dir, 'ca.pem'),
    '-CAkey',
    join(issuer.dir, 'ca.key'),
    ...sigArgs(issuer.kind),
    '-sha384',
    '-set_serial',
    serial,
    '-days',
    '3650',
    '-extfile',
    join(dir, 'ca.cnf'),
    '-extensions',
    opts.ca ? 'v3_ca' : 'v3_leaf',
    '-out',
    'ca.pem',
  ]);
  return { dir, kind, cert: readFileSync(join(dir, 'ca.pem')) };
}

/** Record `cert` (issued by `ca`) as revoked in `ca`'s database. */
export function revoke(ca: TestCa, cert: TestCa): void {
  opensslCa(ca, ['-revoke', join(cert.dir, 'ca.pem'), '-crl_reason', 'keyCompromise']);
}

/** A DER CRL signed by `ca` with the given window (YYYYMMDDHHMMSSZ). */
export function makeCrl(ca: TestCa, lastUpdate: string, nextUpdate: string): Buffer {
  opensslCa(ca, [
    '-gencrl',
    '-md',
    ca.kind === 'p256' ? 'sha256' : 'sha384',
    ...sigArgs(ca.kind),
    '-crl_lastupdate',
    lastUpdate,
    '-crl_nextupdate',
    nextUpdate,
    '-out',
    'crl.pem',
  ]);
  openssl(ca.dir, ['crl', '-in', 'crl.pem', '-outform', 'DER', '-out', 'crl.der']);
  return readFileSync(join(ca.dir, 'crl.der'));
}
