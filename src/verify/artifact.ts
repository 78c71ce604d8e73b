import type { ArtifactInput, BundleVerdict, TrustPolicy } from '../sign/index.ts';
import { verifyBundle } from '../sign/index.ts';
import {
  type Policy,
  type PolicyResult,
  requireEvidence,
  type VerifiedEvidence,
} from './policy.ts';

/** A candidate bundle: where it came from and its JSON (text or parsed). */
export interface CandidateBundle {
  source: string;
  json: unknown;
}

export interface ArtifactVerdict {
  ok: boolean;
  /** `sha256:<hex>` the decision is about. */
  subject: string;
  bundles: BundleVerdict[];
  policy: { name: string } & PolicyResult;
}

export interface VerifyArtifactOptions {
  /** Lower-case hex sha256 of the artifact. */
  sha256: string;
  candidates: readonly CandidateBundle[];
  trust: TrustPolicy;
  /** Bytes of the artifact, needed only for message-signature bundles. */
  artifactBytes?: () => Buffer | undefined;
  policy?: Policy;
}

/**
 * Verifies every candidate bundle against the trust policy and the
 * artifact's digest, then lets the policy decide over the verified ones only.
 * Unverified bundles are reported but never evaluated.
 */
export function verifyArtifact(options: VerifyArtifactOptions): ArtifactVerdict {
  const subject = `sha256:${options.sha256}`;
  const digestInput: ArtifactInput = { digest: { algorithm: 'sha256', hex: options.sha256 } };
  const bundles = options.candidates.map((c) => {
    const needsBytes = isMessageSignature(c.json);
    const bytes = needsBytes ? options.artifactBytes?.() : undefined;
    return verifyBundle(c.json, c.source, bytes ? { bytes } : digestInput, options.trust);
  });
  const evidence: VerifiedEvidence[] = bundles
    .filter((b) => b.ok)
    .map((b) => ({
      source: b.source,
      predicateType: b.statement?.predicateType ?? 'message-signature',
      verdict: b,
    }));
  const policy = options.policy ?? requireEvidence();
  const result = policy.evaluate(subject, evidence);
  return { ok: result.ok, subject, bundles, policy: { name: policy.name, ...result } };
}

function isMessageSignature(json: unknown): boolean {
  if (typeof json === 'string') return json.includes('"messageSignature"');
  return typeof json === 'object' && json !== null && 'messageSignature' in json;
}
