/**
 * Intel PCS collateral read from a directory (`--collateral DIR`): TDX TCB
 * info (`{"tcbInfo":…,"signature":…}`), TD QE identity
 * (`{"enclaveIdentity":…,"signature":…}`) and the PEM issuer chain PCS sends
 * in the `TCB-Info-Issuer-Chain` header (Intel SGX TCB Signing → Root CA).
 * Files are recognised by content, not name. The signature is ECDSA P-256
 * SHA-256 (r || s, hex) over the exact bytes of the `tcbInfo` /
 * `enclaveIdentity` member as served, so that member is cut out of the raw
 * text, never re-serialised.
 */
import type { X509Certificate } from 'node:crypto';
import { verify as cryptoVerify } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { VouchError } from '../../core/errors.ts';
import { listCollateralDir } from '../collateral-dir.ts';
import { parseCertificatesLoose } from '../x509.ts';

const MAX_FILE = 1024 * 1024;

export interface SignedJson<T> {
  file: string;
  /** The exact signed bytes. */
  body: Buffer;
  value: T;
  signature: Buffer;
}

export interface TcbComponent {
  svn: number;
}
export interface TcbLevel {
  tcb: { sgxtcbcomponents: TcbComponent[]; pcesvn: number; tdxtcbcomponents: TcbComponent[] };
  tcbDate: string;
  tcbStatus: string;
  advisoryIDs?: string[];
}
export interface TdxModuleIdentity {
  id: string;
  mrsigner: string;
  attributes: string;
  attributesMask: string;
  tcbLevels: { tcb: { isvsvn: number }; tcbDate: string; tcbStatus: string }[];
}
export interface TcbInfo {
  id: string;
  version: number;
  issueDate: string;
  nextUpdate: string;
  fmspc: string;
  pceId: string;
  tdxModule?: { mrsigner: string; attributes: string; attributesMask: string };
  tdxModuleIdentities?: TdxModuleIdentity[];
  tcbLevels: TcbLevel[];
}
export interface QeIdentity {
  id: string;
  version: number;
  issueDate: string;
  nextUpdate: string;
  miscselect: string;
  miscselectMask: string;
  attributes: string;
  attributesMask: string;
  mrsigner: string;
  isvprodid: number;
  tcbLevels: {
    tcb: { isvsvn: number };
    tcbDate: string;
    tcbStatus: string;
    advisoryIDs?: string[];
  }[];
}

export interface Collateral {
  tcbInfos: SignedJson<TcbInfo>[];
  qeIdentities: SignedJson<QeIdentity>[];
  certificates: X509Certificate[];
}

/** Cut the raw text of a top-level member's value out of a JSON object text. */
export function rawMember(text: string, key: string): string | undefined {
  const re = new RegExp(`^\\s*\\{\\s*"${key}"\\s*:\\s*`);
  const m = re.exec(text);
  let i = m ? m[0].length : -1;
  if (i < 0) {
    // The member may come after others; find `"key":` at depth 1.
    i = findAtDepth1(text, key);
    if (i < 0) return undefined;
  }
  if (text[i] !== '{') return undefined;
  const start = i;
  let depth = 0;
  let inString = false;
  for (; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') {
      depth--;
      if (depth === 0) return text.slice(start, i + 1);
    }
  }
  return undefined;
}

function findAtDepth1(text: string, key: string): number {
  let depth = 0;
  let inString = false;
  let strStart = -1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') {
        inString = false;
        if (depth === 1 && text.slice(strStart + 1, i) === key) {
          const m = /^\s*:\s*/.exec(text.slice(i + 1));
          if (m) return i + 1 + m[0].length;
        }
      }
    } else if (ch === '"') {
      inString = true;
      strStart = i;
    } else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') depth--;
  }
  return -1;
}

function signedJson<T>(file: string, text: string, key: string): SignedJson<T> {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new VouchError(
      'TEE_MALFORMED',
      `collateral is not valid JSON (${(e as Error).message})`,
      { file, cause: e },
    );
  }
  const raw = rawMember(text, key);
  const sig = doc.signature;
  if (raw === undefined || typeof doc[key] !== 'object' || doc[key] === null) {
    throw new VouchError('TEE_MALFORMED', `collateral has no "${key}" object`, {
      file,
      field: `/${key}`,
    });
  }
  if (typeof sig !== 'string' || !/^[0-9a-fA-F]{128}$/.test(sig)) {
    throw new VouchError(
      'TEE_MALFORMED',
      'collateral signature must be 128 hex digits (ECDSA P-256 r || s)',
      {
        file,
        field: '/signature',
      },
    );
  }
  return {
    file,
    body: Buffer.from(raw, 'utf8'),
    value: doc[key] as T,
    signature: Buffer.from(sig, 'hex'),
  };
}

/** Read every recognisable collateral file in `dir`. @throws VouchError FILE_NOT_FOUND, FILE_READ, TEE_MALFORMED */
export function readCollateralDir(dir: string): Collateral {
  const names = listCollateralDir(dir);
  const out: Collateral = { tcbInfos: [], qeIdentities: [], certificates: [] };
  for (const name of names) {
    const file = join(dir, name);
    const st = statSync(file);
    if (!st.isFile() || st.size > MAX_FILE) continue;
    const data = readFileSync(file);
    const head = data.subarray(0, 64).toString('latin1').trimStart();
    if (head.startsWith('{')) {
      const text = data.toString('utf8');
      if (findAtDepth1(text, 'tcbInfo') >= 0)
        out.tcbInfos.push(signedJson<TcbInfo>(file, text, 'tcbInfo'));
      else if (findAtDepth1(text, 'enclaveIdentity') >= 0) {
        out.qeIdentities.push(signedJson<QeIdentity>(file, text, 'enclaveIdentity'));
      }
    } else if (head.startsWith('-----BEGIN')) {
      out.certificates.push(...parseCertificatesLoose(data, file));
    }
  }
  return out;
}

/** Verify a collateral signature with a P-256 signing certificate. */
export function collateralSignatureOk(doc: SignedJson<unknown>, signer: X509Certificate): boolean {
  try {
    return cryptoVerify(
      'sha256',
      doc.body,
      { key: signer.publicKey, dsaEncoding: 'ieee-p1363' },
      doc.signature,
    );
  } catch {
    return false;
  }
}
