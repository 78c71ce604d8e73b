/**
 * Mutation fuzz of the TEE evidence parsers: SEV-SNP reports, TDX quotes,
 * Nitro attestation documents (COSE_Sign1 over CBOR), GCE TPM attestations,
 * and the CRLs of src/tee/crl.ts. Seeds are the real samples in
 * ../shared/vectors/tee. Binary formats: length-field inflation and
 * truncation at every length class matter most. See harness.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { decodeCbor } from '../../src/tee/cbor.ts';
import { parseCrls } from '../../src/tee/crl.ts';
import { parseNitro } from '../../src/tee/nitro/document.ts';
import { parseSnpReport } from '../../src/tee/sev-snp/report.ts';
import { parseTdxQuote } from '../../src/tee/tdx/quote.ts';
import { parseTpmEvidence } from '../../src/tee/tpm/evidence.ts';
import { SHARED } from '../shared.ts';
import { check } from './harness.ts';

const TEE = join(SHARED, 'vectors', 'tee');
const read = (p: string) => readFileSync(join(TEE, p));
const b64 = (p: string) => Buffer.from(read(p).toString().trim(), 'base64');

describe('fuzz: TEE evidence parsers', () => {
  test('SEV-SNP attestation report (parseSnpReport)', async () => {
    const seeds = [read('sev-snp/attestation.bin').subarray(0, 0x4a0)];
    await check(
      {
        name: 'sev-snp',
        kind: 'binary',
        seeds,
        file: 'report.bin',
        run: (b, f) => parseSnpReport(b, f),
      },
      assert,
    );
  });

  test('TDX quote v4 and v5 (parseTdxQuote)', async () => {
    const seeds = [read('tdx/tdx_prod_quote_SPR_E4.dat'), read('tdx/quote_v5_sample.dat')];
    await check(
      { name: 'tdx', kind: 'binary', seeds, file: 'quote.dat', run: (b, f) => parseTdxQuote(b, f) },
      assert,
    );
  });

  test('Nitro attestation document (parseNitro)', async () => {
    const seeds = [b64('nitro/nitro_attestation.b64'), b64('nitro/selfsigned_attestation.b64')];
    await check(
      { name: 'nitro', kind: 'binary', seeds, file: 'nitro.cbor', run: (b, f) => parseNitro(b, f) },
      assert,
    );
  });

  test('CBOR (decodeCbor)', async () => {
    const seeds = [b64('nitro/nitro_attestation.b64')];
    await check(
      { name: 'cbor', kind: 'binary', seeds, file: 'doc.cbor', run: (b, f) => decodeCbor(b, f) },
      assert,
    );
  });

  test('GCE TPM attestation (parseTpmEvidence)', async () => {
    const seeds = [read('tpm/attestations/gce-cos-85-nonce9009.pb')];
    // parseTpmEvidence takes no name: the verifier's caller names the file.
    await check(
      { name: 'tpm-gce', kind: 'binary', seeds, naming: 'none', run: (b) => parseTpmEvidence(b) },
      assert,
    );
  });

  test('CRLs, DER and PEM (parseCrls)', async () => {
    const seeds = [read('tdx/rootcrl.der'), read('tdx/pckcrl')];
    await check(
      { name: 'crl', kind: 'binary', seeds, file: 'crl.der', run: (b, f) => parseCrls(b, f) },
      assert,
    );
  });
});
