/**
 * Test helpers for the JavaScript lockfile readers: a SourceFile over a real
 * file, the shared bench oracles run as child processes, and set comparison.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isVouchError, type VouchError } from '../../core/errors.ts';
import type { ReaderResult } from '../model.ts';
import type { Reader } from '../reader.ts';
import { npmKey } from './js-common.ts';

export { SHARED } from '../../../test/shared.ts';

import { SHARED } from '../../../test/shared.ts';
export const BENCH_LOCKFILES = join(SHARED, 'bench', 'lockfiles');
export { VECTORS } from './polyglot-testkit.ts';
export const SIZES = ['small', 'medium', 'large', 'huge'] as const;

// SourceFiles over a real file or over bytes: the same as every reader test uses.
import { fileOf } from './polyglot-testkit.ts';

export { fileAt as sourceFromPath, fileOf as sourceFromText } from './polyglot-testkit.ts';

/**
 * The error `reader` throws on `text` read as the file `name`; the test fails
 * unless there is one and it is a VouchError naming that file.
 */
export async function readFailure(
  reader: Reader,
  name: string,
  text: string,
  assert: typeof import('node:assert/strict'),
): Promise<VouchError> {
  try {
    await reader.read(fileOf(name, text));
  } catch (e) {
    assert.ok(isVouchError(e), String(e));
    assert.equal(e.file, name);
    return e;
  }
  assert.fail('no error');
}

const run = promisify(execFile);

/** Runs `../shared/bench/<script> <dir> [args…]` and returns its `name@version` lines. */
export async function oracle(
  script: string,
  dir: string,
  args: string[] = [],
): Promise<Set<string>> {
  for (let attempt = 0; ; attempt++) {
    const { stdout } = await run(process.execPath, [join(SHARED, 'bench', script), dir, ...args], {
      maxBuffer: 1 << 28,
    });
    const lines = stdout.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    // `npm ls` has been seen to print nothing once under load; ask again.
    if (lines.length > 0 || attempt >= 2) return new Set(lines);
  }
}

/** Unique `name@version` of the components, optionally only those passing `keep`. */
export function keys(
  result: ReaderResult,
  keep: (c: ReaderResult['components'][number]) => boolean = () => true,
): Set<string> {
  return new Set(result.components.filter(keep).map(npmKey));
}

export function difference(a: Set<string>, b: Set<string>): string[] {
  return [...a].filter((x) => !b.has(x)).sort();
}

/** The accounting identity every reader must keep. */
export function identityHolds(r: ReaderResult): boolean {
  const a = r.accounting;
  return (
    a.declared === a.emitted + a.merged + a.skipped.length && a.emitted === r.components.length
  );
}

/** Non-workspace components: what the oracles list (they leave the projects out). */
export function packageKeys(result: ReaderResult): Set<string> {
  return keys(result, (c) => c.source?.kind !== 'workspace');
}

/** Every skipped entry says why, and the identity holds. */
export function assertAccounting(
  r: ReaderResult,
  assert: typeof import('node:assert/strict'),
): void {
  assert.ok(
    identityHolds(r),
    `accounting identity: ${JSON.stringify({ ...r.accounting, skipped: r.accounting.skipped.length })}`,
  );
  for (const s of r.accounting.skipped)
    assert.ok(s.reason.trim() !== '', `skipped ${s.entry} without a reason`);
}

/** Reads a lockfile from disk and compares it with an oracle's set, printing the differences on failure. */
export function sameSet(
  mine: Set<string>,
  expected: Set<string>,
  assert: typeof import('node:assert/strict'),
  what: string,
): void {
  const missing = difference(expected, mine);
  const extra = difference(mine, expected);
  assert.deepEqual(
    {
      missing: missing.slice(0, 20),
      extra: extra.slice(0, 20),
      counts: [mine.size, expected.size],
    },
    { missing: [], extra: [], counts: [expected.size, expected.size] },
    what,
  );
}
