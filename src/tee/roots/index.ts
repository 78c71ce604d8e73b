/**
 * Vendor trust anchors shipped inside vouch. Each file is pinned here by the
 * sha256 of its bytes; a file that does not match its pin is never trusted
 * (fail closed: the load throws).
 *
 * Sources (public vendor material, byte-identical to what the vendors serve):
 * - amd/ask_ark_<product>[_vlek].pem: AMD KDS `cert_chain` responses
 *   (https://kdsintf.amd.com/vcek/v1/<product>/cert_chain and
 *   …/vlek/v1/<product>/cert_chain): the ASK (or ASVK) then the self-signed
 *   ARK, RSA-4096 RSASSA-PSS SHA-384. As copied by google/go-sev-guest
 *   (verify/trust/, Apache-2.0).
 * - intel/intel_sgx_root_ca.pem: Intel SGX Root CA
 *   (https://certificates.trustedservices.intel.com/Intel_SGX_Provisioning_Certification_RootCA.pem),
 *   ECDSA P-256, valid to 2049. As copied by google/go-tdx-guest
 *   (verify/trusted_root.pem, Apache-2.0).
 */
import type { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { VouchError } from '../../core/errors.ts';
import { parseCertificates, sha256Hex } from '../x509.ts';

export type AmdProduct = 'Milan' | 'Genoa' | 'Turin';
export const AMD_PRODUCTS: readonly AmdProduct[] = ['Milan', 'Genoa', 'Turin'];
export type AmdSigningKey = 'vcek' | 'vlek';

const PINS: Readonly<Record<string, string>> = {
  'amd/ask_ark_milan.pem': '22e62f8d2c21a156470145fc75f7b5a377cb053ced3e97f0bd3f8d8ca5941ce6',
  'amd/ask_ark_milan_vlek.pem': '3098f7e90ee7049b8cf116448d1bdf33b08847b4250bd99507cf73b5c49d3467',
  'amd/ask_ark_genoa.pem': 'e6ecc853fa56d3170a624d40851f98a1036f974b50204ea69e6aec91d777aca3',
  'amd/ask_ark_genoa_vlek.pem': '95f8b0deab936fe5d44a7cd6ed32590ad360581da2858a27dc2e59ac6eacb2e8',
  'amd/ask_ark_turin_vcek.pem': 'cc9a52fbed3fbc6e4a0a50149a541a75938f975658909c2a6084767829b36e85',
  'amd/ask_ark_turin_vlek.pem': '5928f39615a10790e4c3d985fbe5b025524eab50c0801c2b69d2031e476cdfe5',
  'intel/intel_sgx_root_ca.pem': '194123d2a18be2beb525d0f0cc10a8998be1e63d7a0ecb723cb194f3e9833912',
};

/** Read a shipped root file and check it against its pin. @throws VouchError TEE_MALFORMED if the pin does not match. */
export function pinnedRootFile(name: string): Buffer {
  const pin = PINS[name];
  if (!pin)
    throw new VouchError('TEE_MALFORMED', `no pinned root named ${name}`, { field: 'roots' });
  const data = readFileSync(new URL(`./${name}`, import.meta.url));
  const got = sha256Hex(data);
  if (got !== pin) {
    throw new VouchError(
      'TEE_MALFORMED',
      `shipped root ${name} has sha256 ${got}, pinned ${pin}; refusing to trust it`,
      {
        field: 'roots',
      },
    );
  }
  return data;
}

/** The AMD certificates for one product and signing-key kind: the ASK/ASVK (intermediate) and the ARK (anchor). */
export interface AmdRoots {
  product: AmdProduct;
  key: AmdSigningKey;
  intermediate: X509Certificate;
  ark: X509Certificate;
}

export function amdRootFileName(product: AmdProduct, key: AmdSigningKey): string {
  const p = product.toLowerCase();
  if (key === 'vlek') return `amd/ask_ark_${p}_vlek.pem`;
  return product === 'Turin' ? 'amd/ask_ark_turin_vcek.pem' : `amd/ask_ark_${p}.pem`;
}

export function amdRoots(product: AmdProduct, key: AmdSigningKey): AmdRoots {
  const name = amdRootFileName(product, key);
  const certs = parseCertificates(pinnedRootFile(name), name);
  const [intermediate, ark] = certs;
  if (!intermediate || !ark || certs.length !== 2) {
    throw new VouchError('TEE_MALFORMED', `${name} must hold the ASK/ASVK then the ARK`, {
      field: 'roots',
    });
  }
  // The file must hold what its name says: the ASK (VCEK) or ASVK (VLEK) and
  // the ARK of this product, so a VCEK can never be chained through an ASVK.
  const want = [key === 'vcek' ? `SEV-${product}` : `SEV-VLEK-${product}`, `ARK-${product}`];
  const got = [intermediate, ark].map((c) =>
    c.subject
      .split('\n')
      .find((l) => l.startsWith('CN='))
      ?.slice(3),
  );
  if (got[0] !== want[0] || got[1] !== want[1]) {
    throw new VouchError(
      'TEE_MALFORMED',
      `${name} holds ${got.join(', ')}; expected ${want.join(', ')}`,
      { field: 'roots' },
    );
  }
  return { product, key, intermediate, ark };
}

export function intelSgxRootCa(): X509Certificate {
  const name = 'intel/intel_sgx_root_ca.pem';
  const [root] = parseCertificates(pinnedRootFile(name), name);
  if (!root)
    throw new VouchError('TEE_MALFORMED', `${name} holds no certificate`, { field: 'roots' });
  return root;
}
