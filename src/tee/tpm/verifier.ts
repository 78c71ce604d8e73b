import { constants, createHash, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import {
  makeVerdict,
  type TeeCheck,
  type TeeClaims,
  type TeeVerdict,
  type TeeVerifier,
  type TeeVerifyOptions,
} from '../verifier.ts';
import { type ChainCache, parseCertificates, verifyChain } from '../x509.ts';
import { looksLikeTpmEvidence, parseTpmEvidence, type TpmEvidenceQuote } from './evidence.ts';
import { parseQuote, parseSignature, type TpmQuote, type TpmSignature } from './structures.ts';

/** TPM options beyond the shared ones: the attestation key the caller trusts. */
export interface TpmVerifyOptions extends TeeVerifyOptions {
  /** The trusted attestation key; the evidence's AK (if it names one) must be this key. */
  akPublicKey?: KeyObject;
}

export interface TpmVerifierOptions {
  /** Remember AK certificate chain checks across calls (benchmarks, servers). */
  cache?: ChainCache;
}

export function tpmVerifier(opts: TpmVerifierOptions = {}): TeeVerifier {
  return {
    platform: 'tpm',
    detect: (evidence) => looksLikeTpmEvidence(evidence),
    verify: async (evidence, options) => verifyTpm(evidence, options, opts.cache),
  };
}

/**
 * Verifies TPM 2.0 quotes: each TPMS_ATTEST is a quote, signed by the
 * attestation key; the PCR values supplied hash to the quoted pcrDigest; the
 * AK is trusted (the caller's key, or a certificate chaining to the caller's
 * roots); nonce, expected PCR values and allowed PCR digests are compared
 * when asked for.
 *
 * @throws VouchError TEE_MALFORMED when the evidence cannot be parsed
 */
export function verifyTpm(
  evidence: Buffer,
  options: TpmVerifyOptions,
  cache?: ChainCache,
): TeeVerdict {
  const ev = parseTpmEvidence(evidence);
  const parsed = ev.quotes.map((q) => ({
    q,
    attest: parseQuote(q.quote),
    sig: parseSignature(q.signature),
  }));
  const checks: TeeCheck[] = [];
  const ak = ev.ak ?? options.akPublicKey;

  // Whom we trust for the AK: the caller's key, else a certificate chain to the caller's roots.
  if (options.akPublicKey) {
    const same = !ev.ak || spki(ev.ak).equals(spki(options.akPublicKey));
    checks.push({
      name: 'ak',
      ok: same,
      detail: same
        ? `attestation key is the trusted key (sha256 ${spkiDigest(options.akPublicKey)})`
        : `evidence names attestation key sha256 ${spkiDigest(ev.ak as KeyObject)}, the trusted key is ${spkiDigest(options.akPublicKey)}`,
    });
  } else if (ev.akCertificate && options.roots?.length) {
    checks.push(
      akCertificateCheck(
        ev.akCertificate,
        [...ev.intermediates, ...(options.certChain ?? [])],
        ak,
        options,
        cache,
      ),
    );
  } else {
    checks.push({
      name: 'ak',
      ok: false,
      detail: ev.akCertificate
        ? 'the AK certificate cannot be checked without trust anchors (give the EK/AK CA roots)'
        : 'no trusted attestation key: give the AK public key (--ak) or an AK certificate and its roots',
    });
  }
  if (!ak)
    checks.push({
      name: 'signature',
      ok: false,
      detail: 'no attestation key to check the signature with',
    });

  parsed.forEach(({ q, attest, sig }, i) => {
    const label =
      parsed.length > 1
        ? ` (quote ${i + 1}, ${attest.selections.map((x) => x.hashName).join('+')} bank)`
        : '';
    if (ak) {
      const ok = verifySignature(q.quote, sig, ak);
      checks.push({
        name: 'signature',
        ok,
        detail: `${sig.algName.toUpperCase()}/${sig.hashName} signature over TPMS_ATTEST ${ok ? 'verifies' : 'does not verify'} with the attestation key${label}`,
      });
    }
    checks.push(pcrDigestCheck(attest, sig, q, label));
    if (options.expectNonce) {
      const ok = attest.extraData.equals(options.expectNonce);
      checks.push({
        name: 'nonce',
        ok,
        detail: ok
          ? `extraData equals the expected nonce${label}`
          : `extraData is ${attest.extraData.toString('hex') || '(empty)'}, expected ${options.expectNonce.toString('hex')}${label}`,
      });
    }
  });

  // Only values a quote selects are attested (hashed into a signed pcrDigest); any other
  // value in the evidence is the producer's word and is neither compared nor claimed.
  const values = quotedPcrs(parsed);
  for (const p of options.pcrs ?? []) {
    const bank = (p.alg ?? 'sha256').toLowerCase();
    const got = values.get(bank)?.get(p.index);
    const ok =
      got !== undefined && got.toString('hex') === p.value.toLowerCase().replace(/^0x/, '');
    checks.push({
      name: `pcr-${p.index}`,
      ok,
      detail: ok
        ? `PCR ${bank}:${p.index} matches the expected value`
        : got
          ? `PCR ${bank}:${p.index} is ${got.toString('hex')}, expected ${p.value.toLowerCase()}`
          : `PCR ${bank}:${p.index} is not quoted (expected ${p.value.toLowerCase()})`,
    });
  }

  const main = mainQuote(parsed);
  const allowed = options.policy?.measurements;
  if (allowed?.length && main) {
    const digest = main.attest.pcrDigest.toString('hex');
    const ok = allowed.map((m) => m.toLowerCase()).includes(digest);
    checks.push({
      name: 'measurement',
      ok,
      detail: ok
        ? 'PCR digest is in the allowed measurements'
        : `PCR digest ${digest} is not in the ${allowed.length} allowed measurement(s)`,
    });
  }
  return makeVerdict('tpm', checks, claimsOf(parsed, values, ak));
}

function claimsOf(
  parsed: { attest: TpmQuote; sig: TpmSignature }[],
  values: Map<string, Map<number, Buffer>>,
  ak: KeyObject | undefined,
): TeeClaims {
  const a = mainQuote(parsed)?.attest as TpmQuote;
  const claims: TeeClaims = {
    measurement: a.pcrDigest.toString('hex'),
    nonce: a.extraData.toString('hex'),
    debug: false,
    clock: a.clock.toString(),
    resetCount: a.resetCount,
    restartCount: a.restartCount,
    safe: a.safe,
    firmwareVersion: a.firmwareVersion.toString(16).padStart(16, '0'),
    qualifiedSigner: a.qualifiedSigner.toString('hex'),
    selection: Object.fromEntries(a.selections.map((s) => [s.hashName, s.pcrs])),
    pcrs: Object.fromEntries(
      [...values]
        .sort()
        .map(([bank, m]) => [
          bank,
          Object.fromEntries(
            [...m].sort((x, y) => x[0] - y[0]).map(([i, v]) => [String(i), v.toString('hex')]),
          ),
        ]),
    ),
  };
  if (ak) claims.akSha256 = spkiDigest(ak);
  return claims;
}

/** The quote of the SHA-256 bank when there are several (GCE quotes every bank), else the first. */
function mainQuote<T extends { attest: TpmQuote }>(parsed: T[]): T | undefined {
  return parsed.find((p) => p.attest.selections[0]?.hashName === 'sha256') ?? parsed[0];
}

/** The PCR values the quotes' selections cover, by bank and index. */
function quotedPcrs(
  parsed: { q: TpmEvidenceQuote; attest: TpmQuote }[],
): Map<string, Map<number, Buffer>> {
  const out = new Map<string, Map<number, Buffer>>();
  for (const { q, attest } of parsed)
    for (const s of attest.selections) {
      const given = q.pcrs.get(s.hashName);
      for (const i of s.pcrs) {
        const v = given?.get(i);
        if (!v) continue;
        const bank = out.get(s.hashName) ?? new Map<number, Buffer>();
        bank.set(i, v);
        out.set(s.hashName, bank);
      }
    }
  return out;
}

/** The digest of the selected PCR values, in selection order, with the signing hash (TPM2_Quote). */
function pcrDigestCheck(
  attest: TpmQuote,
  sig: TpmSignature,
  q: TpmEvidenceQuote,
  label: string,
): TeeCheck {
  const h = createHash(sig.hashName);
  const missing: string[] = [];
  for (const s of attest.selections) {
    const bank = q.pcrs.get(s.hashName);
    for (const i of s.pcrs) {
      const v = bank?.get(i);
      if (!v) missing.push(`${s.hashName}:${i}`);
      else h.update(v);
    }
  }
  if (missing.length > 0)
    return {
      name: 'pcr-digest',
      ok: false,
      detail: `no value given for quoted PCR(s) ${missing.join(', ')}${label}`,
    };
  const got = h.digest();
  const ok = got.equals(attest.pcrDigest);
  const sel = attest.selections.map((s) => `${s.hashName}:${s.pcrs.join(',')}`).join(' ');
  return {
    name: 'pcr-digest',
    ok,
    detail: ok
      ? `PCR values ${sel} hash to the quoted pcrDigest${label}`
      : `PCR values ${sel} hash to ${got.toString('hex')}, the quote says ${attest.pcrDigest.toString('hex')}${label}`,
  };
}

function verifySignature(message: Buffer, sig: TpmSignature, key: KeyObject): boolean {
  const hash = sig.hashName;
  try {
    switch (sig.algName) {
      case 'rsassa':
        return (
          key.asymmetricKeyType === 'rsa' &&
          cryptoVerify(
            hash,
            message,
            { key, padding: constants.RSA_PKCS1_PADDING },
            sig.rsa as Buffer,
          )
        );
      case 'rsapss':
        return (
          key.asymmetricKeyType === 'rsa' &&
          cryptoVerify(
            hash,
            message,
            {
              key,
              padding: constants.RSA_PKCS1_PSS_PADDING,
              saltLength: constants.RSA_PSS_SALTLEN_AUTO,
            },
            sig.rsa as Buffer,
          )
        );
      case 'ecdsa': {
        if (key.asymmetricKeyType !== 'ec') return false;
        const size =
          { prime256v1: 32, secp384r1: 48, secp521r1: 66 }[
            key.asymmetricKeyDetails?.namedCurve ?? ''
          ] ?? 0;
        const r = sig.r as Buffer;
        const s = sig.s as Buffer;
        if (!size || r.length > size || s.length > size) return false;
        const pad = (b: Buffer) => Buffer.concat([Buffer.alloc(size - b.length), b]);
        return cryptoVerify(
          hash,
          message,
          { key, dsaEncoding: 'ieee-p1363' },
          Buffer.concat([pad(r), pad(s)]),
        );
      }
    }
  } catch {
    return false;
  }
}

function akCertificateCheck(
  certData: Buffer,
  intermediates: Buffer[],
  ak: KeyObject | undefined,
  options: TeeVerifyOptions,
  cache?: ChainCache,
): TeeCheck {
  const [leaf] = parseCertificates(certData, 'AK certificate');
  if (!leaf) return { name: 'ak', ok: false, detail: 'empty AK certificate' };
  const pool = intermediates.flatMap((c, i) => parseCertificates(c, `intermediates[${i}]`));
  const anchors = (options.roots ?? []).flatMap((r, i) => parseCertificates(r, `roots[${i}]`));
  let chain: { ok: boolean; detail: string };
  try {
    chain = verifyChain(leaf, pool, anchors, options.at, cache);
  } catch (e) {
    // Fail closed on anything the chain helper cannot handle.
    chain = {
      ok: false,
      detail: `AK certificate chain could not be checked: ${(e as Error).message}`,
    };
  }
  const keyMatches = ak !== undefined && spki(leaf.publicKey).equals(spki(ak));
  const problems = [
    ...(chain.ok ? [] : [chain.detail]),
    ...(keyMatches ? [] : ['the AK certificate certifies another key than the quoting AK']),
  ];
  return {
    name: 'ak',
    ok: problems.length === 0,
    detail:
      problems.length === 0
        ? `AK certificate chains to a trusted root: ${chain.detail}`
        : problems.join('; '),
  };
}

function spki(k: KeyObject): Buffer {
  return k.export({ type: 'spki', format: 'der' });
}

function spkiDigest(k: KeyObject): string {
  return createHash('sha256').update(spki(k)).digest('hex');
}
