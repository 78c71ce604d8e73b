import { createHash, createPublicKey, verify as cryptoVerify, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSnpReport } from '../src/tee/sev-snp/report.ts';
import { sevSnpVerifier } from '../src/tee/sev-snp/verifier.ts';
import { parseTdxQuote } from '../src/tee/tdx/quote.ts';
import { tdxVerifier } from '../src/tee/tdx/verifier.ts';
import type { TeeVerifier, TeeVerifyOptions } from '../src/tee/verifier.ts';
import { ChainCache } from '../src/tee/x509.ts';
import { SHARED } from '../test/shared.ts';
import { BenchFailure, type Benchmark, type BenchOptions, bestOf, judge, REPO } from './lib.ts';

// Real evidence at its pinned time (see ../shared/vectors/MANIFEST.md).
const V = `${SHARED}/vectors/tee`;
const SNP = readFileSync(`${V}/sev-snp/attestation.bin`);
const VCEK = readFileSync(`${V}/sev-snp/vcek.testcer`);
const SNP_OPTIONS: TeeVerifyOptions = {
  at: new Date('2022-09-24T01:00:00Z'),
  certChain: [VCEK],
  policy: { insecureAllowDebug: true },
};
const TDX = readFileSync(`${V}/tdx/tdx_prod_quote_SPR_E4.dat`);
const TDX_OPTIONS: TeeVerifyOptions = {
  at: new Date('2023-07-01T01:00:00Z'),
  policy: { insecureSkipCollateral: true },
};

/**
 * Verifying real SEV-SNP reports and TDX quotes in-process. No TEE verifier
 * peer runs on this machine (go-sev-guest, go-tdx-guest and snpguest are Go
 * and Rust), so the peer is the floor: the same signature checks done
 * directly with node:crypto on pre-parsed inputs (SEV-SNP: ASK by ARK, VCEK
 * by ASK, report by VCEK; TDX: PCK chain, QE report by PCK, quote by the
 * attestation key), with nothing else — no parsing, no TCB, no policy.
 * vouch is timed uncached (a fresh verifier per evidence: roots read and
 * pin-checked, chain re-verified), which is what the CLI does; the cached
 * figures (one verifier with a ChainCache) go in the note.
 */
export const benchmark: Benchmark = {
  name: 'tee',
  async run(options: BenchOptions) {
    const n = options.quick ? 50 : 300;
    const base = {
      name: 'tee',
      input: `${n} SEV-SNP + ${n} TDX verifications`,
      peer: 'node:crypto signature checks only',
      maxRatio: 3,
      target: 'vouch uncached / signature floor <= 3',
    };
    // Both must accept the real evidence and reject a tampered copy before timing.
    for (const [v, e, o] of [
      [sevSnpVerifier(), SNP, SNP_OPTIONS],
      [tdxVerifier(), TDX, TDX_OPTIONS],
    ] as const) {
      if (!(await v.verify(e, o)).ok)
        throw new BenchFailure(`${v.platform}: real evidence does not verify`);
      const t = Buffer.from(e);
      t[0x90] = (t[0x90] as number) ^ 1;
      if ((await v.verify(t, o)).ok)
        throw new BenchFailure(`${v.platform}: tampered evidence verifies`);
    }
    const floor = makeFloor();
    if (!floor()) throw new BenchFailure('floor: signature checks fail');

    const uncached = () => {
      const start = performance.now();
      return (async () => {
        for (let i = 0; i < n; i++) {
          await sevSnpVerifier().verify(SNP, SNP_OPTIONS);
          await tdxVerifier().verify(TDX, TDX_OPTIONS);
        }
        return performance.now() - start;
      })();
    };
    const peer = async () => {
      const start = performance.now();
      for (let i = 0; i < n; i++) floor();
      return performance.now() - start;
    };
    const { vouchMs, peerMs } = await bestOf(options.runs, uncached, peer, options.log);
    const perCached = async (v: TeeVerifier, e: Buffer, o: TeeVerifyOptions) => {
      let best = Number.POSITIVE_INFINITY;
      for (let r = 0; r < options.runs; r++) {
        const start = performance.now();
        for (let i = 0; i < n; i++) await v.verify(e, o);
        best = Math.min(best, performance.now() - start);
      }
      return (best / n).toFixed(3);
    };
    const snpCached = await perCached(
      sevSnpVerifier({ cache: new ChainCache() }),
      SNP,
      SNP_OPTIONS,
    );
    const tdxCached = await perCached(tdxVerifier({ cache: new ChainCache() }), TDX, TDX_OPTIONS);
    let snpFresh = Number.POSITIVE_INFINITY;
    let tdxFresh = Number.POSITIVE_INFINITY;
    for (let r = 0; r < options.runs; r++) {
      let start = performance.now();
      for (let i = 0; i < n; i++) await sevSnpVerifier().verify(SNP, SNP_OPTIONS);
      snpFresh = Math.min(snpFresh, performance.now() - start);
      start = performance.now();
      for (let i = 0; i < n; i++) await tdxVerifier().verify(TDX, TDX_OPTIONS);
      tdxFresh = Math.min(tdxFresh, performance.now() - start);
    }
    return judge(
      base,
      vouchMs,
      peerMs,
      `per verification: SEV-SNP ${(snpFresh / n).toFixed(3)} ms uncached, ${snpCached} ms cached; ` +
        `TDX ${(tdxFresh / n).toFixed(3)} ms uncached, ${tdxCached} ms cached`,
    );
  },
};

/** The bare signature work of both verifications, inputs parsed once up front. */
function makeFloor(): () => boolean {
  const roots = join(REPO, 'src', 'tee', 'roots');
  const [ask, ark] = pemCerts(readFileSync(join(roots, 'amd', 'ask_ark_milan.pem')));
  const vcek = new X509Certificate(VCEK);
  const report = parseSnpReport(SNP);
  const snpSig = Buffer.concat([report.signatureR, report.signatureS]);
  const quote = parseTdxQuote(TDX);
  const [pck, pckCa, intelRoot] = pemCerts(quote.pckChainPem);
  const ak = createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: quote.attestationKey.subarray(0, 32).toString('base64url'),
      y: quote.attestationKey.subarray(32).toString('base64url'),
    },
    format: 'jwk',
  });
  return () => {
    const p1363 = { dsaEncoding: 'ieee-p1363' } as const;
    const okSnp =
      ark.verify(ark.publicKey) &&
      ask.verify(ark.publicKey) &&
      vcek.verify(ask.publicKey) &&
      cryptoVerify('sha384', report.signed, { key: vcek.publicKey, ...p1363 }, snpSig);
    const bind = createHash('sha256')
      .update(quote.attestationKey)
      .update(quote.qeAuthData)
      .digest();
    const okTdx =
      intelRoot.verify(intelRoot.publicKey) &&
      pckCa.verify(intelRoot.publicKey) &&
      pck.verify(pckCa.publicKey) &&
      cryptoVerify(
        'sha256',
        quote.qeReport.raw,
        { key: pck.publicKey, ...p1363 },
        quote.qeReportSignature,
      ) &&
      bind.equals(quote.qeReport.reportData.subarray(0, 32)) &&
      cryptoVerify('sha256', quote.signed, { key: ak, ...p1363 }, quote.signature);
    return okSnp && okTdx;
  };
}

function pemCerts(pem: Buffer): [X509Certificate, X509Certificate, X509Certificate] {
  const blocks =
    pem.toString().match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  const certs = blocks.map((b) => new X509Certificate(b));
  return certs as [X509Certificate, X509Certificate, X509Certificate];
}
