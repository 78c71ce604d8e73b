import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
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
  /**
   * The file the problem is in, relative to the top-level policy's directory,
   * when it is a file the policy extends; absent for the top-level file.
   */
  file?: string;
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
  /** Directory relative key, trusted-root and extends paths resolve against. */
  baseDir?: string;
  /** Files named by `extends` must lie under this directory. Default: baseDir. */
  rootDir?: string;
}

/** YAML aliases expanded at most this many times: an alias bomb is an error, not a hang. */
const MAX_ALIAS_COUNT = 50;
const MAX_POLICY_BYTES = 1024 * 1024;
const MAX_RULE_DEPTH = 8;
/** `extends` levels below the top-level policy. */
export const MAX_EXTENDS_DEPTH = 8;
/** Distinct policy files in one merged policy, the top-level one included. */
export const MAX_EXTENDS_FILES = 64;

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
  const top = readDocument(text, undefined, baseDir);
  if (!top.ok) return { ok: false, problems: sortProblems(top.problems) };

  // The top-level policy and every file it extends, bases before the files
  // that extend them (each file once, however often it is reached).
  const loaded = await loadExtends(top.doc, source, options.rootDir ?? baseDir);
  if (!loaded.ok) return { ok: false, problems: sortProblems(loaded.problems) };
  const docs = loaded.docs;
  const problems: PolicyProblem[] = [];
  const problemIn = (d: PolicyDoc) => (path: string, message: string) =>
    problems.push({
      ...(d.file !== undefined ? { file: d.file } : {}),
      path,
      ...d.locate(path),
      message,
    });
  const where = (d: PolicyDoc, pointer: string) => {
    const { line } = d.locate(pointer);
    return `${d.file ?? basename(source)}${line ? `:${line}` : ''}`;
  };

  // trust.signers: unioned by name; one name defined differently in two files is an error.
  const signers: SignerSpec[] = [];
  const signerHome = new Map<string, { doc: PolicyDoc; path: string; canon: string }>();
  /** Which files define each signer name (identical definitions may repeat). */
  const signerDocs = new Map<string, Set<PolicyDoc>>();
  for (const d of docs) {
    const problem = problemIn(d);
    const namesHere = new Set<string>();
    for (const [i, s] of (d.raw.trust?.signers ?? []).entries()) {
      const path = `/trust/signers/${i}`;
      if (namesHere.has(s.name)) problem(`${path}/name`, `duplicate signer name ${s.name}`);
      namesHere.add(s.name);
      const spec = buildSigner(s, path, d.baseDir, problem);
      if (!spec) continue;
      const canon = canonicalSigner(spec);
      const home = signerHome.get(s.name);
      if (home && home.doc !== d) {
        if (home.canon !== canon)
          problem(
            `${path}/name`,
            `signer ${s.name} is defined differently in ${where(home.doc, home.path)}: a name means one signer across the policy and the files it extends`,
          );
      } else if (!home) {
        signerHome.set(s.name, { doc: d, path: `${path}/name`, canon });
        signers.push(spec);
      }
      const set = signerDocs.get(s.name) ?? new Set<PolicyDoc>();
      set.add(d);
      signerDocs.set(s.name, set);
    }
  }
  /** Signer names a file may use: its own and its bases' (never an extender's). */
  const visibleSigners = (d: PolicyDoc) =>
    [...signerDocs.entries()]
      .filter(([, ds]) => [...ds].some((x) => d.closure.has(x)))
      .map(([n]) => n);

  // require: rules unioned; a rule name is defined once across all files.
  const ruleHome = new Map<string, { doc: PolicyDoc; path: string }>();
  const rules: Rule[] = [];
  for (const d of docs) {
    const problem = problemIn(d);
    const visible = new Set(visibleSigners(d));
    const isTop = d === docs[docs.length - 1];
    const buildRule = (r: RawRule, path: string, depth: number): Rule | undefined => {
      const home = ruleHome.get(r.name);
      if (home)
        problem(
          `${path}/name`,
          home.doc === d
            ? `duplicate rule name ${r.name}`
            : `duplicate rule name ${r.name} (also defined in ${where(home.doc, home.path)}); an extending policy adds rules, it cannot redefine one`,
        );
      else ruleHome.set(r.name, { doc: d, path: `${path}/name` });
      if (depth > MAX_RULE_DEPTH) {
        problem(path, `rules nested more than ${MAX_RULE_DEPTH} deep`);
        return undefined;
      }
      const kinds = (['predicateType', 'anyOf', 'allOf'] as const).filter(
        (k) => r[k] !== undefined,
      );
      if (kinds.length !== 1) {
        problem(path, 'give exactly one of predicateType, anyOf and allOf');
        return undefined;
      }
      const description = r.description !== undefined ? { description: r.description } : {};
      if (r.anyOf !== undefined || r.allOf !== undefined) {
        const kind = r.anyOf !== undefined ? 'anyOf' : 'allOf';
        for (const f of ['signers', 'minSigners', 'maxAge', 'where', 'select'] as const) {
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
          if (visible.has(n)) continue;
          problem(
            `${path}/signers/${j}`,
            signerDocs.has(n)
              ? `signer ${n} is defined only in a policy that extends this file; a rule may name signers of its own file and of the files it extends`
              : `no signer named ${n} in trust.signers`,
          );
        }
        rule.signers = [...new Set(r.signers)];
      } else if (!isTop) {
        // "Any trusted signer" in a base means the signers the base can see:
        // an extending policy's signers never satisfy a base rule.
        rule.signers = [...visible].sort();
        if (rule.signers.length === 0)
          problem(path, 'no signers: this file and the files it extends define none');
      }
      if (rule.signers !== undefined && rule.minSigners > rule.signers.length)
        problem(
          `${path}/minSigners`,
          `minSigners ${rule.minSigners} is more than the ${rule.signers.length} signer(s) allowed`,
        );
      if (r.maxAge !== undefined) {
        rule.maxAge = parseDuration(r.maxAge);
        rule.maxAgeText = r.maxAge;
      }
      if (r.select !== undefined) rule.select = r.select;
      if (r.where !== undefined) {
        const c = compileWhere(r.where);
        if (c.ok) rule.where = c.where;
        else problem(`${path}/where`, c.error);
      }
      return rule;
    };
    for (const [i, r] of (d.raw.require ?? []).entries()) {
      const rule = buildRule(r, `/require/${i}`, 1);
      if (rule) rules.push(rule);
    }
  }
  /** Every rule name (nested ones too) defined in a file of `d`'s closure. */
  const ruleVisible = (d: PolicyDoc, name: string) => {
    const home = ruleHome.get(name);
    return home !== undefined && d.closure.has(home.doc);
  };

  const exceptions: PolicyException[] = [];
  const ssdf: Record<string, string[]> = {};
  let trustedRootHome: { doc: PolicyDoc; path: string } | undefined;
  let trustedRoot: unknown;
  let requireDigest = false;
  for (const d of docs) {
    const problem = problemIn(d);
    for (const [i, e] of (d.raw.exceptions ?? []).entries()) {
      const home = ruleHome.get(e.rule);
      if (!home) problem(`/exceptions/${i}/rule`, `no rule named ${e.rule}`);
      else if (home.doc !== d)
        problem(
          `/exceptions/${i}/rule`,
          `rule ${e.rule} is defined in ${where(home.doc, home.path)}: an exception may only name a rule of its own file, so an extending policy cannot waive a base rule`,
        );
      exceptions.push({
        rule: e.rule,
        owner: e.owner,
        reason: e.reason,
        expires: parseTime(e.expires, `/exceptions/${i}/expires`, problem),
        expiresText: e.expires,
      });
    }
    for (const [task, names] of Object.entries(d.raw.ssdf ?? {})) {
      names.forEach((n, j) => {
        if (!ruleVisible(d, n)) problem(`/ssdf/${task}/${j}`, `no rule named ${n}`);
      });
      ssdf[task] = [...new Set([...(ssdf[task] ?? []), ...names])];
    }
    // The stricter wins: a file that says nothing gets the default (true).
    requireDigest ||= d.raw.requireDigest ?? true;
    if (d.raw.trust?.trustedRoot !== undefined) {
      if (trustedRootHome)
        problem(
          '/trust/trustedRoot',
          `trust.trustedRoot is already set in ${where(trustedRootHome.doc, trustedRootHome.path)}: at most one file may set it`,
        );
      else {
        trustedRootHome = { doc: d, path: '/trust/trustedRoot' };
        try {
          trustedRoot = await loadTrustedRoot(resolveIn(d.baseDir, d.raw.trust.trustedRoot));
        } catch (e) {
          problem('/trust/trustedRoot', errorMessage(e));
        }
      }
    }
  }
  const topDoc = docs[docs.length - 1] as PolicyDoc;
  if (signers.length === 0 && problems.length === 0)
    problemIn(topDoc)('/', 'no trust.signers here or in the files this policy extends');
  if (rules.length === 0 && problems.length === 0)
    problemIn(topDoc)('/', 'no require rules here or in the files this policy extends');

  if (problems.length > 0) return { ok: false, problems: sortProblems(problems) };
  const raw = topDoc.raw;
  const policy: Policy = {
    name: raw.metadata?.name ?? source,
    source,
    digest: `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`,
    requireDigest,
    trust: { signers },
    require: rules,
    exceptions,
    ssdf,
  };
  if (docs.length > 1)
    policy.extends = docs
      .slice(0, -1)
      .map((d) => ({ file: d.file as string, digest: d.digest }))
      .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  if (raw.metadata?.description !== undefined) policy.description = raw.metadata.description;
  if (trustedRoot !== undefined) policy.trust.trustedRoot = trustedRoot;
  return { ok: true, policy };
}

/** One policy file of a merged set, read and checked against the schema. */
interface PolicyDoc {
  raw: RawPolicy;
  /** Line and column of a JSON pointer in this file. */
  locate: (pointer: string) => { line?: number; column?: number };
  /** Path relative to the root (undefined for the top-level policy). */
  file: string | undefined;
  /** Directory of the file: its relative paths resolve against it. */
  baseDir: string;
  /** `sha256:<hex>` of the file's bytes. */
  digest: string;
  /** The file itself and every file it extends, transitively. */
  closure: Set<PolicyDoc>;
}

type ReadDocument = { ok: true; doc: PolicyDoc } | { ok: false; problems: PolicyProblem[] };

/** YAML and schema checks for one file; `file` names it in problems. */
function readDocument(text: string, file: string | undefined, baseDir: string): ReadDocument {
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: true,
    version: '1.2',
    schema: 'core',
  });
  const inFile = file !== undefined ? { file } : {};
  const problems: PolicyProblem[] = [];
  const at = (offset: number | undefined) => {
    if (offset === undefined) return {};
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  for (const e of doc.errors) {
    problems.push({
      ...inFile,
      path: '/',
      ...at(e.pos[0]),
      message: `YAML: ${e.message.split('\n')[0]}`,
    });
  }
  if (problems.length > 0) return { ok: false, problems };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    return { ok: false, problems: [{ ...inFile, path: '/', message: `YAML: ${errorMessage(e)}` }] };
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
  for (const p of validateSchema(value))
    problems.push({ ...inFile, path: p.pointer, ...locate(p.pointer), message: p.message });
  if (problems.length > 0) return { ok: false, problems };
  const d: PolicyDoc = {
    raw: value as RawPolicy,
    locate,
    file,
    baseDir,
    digest: `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`,
    closure: new Set(),
  };
  d.closure.add(d);
  return { ok: true, doc: d };
}

type LoadExtends = { ok: true; docs: PolicyDoc[] } | { ok: false; problems: PolicyProblem[] };

/**
 * Follows `extends` from the top-level policy: each path relative to the
 * file that names it, inside `root` (symbolic links resolved), pinned by the
 * sha256 of its bytes; a cycle, more than {@link MAX_EXTENDS_DEPTH} levels or
 * more than {@link MAX_EXTENDS_FILES} files is an error. Returns the files
 * bases-first, the top-level policy last.
 */
async function loadExtends(top: PolicyDoc, source: string, root: string): Promise<LoadExtends> {
  if (top.raw.extends === undefined) return { ok: true, docs: [top] };
  const problems: PolicyProblem[] = [];
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch (e) {
    return {
      ok: false,
      problems: [{ path: '/', message: `policy root ${root}: ${errorMessage(e)}` }],
    };
  }
  const order: PolicyDoc[] = [];
  const byPath = new Map<string, PolicyDoc>();
  // The top-level file, when it is a file under the root, is on the stack by its real path.
  let topReal = '<top>';
  if (isAbsolute(source)) {
    try {
      topReal = realpathSync(source);
    } catch {}
  }
  const visit = (d: PolicyDoc, real: string, stack: string[]) => {
    const problem = (path: string, message: string) =>
      problems.push({
        ...(d.file !== undefined ? { file: d.file } : {}),
        path,
        ...d.locate(path),
        message,
      });
    for (const [i, entry] of (d.raw.extends ?? []).entries()) {
      const at = `/extends/${i}`;
      if (isAbsolute(entry.path) || /^[A-Za-z]:[\\/]/.test(entry.path)) {
        problem(`${at}/path`, `${entry.path} is absolute: extends paths are relative to the file`);
        continue;
      }
      const target = resolve(d.baseDir, entry.path);
      let targetReal: string;
      try {
        targetReal = realpathSync(target);
      } catch (e) {
        problem(
          `${at}/path`,
          `cannot read ${entry.path}: ${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}`,
        );
        continue;
      }
      const rel = relative(realRoot, targetReal);
      if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
        problem(
          `${at}/path`,
          `${entry.path} is outside the policy root (the top-level policy's directory)`,
        );
        continue;
      }
      if (targetReal === real || stack.includes(targetReal)) {
        const chain = [...stack, real, targetReal].map((p) =>
          p === '<top>' ? '<inline>' : relative(realRoot, p) || p,
        );
        problem(`${at}/path`, `extends cycle: ${chain.join(' → ')}`);
        continue;
      }
      if (stack.length + 1 > MAX_EXTENDS_DEPTH) {
        problem(`${at}/path`, `extends nested more than ${MAX_EXTENDS_DEPTH} deep`);
        continue;
      }
      let bytes: Buffer;
      try {
        if (statSync(targetReal).size > MAX_POLICY_BYTES) {
          problem(`${at}/path`, `${entry.path} is larger than 1 MiB`);
          continue;
        }
        bytes = readFileSync(targetReal);
      } catch (e) {
        problem(
          `${at}/path`,
          `cannot read ${entry.path}: ${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}`,
        );
        continue;
      }
      const actual = createHash('sha256').update(bytes).digest('hex');
      if (actual !== entry.sha256.toLowerCase()) {
        problem(
          `${at}/sha256`,
          `${entry.path} has sha256 ${actual}, not the pinned ${entry.sha256.toLowerCase()}: the base policy changed; review it and update the pin`,
        );
        continue;
      }
      let base = byPath.get(targetReal);
      if (!base) {
        if (byPath.size + 1 >= MAX_EXTENDS_FILES) {
          problem(`${at}/path`, `more than ${MAX_EXTENDS_FILES} policy files in one policy`);
          continue;
        }
        const read = readDocument(bytes.toString('utf8'), rel, dirname(targetReal));
        if (!read.ok) {
          problems.push(...read.problems);
          continue;
        }
        base = read.doc;
        byPath.set(targetReal, base);
        visit(base, targetReal, [...stack, real]);
        order.push(base);
      }
      for (const x of base.closure) d.closure.add(x);
    }
  };
  visit(top, topReal, []);
  if (problems.length > 0) return { ok: false, problems };
  order.push(top);
  return { ok: true, docs: order };
}

function buildSigner(
  s: RawSigner,
  path: string,
  baseDir: string,
  problem: Problem,
): SignerSpec | undefined {
  const validity = parseValidity(s, path, problem);
  if ((s.key === undefined) === (s.keyless === undefined)) {
    problem(path, 'give exactly one of key and keyless');
    return undefined;
  }
  if (s.key !== undefined) {
    const key = loadKey(s.key, baseDir, `${path}/key`, problem);
    return key ? { name: s.name, kind: 'key', key, ...validity } : undefined;
  }
  const k = s.keyless as RawKeyless;
  if ((k.subject === undefined) === (k.subjectRegExp === undefined)) {
    problem(`${path}/keyless`, 'give exactly one of subject and subjectRegExp');
    return undefined;
  }
  if (k.subjectRegExp !== undefined) {
    try {
      new RegExp(k.subjectRegExp, 'u');
    } catch (e) {
      problem(
        `${path}/keyless/subjectRegExp`,
        `not a valid regular expression: ${errorMessage(e)}`,
      );
      return undefined;
    }
  }
  const spec: SignerSpec = { name: s.name, kind: 'keyless', issuer: k.issuer, ...validity };
  if (k.subject !== undefined) spec.subject = k.subject;
  if (k.subjectRegExp !== undefined) spec.subjectRegExp = k.subjectRegExp;
  if (k.repository !== undefined) spec.repository = k.repository;
  if (k.ref !== undefined) spec.ref = k.ref;
  return spec;
}

/** What makes two signer definitions the same signer: the key (by key id) or identity, and validity. */
function canonicalSigner(spec: SignerSpec): string {
  const flat: Record<string, unknown> =
    spec.kind === 'key' ? { ...spec, key: spec.key.keyid } : { ...spec };
  return JSON.stringify(
    Object.keys(flat)
      .sort()
      .map((k) => [k, flat[k]]),
  );
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
  select?: 'all' | 'newest';
  anyOf?: RawRule[];
  allOf?: RawRule[];
}
interface RawPolicy {
  extends?: Array<{ path: string; sha256: string }>;
  metadata?: { name?: string; description?: string };
  requireDigest?: boolean;
  trust?: { trustedRoot?: string; signers: RawSigner[] };
  require?: RawRule[];
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
    (a, b) =>
      (a.file ?? '').localeCompare(b.file ?? '') ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.column ?? 0) - (b.column ?? 0),
  );
}

/**
 * `file:line:col: /path: message`, one problem per line. A problem in a file
 * the policy extends is named by that file, beside `source`'s directory.
 */
export function formatProblems(source: string, problems: readonly PolicyProblem[]): string {
  return problems
    .map((p) => {
      const file =
        p.file === undefined
          ? source
          : dirname(source) === '.'
            ? p.file
            : join(dirname(source), p.file);
      return `${file}${p.line ? `:${p.line}:${p.column ?? 1}` : ''}: ${p.path}: ${p.message}\n`;
    })
    .join('');
}
