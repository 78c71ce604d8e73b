/**
 * Intel SGX PCK certificate extensions (OID 1.2.840.113741.1.13.1, "Intel SGX
 * PCK Certificate and Certificate Revocation List Profile"): the platform's
 * TCB (16 SGX component SVNs, PCESVN, CPUSVN), PCE-ID and FMSPC, which pick
 * the TCB info collateral and its TCB level.
 */
import type { X509Certificate } from 'node:crypto';
import { VouchError } from '../../core/errors.ts';
import { decodeOid, decodeUint, extensionValue, readTlv, type Tlv, tlvChildren } from '../x509.ts';

const SGX_EXT = '1.2.840.113741.1.13.1';

export interface PckExtensions {
  ppid: string;
  /** SGX TCB component SVNs 1..16, index 0 = component 1. */
  sgxTcbComponents: number[];
  pceSvn: number;
  cpuSvn: string;
  pceId: string;
  fmspc: string;
}

/** @throws VouchError TEE_MALFORMED when the extension is missing or malformed. */
export function pckExtensions(cert: X509Certificate): PckExtensions {
  const what = 'PCK certificate SGX extension';
  const der = extensionValue(cert, SGX_EXT);
  if (!der)
    throw new VouchError('TEE_MALFORMED', `PCK certificate has no SGX extension ${SGX_EXT}`, {
      field: 'pck',
    });
  const top = readTlv(der, 0, der.length, what);
  const fields = new Map<string, Tlv>();
  for (const item of tlvChildren(der, top, what)) {
    const [oid, value] = tlvChildren(der, item, what);
    if (oid?.tag !== 0x06 || !value)
      throw new VouchError('TEE_MALFORMED', 'malformed SGX extension entry', { field: what });
    fields.set(decodeOid(der, oid), value);
  }
  const need = (sub: string): Tlv => {
    const t = fields.get(`${SGX_EXT}.${sub}`);
    if (!t)
      throw new VouchError('TEE_MALFORMED', `SGX extension lacks ${SGX_EXT}.${sub}`, {
        field: what,
      });
    return t;
  };
  const octets = (t: Tlv) => der.subarray(t.start, t.end).toString('hex');
  const tcb = need('2');
  const comps = new Map<string, Tlv>();
  for (const item of tlvChildren(der, tcb, what)) {
    const [oid, value] = tlvChildren(der, item, what);
    if (oid?.tag !== 0x06 || !value)
      throw new VouchError('TEE_MALFORMED', 'malformed SGX TCB entry', { field: what });
    comps.set(decodeOid(der, oid), value);
  }
  const comp = (n: number): Tlv => {
    const t = comps.get(`${SGX_EXT}.2.${n}`);
    if (!t)
      throw new VouchError('TEE_MALFORMED', `SGX TCB lacks ${SGX_EXT}.2.${n}`, { field: what });
    return t;
  };
  const sgxTcbComponents: number[] = [];
  for (let i = 1; i <= 16; i++)
    sgxTcbComponents.push(decodeUint(der, comp(i), `${what} comp ${i}`));
  return {
    ppid: octets(need('1')),
    sgxTcbComponents,
    pceSvn: decodeUint(der, comp(17), `${what} pcesvn`),
    cpuSvn: octets(comp(18)),
    pceId: octets(need('3')),
    fmspc: octets(need('4')),
  };
}
