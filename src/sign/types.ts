import type { KeyObject } from 'node:crypto';
import type { DsseSigner, DsseVerifier } from '../core/dsse.ts';

/**
 * Sigstore's public-good endpoints, the defaults for keyless signing. The same
 * values as @sigstore/sign's DEFAULT_FULCIO_URL / DEFAULT_REKOR_URL (a test
 * checks), kept here so reading them does not load that package.
 */
export const DEFAULT_FULCIO_URL = 'https://fulcio.sigstore.dev';
export const DEFAULT_REKOR_URL = 'https://rekor.sigstore.dev';

/** Key algorithms vouch generates and reads. RSA is read-only (PKCS#1 / PKCS#8 PEM). */
export type KeyAlgorithm = 'ecdsa-p256' | 'ecdsa-p384' | 'ed25519' | 'rsa-pkcs1v15' | 'rsa-pss';

/** A private key ready to sign DSSE PAE bytes (see keys.ts). */
export interface SigningKey extends DsseSigner {
  readonly algorithm: KeyAlgorithm;
  /** Stable id: lower-case hex sha256 of the SPKI DER public key. */
  readonly keyid: string;
  readonly publicKey: KeyObject;
  /** SPKI PEM of the public key. */
  readonly publicKeyPem: string;
}

/** A trusted public key (see keys.ts). */
export interface VerificationKey extends DsseVerifier {
  readonly algorithm: KeyAlgorithm;
  readonly keyid: string;
  readonly publicKey: KeyObject;
}

/** How a Statement gets signed into a Sigstore bundle. */
export type SigningMode =
  | { mode: 'key'; key: SigningKey }
  | {
      mode: 'keyless';
      /** OIDC token; when absent, taken from the CI environment (GitHub Actions, GitLab). */
      identityToken?: string;
      fulcioURL: string;
      rekorURL: string;
      /** RFC 3161 timestamp authority; optional. */
      tsaURL?: string;
    };

/** What a verifier trusts. Impossible combinations do not type-check. */
export type TrustPolicy =
  | {
      mode: 'key';
      keys: VerificationKey[];
      /** Trusted root used only to check transparency-log entries a key-signed bundle carries. */
      trustedRoot?: unknown;
    }
  | {
      mode: 'keyless';
      /** Parsed trusted_root.json (protobuf-specs JSON form). */
      trustedRoot: unknown;
      identity: KeylessIdentity;
    };

export interface KeylessIdentity {
  issuer: string;
  /** Exact SAN match; exclusive with subjectRegExp. */
  subject?: string;
  subjectRegExp?: string;
  /*
   * GitHub Actions claims the certificate must carry, as cosign's
   * --certificate-github-workflow-* flags: each an exact match against a
   * Fulcio extension, the DER one (1.3.6.1.4.1.57264.1.8+) or the legacy raw
   * one (.2–.6); a certificate with neither fails. Same names and matching
   * as a policy's keyless `repository` and `ref`. See WORKFLOW_CLAIMS in verify.ts.
   */
  /** `owner/repo`: .12 Source Repository URI without `https://github.com/`, or .5. */
  repository?: string;
  /** Git ref, e.g. `refs/heads/main`: .14 Source Repository Ref, or .6. */
  ref?: string;
  /** Commit SHA the workflow ran on: .13 Source Repository Digest, or .3. */
  sha?: string;
  /** The workflow's `name:` (the token's `workflow` claim): .4 only, it has no DER successor. */
  workflowName?: string;
  /** The event that triggered the run, e.g. `push`: .20 Build Trigger, or .2. */
  trigger?: string;
}

/** One named check performed during verification, passed or failed. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** Who signed, once verified. */
export type Signer =
  | { kind: 'key'; keyid: string }
  | {
      kind: 'certificate';
      subject: string;
      issuer: string;
      /**
       * Fulcio extensions (OID 1.3.6.1.4.1.57264.1.*) as text, e.g. the GitHub
       * workflow repository and ref; set by `verifyBundleAgainst` only.
       */
      extensions?: Record<string, string>;
    };

/** Several trust anchors checked at once (see `verifyBundleAgainst`). */
export interface TrustAnchors {
  keys: VerificationKey[];
  /** Needed for certificates; for key-signed bundles, used to check their log entries. */
  trustedRoot?: unknown;
  identities: KeylessIdentity[];
}

/** A signing time a verifier checked: a log's signed inclusion promise or an RFC 3161 timestamp. */
export interface VerifiedTimestamp {
  kind: 'transparency-log' | 'timestamp-authority';
  /** RFC 3339, UTC. */
  time: string;
}

/** The result of verifying one bundle: every check with its reason. */
export interface BundleVerdict {
  ok: boolean;
  source: string;
  checks: Check[];
  signers: Signer[];
  /**
   * Verified signing times, earliest first; set by `verifyBundleAgainst` only
   * (empty when nothing trusted timestamps the signature, e.g. a bare key signature).
   */
  timestamps?: VerifiedTimestamp[];
  /** The verified in-toto Statement (only set when ok and the bundle is a DSSE in-toto bundle). */
  statement?: import('../core/statement.ts').Statement;
}
