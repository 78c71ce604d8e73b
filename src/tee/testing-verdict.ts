// Test support (not a test file): reading a TeeVerdict's checks and
// tampering with evidence bytes, for the verifier tests.
import type { TeeVerdict } from './verifier.ts';

/** Names of the checks that failed (warnings are not failures), sorted. */
export const failed = (v: TeeVerdict): string[] =>
  v.checks
    .filter((c) => !c.ok && c.level !== 'warning')
    .map((c) => c.name)
    .sort();

/** The check of this name, if the verdict has one. */
export const check = (v: TeeVerdict, name: string) => v.checks.find((c) => c.name === name);

/** A copy of `buf` with the lowest bit of the byte at `offset` flipped. */
export function flip(buf: Buffer, offset: number): Buffer {
  const b = Buffer.from(buf);
  b[offset] = (b[offset] as number) ^ 0x01;
  return b;
}
