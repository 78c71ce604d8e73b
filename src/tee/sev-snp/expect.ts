/**
 * SEV-SNP checks of report fields against values the caller expects, as
 * go-sev-guest's `check` tool makes them: a minimum REPORTED_TCB (component
 * by component), the VMPL, a minimum GUEST_SVN, FAMILY_ID / IMAGE_ID, and
 * allow-lists of ID_KEY_DIGEST / AUTHOR_KEY_DIGEST. Each expectation the
 * caller set is one check naming the field, with the expected and the actual
 * value; an expectation not set is not a check.
 */
import type { SnpTcbComponent, TeeCheck, TeePolicyOptions } from '../verifier.ts';
import { decodeTcb, type SnpProduct, type SnpReport, type TcbParts } from './report.ts';

const ORDER: readonly SnpTcbComponent[] = ['fmc', 'bootloader', 'tee', 'snp', 'microcode'];

const hex = (b: Buffer) => b.toString('hex');

export function snpExpectationChecks(
  report: SnpReport,
  product: SnpProduct | undefined,
  policy: TeePolicyOptions,
): TeeCheck[] {
  const checks: TeeCheck[] = [];
  const add = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });

  if (policy.minimumTcb !== undefined) checks.push(minimumTcbCheck(report, product, policy));
  if (policy.vmpl !== undefined) {
    const ok = report.vmpl === policy.vmpl;
    add(
      'vmpl',
      ok,
      ok
        ? `VMPL is ${report.vmpl}`
        : `VMPL is ${report.vmpl}, expected ${policy.vmpl} (the report was requested at another privilege level)`,
    );
  }
  if (policy.minimumGuestSvn !== undefined) {
    const ok = report.guestSvn >= policy.minimumGuestSvn;
    add(
      'guest-svn',
      ok,
      `GUEST_SVN is ${report.guestSvn}, minimum ${policy.minimumGuestSvn}${ok ? '' : ': too old'}`,
    );
  }
  for (const [name, field, want, got] of [
    ['family-id', 'FAMILY_ID', policy.familyId, report.familyId],
    ['image-id', 'IMAGE_ID', policy.imageId, report.imageId],
  ] as const) {
    if (want === undefined) continue;
    const ok = want.toLowerCase() === hex(got);
    add(name, ok, ok ? `${field} is ${hex(got)}` : `${field} is ${hex(got)}, expected ${want}`);
  }
  if (policy.trustedIdKeyDigests !== undefined) {
    const got = hex(report.idKeyDigest);
    const ok = policy.trustedIdKeyDigests.some((d) => d.toLowerCase() === got);
    add(
      'id-key-digest',
      ok,
      ok
        ? `ID_KEY_DIGEST ${got} is trusted`
        : `ID_KEY_DIGEST ${got} is not one of the ${policy.trustedIdKeyDigests.length} trusted ID key digest(s)${/^0+$/.test(got) ? ' (no ID block: the guest was launched without one)' : ''}`,
    );
  }
  if (policy.trustedAuthorKeyDigests !== undefined) {
    const got = hex(report.authorKeyDigest);
    const ok =
      report.authorKeyEn && policy.trustedAuthorKeyDigests.some((d) => d.toLowerCase() === got);
    add(
      'author-key-digest',
      ok,
      !report.authorKeyEn
        ? 'AUTHOR_KEY_EN is 0: the ID block was not signed by an author key'
        : ok
          ? `AUTHOR_KEY_DIGEST ${got} is trusted`
          : `AUTHOR_KEY_DIGEST ${got} is not one of the ${policy.trustedAuthorKeyDigests.length} trusted author key digest(s)`,
    );
  }
  return checks;
}

/** REPORTED_TCB ≥ the minimum in every component; never compared as one integer. */
function minimumTcbCheck(
  report: SnpReport,
  product: SnpProduct | undefined,
  policy: TeePolicyOptions,
): TeeCheck {
  const name = 'minimum-tcb';
  if (!product)
    return { name, ok: false, detail: 'unknown product: REPORTED_TCB cannot be decoded' };
  const reported = decodeTcb(report.reportedTcb, product);
  const min = policy.minimumTcb as NonNullable<TeePolicyOptions['minimumTcb']>;
  const want: Partial<TcbParts> =
    typeof min === 'bigint' ? decodeTcb(min, product) : (min as Partial<TcbParts>);
  const below: string[] = [];
  for (const c of ORDER) {
    const w = want[c];
    if (w === undefined) continue;
    const got = reported[c];
    if (got === undefined) {
      if (w > 0) below.push(`${c}: a ${product} TCB has no ${c} (minimum ${w})`);
    } else if (got < w) below.push(`${c} ${got} < ${w}`);
  }
  const fmt = (t: Partial<TcbParts>) =>
    ORDER.filter((c) => t[c] !== undefined)
      .map((c) => `${c}=${t[c]}`)
      .join(' ');
  return below.length === 0
    ? { name, ok: true, detail: `REPORTED_TCB ${fmt(reported)} meets the minimum ${fmt(want)}` }
    : {
        name,
        ok: false,
        detail: `REPORTED_TCB ${fmt(reported)} is below the minimum ${fmt(want)}: ${below.join(', ')}`,
      };
}
