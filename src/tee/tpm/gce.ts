import { VouchError } from '../../core/errors.ts';

/**
 * Reads the go-tpm-tools `Attestation` protobuf (proto/attest.proto) that GCE
 * Shielded / Confidential VMs produce: AK public area, AK certificate and
 * intermediates, and one quote per PCR bank with the PCR values. Only the
 * fields vouch verifies are kept; the event log and TEE attestations are
 * skipped. A minimal wire-format reader: varints of at most 10 bytes,
 * lengths bounded by what remains, depth bounded by the schema itself.
 */

export interface GceQuote {
  quote: Buffer;
  rawSig: Buffer;
  /** PCR bank TPM_ALG_ID. */
  hash: number;
  pcrs: Map<number, Buffer>;
}

export interface GceAttestation {
  akPub: Buffer;
  akCert?: Buffer;
  intermediates: Buffer[];
  quotes: GceQuote[];
}

const MAX_QUOTES = 8;

interface Field {
  no: number;
  wire: number;
  bytes?: Buffer;
  varint?: bigint;
}

function fields(buf: Buffer, what: string): Field[] {
  const out: Field[] = [];
  let pos = 0;
  const fail = (m: string): never => {
    throw new VouchError('TEE_MALFORMED', `GCE attestation protobuf: ${what}: ${m}`, {
      field: `byte ${pos}`,
    });
  };
  const varint = (): bigint => {
    let v = 0n;
    for (let i = 0; i < 10; i++) {
      if (pos >= buf.length) fail('truncated varint');
      const b = buf[pos++] as number;
      v |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (!(b & 0x80)) return v;
    }
    return fail('varint longer than 10 bytes');
  };
  while (pos < buf.length) {
    const key = varint();
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (no === 0) fail('field number 0');
    switch (wire) {
      case 0:
        out.push({ no, wire, varint: varint() });
        break;
      case 1:
        if (pos + 8 > buf.length) fail('truncated fixed64');
        pos += 8;
        break;
      case 2: {
        const n = varint();
        if (n > BigInt(buf.length - pos))
          fail(`length ${n} runs past the ${buf.length - pos} byte(s) left`);
        out.push({ no, wire, bytes: buf.subarray(pos, pos + Number(n)) });
        pos += Number(n);
        break;
      }
      case 5:
        if (pos + 4 > buf.length) fail('truncated fixed32');
        pos += 4;
        break;
      default:
        fail(`unsupported wire type ${wire}`);
    }
  }
  return out;
}

/** Whether the bytes look like a go-tpm-tools Attestation (field 1 ak_pub holds a TPMT_PUBLIC, field 2 quotes). */
export function looksLikeGceAttestation(buf: Buffer): boolean {
  try {
    const f = fields(buf, 'Attestation');
    return f.some((x) => x.no === 1 && x.wire === 2) && f.some((x) => x.no === 2 && x.wire === 2);
  } catch {
    return false;
  }
}

/** @throws VouchError TEE_MALFORMED */
export function parseGceAttestation(buf: Buffer): GceAttestation {
  const top = fields(buf, 'Attestation');
  const bytesOf = (f: Field, name: string): Buffer => {
    if (!f.bytes)
      throw new VouchError(
        'TEE_MALFORMED',
        `GCE attestation protobuf: ${name} is not length-delimited`,
        { field: name },
      );
    return Buffer.from(f.bytes);
  };
  const att: GceAttestation = { akPub: Buffer.alloc(0), intermediates: [], quotes: [] };
  for (const f of top) {
    if (f.no === 1) att.akPub = bytesOf(f, 'ak_pub');
    else if (f.no === 6) att.akCert = bytesOf(f, 'ak_cert');
    else if (f.no === 7) att.intermediates.push(bytesOf(f, 'intermediate_certs'));
    else if (f.no === 2) {
      if (att.quotes.length >= MAX_QUOTES)
        throw new VouchError('TEE_MALFORMED', `more than ${MAX_QUOTES} quotes`, {
          field: 'quotes',
        });
      const q: GceQuote = {
        quote: Buffer.alloc(0),
        rawSig: Buffer.alloc(0),
        hash: 0,
        pcrs: new Map(),
      };
      for (const g of fields(bytesOf(f, 'quotes'), 'Quote')) {
        if (g.no === 1) q.quote = bytesOf(g, 'quote');
        else if (g.no === 2) q.rawSig = bytesOf(g, 'raw_sig');
        else if (g.no === 3) {
          for (const p of fields(bytesOf(g, 'pcrs'), 'PCRs')) {
            if (p.no === 1 && p.varint !== undefined) q.hash = Number(p.varint);
            else if (p.no === 2) {
              let index: number | undefined;
              let value: Buffer = Buffer.alloc(0);
              for (const e of fields(bytesOf(p, 'pcrs entry'), 'PCRs.pcrs entry')) {
                if (e.no === 1 && e.varint !== undefined) index = Number(e.varint);
                else if (e.no === 2) value = bytesOf(e, 'pcr value');
              }
              if (index === undefined || index > 23 || q.pcrs.has(index))
                throw new VouchError(
                  'TEE_MALFORMED',
                  `PCR entry index ${index} missing, out of range or repeated`,
                  { field: 'quotes/pcrs' },
                );
              q.pcrs.set(index, value);
            }
          }
        }
      }
      att.quotes.push(q);
    }
  }
  if (att.akPub.length === 0)
    throw new VouchError('TEE_MALFORMED', 'GCE attestation has no ak_pub', { field: 'ak_pub' });
  if (att.quotes.length === 0)
    throw new VouchError('TEE_MALFORMED', 'GCE attestation has no quotes', { field: 'quotes' });
  return att;
}
