import { createHash } from 'node:crypto';
import { canonicalize } from '../core/canonical.ts';
import type { TeeCheck, TeeClaims, TeePlatform } from './verifier.ts';

/**
 * The TEE evidence predicate (docs/predicates/tee.md, schemas/tee-v1.json):
 * raw platform evidence, what it is bound to, and — when a verifier signed
 * the Statement — the verdict at a stated time.
 */
export const TEE_PREDICATE_V1 = 'https://vouch.dev/attestation/tee/v1';

/** The byproduct URI `vouch run --tee` records in SLSA provenance. */
export const TEE_BYPRODUCT_URI = 'https://vouch.dev/attestors/tee/v1';

/** Binding scheme v1: what the nonce / report data of a `vouch run --tee` quote is computed from. */
export const TEE_BINDING_V1 = 'https://vouch.dev/tee/binding/provenance/v1';

export interface TeeBinding {
  /** TEE_BINDING_V1 */
  scheme: string;
  /** Where the value went: TPM extraData / Nitro nonce ('nonce'), SEV-SNP / TDX REPORT_DATA ('report-data'). */
  field: 'nonce' | 'report-data';
  /** 'sha256' (32 bytes, TPM and Nitro) or 'sha512' (64 bytes, SEV-SNP and TDX). */
  algorithm: 'sha256' | 'sha512';
  /** Lower-case hex. */
  value: string;
}

export interface TeeEvidence {
  /** Media type of the decoded bytes. */
  mediaType: string;
  /** Base64 of the evidence bytes exactly as the platform produced them (or vouch's TPM JSON). */
  data: string;
}

export interface TeePredicate {
  platform: TeePlatform;
  evidence: TeeEvidence;
  binding?: TeeBinding;
  /** Present when the Statement records a verification (vouch tee verify --attest). */
  verification?: {
    verifier: string;
    at: string;
    ok: boolean;
    checks: TeeCheck[];
    claims: TeeClaims;
  };
}

/** The provenance fields a binding covers; all are copied verbatim into the SLSA predicate. */
export interface BindingInputs {
  /** externalParameters.command (argv as recorded, secrets redacted). */
  command: readonly string[];
  /** resolvedDependencies entries whose uri starts with "file:". */
  materials: ReadonlyArray<{ uri: string; digest: Record<string, string> }>;
  /** runDetails.metadata.startedOn */
  startedOn: string;
}

/**
 * Binding v1: the hash of the RFC 8785 canonical JSON of
 * `{ "command": [...], "materials": [{uri, digest}] sorted by uri, "startedOn": "…" }`.
 * SHA-256 for a nonce (TPM extraData, Nitro nonce), SHA-512 for 64-byte report data.
 */
export function bindingValue(inputs: BindingInputs, algorithm: 'sha256' | 'sha512'): Buffer {
  const materials = [...inputs.materials]
    .map((m) => ({ uri: m.uri, digest: { ...m.digest } }))
    .sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  const doc = { command: [...inputs.command], materials, startedOn: inputs.startedOn };
  return createHash(algorithm).update(canonicalize(doc)).digest();
}

/** Which field and hash a platform's binding uses. */
export function bindingShape(platform: TeePlatform): Pick<TeeBinding, 'field' | 'algorithm'> {
  switch (platform) {
    case 'tpm':
    case 'nitro':
      return { field: 'nonce', algorithm: 'sha256' };
    case 'sev-snp':
    case 'tdx':
      return { field: 'report-data', algorithm: 'sha512' };
  }
}

/**
 * The binding inputs of an SLSA provenance predicate written by `vouch run`.
 * Returns undefined when the predicate does not have the expected shape.
 */
export function bindingInputsOf(predicate: unknown): BindingInputs | undefined {
  const p = predicate as {
    buildDefinition?: {
      externalParameters?: { command?: unknown };
      resolvedDependencies?: unknown;
    };
    runDetails?: { metadata?: { startedOn?: unknown } };
  };
  const command = p?.buildDefinition?.externalParameters?.command;
  const deps = p?.buildDefinition?.resolvedDependencies;
  const startedOn = p?.runDetails?.metadata?.startedOn;
  if (!Array.isArray(command) || !command.every((c) => typeof c === 'string')) return undefined;
  if (!Array.isArray(deps) || typeof startedOn !== 'string') return undefined;
  const materials = deps
    .filter(
      (d): d is { uri: string; digest: Record<string, string> } =>
        typeof d?.uri === 'string' && d.uri.startsWith('file:'),
    )
    .map((d) => ({ uri: d.uri, digest: d.digest ?? {} }));
  return { command, materials, startedOn };
}
