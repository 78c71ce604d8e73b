import type { VerificationKey } from '../sign/index.ts';
import type { CompiledWhere } from './cel.ts';

/** The one apiVersion this code reads. */
export const POLICY_API_VERSION = 'vouch.dev/policy/v1';

/** A parsed, checked policy: every reference resolved, every key loaded, every CEL compiled. */
export interface Policy {
  name: string;
  description?: string;
  /** Where it was read from (a path, or `<inline>`). */
  source: string;
  /**
   * `sha256:<hex>` of the exact bytes of the top-level policy file. Every
   * `extends` entry pins its file's sha256 inside the extending file's bytes,
   * so this digest commits to the whole merged set of policy files.
   */
  digest: string;
  /** The files this policy extends (transitively), relative to its directory, with their digests. */
  extends?: Array<{ file: string; digest: string }>;
  requireDigest: boolean;
  trust: {
    /** Parsed Sigstore trusted_root.json; undefined means the public-good root. */
    trustedRoot?: unknown;
    signers: SignerSpec[];
  };
  require: Rule[];
  exceptions: PolicyException[];
  /** SSDF task id → rule names (carried; evaluated by the report layer). */
  ssdf: Record<string, string[]>;
}

/** When a signer may be trusted. All times are epoch milliseconds. */
export interface Validity {
  validFrom?: number;
  validUntil?: number;
  revokedAt?: number;
  revokedReason?: string;
}

export type SignerSpec =
  | ({ name: string; kind: 'key'; key: VerificationKey } & Validity)
  | ({
      name: string;
      kind: 'keyless';
      issuer: string;
      subject?: string;
      subjectRegExp?: string;
      /** GitHub `owner/repo` the workflow ran in. */
      repository?: string;
      /** Git ref, e.g. `refs/heads/main`. */
      ref?: string;
    } & Validity);

export type Rule = EvidenceRule | CompositeRule;

export interface EvidenceRule {
  kind: 'evidence';
  name: string;
  description?: string;
  /** Resolved predicate type URI. */
  predicateType: string;
  /** Signer names allowed; undefined means any trusted signer. */
  signers?: string[];
  minSigners: number;
  /** Milliseconds. */
  maxAge?: number;
  /** The text as written, for reports. */
  maxAgeText?: string;
  where?: CompiledWhere;
  /**
   * `newest`: only the newest verified statement of this type, by the rule's
   * signers, is judged (by its verified time, else its predicate's own time);
   * absent or `all`: any verified bundle that passes satisfies the rule.
   */
  select?: 'all' | 'newest';
}

export interface CompositeRule {
  kind: 'anyOf' | 'allOf';
  name: string;
  description?: string;
  rules: Rule[];
}

export interface PolicyException {
  rule: string;
  owner: string;
  reason: string;
  /** Epoch milliseconds. */
  expires: number;
  expiresText: string;
}
