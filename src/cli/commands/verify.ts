import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { digestFile, isDigestString, parseDigest } from '../../core/digest.ts';
import { type ErrorCode, isVouchError, VouchError } from '../../core/errors.ts';
import { readTextFile } from '../../core/json.ts';
import { resolvePredicateType } from '../../core/predicates.ts';
import { fileSubjectName } from '../../core/subject-name.ts';
import {
  evaluatePolicy,
  explainVerdict,
  formatProblems,
  loadPolicy,
  type PolicyProblem,
  verificationSummary,
} from '../../policy/index.ts';
import { parseBundle, type Signer } from '../../sign/index.ts';
import { DirectoryStore } from '../../store/index.ts';
import {
  type ArtifactVerdict,
  type CandidateBundle,
  requireEvidence,
  verifyArtifact,
} from '../../verify/index.ts';
import { parse, usage } from '../args.ts';
import { INTOTO_VERIFY_HELP, INTOTO_VERIFY_OPTIONS, runIntotoVerify } from '../intoto.ts';
import { displayPath, type Io, packageVersion, printJson } from '../io.ts';
import { REMOTE_VERIFY_HELP, REMOTE_VERIFY_OPTIONS } from '../oci.ts';
import { signAndPublish } from '../publish.ts';
import {
  checkSigningFlags,
  DECISION_SIGNING,
  type PrefixedSigningValues,
  prefixedKeylessHelp,
  prefixedSigningOptions,
  signingModeFrom,
  unprefixedSigningValues,
} from '../signing.ts';
import {
  POLICY_EXCLUDES,
  TRUST_HELP,
  TRUST_OPTIONS,
  type TrustValues,
  trustPolicyFrom,
  WORKFLOW_HELP,
  WORKFLOW_OPTIONS,
} from '../trust.ts';
import type { Command } from './command.ts';

const HELP = `Usage: vouch verify <file | sha256:HEX> [trust] [options]
       vouch verify <file | sha256:HEX> --policy P.yaml [options]

Finds every bundle about the artifact's digest (in the store and given with
--bundle), verifies each signature, certificate chain, transparency-log entry
and timestamp where present, checks the artifact's digest is a subject, and
decides. Only verified evidence counts. Exit 0 when the decision passes,
1 when it does not, 2 on bad input.

${TRUST_HELP}

${WORKFLOW_HELP}

${INTOTO_VERIFY_HELP}

Options:
  --bundle FILE       a bundle to consider (repeatable); malformed ones are input errors
  --type T            require verified evidence of this predicate type (repeatable;
                      URI or short name, e.g. slsaprovenance)
  --store DIR         evidence store to search (default: .vouch)
  --no-store          do not search the store (nor store a signed decision)
  --json              machine-readable verdict on stdout

${REMOTE_VERIFY_HELP}

Policy (instead of the trust flags and --type; see docs/policy/):
  --policy FILE                 decide with a policy file: trust, rules, exceptions
  --sign-decision-key FILE      sign the decision (SLSA VSA v1) with this key and store it
                                (an oci:// target: --attach-decision and/or --decision-out)
  --sign-decision-keyless       sign the decision keyless (Sigstore: Fulcio certificate for the
                                CI's OIDC identity, Rekor entry); a private Sigstore or a token:
${prefixedKeylessHelp(DECISION_SIGNING, 32, '    ')}
  --decision-out FILE           also write the signed decision bundle here

A target that is neither a file nor a digest (e.g. a tag like app:1.2) is refused:
tags are mutable, so give the artifact's sha256 digest.`;

export const verifyCommand: Command = {
  name: 'verify',
  help: HELP,
  async run(argv, io) {
    const { values, positionals } = parse('verify', argv, {
      ...TRUST_OPTIONS,
      ...WORKFLOW_OPTIONS,
      bundle: { type: 'string', multiple: true },
      type: { type: 'string', multiple: true },
      store: { type: 'string', default: '.vouch' },
      'no-store': { type: 'boolean' },
      ...INTOTO_VERIFY_OPTIONS,
      policy: { type: 'string' },
      ...prefixedSigningOptions(DECISION_SIGNING),
      'decision-out': { type: 'string' },
      ...REMOTE_VERIFY_OPTIONS,
    });
    if (values.help) {
      io.stdout(`${HELP}\n`);
      return 0;
    }
    if (values['intoto-layout']) return runIntotoVerify(values, io);
    if (positionals.length !== 1) throw usage('verify', 'give exactly one file or sha256:HEX');
    const target = positionals[0] as string;
    if (values['pack-policy-sha256'] !== undefined && values.pack === undefined)
      throw usage('verify', "--pack-policy-sha256 needs --pack FILE (it pins the pack's policy)");
    if (target.startsWith('oci://') || values.pack !== undefined)
      return (await import('../oci.ts')).verifyRemote(target, values, io);
    if (values['attach-decision'])
      throw usage(
        'verify',
        "--attach-decision needs an oci:// target (a file's signed decision goes to the store and --decision-out)",
      );
    if (values.policy !== undefined) return verifyWithPolicy(target, values, io);
    for (const flag of [...Object.keys(prefixedSigningOptions(DECISION_SIGNING)), 'decision-out']) {
      if ((values as Record<string, unknown>)[flag] !== undefined)
        throw usage('verify', `--${flag} needs --policy`);
    }
    const types = (values.type ?? []).map(typeFlag);
    const trust = await trustPolicyFrom('verify', values, cacheDir(io));

    const { file, sha256 } = await resolveTarget('verify', target, io);
    const candidates = await gatherCandidates(sha256, values, io);
    if (candidates.length > 0)
      io.stderr(`vouch verify: checking ${candidates.length} bundle(s) about sha256:${sha256}\n`);
    const verdict = verifyArtifact({
      sha256,
      candidates,
      trust,
      policy: requireEvidence(types),
      artifactBytes: file ? () => readFileSync(file) : undefined,
    });
    if (values.json) printJson(io, verdict);
    else printVerdict(io, verdict, target);
    return verdict.ok ? 0 : 1;
  },
};

interface PolicyValues extends TrustValues, PrefixedSigningValues<typeof DECISION_SIGNING> {
  policy?: string | undefined;
  json?: boolean | undefined;
  type?: string[] | undefined;
  bundle?: string[] | undefined;
  store: string;
  'no-store'?: boolean | undefined;
  'decision-out'?: string | undefined;
}

async function verifyWithPolicy(target: string, values: PolicyValues, io: Io): Promise<number> {
  // Trust and requirements come from the policy alone: a second source would be one too many.
  for (const f of POLICY_EXCLUDES) {
    if (values[f] !== undefined)
      throw usage(
        'verify',
        `--${f} and --policy exclude each other (the policy says whom to trust)`,
      );
  }
  const signingFlags = unprefixedSigningValues(DECISION_SIGNING, values, (f) => resolve(io.cwd, f));
  checkSigningFlags('verify', signingFlags, DECISION_SIGNING);
  const signing = signingFlags.key !== undefined || signingFlags.keyless;
  if (!signing && values['decision-out'] !== undefined)
    throw usage(
      'verify',
      '--decision-out needs --sign-decision-key FILE or --sign-decision-keyless',
    );
  if (signing && values['no-store'] && values['decision-out'] === undefined) {
    // Signing a decision nobody keeps would look like success and leave nothing.
    throw usage('verify', 'a signed decision with --no-store needs --decision-out FILE');
  }
  // Before the verification: a missing key or token is exit 2 before any work.
  const mode = signing
    ? await signingModeFrom('verify', signingFlags, io, DECISION_SIGNING)
    : undefined;
  const policyFile = resolve(io.cwd, values.policy as string);
  const parsed = await loadPolicy(policyFile);
  if (!parsed.ok)
    return reportPolicyProblems(io, values.policy as string, parsed.problems, values.json);
  const policy = parsed.policy;
  const { file, sha256 } = await resolveTarget('verify', target, io, policy.requireDigest);
  const candidates = await gatherCandidates(sha256, values, io);
  io.stderr(
    `vouch verify: policy ${policy.name}: ${candidates.length} bundle(s) about sha256:${sha256}\n`,
  );
  const verdict = evaluatePolicy(policy, {
    subjectDigest: `sha256:${sha256}`,
    bundles: candidates,
    artifactBytes: file ? () => readFileSync(file) : undefined,
  });
  let decision: { stored: string | null; out: string | null } | undefined;
  if (mode) {
    const statement = verificationSummary(verdict, {
      resourceUri: file
        ? `file:${await fileSubjectName(file, io.cwd)}`
        : `urn:vouch:sha256:${sha256}`,
      policyUri: `file:${basename(policyFile)}`,
      verifierVersion: packageVersion(),
    });
    const published = await signAndPublish(
      statement,
      mode,
      { store: values.store, 'no-store': values['no-store'], out: values['decision-out'] },
      io,
    );
    decision = { stored: published.stored?.path ?? null, out: published.out };
    io.stderr(
      `vouch verify: signed decision (VSA) ${[published.stored?.path, published.out].filter(Boolean).join(', ')}\n`,
    );
  }
  if (values.json) printJson(io, decision ? { ...verdict, signedDecision: decision } : verdict);
  else io.stdout(explainVerdict(verdict));
  return verdict.ok ? 0 : 1;
}

/** Prints every problem in a policy file (file:line:col: path: message) and returns exit code 2. */
export function reportPolicyProblems(
  io: Io,
  source: string,
  problems: readonly PolicyProblem[],
  json: boolean | undefined,
): number {
  if (json) {
    printJson(io, {
      error: {
        code: 'POLICY_MALFORMED' satisfies ErrorCode,
        message: `${source}: ${problems.length} problem(s) in the policy`,
        file: source,
        problems,
      },
    });
  }
  io.stderr(`vouch: error POLICY_MALFORMED: ${source}: ${problems.length} problem(s):\n`);
  io.stderr(formatProblems(source, problems));
  return 2;
}

/**
 * A target is a file or a `sha256:` digest. Anything else that looks like a
 * registry reference (a tag) is refused: a tag can move, so a decision about
 * one would not say what was decided.
 *
 * @throws VouchError USAGE | DIGEST_MALFORMED | FILE_*
 */
export async function resolveTarget(
  verb: string,
  target: string,
  io: Io,
  requireDigest = true,
): Promise<{ file: string | undefined; sha256: string }> {
  if (isDigestString(target)) return { file: undefined, sha256: digestOf(target) };
  const file = resolve(io.cwd, target);
  if (!existsSync(file) && /[:@]/.test(target)) {
    throw usage(
      verb,
      `${JSON.stringify(target)} is neither a file nor a sha256 digest; ${requireDigest ? 'the policy requires a digest: ' : ''}a tag can move, so give the artifact's digest (sha256:HEX) or the file`,
    );
  }
  return { file, sha256: (await digestFile(file)).sha256 as string };
}

/** Bundles named with --bundle (a malformed one is an input error) and those the store has for the digest. */
export async function gatherCandidates(
  sha256: string,
  values: { bundle?: string[] | undefined; store: string; 'no-store'?: boolean | undefined },
  io: Io,
): Promise<CandidateBundle[]> {
  const candidates: CandidateBundle[] = [];
  for (const b of values.bundle ?? []) {
    const text = await readTextFile(resolve(io.cwd, b));
    parseBundle(text, b);
    candidates.push({ source: b, json: text });
  }
  if (!values['no-store']) {
    const store = new DirectoryStore(resolve(io.cwd, values.store));
    for (const entry of await store.find(`sha256:${sha256}`)) {
      candidates.push({
        source: displayPath(store.bundlePath(entry.id), io.cwd),
        json: (await store.read(entry.id)).toString('utf8'),
      });
    }
  }
  return candidates;
}

/** resolvePredicateType, with the error naming --type (its own message names --predicate-type). */
export function typeFlag(value: string): string {
  try {
    return resolvePredicateType(value);
  } catch (e) {
    if (!isVouchError(e)) throw e;
    const reason = e.field ? e.message.slice(`${e.field}: `.length) : e.message;
    throw new VouchError(e.code, reason, { field: '--type', cause: e });
  }
}

function digestOf(target: string): string {
  const { algorithm, hex } = parseDigest(target);
  if (algorithm !== 'sha256') throw usage('verify', 'only sha256:HEX digests can be verified');
  return hex;
}

function cacheDir(io: Io): string {
  return join(io.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'vouch', 'tuf');
}

function describeSigner(s: Signer): string {
  switch (s.kind) {
    case 'key':
      return `key ${s.keyid.slice(0, 16)}…`;
    case 'certificate':
      return `${s.subject} (${s.issuer})`;
  }
}

function printVerdict(io: Io, v: ArtifactVerdict, target: string): void {
  io.stdout(`${target}  ${v.subject}\n`);
  if (v.bundles.length === 0) io.stdout('  no bundles found\n');
  for (const b of v.bundles) {
    if (b.ok) {
      const who = b.signers.map(describeSigner).join(', ');
      io.stdout(
        `  ✓ ${b.statement?.predicateType ?? 'message signature'}  signed by ${who}\n    ${b.source}\n`,
      );
    } else {
      const failed = b.checks.filter((c) => !c.ok);
      io.stdout(`  ✗ ${b.source}\n`);
      for (const c of failed) io.stdout(`    ${c.name}: ${c.detail}\n`);
    }
  }
  for (const r of v.policy.reasons) io.stdout(`  ${r.ok ? '✓' : '✗'} ${r.detail}\n`);
  const n = v.bundles.filter((b) => b.ok).length;
  io.stdout(
    `${v.ok ? 'VERIFIED' : 'NOT VERIFIED'}: ${n} of ${v.bundles.length} bundle(s) verified; policy ${v.policy.name} ${v.ok ? 'passed' : 'failed'}\n`,
  );
}
