import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { VouchError } from '../core/errors.ts';
import { evaluatePolicy, type PolicyVerdict } from './evaluate.ts';
import type { Policy } from './model.ts';

/**
 * Fixture layout for `vouch policy test` (see docs/policy/testing.md):
 *
 * ```
 * DIR/<case>/case.yaml          expect: allow|deny, subject: sha256:HEX, now: RFC 3339 (optional)
 * DIR/<case>/*.sigstore.json    the evidence offered for that subject
 * ```
 */
export interface FixtureCase {
  name: string;
  expect: 'allow' | 'deny';
  subject: string;
  now?: string;
}

export interface FixtureResult {
  name: string;
  expect: 'allow' | 'deny';
  got: 'allow' | 'deny';
  ok: boolean;
  verdict: PolicyVerdict;
}

const CASE_FIELDS = new Set(['expect', 'subject', 'now', 'description']);

/**
 * Runs a policy against every fixture case under `dir`, in name order.
 *
 * @throws VouchError USAGE when the directory or a case.yaml is malformed.
 */
export async function runFixtures(policy: Policy, dir: string): Promise<FixtureResult[]> {
  const bad = (message: string, file?: string) => new VouchError('USAGE', message, { file });
  let entries: string[];
  try {
    entries = (await readdir(dir, { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch (e) {
    throw bad(`cannot read fixtures directory: ${(e as NodeJS.ErrnoException).code ?? e}`, dir);
  }
  if (entries.length === 0) throw bad('no fixture cases (subdirectories with a case.yaml)', dir);
  const results: FixtureResult[] = [];
  for (const name of entries) {
    const caseDir = join(dir, name);
    const file = join(caseDir, 'case.yaml');
    let raw: unknown;
    try {
      raw = parseYaml(await readFile(file, 'utf8'), { maxAliasCount: 10 });
    } catch (e) {
      throw bad(`cannot read case.yaml: ${(e as Error).message.split('\n')[0]}`, file);
    }
    const c = raw as Record<string, unknown>;
    if (typeof c !== 'object' || c === null) throw bad('not a mapping', file);
    for (const k of Object.keys(c)) if (!CASE_FIELDS.has(k)) throw bad(`unknown field ${k}`, file);
    if (c.expect !== 'allow' && c.expect !== 'deny')
      throw bad('expect must be allow or deny', file);
    if (typeof c.subject !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(c.subject))
      throw bad('subject must be sha256:<64 lower-case hex>', file);
    const now = c.now === undefined ? new Date() : new Date(String(c.now));
    if (Number.isNaN(now.getTime())) throw bad('now must be an RFC 3339 time', file);
    const bundles = [];
    for (const f of (await readdir(caseDir)).filter((f) => f.endsWith('.sigstore.json')).sort()) {
      bundles.push({ source: `${name}/${f}`, json: await readFile(join(caseDir, f), 'utf8') });
    }
    const verdict = evaluatePolicy(policy, { subjectDigest: c.subject, bundles, now });
    results.push({
      name,
      expect: c.expect,
      got: verdict.decision,
      ok: verdict.decision === c.expect,
      verdict,
    });
  }
  return results;
}
