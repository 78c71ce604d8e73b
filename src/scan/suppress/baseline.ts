import { readFile } from 'node:fs/promises';
import { errorMessage, VouchError } from '../../core/errors.ts';
import { isObject, parseJson } from '../../core/json.ts';
import type { ReportedFinding, SuppressedFinding } from './apply.ts';

/** The baseline file `vouch scan` reads from the scanned directory when present. */
export const BASELINE_FILE = '.vouch-scan-baseline.json';

/**
 * An accepted finding: matched by rule, file and fingerprint (not by line, so
 * edits elsewhere in the file keep it accepted; a changed secret does not).
 */
export interface BaselineEntry {
  ruleId: string;
  file: string;
  fingerprint: string;
  justification: string;
}

export interface Baseline {
  source: string;
  entries: BaselineEntry[];
}

const ENTRY_FIELDS = ['ruleId', 'file', 'fingerprint', 'justification'];

/**
 * Parses a baseline: `{ "version": 1, "findings": [ { ruleId, file,
 * fingerprint, justification } ] }`. Strict: unknown fields, a missing or
 * empty justification and a malformed fingerprint are errors.
 *
 * @throws VouchError SCAN_BASELINE_MALFORMED | JSON_*
 */
export function parseBaseline(text: string, source: string): Baseline {
  const value = parseJson(text, source, { maxBytes: 16 * 1024 * 1024 });
  const bad = (field: string, message: string) =>
    new VouchError('SCAN_BASELINE_MALFORMED', message, { file: source, field });
  if (!isObject(value)) throw bad('/', 'must be a JSON object');
  for (const k of Object.keys(value)) {
    if (k !== 'version' && k !== 'findings') throw bad(`/${k}`, 'unknown field');
  }
  if (value.version !== 1) throw bad('/version', 'must be 1');
  if (!Array.isArray(value.findings)) throw bad('/findings', 'must be an array');
  const entries = value.findings.map((e, i): BaselineEntry => {
    const at = `/findings/${i}`;
    if (!isObject(e)) throw bad(at, 'must be an object');
    for (const k of Object.keys(e)) {
      if (!ENTRY_FIELDS.includes(k)) throw bad(`${at}/${k}`, 'unknown field');
    }
    for (const k of ENTRY_FIELDS) {
      const v = e[k];
      if (typeof v !== 'string' || v.trim() === '') {
        throw bad(
          `${at}/${k}`,
          k === 'justification'
            ? 'every accepted finding needs a justification'
            : 'must be a non-empty string',
        );
      }
    }
    if (!/^[0-9a-f]{16}$/.test(e.fingerprint as string)) {
      throw bad(`${at}/fingerprint`, 'must be 16 lower-case hex characters');
    }
    return e as unknown as BaselineEntry;
  });
  return { source, entries };
}

/**
 * @throws VouchError FILE_NOT_FOUND | FILE_READ | SCAN_BASELINE_MALFORMED | JSON_*
 */
export async function readBaseline(path: string): Promise<Baseline> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new VouchError('FILE_NOT_FOUND', 'no such file', { file: path });
    }
    throw new VouchError('FILE_READ', `cannot read: ${errorMessage(e)}`, { file: path, cause: e });
  }
  return parseBaseline(text, path);
}

/**
 * Moves baselined findings to suppressed; returns the entries that matched
 * nothing (stale). `alias` gives a finding's older name (file and
 * fingerprint), tried when its own matches no entry.
 */
export function applyBaseline(
  findings: readonly ReportedFinding[],
  baseline: Baseline,
  alias?: (f: ReportedFinding) => { file: string; fingerprint: string },
): { kept: ReportedFinding[]; suppressed: SuppressedFinding[]; unused: BaselineEntry[] } {
  const key = (e: { ruleId: string; file: string; fingerprint: string }) =>
    `${e.ruleId}\0${e.file}\0${e.fingerprint}`;
  const byKey = new Map(baseline.entries.map((e) => [key(e), e]));
  const used = new Set<string>();
  const kept: ReportedFinding[] = [];
  const suppressed: SuppressedFinding[] = [];
  for (const f of findings) {
    const e =
      byKey.get(key(f)) ?? (alias ? byKey.get(key({ ...alias(f), ruleId: f.ruleId })) : undefined);
    if (e) {
      used.add(key(e));
      suppressed.push({ ...f, suppression: { kind: 'baseline', justification: e.justification } });
    } else kept.push(f);
  }
  return { kept, suppressed, unused: baseline.entries.filter((e) => !used.has(key(e))) };
}
