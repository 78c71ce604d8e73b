import { errorMessage, VouchError } from '../core/errors.ts';
import { readTextFile } from '../core/json.ts';
import type { KeylessIdentity, TrustPolicy, VerificationKey } from '../sign/index.ts';
import {
  loadTrustedRoot,
  loadVerificationKey,
  publicGoodTrustedRoot,
  type TrustedRootJson,
} from '../sign/index.ts';
import { usage } from './args.ts';

/** Flags of every verifying verb, named as cosign names them. */
export const TRUST_OPTIONS = {
  key: { type: 'string', multiple: true },
  'certificate-identity': { type: 'string' },
  'certificate-identity-regexp': { type: 'string' },
  'certificate-oidc-issuer': { type: 'string' },
  'trusted-root': { type: 'string' },
  'tuf-mirror': { type: 'string' },
} as const;

/**
 * cosign's GitHub Actions claim flags (keyless only), each checked as an exact
 * match against the certificate's Fulcio extension; for the verbs that list
 * WORKFLOW_HELP. Flag → identity field, the one a policy's keyless signer uses.
 */
export const WORKFLOW_FLAGS = {
  'certificate-github-workflow-repository': 'repository',
  'certificate-github-workflow-ref': 'ref',
  'certificate-github-workflow-sha': 'sha',
  'certificate-github-workflow-name': 'workflowName',
  'certificate-github-workflow-trigger': 'trigger',
} as const satisfies Record<string, keyof KeylessIdentity>;

export const WORKFLOW_OPTIONS = {
  'certificate-github-workflow-repository': { type: 'string' },
  'certificate-github-workflow-ref': { type: 'string' },
  'certificate-github-workflow-sha': { type: 'string' },
  'certificate-github-workflow-name': { type: 'string' },
  'certificate-github-workflow-trigger': { type: 'string' },
} as const;

export const WORKFLOW_HELP = `GitHub Actions claims (keyless; exact match against the certificate's Fulcio
extension; a certificate without it fails):
  --certificate-github-workflow-repository OWNER/REPO   .12 (URL) or .5
  --certificate-github-workflow-ref REF                  e.g. refs/heads/main: .14 or .6
  --certificate-github-workflow-sha SHA                  commit: .13 or .3
  --certificate-github-workflow-name NAME                the workflow's name: .4
  --certificate-github-workflow-trigger EVENT            e.g. push: .20 or .2`;

/**
 * The flags a policy file takes the place of (it says whom to trust and which
 * predicate types to require), so that giving one with --policy is an error.
 */
export const POLICY_EXCLUDES = [
  'key',
  'certificate-identity',
  'certificate-identity-regexp',
  'certificate-oidc-issuer',
  'trusted-root',
  'tuf-mirror',
  ...(Object.keys(WORKFLOW_FLAGS) as Array<keyof typeof WORKFLOW_FLAGS>),
  'type',
] as const;

export const TRUST_HELP = `Trust (one of):
  --key FILE                          trusted public key (SPKI / PKCS#1 PEM or certificate);
                                      repeat for several
  --certificate-identity ID           keyless: exact certificate SAN (email or URI)
  --certificate-identity-regexp RE    keyless: SAN must match RE (whole string)
  --certificate-oidc-issuer URL       keyless: required with either of the above
  --trusted-root FILE                 Sigstore trusted_root.json (default: the public-good
                                      root shipped with vouch, no network)
  --tuf-mirror URL                    fetch the trusted root from a Sigstore TUF repository`;

/** The trust flags' parsed values; verbs that take more extend this. */
export interface TrustValues {
  key?: string[] | undefined;
  'certificate-identity'?: string | undefined;
  'certificate-identity-regexp'?: string | undefined;
  'certificate-oidc-issuer'?: string | undefined;
  'trusted-root'?: string | undefined;
  'tuf-mirror'?: string | undefined;
  'certificate-github-workflow-repository'?: string | undefined;
  'certificate-github-workflow-ref'?: string | undefined;
  'certificate-github-workflow-sha'?: string | undefined;
  'certificate-github-workflow-name'?: string | undefined;
  'certificate-github-workflow-trigger'?: string | undefined;
}

/**
 * @throws VouchError USAGE | FILE_* | KEY_* | TRUSTED_ROOT_MALFORMED
 */
export async function trustPolicyFrom(
  verb: string,
  v: TrustValues,
  cacheDir: string,
): Promise<TrustPolicy> {
  const identity = v['certificate-identity'];
  const identityRe = v['certificate-identity-regexp'];
  const issuer = v['certificate-oidc-issuer'];
  const keyless = identity !== undefined || identityRe !== undefined || issuer !== undefined;
  const claims = workflowClaimsFrom(verb, v);
  const firstClaim = Object.keys(claims)[0];
  if (v.key?.length && (keyless || firstClaim !== undefined))
    throw usage(verb, '--key and --certificate-* flags exclude each other');
  if (firstClaim !== undefined && identity === undefined && identityRe === undefined)
    throw usage(
      verb,
      `--${firstClaim} needs keyless trust: --certificate-identity[-regexp] with --certificate-oidc-issuer`,
    );
  if (v.key?.length) {
    const keys: VerificationKey[] = [];
    for (const file of v.key)
      keys.push(loadVerificationKey(await readTextFile(file, 1024 * 1024), file));
    const policy: TrustPolicy = { mode: 'key', keys };
    if (v['trusted-root'] !== undefined)
      policy.trustedRoot = await loadTrustedRoot(v['trusted-root']);
    return policy;
  }
  if (!keyless) {
    throw usage(
      verb,
      'say whom to trust: --key FILE, or --certificate-identity[-regexp] with --certificate-oidc-issuer',
    );
  }
  if (issuer === undefined)
    throw usage(verb, '--certificate-oidc-issuer is required for keyless verification');
  if ((identity === undefined) === (identityRe === undefined)) {
    throw usage(
      verb,
      'give exactly one of --certificate-identity and --certificate-identity-regexp',
    );
  }
  if (identityRe !== undefined) {
    try {
      new RegExp(identityRe);
    } catch (e) {
      throw usage(
        verb,
        `--certificate-identity-regexp is not a valid regular expression: ${errorMessage(e)}`,
      );
    }
  }
  const keylessIdentity: KeylessIdentity =
    identity !== undefined
      ? { issuer, subject: identity }
      : { issuer, subjectRegExp: identityRe as string };
  for (const [flag, value] of Object.entries(claims))
    keylessIdentity[WORKFLOW_FLAGS[flag as keyof typeof WORKFLOW_FLAGS]] = value;
  return {
    mode: 'keyless',
    trustedRoot: await trustedRootFrom(v, cacheDir),
    identity: keylessIdentity,
  };
}

/**
 * The workflow claim flags given, by flag name, in WORKFLOW_FLAGS order.
 * An empty value is refused: it would check nothing where a check was asked for.
 *
 * @throws VouchError USAGE
 */
function workflowClaimsFrom(verb: string, v: TrustValues): Record<string, string> {
  const out: Record<string, string> = {};
  for (const flag of Object.keys(WORKFLOW_FLAGS) as Array<keyof typeof WORKFLOW_FLAGS>) {
    const value = v[flag];
    if (value === undefined) continue;
    if (value === '') throw usage(verb, `--${flag} needs a value`);
    out[flag] = value;
  }
  return out;
}

async function trustedRootFrom(v: TrustValues, cacheDir: string): Promise<TrustedRootJson> {
  if (v['trusted-root'] !== undefined) return loadTrustedRoot(v['trusted-root']);
  if (v['tuf-mirror'] !== undefined) {
    try {
      // Loaded only here: tuf-js costs ~120 ms of start-up that offline verification never needs.
      const { getTrustedRoot } = await import('@sigstore/tuf');
      const { TrustedRoot } = await import('@sigstore/protobuf-specs');
      const root = await getTrustedRoot({ mirrorURL: v['tuf-mirror'], cachePath: cacheDir });
      return TrustedRoot.toJSON(root) as TrustedRootJson;
    } catch (e) {
      throw new VouchError(
        'TRUSTED_ROOT_MALFORMED',
        `cannot get the trusted root from TUF: ${errorMessage(e)}`,
        {
          file: v['tuf-mirror'],
        },
      );
    }
  }
  return publicGoodTrustedRoot();
}
