import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVouchError } from '../core/errors.ts';
import {
  cvss3BaseScore,
  cvss4Score,
  highestSeverity,
  roundup,
  scoreVector,
  severityOf,
} from './cvss.ts';

// Every distinct CVSS vector in the real OSV records under
// ../shared/vectors/osv/ and osv-oracle/records-*.jsonl (golang, pypa,
// rustsec, GHSA, haskell…), with its score as computed by two independent
// implementations that agreed on every one: ae-cvss-calculator 1.0.13
// (npm; v3.0/v3.1) and FIRST's reference v4.0 calculator
// (RedHatProductSecurity/cvss-v4-calculator @ d1eafe06, cvss40.js).
// Both also agreed with vouch on all 5,184 v3.x base vectors and all
// 104,976 v4.0 base vectors plus 50,000 random threat/environmental ones
// when this list was made.
const REAL: [string, number][] = [
  ['CVSS:3.0/AV:L/AC:L/PR:H/UI:N/S:U/C:N/I:H/A:H', 6],
  ['CVSS:3.0/AV:L/AC:L/PR:N/UI:N/S:U/C:N/I:L/A:N', 4],
  ['CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H', 8.1],
  ['CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N', 5.9],
  ['CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:N', 4.8],
  ['CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8],
  ['CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N', 9.1],
  ['CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N', 7.5],
  ['CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N', 7.5],
  ['CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:L/A:N', 5.3],
  ['CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', 7.5],
  ['CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N', 6.1],
  ['CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H', 8.8],
  ['CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:N/A:N', 6.5],
  ['CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H', 6.5],
  ['CVSS:3.1/AV:A/AC:H/PR:H/UI:N/S:U/C:H/I:N/A:N', 4.2],
  ['CVSS:3.1/AV:A/AC:H/PR:L/UI:N/S:U/C:H/I:H/A:N', 6.4],
  ['CVSS:3.1/AV:A/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N', 5.3],
  ['CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N', 6.5],
  ['CVSS:3.1/AV:L/AC:H/PR:H/UI:N/S:U/C:L/I:H/A:N', 4.7],
  ['CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:C/C:L/I:N/A:N', 2.3],
  ['CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:L/A:L', 3.8],
  ['CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:N/I:L/A:L', 2.9],
  ['CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:N/I:L/A:N', 1.8],
  ['CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:C/C:H/I:H/A:H', 7.8],
  ['CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:H/A:H', 7],
  ['CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:N/I:H/A:H', 6.3],
  ['CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:N/I:H/A:N', 4.7],
  ['CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:N/I:N/A:H', 4.7],
  ['CVSS:3.1/AV:L/AC:H/PR:L/UI:R/S:C/C:N/I:H/A:L', 6.1],
  ['CVSS:3.1/AV:L/AC:H/PR:L/UI:R/S:U/C:H/I:H/A:N', 6],
  ['CVSS:3.1/AV:L/AC:H/PR:N/UI:N/S:C/C:L/I:L/A:N', 4.5],
  ['CVSS:3.1/AV:L/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H', 7.4],
  ['CVSS:3.1/AV:L/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N', 2.5],
  ['CVSS:3.1/AV:L/AC:H/PR:N/UI:R/S:U/C:N/I:N/A:L', 2.5],
  ['CVSS:3.1/AV:L/AC:L/PR:H/UI:R/S:U/C:H/I:H/A:H', 6.5],
  ['CVSS:3.1/AV:L/AC:L/PR:H/UI:R/S:U/C:N/I:L/A:L', 3.1],
  ['CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H', 8.8],
  ['CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:C/C:L/I:N/A:N', 3.8],
  ['CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:C/C:N/I:H/A:N', 6.5],
  ['CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H', 7.8],
  ['CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N', 5.5],
  ['CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N', 3.3],
  ['CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:L/A:N', 3.3],
  ['CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H', 5.5],
  ['CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:L', 3.3],
  ['CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:H/I:H/A:H', 7.3],
  ['CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:H/I:H/A:L', 6.8],
  ['CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:L/I:N/A:N', 2.8],
  ['CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:N/I:H/A:N', 5],
  ['CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:N/I:L/A:N', 2.8],
  ['CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:C/C:N/I:L/A:L', 5.7],
  ['CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 8.4],
  ['CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:H', 7.3],
  ['CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:N', 5.1],
  ['CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', 6.2],
  ['CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H', 7.8],
  ['CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:L/I:N/A:H', 6.1],
  ['CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:H/A:N', 5.5],
  ['CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H', 5.5],
  ['CVSS:3.1/AV:N/AC:H/PR:H/UI:N/S:C/C:N/I:L/A:N', 3],
  ['CVSS:3.1/AV:N/AC:H/PR:H/UI:N/S:U/C:H/I:H/A:N', 5.9],
  ['CVSS:3.1/AV:N/AC:H/PR:H/UI:N/S:U/C:N/I:L/A:N', 2.2],
  ['CVSS:3.1/AV:N/AC:H/PR:H/UI:R/S:U/C:H/I:H/A:N', 5.7],
  ['CVSS:3.1/AV:N/AC:H/PR:H/UI:R/S:U/C:H/I:N/A:N', 4.2],
  ['CVSS:3.1/AV:N/AC:H/PR:H/UI:R/S:U/C:L/I:L/A:L', 3.9],
  ['CVSS:3.1/AV:N/AC:H/PR:L/UI:N/S:U/C:H/I:H/A:H', 7.5],
  ['CVSS:3.1/AV:N/AC:H/PR:L/UI:N/S:U/C:H/I:H/A:N', 6.8],
  ['CVSS:3.1/AV:N/AC:H/PR:L/UI:N/S:U/C:H/I:N/A:N', 5.3],
  ['CVSS:3.1/AV:N/AC:H/PR:L/UI:N/S:U/C:N/I:H/A:H', 6.8],
  ['CVSS:3.1/AV:N/AC:H/PR:L/UI:N/S:U/C:N/I:L/A:N', 3.1],
  ['CVSS:3.1/AV:N/AC:H/PR:L/UI:R/S:U/C:L/I:L/A:N', 3.7],
  ['CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:N/A:N', 6.8],
  ['CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:N/I:H/A:N', 6.8],
  ['CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H', 8.1],
  ['CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:N', 7.4],
  ['CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:H', 7.4],
  ['CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N', 5.9],
  ['CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:L', 5.6],
  ['CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:N', 3.7],
  ['CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:N', 5.9],
  ['CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H', 5.9],
  ['CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:L/I:L/A:N', 4.7],
  ['CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:N/I:H/A:N', 5.3],
  ['CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H', 7.2],
  ['CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:L/I:N/A:N', 2.7],
  ['CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:N/I:H/A:N', 4.9],
  ['CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:N/I:N/A:H', 4.9],
  ['CVSS:3.1/AV:N/AC:L/PR:H/UI:R/S:C/C:L/I:L/A:N', 4.8],
  ['CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H', 9.9],
  ['CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:L', 9.9],
  ['CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:N/A:N', 7.7],
  ['CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:N/I:H/A:N', 7.7],
  ['CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H', 8.8],
  ['CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:L', 8.3],
  ['CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:N', 8.1],
  ['CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:H', 8.1],
  ['CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N', 6.5],
  ['CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:L/A:N', 5.4],
  ['CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N', 4.3],
  ['CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:N/I:H/A:H', 8.1],
  ['CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:N/I:H/A:N', 6.5],
  ['CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:N/I:L/A:N', 4.3],
  ['CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H', 6.5],
  ['CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N', 5.4],
  ['CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:U/C:H/I:H/A:H', 8],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H', 10],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:N/A:N', 8.6],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:N/A:N', 5.8],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:H/A:N', 8.6],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:N/A:H', 8.6],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:L', 9.4],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N', 9.1],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:L/A:L', 8.6],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:H', 9.1],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N', 7.5],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:H/A:N', 8.2],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:H', 8.6],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:L', 7.3],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:N', 6.5],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:L', 6.5],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N', 5.3],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:H', 9.1],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N', 7.5],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:L/A:L', 6.5],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:L/A:N', 5.3],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', 7.5],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L', 5.3],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:L', 9.6],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N', 6.1],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H', 8.8],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:N', 8.1],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:N/A:N', 6.5],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N', 5.4],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:L/A:L', 5.4],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H', 6.5],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:L', 4.3],
  ['CVSS:3.1/AV:P/AC:L/PR:H/UI:R/S:C/C:H/I:L/A:N', 5.6],
  ['CVSS:4.0/AV:L/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H', 9.4],
  ['CVSS:4.0/AV:L/AC:L/AT:P/PR:L/UI:A/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N', 4.1],
  ['CVSS:4.0/AV:L/AC:L/AT:P/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', 7.3],
  ['CVSS:4.0/AV:N/AC:H/AT:N/PR:L/UI:A/VC:N/VI:N/VA:H/SC:N/SI:N/SA:H', 6.8],
  ['CVSS:4.0/AV:N/AC:H/AT:N/PR:L/UI:N/VC:L/VI:H/VA:N/SC:H/SI:H/SA:H', 7.3],
  ['CVSS:4.0/AV:N/AC:H/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:H/SI:N/SA:N', 8.9],
  ['CVSS:4.0/AV:N/AC:H/AT:P/PR:H/UI:A/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N', 1.8],
  ['CVSS:4.0/AV:N/AC:H/AT:P/PR:H/UI:A/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N', 5.6],
  ['CVSS:4.0/AV:N/AC:H/AT:P/PR:H/UI:P/VC:N/VI:L/VA:L/SC:N/SI:N/SA:N', 2],
  ['CVSS:4.0/AV:N/AC:H/AT:P/PR:L/UI:N/VC:L/VI:L/VA:H/SC:N/SI:N/SA:N', 6.1],
  ['CVSS:4.0/AV:N/AC:H/AT:P/PR:L/UI:N/VC:L/VI:N/VA:N/SC:L/SI:N/SA:N', 2.3],
  ['CVSS:4.0/AV:N/AC:H/AT:P/PR:L/UI:P/VC:N/VI:N/VA:H/SC:N/SI:N/SA:H', 6.9],
  ['CVSS:4.0/AV:N/AC:H/AT:P/PR:N/UI:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N/E:U', 1.7],
  ['CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N', 5.1],
  ['CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:P/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N', 6.9],
  ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:A/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N', 5.1],
  ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:A/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N', 5.1],
  ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N', 9.3],
  ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:H/VA:N/SC:H/SI:H/SA:N', 9.3],
  ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:H/VA:N/SC:N/SI:N/SA:N', 8.7],
  ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N/E:P', 5.5],
  ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N', 8.7],
  ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:L/SC:N/SI:N/SA:N', 6.9],
  ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N', 0],
  ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:N/VI:H/VA:N/SC:H/SI:H/SA:N', 8.4],
  ['CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H', 9],
  ['CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:N/VC:L/VI:L/VA:H/SC:N/SI:N/SA:N', 6.1],
  ['CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N', 2.3],
  ['CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:N/VC:L/VI:N/VA:N/SC:L/SI:N/SA:N', 2.3],
  ['CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:N/VC:N/VI:N/VA:L/SC:N/SI:N/SA:L', 2.3],
  ['CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:P/VC:N/VI:N/VA:H/SC:N/SI:N/SA:H', 6.9],
  ['CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:P/VC:N/VI:N/VA:H/SC:N/SI:N/SA:L', 5.9],
  ['CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:P/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N', 5.9],
  ['CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:H/VA:N/SC:L/SI:L/SA:N', 9.1],
  ['CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N', 8.2],
  ['CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:N/VI:H/VA:N/SC:N/SI:N/SA:N', 8.2],
  ['CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N', 8.2],
  ['CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N', 1],
];

describe('cvss', () => {
  it('v3.1 specification examples (FIRST CVSS v3.1 Examples document)', () => {
    const examples: [string, number][] = [
      ['CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N', 6.1], // CVE-2013-1937 phpMyAdmin XSS
      ['CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N', 6.4], // CVE-2013-0375 MySQL
      ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N', 7.5], // CVE-2014-0160 Heartbleed
      ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8], // CVE-2014-6271 Shellshock
      ['CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:H', 9.6], // CVE-2012-5376 Chrome IPC
      ['CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 6.8], // CVE-2014-2005 Sophos
      ['CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:N/A:N', 6.8], // osv-schema's own example
    ];
    for (const [v, s] of examples) assert.equal(cvss3BaseScore(v), s, v);
  });

  it('v4.0: the OSV schema example and hand-checked macrovector corners', () => {
    assert.equal(cvss4Score('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H'), 10);
    assert.equal(
      cvss4Score('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N'),
      9.3,
    );
    assert.equal(
      cvss4Score('CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N'),
      5.1,
    );
    // no impact anywhere is 0 by definition
    assert.equal(cvss4Score('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N'), 0);
    // threat metric lowers the score (E:U), environmental MSI:S raises EQ4
    assert.ok(
      cvss4Score('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U') <
        cvss4Score('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N'),
    );
  });

  it('every real vector scores as two independent calculators do', () => {
    assert.equal(REAL.length, 177);
    const wrong = REAL.filter(([v, s]) => scoreVector(v).score !== s);
    assert.deepEqual(wrong, []);
    assert.ok(
      REAL.some(([v]) => v.startsWith('CVSS:4.0/')) &&
        REAL.some(([v]) => v.startsWith('CVSS:3.0/')),
    );
  });

  it('roundup is the v3.1 Appendix A integer version', () => {
    assert.equal(roundup(4.0), 4.0);
    assert.equal(roundup(4.02), 4.1);
    assert.equal(roundup(4.000001), 4.0); // float noise does not round up
    assert.equal(roundup(4.00001), 4.1);
  });

  it('qualitative severity boundaries', () => {
    assert.deepEqual([0, 0.1, 3.9, 4, 6.9, 7, 8.9, 9, 10].map(severityOf), [
      'NONE',
      'LOW',
      'LOW',
      'MEDIUM',
      'MEDIUM',
      'HIGH',
      'HIGH',
      'CRITICAL',
      'CRITICAL',
    ]);
    assert.deepEqual(scoreVector('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'), {
      version: '3.1',
      vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
      score: 9.8,
      severity: 'CRITICAL',
    });
  });

  it('highestSeverity picks the highest computed score and counts what it skipped', () => {
    const r = highestSeverity([
      { type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:N/A:N' },
      { type: 'CVSS_V4', score: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N' },
      { type: 'CVSS_V2', score: 'AV:N/AC:L/Au:N/C:P/I:P/A:P' },
      { type: 'CVSS_V3', score: 'CVSS:3.1/AV:X' },
    ]);
    assert.equal(r.best?.score, 9.3);
    assert.equal(r.skipped, 2);
  });

  it('rejects malformed vectors with CVSS_MALFORMED quoting the vector', () => {
    for (const v of [
      '',
      'CVSS:3.1',
      'CVSS:2.0/AV:N',
      'AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
      'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H', // A missing
      'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/A:L', // twice
      'CVSS:3.1/AV:Z/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
      'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/XX:Y',
      'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/',
      'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N', // SA missing
      'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N', // S only for MSI
      `CVSS:3.1/${'AV:N/'.repeat(200)}`,
    ]) {
      assert.throws(
        () => scoreVector(v),
        (e) =>
          isVouchError(e) &&
          e.code === 'CVSS_MALFORMED' &&
          e.message.includes(JSON.stringify(v.slice(0, 20)).slice(1, -1)),
        v,
      );
    }
  });
});
