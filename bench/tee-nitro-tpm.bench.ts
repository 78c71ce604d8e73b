import { constants, createHash, verify as cryptoVerify, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { decodeCbor } from '../src/tee/cbor.ts';
import { parseCoseSign1, sigStructure } from '../src/tee/cose.ts';
import { nitroBytes } from '../src/tee/nitro/document.ts';
import { nitroVerifier } from '../src/tee/nitro/verifier.ts';
import { parseGceAttestation } from '../src/tee/tpm/gce.ts';
import { parseQuote, parseSignature, publicKeyFromTpmt } from '../src/tee/tpm/structures.ts';
import { type TpmVerifyOptions, tpmVerifier } from '../src/tee/tpm/verifier.ts';
import type { TeeVerifier, TeeVerifyOptions } from '../src/tee/verifier.ts';
import { ChainCache } from '../src/tee/x509.ts';
import { SHARED } from '../test/shared.ts';
import { BenchFailure, type Benchmark, type BenchOptions, bestOf, judge } from './lib.ts';

// Real evidence at its pinned time (see ../shared/vectors/MANIFEST.md).
const V = `${SHARED}/vectors/tee`;
const NITRO = readFileSync(`${V}/nitro/nitro_attestation.b64`);
const NITRO_OPTIONS: TeeVerifyOptions = { at: new Date('2024-09-07T14:37:39.545Z') };
const GCE = readFileSync(`${V}/tpm/attestations/gce-cos-85-nonce9009.pb`);
const GCE_AK = publicKeyFromTpmt(parseGceAttestation(GCE).akPub);
const TPM_OPTIONS: TpmVerifyOptions = {
  at: new Date('2023-01-01T00:00:00Z'),
  akPublicKey: GCE_AK,
  expectNonce: Buffer.from([0x90, 0x09]),
};

/**
 * Verifying a real AWS Nitro Enclaves document and a real GCE vTPM
 * attestation (three quotes, one per PCR bank) in-process. No Nitro or TPM
 * verifier peer runs on this machine (nitrite and go-tpm-tools are Go), so
 * the peer is the floor: the same cryptography with node:crypto on inputs
 * parsed once (Nitro: the four certificate signatures of the chain and the
 * ES384 COSE signature; TPM: three RSASSA signatures and three PCR digests),
 * nothing else. vouch is timed uncached (a fresh verifier per evidence, root
 * read and pin-checked, document parsed strictly), as the CLI does; cached
 * figures (one verifier with a ChainCache) go in the note.
 */
export const benchmark: Benchmark = {
  name: 'tee-nitro-tpm',
  async run(options: BenchOptions) {
    const n = options.quick ? 50 : 300;
    const base = {
      name: 'tee-nitro-tpm',
      input: `${n} Nitro + ${n} GCE vTPM verifications`,
      peer: 'node:crypto signature checks only',
      maxRatio: 3,
      target: 'vouch uncached / signature floor <= 3',
    };
    // Real evidence must verify and a tampered copy must not, before anything is timed.
    const cases: Array<[() => TeeVerifier, Buffer, TeeVerifyOptions, number]> = [
      [() => nitroVerifier(), nitroBytes(NITRO), NITRO_OPTIONS, 300],
      [
        () => tpmVerifier(),
        GCE,
        TPM_OPTIONS,
        GCE.indexOf(Buffer.from([0xff, 0x54, 0x43, 0x47])) + 60,
      ],
    ];
    for (const [make, e, o, at] of cases) {
      const v = make();
      if (!(await v.verify(e, o)).ok)
        throw new BenchFailure(`${v.platform}: real evidence does not verify`);
      const t = Buffer.from(e);
      t[at] = (t[at] as number) ^ 1;
      if ((await v.verify(t, o)).ok)
        throw new BenchFailure(`${v.platform}: tampered evidence verifies`);
    }
    const floor = makeFloor();
    if (!floor()) throw new BenchFailure('floor: signature checks fail');

    const uncached = async () => {
      const start = performance.now();
      for (let i = 0; i < n; i++) {
        await nitroVerifier().verify(NITRO, NITRO_OPTIONS);
        await tpmVerifier().verify(GCE, TPM_OPTIONS);
      }
      return performance.now() - start;
    };
    const peer = async () => {
      const start = performance.now();
      for (let i = 0; i < n; i++) floor();
      return performance.now() - start;
    };
    const { vouchMs, peerMs } = await bestOf(options.runs, uncached, peer, options.log);
    /** Best per-verification time: a fresh verifier per evidence, or one reused (with its cache). */
    const per = async (make: () => TeeVerifier, e: Buffer, o: TeeVerifyOptions, fresh: boolean) => {
      let best = Number.POSITIVE_INFINITY;
      for (let r = 0; r < options.runs; r++) {
        const shared = make();
        const start = performance.now();
        for (let i = 0; i < n; i++) await (fresh ? make() : shared).verify(e, o);
        best = Math.min(best, performance.now() - start);
      }
      return (best / n).toFixed(3);
    };
    const nitroCached = await per(
      () => nitroVerifier({ cache: new ChainCache() }),
      NITRO,
      NITRO_OPTIONS,
      false,
    );
    const nitroFresh = await per(() => nitroVerifier(), NITRO, NITRO_OPTIONS, true);
    const tpmFresh = await per(() => tpmVerifier(), GCE, TPM_OPTIONS, true);
    return judge(
      base,
      vouchMs,
      peerMs,
      `per verification: Nitro ${nitroFresh} ms uncached, ${nitroCached} ms with a shared ChainCache; ` +
        `GCE vTPM (3 quotes) ${tpmFresh} ms (trusted AK, no chain to cache)`,
    );
  },
};

/** The bare cryptography of both verifications, inputs parsed once up front. */
function makeFloor(): () => boolean {
  const cose = parseCoseSign1(nitroBytes(NITRO), 'nitro');
  const payload = decodeCbor(cose.payload, 'payload') as Map<string, unknown>;
  const chain = [
    ...(payload.get('cabundle') as Uint8Array[]),
    payload.get('certificate') as Uint8Array,
  ].map((d) => new X509Certificate(d));
  const signed = sigStructure(cose);
  const gce = parseGceAttestation(GCE);
  const quotes = gce.quotes.map((q) => {
    const attest = parseQuote(q.quote);
    const sig = parseSignature(q.rawSig);
    const values = attest.selections.flatMap((s) => s.pcrs.map((i) => q.pcrs.get(i) as Buffer));
    return { q, attest, sig, values };
  });
  return () => {
    let ok = true;
    for (let i = 1; i < chain.length; i++)
      ok &&= (chain[i] as X509Certificate).verify((chain[i - 1] as X509Certificate).publicKey);
    ok &&= cryptoVerify(
      'sha384',
      signed,
      { key: (chain[chain.length - 1] as X509Certificate).publicKey, dsaEncoding: 'ieee-p1363' },
      cose.signature,
    );
    for (const { q, attest, sig, values } of quotes) {
      ok &&= cryptoVerify(
        sig.hashName,
        q.quote,
        { key: GCE_AK, padding: constants.RSA_PKCS1_PADDING },
        sig.rsa as Buffer,
      );
      const h = createHash(sig.hashName);
      for (const v of values) h.update(v);
      ok &&= h.digest().equals(attest.pcrDigest);
    }
    return ok;
  };
}
