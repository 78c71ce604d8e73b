import { createHash, type KeyObject, X509Certificate } from 'node:crypto';
import {
  BUNDLE_V01_MEDIA_TYPE,
  BUNDLE_V02_MEDIA_TYPE,
  BUNDLE_V03_LEGACY_MEDIA_TYPE,
  BUNDLE_V03_MEDIA_TYPE,
  type Bundle,
  bundleFromJSON,
  ValidationError,
} from '@sigstore/bundle';
import { type SignedEntity, toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { type Envelope, verifyEnvelope } from '../core/dsse.ts';
import { errorMessage, VouchError } from '../core/errors.ts';
import { parseJson } from '../core/json.ts';
import {
  PAYLOAD_TYPE_INTOTO,
  parseStatement,
  type Statement,
  statementHasSubject,
} from '../core/statement.ts';
import { verificationKeyFromKeyObject } from './keys.ts';
import { trustedRootFromJson } from './trusted-root.ts';
import type {
  BundleVerdict,
  Check,
  KeylessIdentity,
  Signer,
  TrustAnchors,
  TrustPolicy,
  VerificationKey,
  VerifiedTimestamp,
} from './types.ts';

/** What the bundle is claimed to be about. */
export type ArtifactInput =
  | { digest: { algorithm: 'sha256'; hex: string } }
  | { bytes: Buffer }
  | undefined;

export interface VerifyOptions {
  /**
   * Accepted for symmetry with other verifiers. Sigstore verification never
   * reads the clock: certificates are checked at the log's or TSA's signed
   * time, and key-signed bundles carry no validity period.
   */
  now?: Date;
}

const MEDIA_TYPES: ReadonlySet<string> = new Set([
  BUNDLE_V01_MEDIA_TYPE,
  BUNDLE_V02_MEDIA_TYPE,
  BUNDLE_V03_LEGACY_MEDIA_TYPE,
  BUNDLE_V03_MEDIA_TYPE,
]);

/**
 * Parses a Sigstore bundle (v0.1, v0.2 or v0.3) from JSON text or a parsed
 * JSON value.
 *
 * @throws VouchError BUNDLE_MALFORMED naming the file and, when known, the field.
 */
export function parseBundle(bundleJson: unknown, source: string): Bundle {
  const bad = (message: string, field?: string, cause?: unknown) =>
    new VouchError('BUNDLE_MALFORMED', message, { file: source, field, cause });
  let value = bundleJson;
  if (typeof value === 'string' || Buffer.isBuffer(value)) {
    try {
      value = parseJson(value.toString(), source);
    } catch (e) {
      // parseJson's message already names the file; keep only its reason.
      throw bad(errorMessage(e).replace(`${source}: `, ''), undefined, e);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw bad('bundle is not a JSON object', '/');
  }
  const mediaType = (value as Record<string, unknown>).mediaType;
  if (typeof mediaType !== 'string' || !MEDIA_TYPES.has(mediaType)) {
    throw bad(
      `unsupported media type ${JSON.stringify(mediaType)}; expected one of ${[...MEDIA_TYPES].join(', ')}`,
      '/mediaType',
    );
  }
  if (mediaType === BUNDLE_V01_MEDIA_TYPE) value = withoutUncheckpointedProofs(value);
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(value);
  } catch (e) {
    const fields = e instanceof ValidationError ? e.fields : [];
    const field = fields.length > 0 ? fields.map(toPointer).join(', ') : undefined;
    throw bad(`not a valid Sigstore bundle: ${errorMessage(e)}`, field, e);
  }
  bundle.verificationMaterial.tlogEntries.forEach((entry, i) => {
    const field = `/verificationMaterial/tlogEntries/${i}`;
    // protobuf-specs reads int64 as a string and does not reject a sign.
    if (!/^\d+$/.test(String(entry.logIndex))) {
      throw bad('log index must be a non-negative integer', `${field}/logIndex`);
    }
    // The bundle spec requires a checkpoint in every inclusion proof; without
    // one sigstore-js fails with a TypeError instead of a verification error.
    if (entry.inclusionProof && !entry.inclusionProof.checkpoint?.envelope) {
      throw bad('inclusion proof has no checkpoint', `${field}/inclusionProof/checkpoint`);
    }
  });
  return bundle;
}

/**
 * v0.1 bundles (sigstore-python 1.x, e.g. CPython's release signatures) may
 * carry an inclusion proof without a checkpoint: its root hash is signed by
 * nobody, so it proves nothing and is left out, as unverifiable evidence is.
 * Such a bundle stands on its inclusion promise, which v0.1 requires and
 * which the log signed. Later versions must carry a checkpoint (refused
 * below). The input is not modified.
 */
function withoutUncheckpointedProofs(value: object): object {
  const material = (value as { verificationMaterial?: { tlogEntries?: unknown } })
    .verificationMaterial;
  const entries = material?.tlogEntries;
  if (!Array.isArray(entries)) return value;
  const unchecked = (e: unknown): boolean => {
    const proof = (e as { inclusionProof?: { checkpoint?: unknown } } | null)?.inclusionProof;
    return typeof proof === 'object' && proof !== null && proof.checkpoint === undefined;
  };
  if (!entries.some(unchecked)) return value;
  const tlogEntries = entries.map((e) => {
    if (!unchecked(e)) return e;
    const { inclusionProof: _, ...rest } = e as Record<string, unknown>;
    return rest;
  });
  return { ...value, verificationMaterial: { ...material, tlogEntries } };
}

/**
 * Verifies one bundle against a trust policy and, when given, the artifact
 * it must be about. Never throws for a verification failure: every check,
 * passed or failed, is in the verdict, and `ok` is true only when all passed.
 */
export function verifyBundle(
  bundleJson: unknown,
  source: string,
  artifact: ArtifactInput,
  policy: TrustPolicy,
  _options: VerifyOptions = {},
): BundleVerdict {
  return verifyCore(bundleJson, source, artifact, { policy });
}

/**
 * Verifies one bundle against several trust anchors at once: any of the keys,
 * or a certificate (chained to `trustedRoot`, with SCT and a verified
 * timestamp) for any of the keyless identities. The verdict says which signer
 * verified it (for certificates with the Fulcio extensions, decoded, so a
 * caller can match workflow claims) and carries the verified signing times.
 * A key-signed bundle with no log entry checked against a trusted root has no
 * verified time: `timestamps` is then empty. Never throws for a verification
 * failure.
 */
export function verifyBundleAgainst(
  bundleJson: unknown,
  source: string,
  artifact: ArtifactInput,
  anchors: TrustAnchors,
): BundleVerdict {
  return verifyCore(bundleJson, source, artifact, { anchors });
}

type Target = { policy: TrustPolicy; anchors?: never } | { anchors: TrustAnchors; policy?: never };

function verifyCore(
  bundleJson: unknown,
  source: string,
  artifact: ArtifactInput,
  target: Target,
): BundleVerdict {
  const extended = target.anchors !== undefined;
  const timestamps: VerifiedTimestamp[] = [];
  const checks: Check[] = [];
  const signers: Signer[] = [];
  const add = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  const verdict = (statement?: Statement): BundleVerdict => {
    const ok = checks.length > 0 && checks.every((c) => c.ok);
    const out: BundleVerdict = { ok, source, checks, signers: ok ? signers : [] };
    if (ok && statement) out.statement = statement;
    if (extended)
      out.timestamps = ok ? timestamps.sort((a, b) => a.time.localeCompare(b.time)) : [];
    return out;
  };

  let bundle: Bundle;
  try {
    bundle = parseBundle(bundleJson, source);
    add('bundle-format', true, `Sigstore bundle ${bundle.mediaType}`);
  } catch (e) {
    add('bundle-format', false, errorMessage(e));
    return verdict();
  }

  const content = bundle.content;
  const artifactBytes = artifact && 'bytes' in artifact ? artifact.bytes : undefined;
  const artifactSha256 = artifact
    ? 'bytes' in artifact
      ? createHash('sha256').update(artifact.bytes).digest('hex')
      : artifact.digest.hex.toLowerCase()
    : undefined;

  // What the signature covers, and the statement if it is an in-toto DSSE bundle.
  let statement: Statement | undefined;
  let envelope: Envelope | undefined;
  switch (content.$case) {
    case 'dsseEnvelope': {
      const env = content.dsseEnvelope;
      // bundleFromJSON decoded these into Buffers of their own, which nothing
      // else holds: used as they are, not copied again.
      envelope = {
        payloadType: env.payloadType,
        payload: asBuffer(env.payload),
        signatures: env.signatures.map((s) => ({ keyid: s.keyid, sig: asBuffer(s.sig) })),
      };
      statement = checkStatement(envelope, source, artifactSha256, add);
      break;
    }
    case 'messageSignature': {
      const md = content.messageSignature.messageDigest;
      const bundleHex = Buffer.from(md?.digest ?? []).toString('hex');
      if (artifactSha256 === undefined) {
        add('artifact-digest', false, 'a message-signature bundle needs the artifact it signs');
      } else if (md?.algorithm !== SHA2_256) {
        add(
          'artifact-digest',
          false,
          `bundle message digest is not sha256 (algorithm ${md?.algorithm})`,
        );
      } else if (bundleHex !== artifactSha256) {
        add(
          'artifact-digest',
          false,
          `bundle message digest sha256:${bundleHex} differs from the artifact's sha256:${artifactSha256}`,
        );
      } else {
        add('artifact-digest', true, `artifact sha256:${artifactSha256} matches the bundle`);
      }
      break;
    }
    default:
      add('bundle-format', false, 'bundle has no DSSE envelope and no message signature');
      return verdict();
  }

  const out = { add, signers, timestamps };
  if (target.anchors !== undefined) {
    const a = target.anchors;
    if (bundle.verificationMaterial.content.$case === 'publicKey') {
      const keyPolicy: Extract<TrustPolicy, { mode: 'key' }> = { mode: 'key', keys: a.keys };
      if (a.trustedRoot !== undefined) keyPolicy.trustedRoot = a.trustedRoot;
      verifyWithKeys(bundle, envelope, artifactBytes, keyPolicy, source, out);
    } else {
      verifyKeyless(bundle, artifactBytes, a.trustedRoot, a.identities, source, out, true);
    }
    return verdict(statement);
  }
  const policy = target.policy;
  switch (policy.mode) {
    case 'key':
      verifyWithKeys(bundle, envelope, artifactBytes, policy, source, out);
      break;
    case 'keyless':
      verifyKeyless(
        bundle,
        artifactBytes,
        policy.trustedRoot,
        [policy.identity],
        source,
        out,
        false,
      );
      break;
    default:
      assertNever(policy);
  }
  return verdict(statement);
}

type Add = (name: string, ok: boolean, detail: string) => void;

/** Where a verification step records its outcome. */
interface Out {
  add: Add;
  signers: Signer[];
  timestamps: VerifiedTimestamp[];
}

/** protobuf-specs HashAlgorithm.SHA2_256 */
const SHA2_256 = 1;

function checkStatement(
  envelope: Envelope,
  source: string,
  artifactSha256: string | undefined,
  add: Add,
): Statement | undefined {
  if (envelope.payloadType !== PAYLOAD_TYPE_INTOTO) {
    add(
      'payload-type',
      false,
      `payloadType is ${JSON.stringify(envelope.payloadType)}, expected ${PAYLOAD_TYPE_INTOTO}`,
    );
    return undefined;
  }
  add('payload-type', true, PAYLOAD_TYPE_INTOTO);
  let statement: Statement;
  try {
    statement = parseStatement(envelope.payload, `${source}#payload`);
    add('statement', true, `in-toto Statement, predicateType ${statement.predicateType}`);
  } catch (e) {
    add('statement', false, errorMessage(e));
    return undefined;
  }
  if (artifactSha256 === undefined) {
    add('subject', true, 'no artifact given: subject not compared');
  } else if (statementHasSubject(statement, 'sha256', artifactSha256)) {
    add('subject', true, `statement has subject sha256:${artifactSha256}`);
  } else {
    add('subject', false, `statement has no subject with sha256:${artifactSha256}`);
  }
  return statement;
}

function verifyWithKeys(
  bundle: Bundle,
  envelope: Envelope | undefined,
  artifactBytes: Buffer | undefined,
  policy: Extract<TrustPolicy, { mode: 'key' }>,
  source: string,
  { add, signers, timestamps }: Out,
): void {
  const material = bundle.verificationMaterial.content;
  if (material.$case !== 'publicKey') {
    add(
      'verification-material',
      false,
      'bundle is signed with a certificate; the policy trusts keys',
    );
    return;
  }
  add('verification-material', true, 'public key named by hint');
  if (policy.keys.length === 0) {
    add('signature', false, 'no trusted keys configured');
    return;
  }

  let verifiedBy: VerificationKey[] = [];
  if (envelope) {
    // Our own check, not sigstore-js's: it verifies with the key type's
    // default digest, which is wrong for ECDSA P-384 (SHA-384).
    // With many trusted keys, first try the ones the bundle names (its key
    // hint, the signatures' keyids): unauthenticated, but only a shortcut. A
    // single signature that verifies with a named key cannot verify with
    // another; in every other case all keys are tried.
    const named = new Set([material.publicKey.hint, ...envelope.signatures.map((s) => s.keyid)]);
    const first = policy.keys.filter((k) => named.has(k.keyid));
    let result =
      first.length > 0 && first.length < policy.keys.length && envelope.signatures.length === 1
        ? verifyEnvelope(envelope, first)
        : undefined;
    if (!result || result.verifiedKeyids.length === 0)
      result = verifyEnvelope(envelope, policy.keys);
    const ids = result.verifiedKeyids;
    verifiedBy = policy.keys.filter((k) => ids.includes(k.keyid));
  } else if (bundle.content.$case === 'messageSignature') {
    if (!artifactBytes) {
      add(
        'signature',
        false,
        'verifying a message signature with a key needs the artifact bytes, not only its digest',
      );
      return;
    }
    const sig = Buffer.from(bundle.content.messageSignature.signature);
    verifiedBy = policy.keys.filter((k) => safeVerify(k, artifactBytes, sig));
  }
  if (verifiedBy.length === 0) {
    add(
      'signature',
      false,
      `signature does not verify with any of ${policy.keys.length} trusted key(s)`,
    );
    return;
  }
  add('signature', true, `verified by key ${verifiedBy.map((k) => k.keyid).join(', ')}`);
  for (const k of verifiedBy) signers.push({ kind: 'key', keyid: k.keyid });

  const entries = bundle.verificationMaterial.tlogEntries.length;
  if (entries === 0) return;
  if (policy.trustedRoot === undefined) {
    add(
      'transparency-log',
      true,
      `${entries} log entr${entries === 1 ? 'y' : 'ies'} not checked: no trusted root given (the key signature alone is trusted)`,
    );
    return;
  }
  // The entries are claims about this signature; verify them all, or reject.
  const key = verifiedBy[0] as VerificationKey;
  const result = runSigstoreVerifier(
    bundle,
    artifactBytes,
    policy.trustedRoot,
    source,
    { tlogThreshold: entries, ctlogThreshold: 0, timestampThreshold: 0 },
    () => ({ publicKey: key.publicKey, validFor: () => true }),
    add,
  );
  if (result) timestamps.push(...verifiedTimes(result.entity));
}

function verifyKeyless(
  bundle: Bundle,
  artifactBytes: Buffer | undefined,
  trustedRoot: unknown,
  identities: readonly KeylessIdentity[],
  source: string,
  { add, signers, timestamps }: Out,
  extended: boolean,
): void {
  const material = bundle.verificationMaterial.content;
  if (material.$case === 'publicKey') {
    add(
      'verification-material',
      false,
      'bundle is signed with a key; the policy expects a certificate',
    );
    return;
  }
  add('verification-material', true, material.$case);
  if (material.$case === 'x509CertificateChain') {
    const problem = chainOrderProblem(
      material.x509CertificateChain.certificates.map((c) => c.rawBytes),
    );
    if (problem) {
      add('certificate', false, problem);
      return;
    }
  }
  if (bundle.content.$case === 'messageSignature' && !artifactBytes) {
    add(
      'signature',
      false,
      'verifying a message signature needs the artifact bytes, not only its digest',
    );
    return;
  }
  if (trustedRoot === undefined) {
    add('trusted-root', false, 'no trusted root to check the certificate against');
    return;
  }
  if (identities.length === 0) {
    add('identity', false, 'no keyless identities are trusted');
    return;
  }
  const result = runSigstoreVerifier(
    bundle,
    artifactBytes,
    trustedRoot,
    source,
    { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 },
    undefined,
    add,
  );
  if (!result) return;
  const { signer } = result;
  const subject = signer.identity?.subjectAlternativeName ?? '';
  const issuer = signer.identity?.extensions?.issuer ?? '';
  const extensions = fulcioExtensions(signer.identity?.oids ?? []);
  let matched: boolean;
  if (identities.length === 1) {
    const identity = identities[0] as KeylessIdentity;
    const identityOk = checkIdentity(identity, subject, add);
    const issuerOk = issuer === identity.issuer;
    add(
      'issuer',
      issuerOk,
      issuerOk
        ? `issuer ${issuer}`
        : `certificate issuer ${JSON.stringify(issuer)} is not ${JSON.stringify(identity.issuer)}`,
    );
    const claimsOk = checkWorkflowClaims(identity, extensions, add);
    matched = identityOk && issuerOk && claimsOk;
  } else {
    const quiet: Add = () => {};
    matched = identities.some(
      (i) =>
        i.issuer === issuer &&
        checkIdentity(i, subject, quiet) &&
        checkWorkflowClaims(i, extensions, quiet),
    );
    add(
      'identity',
      matched,
      matched
        ? `subject ${subject}, issuer ${issuer}`
        : `certificate subject ${JSON.stringify(subject)} with issuer ${JSON.stringify(issuer)} matches none of ${identities.length} trusted identities`,
    );
  }
  if (!matched) return;
  const certSigner: Signer = { kind: 'certificate', subject, issuer };
  if (extended) certSigner.extensions = extensions;
  signers.push(certSigner);
  timestamps.push(...verifiedTimes(result.entity));
}

const FULCIO_OID_PREFIX = '1.3.6.1.4.1.57264.1.';

/**
 * Fulcio's certificate extensions (1.3.6.1.4.1.57264.1.*) as text. OIDs .1 to
 * .6 hold raw strings; .8 and up hold a DER UTF8String.
 */
function fulcioExtensions(
  oids: ReadonlyArray<{ oid?: { id: number[] }; value: Uint8Array }>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { oid, value } of oids) {
    const id = oid?.id.join('.') ?? '';
    if (!id.startsWith(FULCIO_OID_PREFIX)) continue;
    const arc = Number(id.slice(FULCIO_OID_PREFIX.length));
    const text = arc >= 8 ? derUtf8String(Buffer.from(value)) : Buffer.from(value).toString('utf8');
    if (text !== undefined) out[id] = text;
  }
  return out;
}

function derUtf8String(der: Buffer): string | undefined {
  if (der.length < 2 || der[0] !== 0x0c) return undefined;
  let len = der[1] as number;
  let start = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n < 1 || n > 3 || der.length < 2 + n) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (der[2 + i] as number);
    start = 2 + n;
  }
  if (start + len !== der.length) return undefined;
  return der.subarray(start).toString('utf8');
}

/** One GitHub Actions claim a keyless identity can require. */
interface WorkflowClaim {
  field: 'repository' | 'ref' | 'sha' | 'workflowName' | 'trigger';
  /** The check's name: cosign's flag for the claim. */
  check: string;
  /** What the claim is, for details. */
  label: string;
  /** Extensions holding it, the DER one first, each with how its value reads as the claim. */
  sources: ReadonlyArray<{ oid: string; read?: (v: string) => string }>;
}

const fulcioOid = (arc: number) => `${FULCIO_OID_PREFIX}${arc}`;

/**
 * cosign's --certificate-github-workflow-* flags and the Fulcio extensions
 * they are matched against. cosign reads the legacy raw extensions (.2–.6);
 * Fulcio writes each again as DER (.8+, the legacy ones are deprecated), so
 * either may carry the claim. The workflow name has no DER successor.
 */
export const WORKFLOW_CLAIMS: readonly WorkflowClaim[] = [
  {
    field: 'trigger',
    check: 'certificate-github-workflow-trigger',
    label: 'workflow trigger',
    sources: [{ oid: fulcioOid(20) }, { oid: fulcioOid(2) }],
  },
  {
    field: 'sha',
    check: 'certificate-github-workflow-sha',
    label: 'workflow commit SHA',
    sources: [{ oid: fulcioOid(13) }, { oid: fulcioOid(3) }],
  },
  {
    field: 'workflowName',
    check: 'certificate-github-workflow-name',
    label: 'workflow name',
    sources: [{ oid: fulcioOid(4) }],
  },
  {
    field: 'repository',
    check: 'certificate-github-workflow-repository',
    label: 'workflow repository',
    // .12 is the repository's URL; the policy's `repository` reads it the same way.
    sources: [
      { oid: fulcioOid(12), read: (v) => v.replace(/^https:\/\/github\.com\//, '') },
      { oid: fulcioOid(5) },
    ],
  },
  {
    field: 'ref',
    check: 'certificate-github-workflow-ref',
    label: 'workflow ref',
    sources: [{ oid: fulcioOid(14) }, { oid: fulcioOid(6) }],
  },
];

/**
 * Checks every workflow claim the identity requires against the
 * certificate's Fulcio extensions (decoded, by OID): a claim passes when one
 * of its extensions holds exactly the expected value, and fails when none
 * does or the certificate has none of them. Records one check per required
 * claim, named after its cosign flag; true when all pass.
 */
export function checkWorkflowClaims(
  identity: KeylessIdentity,
  extensions: Readonly<Record<string, string>>,
  add: Add,
): boolean {
  let ok = true;
  for (const claim of WORKFLOW_CLAIMS) {
    const expected = identity[claim.field];
    if (expected === undefined) continue;
    const found = claim.sources.flatMap(({ oid, read }) => {
      const raw = extensions[oid];
      return raw === undefined ? [] : [{ oid, value: read ? read(raw) : raw }];
    });
    const hit = found.find((f) => f.value === expected);
    if (hit) {
      add(claim.check, true, `${claim.label} ${JSON.stringify(expected)} (extension ${hit.oid})`);
      continue;
    }
    ok = false;
    const oids = claim.sources.map((s) => s.oid).join(' or ');
    add(
      claim.check,
      false,
      found.length === 0
        ? `expected ${claim.label} ${JSON.stringify(expected)}, but the certificate has no ${claim.label} extension (${oids})`
        : `expected ${claim.label} ${JSON.stringify(expected)}, certificate has ${found.map((f) => `${JSON.stringify(f.value)} (extension ${f.oid})`).join(', ')}`,
    );
  }
  return ok;
}

/**
 * The times sigstore-js's Verifier accepted (it throws on any it cannot
 * verify): every RFC 3161 timestamp, and the integrated time of log entries
 * that carry a signed inclusion promise. Called only after `verify` passed.
 */
function verifiedTimes(entity: SignedEntity): VerifiedTimestamp[] {
  const out: VerifiedTimestamp[] = [];
  for (const t of entity.timestamps) {
    if (t.$case === 'timestamp-authority') {
      out.push({ kind: 'timestamp-authority', time: t.timestamp.signingTime.toISOString() });
    } else if (t.tlogEntry.inclusionPromise) {
      const seconds = Number(t.tlogEntry.integratedTime);
      if (Number.isFinite(seconds) && seconds > 0)
        out.push({ kind: 'transparency-log', time: new Date(seconds * 1000).toISOString() });
    }
  }
  return out;
}

/**
 * A chain in a bundle must run leaf first, each certificate issued by the
 * next. sigstore-js only uses the leaf, so a shuffled chain (e.g. a root
 * wedged in the middle) would otherwise pass unnoticed.
 */
function chainOrderProblem(raw: Uint8Array[]): string | undefined {
  let certs: X509Certificate[];
  try {
    certs = raw.map((r) => new X509Certificate(Buffer.from(r)));
  } catch (e) {
    return `certificate chain has an unreadable certificate: ${errorMessage(e)}`;
  }
  for (let i = 0; i + 1 < certs.length; i++) {
    const child = certs[i] as X509Certificate;
    const parent = certs[i + 1] as X509Certificate;
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) {
      return `certificate chain is out of order: certificate ${i} is not issued by certificate ${i + 1}`;
    }
  }
  return undefined;
}

function checkIdentity(identity: KeylessIdentity, subject: string, add: Add): boolean {
  if (identity.subject !== undefined && identity.subjectRegExp !== undefined) {
    add('identity', false, 'policy gives both subject and subjectRegExp; give one');
    return false;
  }
  if (identity.subject !== undefined) {
    const ok = subject === identity.subject;
    add(
      'identity',
      ok,
      ok
        ? `subject ${subject}`
        : `certificate subject ${JSON.stringify(subject)} is not ${JSON.stringify(identity.subject)}`,
    );
    return ok;
  }
  if (identity.subjectRegExp !== undefined) {
    let re: RegExp;
    try {
      // Anchored: an unanchored pattern like "github.com/org/" would also match "evil.com/?github.com/org/".
      re = new RegExp(`^(?:${identity.subjectRegExp})$`, 'u');
    } catch (e) {
      add('identity', false, `subjectRegExp is not a valid regular expression: ${errorMessage(e)}`);
      return false;
    }
    const ok = re.test(subject);
    add(
      'identity',
      ok,
      ok
        ? `subject ${subject} matches ${identity.subjectRegExp}`
        : `certificate subject ${JSON.stringify(subject)} does not match ${identity.subjectRegExp}`,
    );
    return ok;
  }
  add('identity', false, 'policy names no subject or subjectRegExp');
  return false;
}

interface Thresholds {
  tlogThreshold: number;
  ctlogThreshold: number;
  timestampThreshold: number;
}

type KeyFinder = Parameters<typeof toTrustMaterial>[1];
type SigstoreSigner = ReturnType<Verifier['verify']>;

/** sigstore-js error codes, named as our checks. */
const CHECK_FOR_CODE: Record<string, string> = {
  CERTIFICATE_ERROR: 'certificate',
  PUBLIC_KEY_ERROR: 'key',
  SIGNATURE_ERROR: 'signature',
  TIMESTAMP_ERROR: 'timestamp',
  TLOG_ERROR: 'transparency-log',
  TLOG_INCLUSION_PROOF_ERROR: 'transparency-log',
  TLOG_INCLUSION_PROMISE_ERROR: 'transparency-log',
  TLOG_MISSING_INCLUSION_ERROR: 'transparency-log',
  TLOG_BODY_ERROR: 'transparency-log',
};

/**
 * Runs @sigstore/verify's Verifier for timestamps, certificate chain, SCTs and
 * log entries. The signature itself is checked with vouch's key code, so the
 * hash matches the curve (P-384 → SHA-384).
 */
function runSigstoreVerifier(
  bundle: Bundle,
  artifactBytes: Buffer | undefined,
  trustedRootJson: unknown,
  source: string,
  thresholds: Thresholds,
  keyFinder: KeyFinder,
  add: Add,
): { signer: SigstoreSigner; entity: SignedEntity } | undefined {
  let verifier: Verifier;
  try {
    const root = trustedRootFromJson(trustedRootJson, `${source} (trusted root)`);
    verifier = new Verifier(toTrustMaterial(root, keyFinder), thresholds);
  } catch (e) {
    add('trusted-root', false, errorMessage(e));
    return undefined;
  }
  const rfc3161 = bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps ?? [];
  const refused = timestampListProblem(rfc3161.map((t) => t.signedTimestamp));
  if (refused) {
    add('timestamp', false, refused);
    return undefined;
  }
  let entity: SignedEntity;
  try {
    entity = withOwnSignatureCheck(toSignedEntity(bundle, artifactBytes), bundle);
  } catch (e) {
    add('bundle-format', false, `cannot read the bundle's signed content: ${errorMessage(e)}`);
    return undefined;
  }
  try {
    let signer: SigstoreSigner;
    let dropped = 0;
    try {
      signer = verifier.verify(entity);
    } catch (e) {
      const usable = withoutUnverifiableTimestamps(verifier, entity, e);
      if (usable === undefined) throw e;
      dropped = entity.timestamps.length - usable.timestamps.length;
      entity = usable;
      signer = verifier.verify(entity);
    }
    const n = bundle.verificationMaterial.tlogEntries.length;
    const t = rfc3161.length;
    if (bundle.verificationMaterial.content.$case !== 'publicKey') {
      add('certificate', true, 'certificate chains to a trusted CA at the signed time, with SCT');
      add(
        'timestamp',
        true,
        `${n} log time(s), ${t - dropped} RFC 3161 timestamp(s)${dropped > 0 ? ` (${dropped} more could not be verified and were not counted)` : ''}`,
      );
    }
    add('transparency-log', true, `${n} log entr${n === 1 ? 'y' : 'ies'} verified`);
    if (keyFinder === undefined)
      add('signature', true, 'signature verifies with the certified key');
    return { signer, entity };
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    add(CHECK_FOR_CODE[code] ?? 'sigstore', false, `${code ? `${code}: ` : ''}${errorMessage(e)}`);
    return undefined;
  }
}

/** As sigstore-go and sigstore-python: more RFC 3161 timestamps than this is refused. */
const MAX_RFC3161_TIMESTAMPS = 32;

/**
 * Why a bundle's list of RFC 3161 timestamps is refused before any is
 * checked: too many to be honest, or one repeated (a repeat would count twice
 * towards a threshold).
 */
function timestampListProblem(signed: readonly Uint8Array[]): string | undefined {
  if (signed.length > MAX_RFC3161_TIMESTAMPS) {
    return `too many RFC 3161 timestamps: ${signed.length}, at most ${MAX_RFC3161_TIMESTAMPS}`;
  }
  const seen = new Map<string, number>();
  for (const [i, bytes] of signed.entries()) {
    const key = Buffer.from(bytes).toString('base64');
    const first = seen.get(key);
    if (first !== undefined) {
      return `duplicate RFC 3161 timestamp: timestampVerificationData.rfc3161Timestamps[${i}] repeats [${first}]`;
    }
    seen.set(key, i);
  }
  return undefined;
}

/**
 * sigstore-js throws when any one RFC 3161 timestamp fails, where sigstore-go
 * and sigstore-python leave it out and count the rest towards the threshold:
 * a timestamp that cannot be verified is not there, it does not veto the
 * ones that can. After a TIMESTAMP_ERROR, each RFC 3161 timestamp is checked
 * on its own (the Verifier checks timestamps first, so a TIMESTAMP_ERROR for
 * a one-timestamp entity is about that timestamp) and the entity comes back
 * without the ones that fail; undefined when the error was not a timestamp's
 * or no timestamp fails on its own (the original error stands).
 */
function withoutUnverifiableTimestamps(
  verifier: Verifier,
  entity: SignedEntity,
  error: unknown,
): SignedEntity | undefined {
  if ((error as { code?: string }).code !== 'TIMESTAMP_ERROR') return undefined;
  const fails = (t: SignedEntity['timestamps'][number]): boolean => {
    if (t.$case !== 'timestamp-authority') return false;
    try {
      verifier.verify({ ...entity, timestamps: [t] });
      return false;
    } catch (e) {
      return (e as { code?: string }).code === 'TIMESTAMP_ERROR';
    }
  };
  const kept = entity.timestamps.filter((t) => !fails(t));
  if (kept.length === entity.timestamps.length) return undefined;
  return { ...entity, timestamps: kept };
}

/**
 * Replaces sigstore-js's signature check with ours for DSSE, whose default
 * digest is wrong for P-384; message signatures keep sigstore-js's check,
 * which hashes with the bundle's declared digest algorithm.
 */
function withOwnSignatureCheck(entity: SignedEntity, bundle: Bundle): SignedEntity {
  if (bundle.content.$case !== 'dsseEnvelope') return entity;
  const env = bundle.content.dsseEnvelope;
  const envelope: Envelope = {
    payloadType: env.payloadType,
    payload: Buffer.from(env.payload),
    signatures: env.signatures.map((s) => ({ keyid: '', sig: Buffer.from(s.sig) })),
  };
  const original = entity.signature;
  return {
    ...entity,
    signature: {
      signature: original.signature,
      compareSignature: (s) => original.compareSignature(s),
      compareDigest: (d) => original.compareDigest(d),
      compareSignedDigest: (d) => original.compareSignedDigest(d),
      verifySignature: (key: KeyObject) => {
        try {
          const vk = verificationKeyFromKeyObject(key, 'signing certificate');
          return verifyEnvelope(envelope, [vk]).verifiedKeyids.length > 0;
        } catch {
          return false;
        }
      },
    },
  };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
}

function safeVerify(key: VerificationKey, message: Buffer, sig: Buffer): boolean {
  try {
    return key.verify(message, sig);
  } catch {
    return false;
  }
}

/**
 * A JSON pointer into the bundle as written. sigstore-js names fields by the
 * protobuf model, whose oneofs sit under a `content` that the JSON lacks.
 */
function toPointer(field: string): string {
  return `/${field
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter((part) => part !== 'content')
    .join('/')}`;
}

function assertNever(x: never): never {
  throw new Error(`unreachable: ${JSON.stringify(x)}`);
}
