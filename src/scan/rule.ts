/**
 * The rule interface every misconfiguration rule set implements.
 *
 * Rule ids are `<set>/<name>`, lower-case kebab-case, stable once released:
 * `docker/…` (Dockerfile/Containerfile), `k8s/…` (Kubernetes manifests),
 * `gha/…` (GitHub Actions workflows and action.yml metadata files),
 * `gitlab/…` (GitLab CI). Secret and dependency rules use `secret/…` and
 * `dep/…`. Suppressions and baselines match on these ids, so a rule is
 * never renamed, only deprecated.
 *
 * A rule set owns one file kind: it decides whether a path is its kind,
 * parses the text once into a `Doc` (throwing VouchError `SCAN_PARSE_ERROR`
 * with the file and line when the text cannot be parsed), and each rule is a
 * pure function of that Doc. Rules never read files, the network or the clock.
 */
import type { Finding, FindingCategory, Severity } from './finding.ts';
import { redact } from './secrets/scanner.ts';

export interface RuleContext {
  /** Path of the file relative to the scan root, as it goes into findings. */
  file: string;
  /** The file's text split into lines (for snippets). */
  lines: readonly string[];
}

export interface Rule<Doc> {
  /** `<set>/<name>`, e.g. `docker/unpinned-base-image`. */
  id: string;
  severity: Severity;
  /** One line, e.g. "Base image not pinned by digest". */
  title: string;
  /** Why it is a risk and how to fix it (a few sentences). */
  description: string;
  /** Where the control comes from (PSS control name, CIS id, advisory URL). */
  references?: readonly string[];
  check(doc: Doc, ctx: RuleContext): Finding[];
}

export interface RuleSet<Doc> {
  /** Short name, also the id prefix: `docker`, `k8s`, `gha`, `gitlab`. */
  name: string;
  /** Category of every finding the set produces. */
  category: FindingCategory;
  /**
   * Whether `path` (relative, `/`-separated) is this set's kind. `firstBytes`
   * (the first few KiB of text) lets content decide where the name cannot,
   * e.g. a YAML file that is a Kubernetes manifest.
   */
  matches(path: string, firstBytes?: string): boolean;
  /** @throws VouchError SCAN_PARSE_ERROR naming the file and line. */
  parse(text: string, file: string): Doc;
  rules: readonly Rule<Doc>[];
}

/** Where a finding points: 1-based line, optional column and end line. */
export interface Position {
  line: number;
  column?: number;
  endLine?: number;
}

const SNIPPET_MAX = 200;

/** `text` with every occurrence of each secret replaced by its redacted form. */
export function maskValues(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of [...secrets].sort((a, b) => b.length - a.length))
    if (s.length > 0) out = out.split(s).join(redact(s));
  return out;
}

/**
 * Builds a finding of `rule` at `at`, with the source line as snippet.
 * `extra.secrets` are values the rule found to be credentials: they are
 * masked in the snippet and the message, which go into every output.
 */
export function findingAt(
  rule: Pick<Rule<unknown>, 'id' | 'severity'>,
  ctx: RuleContext,
  at: Position,
  message: string,
  extra: {
    fix?: string;
    severity?: Severity;
    category?: FindingCategory;
    secrets?: readonly string[];
  } = {},
): Finding {
  const secrets = extra.secrets ?? [];
  const f: Finding = {
    ruleId: rule.id,
    severity: extra.severity ?? rule.severity,
    message: maskValues(message, secrets),
    file: ctx.file,
    line: at.line,
    category: extra.category ?? 'misconfiguration',
  };
  if (at.column !== undefined) f.column = at.column;
  if (at.endLine !== undefined && at.endLine !== at.line) f.endLine = at.endLine;
  const src = ctx.lines[at.line - 1];
  if (src !== undefined) {
    const t = maskValues(src.trim(), secrets);
    f.snippet = t.length > SNIPPET_MAX ? `${t.slice(0, SNIPPET_MAX)}…` : t;
  }
  if (extra.fix !== undefined) f.fix = extra.fix;
  return f;
}

/** Splits text into lines the way findings count them (\n, \r\n, \r). */
export function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

/**
 * Runs every rule of `set` on `doc`. A place reached twice (a YAML anchor
 * used by several jobs) is reported once: one finding per rule, line and
 * column. A rule that throws is a bug, not a finding.
 */
export function runRules<Doc>(set: RuleSet<Doc>, doc: Doc, ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  const seen = new Set<string>();
  for (const rule of set.rules)
    for (const f of rule.check(doc, ctx)) {
      const k = `${f.ruleId}\0${f.line}\0${f.column ?? 0}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(f);
    }
  return out;
}
