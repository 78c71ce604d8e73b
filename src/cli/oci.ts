// The CLI's registry and evidence-pack plumbing: `vouch attest oci://…`,
// `vouch verify oci://…`, `vouch verify --pack`, and the pack and attach verbs
// build on these. Commands stay argument parsing plus one call here.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { writeFileAtomic } from '../core/atomic.ts';
import { digestFile, isDigestString, parseDigest } from '../core/digest.ts';
import { VouchError } from '../core/errors.ts';
import { readTextFile } from '../core/json.ts';
import { makeStatement } from '../core/statement.ts';
import { fileSubjectName } from '../core/subject-name.ts';
import {
  type DigestReference,
  describeBundle,
  type EvidencePack,
  fetchEvidence,
  formatReference,
  isOciReference,
  materializePack,
  type OciReference,
  type PackMaterial,
  type PushedEvidence,
  packPolicyDigest,
  parseReference,
  pushEvidence,
  RegistryClient,
  readPack,
  withDigest,
} from '../oci/index.ts';

import {
  evaluatePolicy,
  explainVerdict,
  loadPolicy,
  type PolicyVerdict,
  verificationSummary,
} from '../policy/index.ts';
import { parseBundle, type SigningMode, signStatement } from '../sign/index.ts';
import { DirectoryStore } from '../store/index.ts';
import {
  type ArtifactVerdict,
  type CandidateBundle,
  requireEvidence,
  verifyArtifact,
} from '../verify/index.ts';
import { usage } from './args.ts';
import { displayPath, type Io, packageVersion, printJson } from './io.ts';

import {
  checkSigningFlags,
  DECISION_SIGNING,
  type PrefixedSigningValues,
  signingModeFrom,
  unprefixedSigningValues,
} from './signing.ts';
import { POLICY_EXCLUDES, type TrustValues, trustPolicyFrom } from './trust.ts';

/** Flags of every verb that talks to a registry. */
export const REGISTRY_OPTIONS = {
  'insecure-registry': { type: 'boolean' },
  'registry-ca': { type: 'string' },
} as const;

const REGISTRY_FLAGS_HELP = `  --insecure-registry  plain HTTP, only to a localhost registry (prints a warning)
  --registry-ca FILE   extra CA certificates (PEM) to trust for the registry's TLS
Credentials come from the docker config's "auths" ($DOCKER_CONFIG/config.json or
~/.docker/config.json); credential helpers run only with VOUCH_REGISTRY_CREDENTIAL_HELPERS=1.`;

/** The registry flags' help; `target` is the oci:// form the verb accepts. */
export function registryHelp(target: string): string {
  return `Registry (for ${target} targets):
${REGISTRY_FLAGS_HELP}`;
}

/** For verbs that take a tag (resolved to its digest) or a digest. */
export const REGISTRY_HELP = registryHelp('oci://HOST[:PORT]/REPO[:TAG|@sha256:HEX]');

/** For verbs that sign or attach: a digest only, since a tag can move under the signature. */
export const REGISTRY_DIGEST_HELP = registryHelp('oci://HOST[:PORT]/REPO@sha256:HEX');

export interface RegistryValues {
  'insecure-registry'?: boolean | undefined;
  'registry-ca'?: string | undefined;
}

/** A registry client configured from the flags and the environment. */
export function registryClient(values: RegistryValues, io: Io): RegistryClient {
  const timeout = Number(io.env.VOUCH_REGISTRY_TIMEOUT_MS ?? '');
  return new RegistryClient({
    insecure: values['insecure-registry'] ?? false,
    caFile:
      values['registry-ca'] !== undefined ? resolve(io.cwd, values['registry-ca']) : undefined,
    auth: {
      kind: 'docker-config',
      env: io.env,
      credentialHelpers: io.env.VOUCH_REGISTRY_CREDENTIAL_HELPERS === '1',
    },
    timeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : undefined,
    warn: (m) => io.stderr(`vouch: ${m}\n`),
  });
}

/** An `oci://` reference that must name a digest (signing and attaching never follow tags). */
export function digestReference(verb: string, target: string): DigestReference {
  const ref = parseReference(target);
  if (!ref.digest)
    throw usage(
      verb,
      `${target} names a tag; give the image digest (oci://…@sha256:HEX): a tag can move`,
    );
  return ref as DigestReference;
}

/**
 * `vouch attest oci://…@sha256:…`: signs a Statement whose subject is the
 * image digest and pushes the bundle as a referrer of the image.
 */
export async function attestOci(
  target: string,
  predicateType: string,
  predicate: Record<string, unknown>,
  values: RegistryValues & {
    json?: boolean | undefined;
    out?: string | undefined;
    key?: string | undefined;
    keyless?: boolean | undefined;
  },
  io: Io,
): Promise<number> {
  const ref = digestReference('attest', target);
  const client = registryClient(values, io);
  // Fail before signing when the image is not there.
  await client.getManifest(ref);
  const mode = await signingModeFrom('attest', values, io);
  const subject = {
    name: `${ref.registry}/${ref.repository}`,
    digest: { sha256: ref.digest.slice('sha256:'.length) },
  };
  const bundle = await signStatement(makeStatement([subject], predicateType, predicate), mode);
  const bytes = Buffer.from(`${JSON.stringify(bundle)}\n`, 'utf8');
  const pushed = await pushEvidence(ref, bytes, client);
  if (values.out) await writeFileAtomic(resolve(io.cwd, values.out), bytes);
  if (values.json) {
    printJson(io, {
      subject,
      predicateType,
      reference: formatReference(ref),
      referrer: pushed,
      out: values.out ?? null,
    });
  } else {
    io.stdout(`attested ${predicateType} about ${formatReference(ref)}\n`);
    io.stdout(`pushed referrer ${pushed.manifest} (${pushed.via})\n`);
    if (values.out) io.stdout(`wrote ${values.out}\n`);
  }
  return 0;
}

/**
 * `vouch attach oci://…@sha256:… BUNDLE`: pushes an existing bundle as a
 * referrer. A DSSE bundle whose Statement does not name the image digest is
 * refused (it could never count as evidence about it).
 */
export async function attachBundle(
  target: string,
  bundleFile: string,
  values: RegistryValues & { json?: boolean | undefined },
  io: Io,
): Promise<number> {
  const ref = digestReference('attach', target);
  const path = resolve(io.cwd, bundleFile);
  const text = await readTextFile(path, 16 * 1024 * 1024);
  parseBundle(text, bundleFile);
  const bytes = Buffer.from(text, 'utf8');
  const info = describeBundle(bytes);
  const hex = ref.digest.slice('sha256:'.length);
  if (info.statement && !info.statement.subject.some((s) => s.digest.sha256 === hex))
    throw usage(
      'attach',
      `${bundleFile}: its Statement's subjects do not include ${ref.digest}; attach it to the image it is about`,
    );
  const pushed = await pushEvidence(ref, bytes, registryClient(values, io));
  if (values.json)
    printJson(io, { reference: formatReference(ref), bundle: bundleFile, referrer: pushed });
  else
    io.stdout(
      `attached ${bundleFile} to ${formatReference(ref)}: referrer ${pushed.manifest} (${pushed.via})\n`,
    );
  return 0;
}

export interface RemoteVerifyValues
  extends RegistryValues,
    TrustValues,
    PrefixedSigningValues<typeof DECISION_SIGNING> {
  pack?: string | undefined;
  'pack-policy-sha256'?: string | undefined;
  policy?: string | undefined;
  json?: boolean | undefined;
  type?: string[] | undefined;
  bundle?: string[] | undefined;
  'decision-out'?: string | undefined;
  'attach-decision'?: boolean | undefined;
}

/**
 * `vouch verify oci://…` (evidence attached in the registry; a tag is
 * resolved to a digest once, and the decision names that digest) and
 * `vouch verify TARGET --pack FILE` (the pack's evidence only, no network).
 */
export async function verifyRemote(
  target: string,
  values: RemoteVerifyValues,
  io: Io,
): Promise<number> {
  if (values.bundle !== undefined)
    throw usage('verify', '--bundle does not combine with oci:// targets or --pack');
  // Before any network: a typo in --type is a usage error, not a registry round trip.
  const { typeFlag } = await import('./commands/verify.ts');
  const types = (values.type ?? []).map(typeFlag);
  // Also before any network: a missing signing key is exit 2 before the registry is asked.
  const plan = await decisionPlan(values, io);
  const work = await mkdtemp(join(tmpdir(), 'vouch-pack-'));
  try {
    let material: PackMaterial | undefined;
    let sha256: string;
    let reference: string | undefined;
    let candidates: CandidateBundle[];
    let file: string | undefined;
    let client: RegistryClient | undefined;
    let image: DigestReference | undefined;
    if (values.pack !== undefined) {
      const pin = packPin(values);
      const pack = await readPack(resolve(io.cwd, values.pack), values.pack);
      if (pin !== undefined) {
        checkPackPin(pack, pin, values.pack);
        material = await materializePack(pack, work);
        io.stderr(
          `vouch verify: deciding with the policy of ${values.pack} (${pack.policy?.name}), pinned by --pack-policy-sha256\n`,
        );
      } else if (
        pack.trustedRoot &&
        values['trusted-root'] === undefined &&
        values['tuf-mirror'] === undefined &&
        values.key === undefined
      )
        io.stderr(
          `vouch verify: the trusted root in ${values.pack} is not used (a pack is not signed): give --trusted-root FILE to trust it\n`,
        );
      ({ sha256, reference, file } = await offlineTarget(target, io));
      candidates = pack.bundles.map((b) => ({
        source: `${values.pack}#${b.sha256.slice(0, 12)}`,
        json: b.bundle,
      }));
      io.stderr(
        `vouch verify: evidence pack ${values.pack}: ${candidates.length} bundle(s); no network\n`,
      );
    } else {
      const ref = parseReference(target);
      if (!ref.digest && values.policy !== undefined)
        await refuseTagUnlessAllowed(values.policy, target, io);
      client = registryClient(values, io);
      const digest = ref.digest ?? (await client.resolve(ref));
      if (!ref.digest) io.stderr(`vouch verify: ${target} resolves to ${digest}\n`);
      image = withDigest(ref, digest);
      reference = formatReference(image);
      sha256 = digest.slice('sha256:'.length);
      candidates = await fetchEvidence(image, client);
      io.stderr(`vouch verify: ${candidates.length} bundle(s) attached to ${reference}\n`);
    }
    const policyFile =
      values.policy !== undefined ? resolve(io.cwd, values.policy) : material?.policyFile;
    const trustGiven = POLICY_EXCLUDES.some((f) => values[f] !== undefined);
    if (policyFile !== undefined) {
      if (trustGiven)
        throw usage(
          'verify',
          values.policy !== undefined
            ? 'trust flags and --policy exclude each other (the policy says whom to trust)'
            : "--type does not combine with --pack-policy-sha256 (the pack's policy says what is required)",
        );
      const parsed = await loadPolicy(policyFile);
      if (!parsed.ok) {
        const { reportPolicyProblems } = await import('./commands/verify.ts');
        return reportPolicyProblems(
          io,
          values.policy ?? `${values.pack} (policy)`,
          parsed.problems,
          values.json,
        );
      }
      const verdict = evaluatePolicy(parsed.policy, {
        subjectDigest: `sha256:${sha256}`,
        bundles: candidates,
        artifactBytes: file ? () => readFileSync(file as string) : undefined,
      });
      const signed = plan
        ? await signDecision(plan, verdict, {
            policyFile,
            reference,
            file,
            image: image && client ? { ref: image, client } : undefined,
            io,
          })
        : undefined;
      if (values.json)
        printJson(io, {
          reference: reference ?? null,
          ...verdict,
          ...(signed ? { signedDecision: signed } : {}),
        });
      else {
        if (reference) io.stdout(`${reference}\n`);
        io.stdout(explainVerdict(verdict));
      }
      return verdict.ok ? 0 : 1;
    }
    if (!trustGiven)
      throw usage('verify', 'say whom to trust: --key, --certificate-identity… or --policy');
    // The pack's trusted root is not among them: it is as unsigned as the rest of the pack.
    const trust = await trustPolicyFrom('verify', absolutize(values, io.cwd), cacheDir(io));
    const verdict = verifyArtifact({
      sha256,
      candidates,
      trust,
      policy: requireEvidence(types),
      artifactBytes: file ? () => readFileSync(file as string) : undefined,
    });
    if (values.json) printJson(io, { reference: reference ?? null, ...verdict });
    else printVerdict(io, verdict, reference ?? target);
    return verdict.ok ? 0 : 1;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** How to sign and where to put the decision about a registry or pack target. */
interface DecisionPlan {
  mode: SigningMode;
  out: string | undefined;
  attach: boolean;
}

/**
 * The `--sign-decision-*` flags for a registry or pack target, checked before
 * any network: a decision is made under a policy, and a signed decision
 * nobody keeps would look like success and leave nothing. There is no local
 * store here (the registry is where an image's evidence lives), so it goes to
 * `--decision-out FILE` and/or, with `--attach-decision`, to the registry as
 * a referrer of the verified digest.
 *
 * @throws VouchError USAGE | FILE_* | KEY_*
 */
async function decisionPlan(values: RemoteVerifyValues, io: Io): Promise<DecisionPlan | undefined> {
  const signing = unprefixedSigningValues(DECISION_SIGNING, values, (f) => resolve(io.cwd, f));
  checkSigningFlags('verify', signing, DECISION_SIGNING);
  const out = values['decision-out'];
  const attach = values['attach-decision'] ?? false;
  if (signing.key === undefined && !signing.keyless) {
    if (out !== undefined || attach)
      throw usage(
        'verify',
        `--${out !== undefined ? 'decision-out' : 'attach-decision'} needs --sign-decision-key FILE or --sign-decision-keyless`,
      );
    return undefined;
  }
  if (values.policy === undefined && values['pack-policy-sha256'] === undefined)
    throw usage('verify', '--sign-decision-* needs --policy (a decision is made under a policy)');
  if (attach && values.pack !== undefined)
    throw usage(
      'verify',
      '--attach-decision needs a registry: --pack decides offline (write the decision with --decision-out FILE, then vouch attach oci://…@sha256:HEX FILE)',
    );
  if (!attach && out === undefined)
    throw usage(
      'verify',
      values.pack !== undefined
        ? 'a signed decision with --pack needs --decision-out FILE'
        : 'a signed decision about an image needs --attach-decision (push it to the registry as a referrer of the image) and/or --decision-out FILE',
    );
  const mode = await signingModeFrom('verify', signing, io, DECISION_SIGNING);
  return { mode, out, attach };
}

/** What `--json` reports about the signed decision. */
interface SignedDecision {
  resourceUri: string;
  verificationResult: 'PASSED' | 'FAILED';
  out: string | null;
  referrer: PushedEvidence | null;
}

/**
 * Signs the decision as a VSA about the digest that was verified (a tag was
 * resolved before, so it is never a tag), writes `--decision-out` first and
 * then, with `--attach-decision`, pushes it as a referrer of that digest, the
 * way `vouch attach` does. An image is `resourceUri`
 * `oci://host/repo@sha256:HEX` (what `vouch verify` takes, so a consumer
 * can compare it with the reference it deploys) and subject `host/repo`.
 *
 * @throws VouchError OCI_* when the push fails (the file, if asked for, is written).
 */
async function signDecision(
  plan: DecisionPlan,
  verdict: PolicyVerdict,
  at: {
    policyFile: string;
    reference: string | undefined;
    file: string | undefined;
    image: { ref: DigestReference; client: RegistryClient } | undefined;
    io: Io;
  },
): Promise<SignedDecision> {
  const { io } = at;
  const sha256 = verdict.subject.replace(/^sha256:/, '');
  let resourceUri: string;
  let subjectName: string | undefined;
  if (at.reference !== undefined) {
    const ref = parseReference(at.reference);
    resourceUri = at.reference;
    subjectName = `${ref.registry}/${ref.repository}`;
  } else if (at.file !== undefined) resourceUri = `file:${await fileSubjectName(at.file, io.cwd)}`;
  else resourceUri = `urn:vouch:sha256:${sha256}`;
  const statement = verificationSummary(verdict, {
    resourceUri,
    ...(subjectName !== undefined ? { subjectName } : {}),
    policyUri: `file:${basename(at.policyFile)}`,
    verifierVersion: packageVersion(),
  });
  const bundle = await signStatement(statement, plan.mode);
  const bytes = Buffer.from(`${JSON.stringify(bundle)}\n`, 'utf8');
  if (plan.out !== undefined) await writeFileAtomic(resolve(io.cwd, plan.out), bytes);
  let referrer: PushedEvidence | null = null;
  if (plan.attach) {
    if (!at.image) throw new Error('--attach-decision without a registry target');
    referrer = await pushEvidence(at.image.ref, bytes, at.image.client);
  }
  const result = verdict.ok ? 'PASSED' : 'FAILED';
  const where = [
    plan.out,
    referrer && `referrer ${referrer.manifest} (${referrer.via}) of ${resourceUri}`,
  ].filter(Boolean);
  io.stderr(`vouch verify: signed decision (VSA, ${result}) ${where.join(', ')}\n`);
  return { resourceUri, verificationResult: result, out: plan.out ?? null, referrer };
}

/**
 * `--pack-policy-sha256`, checked against the other flags: the pin is how a
 * pack's own policy may decide, so without it (or the caller's --policy or
 * trust flags) there is nobody to trust. Lower-case hex, `sha256:` optional.
 *
 * @throws VouchError USAGE
 */
function packPin(values: RemoteVerifyValues): string | undefined {
  const pin = values['pack-policy-sha256'];
  const trust = POLICY_EXCLUDES.filter((f) => f !== 'type' && values[f] !== undefined);
  if (pin === undefined) {
    if (values.policy === undefined && trust.length === 0)
      throw usage(
        'verify',
        `${values.pack} is not signed, so its policy cannot say whom to trust (whoever wrote the pack would choose the signers): give your own --policy P or trust flags (--key, --certificate-identity…), or pin the pack's policy with --pack-policy-sha256 HEX (vouch pack prints it; it is the sha256 of sha256sum's lines for the policy and the files beside it)`,
      );
    return undefined;
  }
  if (values.policy !== undefined || trust.length > 0)
    throw usage(
      'verify',
      `--pack-policy-sha256 pins the pack's own policy; it does not combine with ${values.policy !== undefined ? '--policy' : `--${trust[0]}`}`,
    );
  const hex = pin.toLowerCase().replace(/^sha256:/, '');
  if (!/^[0-9a-f]{64}$/.test(hex))
    throw usage(
      'verify',
      `--pack-policy-sha256 must be 64 hex digits (sha256:HEX also works), not ${JSON.stringify(pin.slice(0, 80))}`,
    );
  return hex;
}

/** @throws VouchError OCI_PACK_POLICY_MISMATCH when the pack's policy is not the pinned one. */
function checkPackPin(pack: EvidencePack, pin: string, display: string): void {
  if (!pack.policy)
    throw new VouchError(
      'OCI_PACK_POLICY_MISMATCH',
      `the pack carries no policy, so --pack-policy-sha256 ${pin} cannot match: give --policy P`,
      { file: display, field: '/policy' },
    );
  const actual = packPolicyDigest(pack.policy);
  if (actual !== pin)
    throw new VouchError(
      'OCI_PACK_POLICY_MISMATCH',
      `the pack's policy ${pack.policy.name} (with ${Object.keys(pack.policy.files).length} file(s) beside it) has sha256 ${actual}, not the pinned ${pin}: it is not the policy you pinned`,
      { file: display, field: '/policy' },
    );
}

/** A policy decides whether a tag may be resolved (`requireDigest: false`); by default it may not. */
async function refuseTagUnlessAllowed(policy: string, target: string, io: Io): Promise<void> {
  const parsed = await loadPolicy(resolve(io.cwd, policy));
  if (parsed.ok && parsed.policy.requireDigest)
    throw usage(
      'verify',
      `${target} names a tag and the policy requires a digest: give @sha256:HEX, or set requireDigest: false in the policy to let vouch resolve the tag once`,
    );
}

function absolutize<T extends { key?: string[] | undefined; 'trusted-root'?: string | undefined }>(
  v: T,
  cwd: string,
): T {
  return {
    ...v,
    key: v.key?.map((k) => resolve(cwd, k)),
    'trusted-root': v['trusted-root'] !== undefined ? resolve(cwd, v['trusted-root']) : undefined,
  };
}

/** The digest of a target without the network: a file, sha256:HEX, or oci://…@sha256:HEX. */
export async function offlineTarget(
  target: string,
  io: Io,
): Promise<{ sha256: string; reference: string | undefined; file: string | undefined }> {
  if (isOciReference(target)) {
    const ref: OciReference = parseReference(target);
    if (!ref.digest)
      throw usage(
        'verify',
        `${target} names a tag, which cannot be resolved offline: give @sha256:HEX`,
      );
    return { sha256: ref.digest.slice(7), reference: formatReference(ref), file: undefined };
  }
  if (isDigestString(target)) {
    const { algorithm, hex } = parseDigest(target);
    if (algorithm !== 'sha256') throw usage('verify', 'only sha256:HEX digests can be verified');
    return { sha256: hex, reference: undefined, file: undefined };
  }
  const file = resolve(io.cwd, target);
  return { sha256: (await digestFile(file)).sha256 as string, reference: undefined, file };
}

/** Evidence about a target for `vouch pack`: the registry's referrers, or the local store and --bundle files. */
export async function gatherForPack(
  target: string,
  values: RegistryValues & {
    bundle?: string[] | undefined;
    store: string;
    'no-store'?: boolean | undefined;
  },
  io: Io,
): Promise<{ sha256: string; name: string; candidates: CandidateBundle[] }> {
  const candidates: CandidateBundle[] = [];
  for (const b of values.bundle ?? []) {
    const text = await readTextFile(resolve(io.cwd, b), 16 * 1024 * 1024);
    parseBundle(text, b);
    candidates.push({ source: b, json: text });
  }
  if (isOciReference(target)) {
    const ref = parseReference(target);
    const client = registryClient(values, io);
    const digest = ref.digest ?? (await client.resolve(ref));
    const at = withDigest(ref, digest);
    candidates.push(...(await fetchEvidence(at, client)));
    return { sha256: digest.slice(7), name: formatReference(at), candidates };
  }
  const { sha256, file } = await offlineTarget(target, io);
  if (!values['no-store']) {
    const store = new DirectoryStore(resolve(io.cwd, values.store));
    for (const entry of await store.find(`sha256:${sha256}`))
      candidates.push({
        source: displayPath(store.bundlePath(entry.id), io.cwd),
        json: (await store.read(entry.id)).toString('utf8'),
      });
  }
  return { sha256, name: file ? target : `sha256:${sha256}`, candidates };
}

function cacheDir(io: Io): string {
  return join(io.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'vouch', 'tuf');
}

function printVerdict(io: Io, v: ArtifactVerdict, target: string): void {
  io.stdout(`${target}  ${v.subject}\n`);
  if (v.bundles.length === 0) io.stdout('  no bundles found\n');
  for (const b of v.bundles) {
    if (b.ok) {
      const who = b.signers.map((s) =>
        s.kind === 'key' ? `key ${s.keyid.slice(0, 16)}…` : `${s.subject} (${s.issuer})`,
      );
      io.stdout(
        `  ✓ ${b.statement?.predicateType ?? 'message signature'}  signed by ${who.join(', ')}\n    ${b.source}\n`,
      );
    } else {
      io.stdout(`  ✗ ${b.source}\n`);
      for (const c of b.checks.filter((x) => !x.ok)) io.stdout(`    ${c.name}: ${c.detail}\n`);
    }
  }
  for (const r of v.policy.reasons) io.stdout(`  ${r.ok ? '✓' : '✗'} ${r.detail}\n`);
  const n = v.bundles.filter((b) => b.ok).length;
  io.stdout(
    `${v.ok ? 'VERIFIED' : 'NOT VERIFIED'}: ${v.subject}: ${n} of ${v.bundles.length} bundle(s) verified; policy ${v.policy.name} ${v.ok ? 'passed' : 'failed'}\n`,
  );
}

/** Flags `vouch verify` adds for registry targets and evidence packs. */
export const REMOTE_VERIFY_OPTIONS = {
  ...REGISTRY_OPTIONS,
  pack: { type: 'string' },
  'pack-policy-sha256': { type: 'string' },
  'attach-decision': { type: 'boolean' },
} as const;

export const REMOTE_VERIFY_HELP = `Registry and offline (see docs/oci.md):
  vouch verify oci://HOST[:PORT]/REPO[:TAG|@sha256:HEX] (trust | --policy P)
                      evidence attached to the image in the registry; a tag is resolved
                      to a digest once and the decision names that digest
  --pack FILE         decide with an evidence pack (vouch pack) only, no network: its
                      bundles, judged by your --policy P or trust flags. A pack is not
                      signed: its own policy and trusted root are not trusted unless pinned
  --pack-policy-sha256 HEX
                      decide with the pack's own policy, if it is this one (the pin
                      vouch pack prints: sha256 of the policy and the files beside it)
  --attach-decision   push the decision signed by --sign-decision-key or
                      --sign-decision-keyless to the registry, as a referrer of the
                      verified digest (as vouch attach does)
${REGISTRY_HELP}`;
