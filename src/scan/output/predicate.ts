import { makeStatement, type Statement, type Subject } from '../../core/statement.ts';
import type { ScanResult } from '../engine/index.ts';
import { countBySeverity } from './summary.ts';
import { packageVersion } from './version.ts';

/** Predicate type of signed scan findings; schema in schemas/scan-findings-v1.json. */
export const SCAN_PREDICATE_TYPE = 'https://vouch.dev/attestation/scan/v1';

/** What was scanned, as the predicate records it. */
export interface ScannedTarget {
  kind: 'git' | 'directory' | 'file' | 'stdin' | 'artifact';
  /** Directory or file name, or `-`. */
  name: string;
  /** For a git target: the commit scanned (HEAD) and whether the work tree had changes. */
  commit?: string;
  dirty?: boolean;
  /** For a directory inside a git repository: its path from the repository root. */
  path?: string;
}

export interface ScanPredicate {
  scanner: { name: 'vouch'; version: string; kinds: string[]; rules: number };
  target: ScannedTarget;
  scannedAt: string;
  totals: Record<string, unknown>;
  /** True when there is no unsuppressed finding and no file went unparsed. */
  clean: boolean;
  findings: unknown[];
  suppressed: unknown[];
  parseErrors: unknown[];
}

export function scanPredicate(
  result: ScanResult,
  target: ScannedTarget,
  scannedAt: string,
): ScanPredicate {
  return {
    scanner: {
      name: 'vouch',
      version: packageVersion(),
      kinds: result.kinds,
      rules: result.rules.length,
    },
    target,
    scannedAt,
    totals: {
      ...result.totals,
      findings: result.findings.length,
      suppressed: result.suppressed.length,
      bySeverity: countBySeverity(result.findings),
    },
    clean: result.findings.length === 0 && result.parseErrors.length === 0,
    findings: result.findings,
    suppressed: result.suppressed,
    parseErrors: result.parseErrors,
  };
}

/** The in-toto Statement about `subject` (a git commit or an artifact digest). */
export function scanStatement(
  subject: Subject,
  predicate: ScanPredicate,
): Statement<ScanPredicate> {
  return makeStatement([subject], SCAN_PREDICATE_TYPE, predicate);
}
