import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { VouchError } from '../../core/errors.ts';
import type { Policy } from '../model.ts';
import { formatProblems, parsePolicy } from '../parse.ts';

/**
 * Compliance profiles shipped with vouch. A profile is a vouch policy without
 * its `trust` section (whom to trust is the user's to say), plus the
 * framework's task catalogue: each task's text, what evidence shows it, and
 * for which artifact kinds it does not apply. The policy engine evaluates the
 * profile like any other policy; the report layer turns the verdict into a
 * task matrix.
 */

/** One task of a framework, as a profile maps it. */
export interface ProfileTask {
  /** e.g. `PS.3.1`. */
  id: string;
  /** The framework's task text (short). */
  text: string;
  /** What evidence shows the task, for people. */
  evidence: string;
  /** Names of the policy rules that must all pass. */
  rules: string[];
  /** The evidence used must also be held in the evidence store (release archive). */
  archived: boolean;
  /** Artifact kind → why the task does not apply to that kind. */
  notApplicable: Record<string, string>;
}

export interface ComplianceProfile {
  name: string;
  title: string;
  framework: { name: string; version: string; href?: string };
  /** Artifact kind → description; the first is the default. */
  artifactKinds: Record<string, string>;
  tasks: ProfileTask[];
  /** `builtin:<name>` or the policy's path. */
  source: string;
  /** `sha256:<hex>` of the profile file bytes (or the policy's digest). */
  digest: string;
  /** The profile's policy document without `trust` (JSON). */
  policyDocument: Record<string, unknown>;
}

interface ProfileEntry {
  name: string;
  aliases: readonly string[];
  file: URL;
}

/** The built-in profiles; adding one is a YAML file and a line here. */
export const PROFILES: readonly ProfileEntry[] = [
  {
    name: 'ssdf-default',
    aliases: ['ssdf'],
    file: new URL('./ssdf-default.yaml', import.meta.url),
  },
];

/** Names a user can give to `--profile`. */
export function profileNames(): string[] {
  return PROFILES.flatMap((p) => [p.name, ...p.aliases]);
}

/**
 * Loads a built-in profile by name or alias.
 *
 * @throws VouchError USAGE when no profile has that name; Error when the
 * shipped file is broken (a bug in vouch, caught by its tests).
 */
export function loadProfile(name: string): ComplianceProfile {
  const entry = PROFILES.find((p) => p.name === name || p.aliases.includes(name));
  if (!entry) {
    throw new VouchError(
      'USAGE',
      `unknown profile ${JSON.stringify(name)}: built-in profiles are ${profileNames().join(', ')}`,
      { field: '--profile' },
    );
  }
  const bytes = readFileSync(entry.file);
  return profileFromDocument(
    parseYaml(bytes.toString('utf8'), { maxAliasCount: 0 }),
    `builtin:${entry.name}`,
    `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
  );
}

function profileFromDocument(doc: unknown, source: string, digest: string): ComplianceProfile {
  const fail = (what: string): never => {
    throw new Error(`profile ${source}: ${what}`);
  };
  const d = isRecord(doc) ? doc : fail('not a mapping');
  if (d.apiVersion !== 'vouch.dev/profile/v1' || d.kind !== 'ComplianceProfile')
    fail('apiVersion/kind must be vouch.dev/profile/v1 ComplianceProfile');
  const policy = isRecord(d.policy) ? d.policy : fail('policy is missing');
  if (policy.trust !== undefined) fail('policy must not have a trust section');
  const ssdf = isRecord(policy.ssdf) ? policy.ssdf : fail('policy.ssdf is missing');
  const framework = isRecord(d.framework) ? d.framework : fail('framework is missing');
  const kinds = isRecord(d.artifactKinds) ? d.artifactKinds : fail('artifactKinds is missing');
  const tasks = Array.isArray(d.tasks) ? d.tasks : fail('tasks is missing');
  const seen = new Set<string>();
  const out: ProfileTask[] = tasks.map((t, i) => {
    const task = isRecord(t) ? t : fail(`tasks[${i}] is not a mapping`);
    const id = typeof task.id === 'string' ? task.id : fail(`tasks[${i}].id`);
    if (seen.has(id)) fail(`task ${id} listed twice`);
    seen.add(id);
    const rules = ssdf[id];
    if (!Array.isArray(rules) || rules.length === 0) fail(`task ${id} has no rules in policy.ssdf`);
    const na = task.notApplicable ?? {};
    if (!isRecord(na)) fail(`task ${id}: notApplicable is not a mapping`);
    for (const k of Object.keys(na as object))
      if (!(k in kinds)) fail(`task ${id}: notApplicable names unknown kind ${k}`);
    return {
      id,
      text: String(task.text ?? fail(`task ${id}: text`)),
      evidence: String(task.evidence ?? fail(`task ${id}: evidence`)),
      rules: (rules as unknown[]).map(String),
      archived: task.archived === true,
      notApplicable: Object.fromEntries(
        Object.entries(na as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
      ),
    };
  });
  for (const id of Object.keys(ssdf)) if (!seen.has(id)) fail(`policy.ssdf task ${id} has no text`);
  return {
    name: String(d.name ?? fail('name')),
    title: String(d.title ?? fail('title')),
    framework: {
      name: String(framework.name),
      version: String(framework.version),
      ...(typeof framework.href === 'string' ? { href: framework.href } : {}),
    },
    artifactKinds: Object.fromEntries(Object.entries(kinds).map(([k, v]) => [k, String(v)])),
    tasks: out,
    source,
    digest,
    policyDocument: policy,
  };
}

/**
 * The profile's policy, evaluated with the user's trust (signers, trusted
 * root). The profile
 * names no signers in its rules, so any signer the user trusts may supply
 * any evidence; restrict that in your own policy and use `--profile policy`.
 *
 * @throws Error when the shipped profile's policy does not parse (a bug).
 */
export async function profilePolicy(
  profile: ComplianceProfile,
  trust: Policy['trust'],
): Promise<Policy> {
  // The schema wants a signer; this placeholder is replaced before anything is evaluated.
  const text = JSON.stringify({
    ...profile.policyDocument,
    trust: {
      signers: [{ name: 'placeholder', keyless: { issuer: 'https://invalid', subject: 'none' } }],
    },
  });
  const parsed = await parsePolicy(text, { source: profile.source });
  if (!parsed.ok)
    throw new Error(
      `profile ${profile.source}:\n${formatProblems(profile.source, parsed.problems)}`,
    );
  return {
    ...parsed.policy,
    name: profile.name,
    source: profile.source,
    digest: profile.digest,
    trust,
  };
}

/**
 * A profile made of a user's own policy: its rules and its `ssdf` map, with
 * task texts from the built-in SSDF catalogue (a task it does not know keeps
 * its id as its text).
 */
export function profileFromPolicy(policy: Policy): ComplianceProfile {
  const catalogue = loadProfile('ssdf-default');
  const known = new Map(catalogue.tasks.map((t) => [t.id, t]));
  const ids = Object.keys(policy.ssdf).sort(compareTaskIds);
  return {
    name: policy.name,
    title: `${policy.name} (SSDF tasks mapped by the policy)`,
    framework: catalogue.framework,
    artifactKinds: catalogue.artifactKinds,
    tasks: ids.map((id) => {
      const base = known.get(id);
      return {
        id,
        text: base?.text ?? id,
        evidence: `rules ${(policy.ssdf[id] ?? []).join(', ')} of ${policy.name}`,
        rules: [...(policy.ssdf[id] ?? [])],
        archived: base?.archived ?? false,
        notApplicable: {},
      };
    }),
    source: policy.source,
    digest: policy.digest,
    policyDocument: {},
  };
}

/** PO < PS < PW < RV, then numerically: the order SP 800-218 lists them. */
export function compareTaskIds(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  if (pa[0] !== pb[0]) return (pa[0] ?? '') < (pb[0] ?? '') ? -1 : 1;
  return Number(pa[1]) - Number(pb[1]) || Number(pa[2]) - Number(pb[2]);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
