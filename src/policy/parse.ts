import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import { errorMessage } from '../core/errors.ts';
import { readTextFile } from '../core/json.ts';
import { PREDICATE_TYPES, resolvePredicateType } from '../core/predicates.ts';
import { loadTrustedRoot, loadVerificationKey } from '../sign/index.ts';
import { compileWhere } from './cel.ts';
import type { Policy, PolicyException, Rule, SignerSpec, Validity } from './model.ts';
import { validateSchema } from './schema.ts';

/** One thing wrong with a policy file, located by field path and line. */
export interface PolicyProblem {
  /** JSON pointer into the document, e.g. `/trust/signers/0/keyless/issuer`. */
  path: string;
  /** 1-based line and column of the field (or of its nearest located parent). */
  line?: number;
  column?: number;
  message: string;
}

export type PolicyParse = { ok: true; policy: Policy } | { ok: false; problems: PolicyProblem[] };

export interface ParsePolicyOptions {
  /** Name used in messages (usually the path). */
  source?: string;
  /** Directory relative key and trusted-root paths resolve against. */
  baseDir?: string;
}

/** YAML aliases expanded at most this many times: an alias bomb is an error, not a hang. */
const MAX_ALIAS_COUNT = 50;
const MAX_POLICY_BYTES = 1024 * 1024;
const MAX_RULE_DEPTH = 8;

/**
 * Reads and checks a policy file.
 *
 * @throws VouchError FILE_NOT_FOUND | FILE_READ (the file itself cannot be read);
 * everything wrong *in* the file comes back as problems.
 */
export async function loadPolicy(path: string): Promise<PolicyParse> {
  const text = await readTextFile(path, MAX_POLICY_BYTES);
  return parsePolicy(text, { source: path, baseDir: dirname(resolve(path)) });
}

/**
 * Parses a policy strictly: the YAML must be valid, every field must be one
 * the published schema (schemas/policy-v1.json) names, and every reference
 * (signer names, rule names, keys, CEL) must resolve. Returns every problem
 * found, each with its field path and line; never throws for bad content.
 */
export async function parsePolicy(
  text: string,
  options: ParsePolicyOptions = {},
): Promise<PolicyParse> {
  const source = options.source ?? '<inline>';
  const baseDir = options.baseDir ?? process.cwd();
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: true,
    version: '1.2',
    schema: 'core',
  });
  const problems: PolicyProblem[] = [];
  const at = (offset: number | undefined) => {
    if (offset === undefined) return {};
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  for (const e of doc.errors) {
    problems.push({ path: '/', ...at(e.pos[0]), message: `YAML: ${e.message.split('\n')[0]}` });
  }
  if (problems.length > 0) return { ok: false, problems };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    return { ok: false, problems: [{ path: '/', message: `YAML: ${errorMessage(e)}` }] };
  }
  const locate = (pointer: string) => {
    const parts = pointer
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    // The nearest located node on the path: the field's key when it exists.
    for (let n = parts.length; n >= 0; n--) {
      const path = parts.slice(0, n).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
      const parentPath = path.slice(0, -1);
      const parent = n === 0 ? undefined : doc.getIn(parentPath, true);
      if (isMap(parent)) {
        const key = path[path.length - 1];
        const pair = parent.items.find(
          (it) => (it.key as { value?: unknown } | null)?.value === key,
        );
        const range = (pair?.key as { range?: [number, number, number] } | null)?.range;
        if (range) return at(range[0]);
      }
      if (isSeq(parent)) {
        const item = parent.items[path[path.length - 1] as number] as
          | { range?: [number, number, number] }
          | undefined;
        if (item?.range) return at(item.range[0]);
      }
      if (n === 0) {
        const range = (doc.contents as { range?: [number, number, number] } | null)?.range;
        return range ? at(range[0]) : {};
      }
    }
    return {};
  };
  const problem = (path: string, message: string) =>
    problems.push({ path, ...locate(path), message });

  for (const p of validateSchema(value)) problem(p.pointer, p.message);
  if (problems.length > 0) return { ok: false, problems: sortProblems(problems) };

  // Shape is right (the schema says so); now meaning.
  const raw = value as RawPolicy;
  const signers: SignerSpec[] = [];
  const signerNames = new Set<string>();
  for (const [i, s] of raw.trust.signers.entries()) {
    const path = `/trust/signers/${i}`;
    if (signerNames.has(s.name)) problem(`${path}/name`, `duplicate signer name ${s.name}`);
    signerNames.add(s.name);
    const validity = parseValidity(s, path, problem);
    if ((s.key === undefined) === (s.keyless === undefined)) {
      problem(path, 'give exactly one of key and keyless');
      continue;
    }
    if (s.key !== undefined) {
      const key = loadKey(s.key, baseDir, `${path}/key`, problem);
      if (key) signers.push({ name: s.name, kind: 'key', key, ...validity });
      continue;
    }
    const k = s.keyless as RawKeyless;
    if ((k.subject === undefined) === (k.subjectRegExp === undefined)) {
      problem(`${path}/keyless`, 'give exactly one of subject and subjectRegExp');
      continue;
    }
    if (k.subjectRegExp !== undefined) {
      try {
        new RegExp(k.subjectRegExp, 'u');
      } catch (e) {
        problem(
          `${path}/keyless/subjectRegExp`,
          `not a valid regular expression: ${errorMessage(e)}`,
        );
        continue;
      }
    }
    const spec: SignerSpec = { name: s.name, kind: 'keyless', issuer: k.issuer, ...validity };
    if (k.subject !== undefined) spec.subject = k.subject;
    if (k.subjectRegExp !== undefined) spec.subjectRegExp = k.subjectRegExp;
    if (k.repository !== undefined) spec.repository = k.repository;
    if (k.ref !== undefined) spec.ref = k.ref;
    signers.push(spec);
  }

  const ruleNames = new Set<string>();
  const buildRule = (r: RawRule, path: string, depth: number): Rule | undefined => {
    if (ruleNames.has(r.name)) problem(`${path}/name`, `duplicate rule name ${r.name}`);
    ruleNames.add(r.name);
    if (depth > MAX_RULE_DEPTH) {
      problem(path, `rules nested more than ${MAX_RULE_DEPTH} deep`);
      return undefined;
    }
    const kinds = (['predicateType', 'anyOf', 'allOf'] as const).filter((k) => r[k] !== undefined);
    if (kinds.length !== 1) {
      problem(path, 'give exactly one of predicateType, anyOf and allOf');
      return undefined;
    }
    const description = r.description !== undefined ? { description: r.description } : {};
    if (r.anyOf !== undefined || r.allOf !== undefined) {
      const kind = r.anyOf !== undefined ? 'anyOf' : 'allOf';
      for (const f of ['signers', 'minSigners', 'maxAge', 'where'] as const) {
        if (r[f] !== undefined)
          problem(`${path}/${f}`, `${f} belongs on an evidence rule, not on ${kind}`);
      }
      const children = (r[kind] as RawRule[])
        .map((c, j) => buildRule(c, `${path}/${kind}/${j}`, depth + 1))
        .filter((c): c is Rule => c !== undefined);
      return { kind, name: r.name, ...description, rules: children };
    }
    let predicateType: string;
    try {
      predicateType = resolvePredicateType(r.predicateType as string);
    } catch {
      problem(
        `${path}/predicateType`,
        `unknown predicate type ${JSON.stringify(r.predicateType)}: use a URI or one of ${Object.keys(PREDICATE_TYPES).join(', ')}`,
      );
      return undefined;
    }
    const rule: Rule = {
      kind: 'evidence',
      name: r.name,
      ...description,
      predicateType,
      minSigners: r.minSigners ?? 1,
    };
    if (r.signers !== undefined) {
      for (const [j, n] of r.signers.entries()) {
        if (!signerNames.has(n))
          problem(`${path}/signers/${j}`, `no signer named ${n} in trust.signers`);
      }
      rule.signers = [...new Set(r.signers)];
      if (rule.minSigners > rule.signers.length)
        problem(
          `${path}/minSigners`,
          `minSigners ${rule.minSigners} is more than the ${rule.signers.length} signer(s) allowed`,
        );
    }
    if (r.maxAge !== undefined) {
      rule.maxAge = parseDuration(r.maxAge);
      rule.maxAgeText = r.maxAge;
    }
    if (r.where !== undefined) {
      const c = compileWhere(r.where);
      if (c.ok) rule.where = c.where;
      else problem(`${path}/where`, c.error);
    }
    return rule;
  };
  const rules = raw.require
    .map((r, i) => buildRule(r, `/require/${i}`, 1))
    .filter((r): r is Rule => r !== undefined);

  const exceptions: PolicyException[] = [];
  for (const [i, e] of (raw.exceptions ?? []).entries()) {
    if (!ruleNames.has(e.rule)) problem(`/exceptions/${i}/rule`, `no rule named ${e.rule}`);
    exceptions.push({
      rule: e.rule,
      owner: e.owner,
      reason: e.reason,
      expires: parseTime(e.expires, `/exceptions/${i}/expires`, problem),
      expiresText: e.expires,
    });
  }
  const ssdf: Record<string, string[]> = {};
  for (const [task, names] of Object.entries(raw.ssdf ?? {})) {
    names.forEach((n, j) => {
      if (!ruleNames.has(n)) problem(`/ssdf/${task}/${j}`, `no rule named ${n}`);
    });
    ssdf[task] = [...names];
  }

  let trustedRoot: unknown;
  if (raw.trust.trustedRoot !== undefined) {
    try {
      trustedRoot = await loadTrustedRoot(resolveIn(baseDir, raw.trust.trustedRoot));
    } catch (e) {
      problem('/trust/trustedRoot', errorMessage(e));
    }
  }

  if (problems.length > 0) return { ok: false, problems: sortProblems(problems) };
  const policy: Policy = {
    name: raw.metadata?.name ?? source,
    source,
    digest: `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`,
    requireDigest: raw.requireDigest ?? true,
    trust: { signers },
    require: rules,
    exceptions,
    ssdf,
  };
  if (raw.metadata?.description !== undefined) policy.description = raw.metadata.description;
  if (trustedRoot !== undefined) policy.trust.trustedRoot = trustedRoot;
  return { ok: true, policy };
}

interface RawKeyless {
  issuer: string;
  subject?: string;
  subjectRegExp?: string;
  repository?: string;
  ref?: string;
}
interface RawSigner {
  name: string;
  key?: string;
  keyless?: RawKeyless;
  validFrom?: string;
  validUntil?: string;
  revoked?: { at: string; reason?: string };
}
interface RawRule {
  name: string;
  description?: string;
  predicateType?: string;
  signers?: string[];
  minSigners?: number;
  maxAge?: string;
  where?: string;
  anyOf?: RawRule[];
  allOf?: RawRule[];
}
interface RawPolicy {
  metadata?: { name?: string; description?: string };
  requireDigest?: boolean;
  trust: { trustedRoot?: string; signers: RawSigner[] };
  require: RawRule[];
  exceptions?: Array<{ rule: string; owner: string; reason: string; expires: string }>;
  ssdf?: Record<string, string[]>;
}

type Problem = (path: string, message: string) => void;

function parseValidity(s: RawSigner, path: string, problem: Problem): Validity {
  const v: Validity = {};
  if (s.validFrom !== undefined) v.validFrom = parseTime(s.validFrom, `${path}/validFrom`, problem);
  if (s.validUntil !== undefined)
    v.validUntil = parseTime(s.validUntil, `${path}/validUntil`, problem);
  if (s.revoked !== undefined) {
    v.revokedAt = parseTime(s.revoked.at, `${path}/revoked/at`, problem);
    if (s.revoked.reason !== undefined) v.revokedReason = s.revoked.reason;
  }
  if (v.validFrom !== undefined && v.validUntil !== undefined && v.validFrom > v.validUntil)
    problem(`${path}/validUntil`, 'validUntil is before validFrom');
  return v;
}

function parseTime(text: string, path: string, problem: Problem): number {
  const t = Date.parse(text);
  if (Number.isNaN(t)) problem(path, `not a valid RFC 3339 time: ${text}`);
  return t;
}

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** `7d`, `24h`, `30m`, `45s`, `2w` to milliseconds (the schema's pattern is checked first). */
export function parseDuration(text: string): number {
  const m = /^([0-9]{1,6})(s|m|h|d|w)$/.exec(text);
  if (!m) throw new Error(`not a duration: ${text}`);
  return Number(m[1]) * (UNIT_MS[m[2] as string] as number);
}

function resolveIn(baseDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(baseDir, path);
}

function loadKey(spec: string, baseDir: string, path: string, problem: Problem) {
  let pem = spec;
  let where = `${path} (inline PEM)`;
  if (!spec.includes('-----BEGIN')) {
    const file = resolveIn(baseDir, spec);
    where = spec;
    try {
      if (statSync(file).size > MAX_POLICY_BYTES) {
        problem(path, `key file ${spec} is larger than 1 MiB`);
        return undefined;
      }
      pem = readFileSync(file, 'utf8');
    } catch (e) {
      problem(
        path,
        `cannot read key file ${spec}: ${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}`,
      );
      return undefined;
    }
  }
  try {
    return loadVerificationKey(pem, where);
  } catch (e) {
    problem(path, errorMessage(e));
    return undefined;
  }
}

function sortProblems(problems: PolicyProblem[]): PolicyProblem[] {
  return [...problems].sort(
    (a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0),
  );
}

/** `file:line:col: /path: message`, one problem per line. */
export function formatProblems(source: string, problems: readonly PolicyProblem[]): string {
  return problems
    .map(
      (p) => `${source}${p.line ? `:${p.line}:${p.column ?? 1}` : ''}: ${p.path}: ${p.message}\n`,
    )
    .join('');
}
