/**
 * The expected-value flags of `vouch tee verify` for SEV-SNP and TDX, named
 * after the flags of go-sev-guest's and go-tdx-guest's `check` tools
 * (`-minimum_tcb` → `--minimum-tcb`, `-mr_owner` → `--mr-owner`, …): how
 * they are declared, parsed (a malformed value is a USAGE error naming the
 * flag) and turned into TeePolicyOptions, and which platform each belongs to
 * (a flag given for another platform's evidence is a USAGE error, never
 * silently ignored).
 */
import type {
  SnpMinimumTcb,
  SnpTcbComponent,
  TeePlatform,
  TeePolicyOptions,
} from '../../tee/index.ts';
import { usage } from '../args.ts';

export const EXPECT_OPTIONS = {
  'minimum-tcb': { type: 'string' },
  vmpl: { type: 'string' },
  'minimum-guest-svn': { type: 'string' },
  'host-data': { type: 'string' },
  'family-id': { type: 'string' },
  'image-id': { type: 'string' },
  'trusted-id-key-hashes': { type: 'string', multiple: true },
  'trusted-author-key-hashes': { type: 'string', multiple: true },
  'minimum-tee-tcb-svn': { type: 'string' },
  'minimum-qe-svn': { type: 'string' },
  'minimum-pce-svn': { type: 'string' },
  'mr-config-id': { type: 'string' },
  'mr-owner': { type: 'string' },
  'mr-owner-config': { type: 'string' },
  rtmrs: { type: 'string' },
  'td-attributes': { type: 'string' },
  'tdx-accept-tcb-status': { type: 'string', multiple: true },
} as const;

type ExpectFlag = keyof typeof EXPECT_OPTIONS;

/** The platform whose evidence each flag checks. */
const PLATFORM: Record<ExpectFlag, TeePlatform> = {
  'minimum-tcb': 'sev-snp',
  vmpl: 'sev-snp',
  'minimum-guest-svn': 'sev-snp',
  'host-data': 'sev-snp',
  'family-id': 'sev-snp',
  'image-id': 'sev-snp',
  'trusted-id-key-hashes': 'sev-snp',
  'trusted-author-key-hashes': 'sev-snp',
  'minimum-tee-tcb-svn': 'tdx',
  'minimum-qe-svn': 'tdx',
  'minimum-pce-svn': 'tdx',
  'mr-config-id': 'tdx',
  'mr-owner': 'tdx',
  'mr-owner-config': 'tdx',
  rtmrs: 'tdx',
  'td-attributes': 'tdx',
  'tdx-accept-tcb-status': 'tdx',
};

export const EXPECT_HELP = `SEV-SNP expectations (each one a check; go-sev-guest check's names):
  --minimum-tcb TCB         minimum REPORTED_TCB, component-wise: bootloader=N,
                            tee=N,snp=N,microcode=N[,fmc=N] or a 64-bit TCB_VERSION
  --vmpl N                  the report's VMPL must be N (0-3)
  --minimum-guest-svn N     minimum GUEST_SVN
  --host-data HEX           HOST_DATA must equal this (32 bytes)
  --family-id HEX           FAMILY_ID must equal this (16 bytes)
  --image-id HEX            IMAGE_ID must equal this (16 bytes)
  --trusted-id-key-hashes HEX[,HEX]
                            ID_KEY_DIGEST must be one of these SHA-384s (repeatable)
  --trusted-author-key-hashes HEX[,HEX]
                            AUTHOR_KEY_DIGEST must be one of these (repeatable)
TDX expectations (go-tdx-guest check's names):
  --minimum-tee-tcb-svn HEX minimum TEE_TCB_SVN, byte by byte (16 bytes)
  --minimum-qe-svn N        minimum QE SVN (the QE report's ISVSVN)
  --minimum-pce-svn N       minimum PCE SVN (the PCK certificate's PCESVN)
  --mr-config-id HEX        MRCONFIGID must equal this (48 bytes)
  --mr-owner HEX            MROWNER must equal this (48 bytes)
  --mr-owner-config HEX     MROWNERCONFIG must equal this (48 bytes)
  --rtmrs HEX,HEX,HEX,HEX   RTMR0-3 must equal these (48 bytes each; an empty
                            entry is not checked)
  --td-attributes HEX       TDATTRIBUTES must equal this (8 bytes, as in the quote)
  --tdx-accept-tcb-status S also accept this TCB status besides UpToDate
                            (repeatable): SWHardeningNeeded, ConfigurationNeeded,
                            ConfigurationAndSWHardeningNeeded, OutOfDate,
                            OutOfDateConfigurationNeeded`;

/** TCB statuses Intel's collateral uses that a caller may accept; Revoked never is. */
export const ACCEPTABLE_TCB_STATUSES = [
  'UpToDate',
  'SWHardeningNeeded',
  'ConfigurationNeeded',
  'ConfigurationAndSWHardeningNeeded',
  'OutOfDate',
  'OutOfDateConfigurationNeeded',
] as const;

const TCB_COMPONENTS: readonly SnpTcbComponent[] = ['bootloader', 'tee', 'snp', 'microcode', 'fmc'];

type Values = Partial<Record<ExpectFlag, string | string[] | undefined>>;

const bad = (flag: string, value: string, why: string) =>
  usage('tee verify', `--${flag} ${JSON.stringify(value)}: ${why}`);

/** A non-negative integer, decimal or 0x-hex, at most `max`. */
function uint(flag: string, value: string, max: number): number {
  const n = /^0x[0-9a-f]+$/i.test(value)
    ? Number.parseInt(value.slice(2), 16)
    : /^\d+$/.test(value)
      ? Number(value)
      : Number.NaN;
  if (!Number.isSafeInteger(n) || n > max)
    throw bad(flag, value, `expected an integer from 0 to ${max}`);
  return n;
}

/** Hex of exactly `size` bytes (an optional 0x prefix), lower-cased. */
function hexOf(flag: string, value: string, size: number): string {
  const clean = value.replace(/^0x/i, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw bad(flag, value, 'is not hex');
  if (clean.length !== size * 2)
    throw bad(
      flag,
      value,
      `expected ${size} bytes (${size * 2} hex digits), got ${clean.length / 2}`,
    );
  return clean.toLowerCase();
}

/** `bootloader=3,snp=8,…` or a 64-bit TCB_VERSION (decimal or 0x-hex). */
function minimumTcb(flag: string, value: string): SnpMinimumTcb {
  if (/^(0x[0-9a-f]{1,16}|\d+)$/i.test(value)) {
    const n = BigInt(value);
    if (n >= 1n << 64n) throw bad(flag, value, 'a TCB_VERSION is 64 bits');
    return n;
  }
  const out: Partial<Record<SnpTcbComponent, number>> = {};
  for (const part of value.split(',')) {
    const m = /^([a-z]+)=(.+)$/.exec(part.trim());
    const name = TCB_COMPONENTS.find((c) => c === m?.[1]);
    if (!m || !name)
      throw bad(
        flag,
        value,
        `expected NAME=SVN pairs (${TCB_COMPONENTS.join(', ')}) separated by commas, or a 64-bit TCB_VERSION`,
      );
    if (out[name] !== undefined) throw bad(flag, value, `${name} is given twice`);
    const svn = m[2] as string;
    if (!/^\d+$/.test(svn) || Number(svn) > 255)
      throw bad(flag, value, `${name}=${svn}: an SVN is an integer from 0 to 255`);
    out[name] = Number(svn);
  }
  return out;
}

/** Comma-separated and/or repeated SHA-384 digests. */
function digests(flag: string, values: string[]): string[] {
  const out = values.flatMap((v) => v.split(',')).map((d) => d.trim());
  if (out.length === 0 || out.some((d) => d === ''))
    throw bad(flag, values.join(','), 'an empty digest');
  return out.map((d) => hexOf(flag, d, 48));
}

function rtmrs(flag: string, value: string): (string | undefined)[] {
  const parts = value.split(',').map((p) => p.trim());
  if (parts.length !== 4)
    throw bad(
      flag,
      value,
      `expected 4 comma-separated values (RTMR0-3; empty = not checked), got ${parts.length}`,
    );
  if (parts.every((p) => p === '')) throw bad(flag, value, 'every RTMR is empty');
  return parts.map((p) => (p === '' ? undefined : hexOf(flag, p, 48)));
}

function tcbStatuses(flag: string, values: string[]): string[] {
  const out = values.flatMap((v) => v.split(',')).map((s) => s.trim());
  for (const s of out) {
    if (s === 'Revoked') throw bad(flag, s, 'a revoked TCB is never accepted');
    if (!(ACCEPTABLE_TCB_STATUSES as readonly string[]).includes(s))
      throw bad(flag, s, `expected one of ${ACCEPTABLE_TCB_STATUSES.join(', ')}`);
  }
  return ['UpToDate', ...out.filter((s) => s !== 'UpToDate')];
}

/**
 * The policy the expectation flags ask for, and the platform they apply to.
 *
 * @throws VouchError USAGE naming the flag for a malformed value, or when
 *   SEV-SNP and TDX flags are mixed
 */
export function expectationPolicy(values: Values): {
  policy: TeePolicyOptions;
  platform?: TeePlatform;
  flags: string[];
} {
  const policy: TeePolicyOptions = {};
  const given = (Object.keys(EXPECT_OPTIONS) as ExpectFlag[]).filter(
    (f) => values[f] !== undefined,
  );
  const platforms = new Set(given.map((f) => PLATFORM[f]));
  if (platforms.size > 1)
    throw usage(
      'tee verify',
      `${given.map((f) => `--${f}`).join(', ')}: SEV-SNP and TDX expectations cannot both apply to one piece of evidence`,
    );
  const s = (f: ExpectFlag) => values[f] as string;
  const m = (f: ExpectFlag) => values[f] as string[];
  for (const f of given) {
    switch (f) {
      case 'minimum-tcb':
        policy.minimumTcb = minimumTcb(f, s(f));
        break;
      case 'vmpl':
        policy.vmpl = uint(f, s(f), 3);
        break;
      case 'minimum-guest-svn':
        policy.minimumGuestSvn = uint(f, s(f), 0xffffffff);
        break;
      case 'host-data':
        policy.hostData = hexOf(f, s(f), 32);
        break;
      case 'family-id':
        policy.familyId = hexOf(f, s(f), 16);
        break;
      case 'image-id':
        policy.imageId = hexOf(f, s(f), 16);
        break;
      case 'trusted-id-key-hashes':
        policy.trustedIdKeyDigests = digests(f, m(f));
        break;
      case 'trusted-author-key-hashes':
        policy.trustedAuthorKeyDigests = digests(f, m(f));
        break;
      case 'minimum-tee-tcb-svn':
        policy.minimumTeeTcbSvn = hexOf(f, s(f), 16);
        break;
      case 'minimum-qe-svn':
        policy.minimumQeSvn = uint(f, s(f), 0xffff);
        break;
      case 'minimum-pce-svn':
        policy.minimumPceSvn = uint(f, s(f), 0xffff);
        break;
      case 'mr-config-id':
        policy.mrConfigId = hexOf(f, s(f), 48);
        break;
      case 'mr-owner':
        policy.mrOwner = hexOf(f, s(f), 48);
        break;
      case 'mr-owner-config':
        policy.mrOwnerConfig = hexOf(f, s(f), 48);
        break;
      case 'rtmrs':
        policy.rtmrs = rtmrs(f, s(f));
        break;
      case 'td-attributes':
        policy.tdAttributes = hexOf(f, s(f), 8);
        break;
      case 'tdx-accept-tcb-status':
        policy.acceptTcbStatus = tcbStatuses(f, m(f));
        break;
    }
  }
  const platform = [...platforms][0];
  return { policy, ...(platform ? { platform } : {}), flags: given.map((f) => `--${f}`) };
}
