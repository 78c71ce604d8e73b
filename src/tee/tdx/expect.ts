/**
 * TDX checks of quote fields against values the caller expects, as
 * go-tdx-guest's `check` tool makes them: a minimum TEE_TCB_SVN (byte by
 * byte, never as one integer), minimum QE and PCE SVNs,
 * MRCONFIGID / MROWNER / MROWNERCONFIG, RTMR0–3 and TDATTRIBUTES. Each
 * expectation the caller set is one check naming the field, with the
 * expected and the actual value; an expectation not set is not a check.
 */
import type { TeeCheck, TeePolicyOptions } from '../verifier.ts';
import type { TdxQuote } from './quote.ts';

const hex = (b: Buffer) => b.toString('hex');

/** TDATTRIBUTES bits by name (TDX module ABI), for readable differences. */
const TD_ATTRIBUTE_BITS: ReadonlyArray<[number, string]> = [
  [0, 'DEBUG'],
  [28, 'SEPT_VE_DISABLE'],
  [29, 'MIGRATABLE'],
  [30, 'PKS'],
  [31, 'KL'],
  [63, 'PERFMON'],
];

/**
 * `pceSvn` is the PCK certificate's PCESVN. The QE SVN checked is the QE
 * report's ISVSVN (signed with the PCK), not the quote header's QE SVN / PCE
 * SVN fields, which v4 quotes leave reserved (zero).
 */
export function tdxExpectationChecks(
  quote: TdxQuote,
  pceSvn: number,
  policy: TeePolicyOptions,
): TeeCheck[] {
  const checks: TeeCheck[] = [];
  const add = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  const body = quote.body;

  if (policy.minimumTeeTcbSvn !== undefined) {
    const min = Buffer.from(policy.minimumTeeTcbSvn, 'hex');
    const got = body.teeTcbSvn;
    const below: string[] = [];
    for (let i = 0; i < got.length; i++) {
      const w = min[i] ?? 0;
      if ((got[i] as number) < w) below.push(`SVN[${i}] ${got[i]} < ${w}`);
    }
    add(
      'tee-tcb-svn',
      below.length === 0 && min.length === got.length,
      min.length !== got.length
        ? `the minimum has ${min.length} bytes, TEE_TCB_SVN ${got.length}`
        : below.length === 0
          ? `TEE_TCB_SVN ${hex(got)} meets the minimum ${hex(min)} in every component`
          : `TEE_TCB_SVN ${hex(got)} is below the minimum ${hex(min)}: ${below.join(', ')}`,
    );
  }
  for (const [name, field, min, got] of [
    ['qe-svn', 'QE ISVSVN (QE report)', policy.minimumQeSvn, quote.qeReport.isvSvn],
    ['pce-svn', 'PCESVN (PCK certificate)', policy.minimumPceSvn, pceSvn],
  ] as const) {
    if (min === undefined) continue;
    const ok = got >= min;
    add(name, ok, `${field} is ${got}, minimum ${min}${ok ? '' : ': too old'}`);
  }
  for (const [name, field, want, got] of [
    ['mr-config-id', 'MRCONFIGID', policy.mrConfigId, body.mrConfigId],
    ['mr-owner', 'MROWNER', policy.mrOwner, body.mrOwner],
    ['mr-owner-config', 'MROWNERCONFIG', policy.mrOwnerConfig, body.mrOwnerConfig],
  ] as const) {
    if (want === undefined) continue;
    const ok = want.toLowerCase() === hex(got);
    add(name, ok, ok ? `${field} is ${hex(got)}` : `${field} is ${hex(got)}, expected ${want}`);
  }
  for (const [i, want] of (policy.rtmrs ?? []).entries()) {
    if (want === undefined) continue;
    const got = body.rtmrs[i];
    const ok = got !== undefined && want.toLowerCase() === hex(got);
    add(
      `rtmr-${i}`,
      ok,
      got === undefined
        ? `the quote has no RTMR${i}`
        : ok
          ? `RTMR${i} is ${hex(got)}`
          : `RTMR${i} is ${hex(got)}, expected ${want}`,
    );
  }
  if (policy.tdAttributes !== undefined) {
    const got = body.tdAttributes;
    const want = Buffer.from(policy.tdAttributes, 'hex');
    const ok = want.equals(got);
    add(
      'td-attributes',
      ok,
      ok
        ? `TDATTRIBUTES is ${hex(got)}${describeBits(got)}`
        : `TDATTRIBUTES is ${hex(got)}${describeBits(got)}, expected ${hex(want)}${describeBits(want)}`,
    );
  }
  return checks;
}

/** " (PKS, SEPT_VE_DISABLE)" for the named bits set in a little-endian TDATTRIBUTES. */
function describeBits(attrs: Buffer): string {
  if (attrs.length !== 8) return '';
  const v = attrs.readBigUInt64LE(0);
  const names = TD_ATTRIBUTE_BITS.filter(([bit]) => (v >> BigInt(bit)) & 1n).map(([, n]) => n);
  return names.length ? ` (${names.join(', ')})` : ' (no named bit set)';
}
