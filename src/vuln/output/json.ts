import { findingJson, type OutputFormat, open, suppressed, totalsOf } from './report.ts';

/**
 * vouch's own JSON: totals, open findings, suppressed findings with their VEX,
 * what was not matchable, and (attestation input) the bundles rejected by verification.
 */
export const jsonOutput: OutputFormat = {
  name: 'json',
  render(r) {
    const doc = {
      target: r.target,
      scanner: r.scanner,
      time: r.time,
      db: r.db,
      vex: r.vex,
      totals: totalsOf(r),
      findings: open(r).map(findingJson),
      suppressed: suppressed(r).map(findingJson),
      notMatchable: r.result.notMatchable,
      withdrawn: r.result.withdrawn,
      unevaluable: r.result.unevaluable,
      ...(r.rejected ? { rejected: r.rejected } : {}),
    };
    return `${JSON.stringify(doc, null, 2)}\n`;
  },
};
