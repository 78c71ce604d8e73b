import { VouchError } from '../../core/errors.ts';
import type { Artifacts, Link } from './model.ts';

/**
 * One artifact rule of in-toto metadata v0.9 (spec §4.3.3), unpacked once.
 * `text` keeps the rule as the layout wrote it, for messages.
 */
export type ArtifactRule =
  | {
      type: 'match';
      pattern: string;
      sourcePrefix: string;
      destType: 'materials' | 'products';
      destPrefix: string;
      destName: string;
      text: string;
    }
  | {
      type: 'create' | 'delete' | 'modify' | 'allow' | 'disallow' | 'require';
      pattern: string;
      text: string;
    };

const GENERIC = new Set(['create', 'delete', 'modify', 'allow', 'disallow', 'require']);

/**
 * Parses a rule list the way in-toto's rulelib.unpack_rule does: keywords are
 * case-insensitive, patterns and names are kept as written.
 *
 * @throws VouchError JSON_MALFORMED naming the rule
 */
export function parseRule(rule: string[], source: string, field: string): ArtifactRule {
  const text = rule.join(' ');
  const lower = rule.map((r) => r.toLowerCase());
  const bad = (why: string) =>
    new VouchError('JSON_MALFORMED', `in-toto artifact rule ${JSON.stringify(text)}: ${why}`, {
      file: source,
      field,
    });
  const kind = lower[0] ?? '';
  const pattern = rule[1];
  if (rule.length < 2 || pattern === undefined || !(GENERIC.has(kind) || kind === 'match')) {
    throw bad(
      'must start with MATCH, CREATE, DELETE, MODIFY, ALLOW, DISALLOW or REQUIRE and a pattern',
    );
  }
  if (kind !== 'match') {
    if (rule.length !== 2) throw bad(`${kind.toUpperCase()} takes exactly one pattern`);
    return { type: kind as 'create', pattern, text };
  }
  let sourcePrefix = '';
  let destPrefix = '';
  let destType: string;
  let destName: string;
  const at = (i: number) => rule[i] as string;
  if (
    rule.length === 10 &&
    lower[2] === 'in' &&
    lower[4] === 'with' &&
    lower[6] === 'in' &&
    lower[8] === 'from'
  ) {
    sourcePrefix = at(3);
    destType = lower[5] as string;
    destPrefix = at(7);
    destName = at(9);
  } else if (rule.length === 8 && lower[2] === 'in' && lower[4] === 'with' && lower[6] === 'from') {
    sourcePrefix = at(3);
    destType = lower[5] as string;
    destName = at(7);
  } else if (rule.length === 8 && lower[2] === 'with' && lower[4] === 'in' && lower[6] === 'from') {
    destType = lower[3] as string;
    destPrefix = at(5);
    destName = at(7);
  } else if (rule.length === 6 && lower[2] === 'with' && lower[4] === 'from') {
    destType = lower[3] as string;
    destName = at(5);
  } else {
    throw bad(
      'expected MATCH <pattern> [IN <source-prefix>] WITH (MATERIALS|PRODUCTS) [IN <destination-prefix>] FROM <step>',
    );
  }
  if (destType !== 'materials' && destType !== 'products') {
    throw bad('the destination must be MATERIALS or PRODUCTS');
  }
  return { type: 'match', pattern, sourcePrefix, destType, destPrefix, destName, text };
}

/**
 * Python's fnmatch on POSIX, which in-toto uses: `*` matches any run of
 * characters including `/`, `?` one character, `[seq]` / `[!seq]` a set;
 * case-sensitive.
 */
export function fnmatch(name: string, pattern: string): boolean {
  return fnmatchRegExp(pattern).test(name);
}

const cache = new Map<string, RegExp>();

function fnmatchRegExp(pattern: string): RegExp {
  const hit = cache.get(pattern);
  if (hit) return hit;
  // Code points, as Python indexes and compares str characters.
  const pat = [...pattern];
  const n = pat.length;
  let re = '';
  let i = 0;
  while (i < n) {
    const c = pat[i++] as string;
    if (c === '*') re += '[\\s\\S]*';
    else if (c === '?') re += '[\\s\\S]';
    else if (c === '[') {
      let j = i;
      if (pat[j] === '!') j++;
      if (pat[j] === ']') j++;
      while (j < n && pat[j] !== ']') j++;
      if (j >= n) {
        re += '\\[';
      } else {
        re += setRegExp(pat, i, j);
        i = j + 1;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, (x) => `\\${x}`);
  }
  const out = new RegExp(`^${re}$`, 'u');
  if (cache.size > 1000) cache.clear();
  cache.set(pattern, out);
  return out;
}

/**
 * The set `pat[i..j)` (between `[` and `]`) as Python 3.11's fnmatch.translate
 * makes it: split at range hyphens, drop reversed ranges (`[z-a]` is empty,
 * not an error), escape the rest; an empty set matches nothing and `[!]` of
 * an empty set any one character.
 */
function setRegExp(pat: readonly string[], i: number, j: number): string {
  const slice = (a: number, b: number) => pat.slice(a, b).join('');
  const chunks: string[] = [];
  let k = pat[i] === '!' ? i + 2 : i + 1;
  for (;;) {
    k = pat.indexOf('-', k);
    if (k < 0 || k >= j) break;
    chunks.push(slice(i, k));
    i = k + 1;
    k += 3;
  }
  const last = slice(i, j);
  if (last !== '') chunks.push(last);
  else chunks[chunks.length - 1] += '-';
  for (let m = chunks.length - 1; m > 0; m--) {
    const prev = [...(chunks[m - 1] as string)];
    const cur = [...(chunks[m] as string)];
    if ((prev.at(-1) as string) > (cur[0] as string)) {
      chunks[m - 1] = prev.slice(0, -1).join('') + cur.slice(1).join('');
      chunks.splice(m, 1);
    }
  }
  const stuff = chunks.map((ch) => ch.replace(/[\\\-\][^]/g, (x) => `\\${x}`)).join('-');
  if (stuff === '') return '(?!)';
  if (stuff === '!') return '[\\s\\S]';
  return stuff.startsWith('!') ? `[^${stuff.slice(1)}]` : `[${stuff}]`;
}

/** What applying one item's rules found. */
export interface RuleOutcome {
  /** Every rule that failed, with why; empty when the rules passed. */
  failures: string[];
  /** Artifacts left in the queue after the last rule (neither consumed nor disallowed). */
  remaining: string[];
}

function joinPrefix(prefix: string, path: string): string {
  // os.path.join(prefix, path) with `\` turned into `/`, as in-toto does.
  if (prefix === '') return path;
  const p = prefix.replace(/\\/g, '/');
  return p.endsWith('/') ? `${p}${path}` : `${p}/${path}`;
}

function sameDigests(a: Record<string, string> | undefined, b: Record<string, string> | undefined) {
  if (!a || !b) return false;
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}

/**
 * Applies an item's material or product rules with the queue semantics of
 * the spec (§5.3) and in-toto's verifylib: every artifact starts in the
 * queue, each rule consumes what it authorizes, DISALLOW fails on anything
 * still queued that it matches, REQUIRE fails when its file is not queued.
 * Unlike the reference tool, a failing rule does not stop the others: every
 * failure is reported.
 *
 * @param links the one (reduced) link per step or inspection name, for MATCH
 */
export function applyRules(
  item: string,
  kind: 'materials' | 'products',
  rules: readonly ArtifactRule[],
  link: Link,
  links: ReadonlyMap<string, Link>,
): RuleOutcome {
  const artifacts: Artifacts = link[kind];
  const materials = new Set(Object.keys(link.materials));
  const products = new Set(Object.keys(link.products));
  const queue = new Set(Object.keys(artifacts));
  const failures: string[] = [];
  for (const rule of rules) {
    const matching = [...queue].filter((p) => fnmatch(p, rule.pattern));
    let consumed: string[] = [];
    switch (rule.type) {
      case 'match':
        consumed = matchRule(rule, queue, artifacts, links);
        break;
      case 'create':
        consumed = matching.filter((p) => products.has(p) && !materials.has(p));
        break;
      case 'delete':
        consumed = matching.filter((p) => materials.has(p) && !products.has(p));
        break;
      case 'modify':
        consumed = matching.filter(
          (p) =>
            materials.has(p) &&
            products.has(p) &&
            !sameDigests(link.materials[p], link.products[p]),
        );
        break;
      case 'allow':
        consumed = matching;
        break;
      case 'disallow':
        if (matching.length > 0) {
          failures.push(
            `${item} expected_${kind}: '${rule.text}' matched ${list(matching.sort())}`,
          );
        }
        break;
      case 'require':
        // REQUIRE takes a literal file name, not a pattern (in-toto issues #152, #193).
        if (!queue.has(rule.pattern)) {
          failures.push(`${item} expected_${kind}: '${rule.text}' did not find ${rule.pattern}`);
        }
        break;
      default:
        assertNever(rule);
    }
    for (const p of consumed) queue.delete(p);
  }
  return { failures, remaining: [...queue].sort() };
}

function matchRule(
  rule: Extract<ArtifactRule, { type: 'match' }>,
  queue: ReadonlySet<string>,
  source: Artifacts,
  links: ReadonlyMap<string, Link>,
): string[] {
  const dest = links.get(rule.destName);
  if (!dest) return [];
  const destArtifacts = dest[rule.destType];
  const prefix = rule.sourcePrefix === '' ? '' : joinPrefix(rule.sourcePrefix, '');
  const consumed: string[] = [];
  for (const full of queue) {
    if (prefix !== '' && !full.startsWith(prefix)) continue;
    const rel = full.slice(prefix.length);
    if (!fnmatch(rel, rule.pattern)) continue;
    const destPath = joinPrefix(rule.destPrefix, rel);
    if (sameDigests(source[full], destArtifacts[destPath])) consumed.push(full);
  }
  return consumed;
}

function list(paths: string[]): string {
  const shown = paths.slice(0, 10).join(', ');
  return paths.length > 10 ? `${shown} and ${paths.length - 10} more` : shown;
}

function assertNever(x: never): never {
  throw new Error(`unreachable: ${JSON.stringify(x)}`);
}
