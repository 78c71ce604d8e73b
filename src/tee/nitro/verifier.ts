import { createHash, type X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { VouchError } from '../../core/errors.ts';
import { verifyCoseSign1 } from '../cose.ts';
import {
  makeVerdict,
  type TeeCheck,
  type TeeClaims,
  type TeeVerdict,
  type TeeVerifier,
  type TeeVerifyOptions,
} from '../verifier.ts';
import { type ChainCache, parseCertificates, verifyChain } from '../x509.ts';
import { parseNitro } from './document.ts';

/**
 * AWS Nitro Enclaves Root-G1, shipped in src/tee/roots/ and pinned here by the
 * SHA-256 of its DER (as published by AWS: the zip's digest is
 * 8cf60e2b…faff7c; the certificate inside has this fingerprint).
 */
export const NITRO_ROOT_SHA256 = '641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b';
const NITRO_ROOT_FILE = new URL('../roots/aws-nitro-enclaves-root-g1.pem', import.meta.url);

let pinnedRoot: X509Certificate | undefined;

/** The built-in root, refused (thrown) when the shipped file does not match its pinned digest. */
export function nitroRoot(): X509Certificate {
  if (pinnedRoot) return pinnedRoot;
  const [root] = parseCertificates(readFileSync(NITRO_ROOT_FILE), 'AWS Nitro root');
  const digest = root ? createHash('sha256').update(root.raw).digest('hex') : '';
  if (!root || digest !== NITRO_ROOT_SHA256)
    throw new VouchError(
      'TEE_MALFORMED',
      `shipped AWS Nitro root has sha256 ${digest}, pinned ${NITRO_ROOT_SHA256}; refusing to trust it`,
      {
        field: 'roots',
      },
    );
  pinnedRoot = root;
  return root;
}

const SOURCE = 'nitro evidence';

export interface NitroVerifierOptions {
  /** Remember certificate signature checks across calls (benchmarks, servers). */
  cache?: ChainCache;
}

export function nitroVerifier(opts: NitroVerifierOptions = {}): TeeVerifier {
  return {
    platform: 'nitro',
    detect(evidence) {
      try {
        parseNitro(evidence, SOURCE);
        return true;
      } catch {
        return false;
      }
    },
    verify: async (evidence, options) => verifyNitro(evidence, options, opts.cache),
  };
}

/**
 * Verifies an attestation document: ES384 signature by the document's
 * certificate, chain certificate ← cabundle ← AWS Nitro root at `options.at`,
 * debug mode (all-zero PCR0), and the bindings asked for (nonce, user_data,
 * PCR values, measurement allowlist on PCR0).
 *
 * @throws VouchError TEE_MALFORMED when the document cannot be parsed
 */
export function verifyNitro(
  evidence: Buffer,
  options: TeeVerifyOptions,
  cache?: ChainCache,
): TeeVerdict {
  const { cose, document: d } = parseNitro(evidence, SOURCE);
  const checks: TeeCheck[] = [];
  const hex = (b: Buffer | undefined) => (b ? b.toString('hex') : undefined);
  const pcr0 = d.pcrs.get(0);
  const debug = pcr0?.every((x) => x === 0) === true;
  const claims: TeeClaims = {
    version: 1,
    moduleId: d.moduleId,
    timestamp: new Date(d.timestamp).toISOString(),
    debug,
    pcrs: Object.fromEntries(
      [...d.pcrs].sort((a, b) => a[0] - b[0]).map(([k, v]) => [String(k), v.toString('hex')]),
    ),
  };
  if (pcr0) claims.measurement = pcr0.toString('hex');
  if (d.userData) claims.reportData = hex(d.userData);
  if (d.nonce) claims.nonce = hex(d.nonce);
  if (d.publicKey) claims.publicKey = hex(d.publicKey);

  // Certificates: a bad DER is a verification failure of that certificate, reported, not thrown.
  let leaf: X509Certificate | undefined;
  let bundle: X509Certificate[] = [];
  try {
    leaf = parseCertificates(d.certificate, 'certificate')[0];
    bundle = d.cabundle.flatMap((c, i) => parseCertificates(c, `cabundle[${i}]`));
  } catch (e) {
    checks.push({
      name: 'certificate',
      ok: false,
      detail: `certificate does not parse: ${(e as Error).message}`,
    });
  }

  if (leaf) {
    const key = leaf.publicKey;
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const ok = curve === 'secp384r1' && verifyCoseSign1(cose, key);
    checks.push({
      name: 'signature',
      ok,
      detail: ok
        ? 'ES384 COSE_Sign1 signature verifies with the document certificate'
        : curve !== 'secp384r1'
          ? `document certificate key is ${curve ?? key.asymmetricKeyType}, not P-384`
          : 'ES384 COSE_Sign1 signature does not verify with the document certificate',
    });

    let anchors: X509Certificate[];
    if (options.roots?.length) {
      anchors = options.roots.flatMap((r, i) => parseCertificates(r, `roots[${i}]`));
      checks.push({
        name: 'root',
        ok: true,
        detail: `using ${anchors.length} caller-supplied root(s) instead of the AWS Nitro root`,
      });
    } else {
      anchors = [nitroRoot()];
    }
    const extra = (options.certChain ?? []).flatMap((c, i) =>
      parseCertificates(c, `certChain[${i}]`),
    );
    const chain = verifyChain(leaf, [...bundle, ...extra], anchors, options.at, cache);
    checks.push({
      name: 'chain',
      ok: chain.ok,
      detail: chain.ok
        ? `${chain.detail} (${options.roots?.length ? 'caller-supplied root' : 'AWS Nitro root, pinned by digest'}; valid at ${options.at.toISOString()})`
        : chain.detail,
    });
  }

  checks.push(
    debug && !options.policy?.insecureAllowDebug
      ? {
          name: 'debug',
          ok: false,
          detail:
            'enclave runs in debug mode (PCR0 is all zeros); its memory is readable by the parent',
        }
      : {
          name: 'debug',
          ok: true,
          detail: debug
            ? 'debug enclave accepted (insecureAllowDebug)'
            : 'enclave is not in debug mode',
        },
  );

  if (options.expectNonce) checks.push(compare('nonce', 'nonce', d.nonce, options.expectNonce));
  if (options.expectReportData)
    checks.push(compare('report-data', 'user_data', d.userData, options.expectReportData));
  for (const p of options.pcrs ?? []) {
    const got = d.pcrs.get(p.index);
    const ok = got !== undefined && got.toString('hex') === p.value.toLowerCase();
    checks.push({
      name: `pcr-${p.index}`,
      ok,
      detail: ok
        ? `PCR${p.index} matches`
        : `PCR${p.index} is ${got ? got.toString('hex') : 'absent'}, expected ${p.value.toLowerCase()}`,
    });
  }
  const allowed = options.policy?.measurements;
  if (allowed?.length) {
    const ok =
      pcr0 !== undefined && allowed.map((m) => m.toLowerCase()).includes(pcr0.toString('hex'));
    checks.push({
      name: 'measurement',
      ok,
      detail: ok
        ? 'PCR0 is in the allowed measurements'
        : `PCR0 ${hex(pcr0) ?? '(absent)'} is not in the ${allowed.length} allowed measurement(s)`,
    });
  }
  return makeVerdict('nitro', checks, claims);
}

function compare(name: string, field: string, got: Buffer | undefined, want: Buffer): TeeCheck {
  const ok = got?.equals(want) === true;
  return {
    name,
    ok,
    detail: ok
      ? `${field} matches the expected ${want.length} byte(s)`
      : `${field} is ${got ? got.toString('hex') : 'absent'}, expected ${want.toString('hex')}`,
  };
}
