import { VouchError } from '../core/errors.ts';

/**
 * CVSS base scores computed from the vector, never copied from a feed:
 * v3.0/v3.1 by the specification's equations (§7.1) with Roundup as in
 * v3.1 Appendix A (integer arithmetic, so 4.0000001 does not become 4.1),
 * and v4.0 by the specification's MacroVector method (§8): the vector's
 * six equivalence classes select a MacroVector score from the 270-entry
 * lookup table, then the score is lowered by the mean proportional
 * distance to the next-lower MacroVectors. The table and the
 * highest-severity vectors per EQ are FIRST's (cvss_lookup.js of the
 * reference calculator, github.com/RedHatProductSecurity/cvss-v4-calculator,
 * BSD-2-Clause), copied verbatim and checked against the spec's examples.
 */

export type Severity = 'NONE' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';

export interface CvssScore {
  version: '3.0' | '3.1' | '4.0';
  vector: string;
  score: number;
  severity: Severity;
}

/** Qualitative rating (v3.1 §5, v4.0 §6): 0 none, 0.1–3.9 low, 4.0–6.9 medium, 7.0–8.9 high, 9.0–10 critical. */
export function severityOf(score: number): Severity {
  if (score === 0) return 'NONE';
  if (score < 4) return 'LOW';
  if (score < 7) return 'MEDIUM';
  if (score < 9) return 'HIGH';
  return 'CRITICAL';
}

function bad(vector: string, why: string): never {
  const shown = vector.length > 200 ? `${vector.slice(0, 200)}…` : vector;
  throw new VouchError('CVSS_MALFORMED', `${JSON.stringify(shown)}: ${why}`, { field: 'severity' });
}

/** Splits `PREFIX/K:V/K:V` into a map, rejecting unknown keys, bad values and duplicates. */
function metrics(
  vector: string,
  prefix: string,
  allowed: Readonly<Record<string, readonly string[]>>,
  required: readonly string[],
): Map<string, string> {
  if (vector.length > 512) bad(vector, 'too long');
  if (!vector.startsWith(`${prefix}/`)) bad(vector, `does not start with ${prefix}/`);
  const out = new Map<string, string>();
  for (const part of vector.slice(prefix.length + 1).split('/')) {
    const colon = part.indexOf(':');
    if (colon <= 0) bad(vector, `${JSON.stringify(part)} is not METRIC:VALUE`);
    const k = part.slice(0, colon);
    const v = part.slice(colon + 1);
    const values = Object.hasOwn(allowed, k) ? allowed[k] : undefined;
    if (values === undefined) bad(vector, `unknown metric ${k}`);
    if (!values.includes(v)) bad(vector, `${k}:${v} is not one of ${values.join(', ')}`);
    if (out.has(k)) bad(vector, `metric ${k} given twice`);
    out.set(k, v);
  }
  for (const k of required) if (!out.has(k)) bad(vector, `base metric ${k} missing`);
  return out;
}

// ---- CVSS v3.x -------------------------------------------------------------

const V3_METRICS: Record<string, readonly string[]> = {
  AV: ['N', 'A', 'L', 'P'],
  AC: ['L', 'H'],
  PR: ['N', 'L', 'H'],
  UI: ['N', 'R'],
  S: ['U', 'C'],
  C: ['H', 'L', 'N'],
  I: ['H', 'L', 'N'],
  A: ['H', 'L', 'N'],
  E: ['X', 'H', 'F', 'P', 'U'],
  RL: ['X', 'U', 'W', 'T', 'O'],
  RC: ['X', 'C', 'R', 'U'],
  CR: ['X', 'H', 'M', 'L'],
  IR: ['X', 'H', 'M', 'L'],
  AR: ['X', 'H', 'M', 'L'],
  MAV: ['X', 'N', 'A', 'L', 'P'],
  MAC: ['X', 'L', 'H'],
  MPR: ['X', 'N', 'L', 'H'],
  MUI: ['X', 'N', 'R'],
  MS: ['X', 'U', 'C'],
  MC: ['X', 'H', 'L', 'N'],
  MI: ['X', 'H', 'L', 'N'],
  MA: ['X', 'H', 'L', 'N'],
};
const V3_BASE = ['AV', 'AC', 'PR', 'UI', 'S', 'C', 'I', 'A'];

/** v3.1 Appendix A: the smallest one-decimal number >= x, computed on integers. */
export function roundup(x: number): number {
  const i = Math.round(x * 100000);
  return i % 10000 === 0 ? i / 100000 : (Math.floor(i / 10000) + 1) / 10;
}

/**
 * CVSS v3.0 / v3.1 base score of a vector such as
 * `CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H` (temporal and
 * environmental metrics are accepted and do not change the base score).
 * @throws VouchError CVSS_MALFORMED
 */
export function cvss3BaseScore(vector: string): number {
  const prefix = vector.startsWith('CVSS:3.0/') ? 'CVSS:3.0' : 'CVSS:3.1';
  const m = metrics(vector, prefix, V3_METRICS, V3_BASE);
  const get = (k: string) => m.get(k) as string;
  const changed = get('S') === 'C';
  const av = ({ N: 0.85, A: 0.62, L: 0.55, P: 0.2 } as Record<string, number>)[get('AV')] as number;
  const ac = get('AC') === 'L' ? 0.77 : 0.44;
  const pr =
    get('PR') === 'N' ? 0.85 : get('PR') === 'L' ? (changed ? 0.68 : 0.62) : changed ? 0.5 : 0.27;
  const ui = get('UI') === 'N' ? 0.85 : 0.62;
  const cia = (k: string) => (get(k) === 'H' ? 0.56 : get(k) === 'L' ? 0.22 : 0);
  const iss = 1 - (1 - cia('C')) * (1 - cia('I')) * (1 - cia('A'));
  const impact = changed ? 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 : 6.42 * iss;
  const exploitability = 8.22 * av * ac * pr * ui;
  if (impact <= 0) return 0;
  return changed
    ? roundup(Math.min(1.08 * (impact + exploitability), 10))
    : roundup(Math.min(impact + exploitability, 10));
}

// ---- CVSS v4.0 -------------------------------------------------------------

const V4_METRICS: Record<string, readonly string[]> = {
  AV: ['N', 'A', 'L', 'P'],
  AC: ['L', 'H'],
  AT: ['N', 'P'],
  PR: ['N', 'L', 'H'],
  UI: ['N', 'P', 'A'],
  VC: ['H', 'L', 'N'],
  VI: ['H', 'L', 'N'],
  VA: ['H', 'L', 'N'],
  SC: ['H', 'L', 'N'],
  SI: ['H', 'L', 'N'],
  SA: ['H', 'L', 'N'],
  E: ['X', 'A', 'P', 'U'],
  CR: ['X', 'H', 'M', 'L'],
  IR: ['X', 'H', 'M', 'L'],
  AR: ['X', 'H', 'M', 'L'],
  MAV: ['X', 'N', 'A', 'L', 'P'],
  MAC: ['X', 'L', 'H'],
  MAT: ['X', 'N', 'P'],
  MPR: ['X', 'N', 'L', 'H'],
  MUI: ['X', 'N', 'P', 'A'],
  MVC: ['X', 'H', 'L', 'N'],
  MVI: ['X', 'H', 'L', 'N'],
  MVA: ['X', 'H', 'L', 'N'],
  MSC: ['X', 'H', 'L', 'N'],
  MSI: ['X', 'S', 'H', 'L', 'N'],
  MSA: ['X', 'S', 'H', 'L', 'N'],
  S: ['X', 'N', 'P'],
  AU: ['X', 'N', 'Y'],
  R: ['X', 'A', 'U', 'I'],
  V: ['X', 'D', 'C'],
  RE: ['X', 'L', 'M', 'H'],
  U: ['X', 'Clear', 'Green', 'Amber', 'Red'],
};
const V4_BASE = ['AV', 'AC', 'AT', 'PR', 'UI', 'VC', 'VI', 'VA', 'SC', 'SI', 'SA'];

/** MacroVector (EQ1..EQ6 digits) → score: the spec's 270-entry table. */
const V4_TABLE: ReadonlyMap<string, number> = new Map(
  `
000000:10 000001:9.9 000010:9.8 000011:9.5 000020:9.5 000021:9.2 000100:10 000101:9.6 000110:9.3
000111:8.7 000120:9.1 000121:8.1 000200:9.3 000201:9 000210:8.9 000211:8 000220:8.1 000221:6.8
001000:9.8 001001:9.5 001010:9.5 001011:9.2 001020:9 001021:8.4 001100:9.3 001101:9.2 001110:8.9
001111:8.1 001120:8.1 001121:6.5 001200:8.8 001201:8 001210:7.8 001211:7 001220:6.9 001221:4.8
002001:9.2 002011:8.2 002021:7.2 002101:7.9 002111:6.9 002121:5 002201:6.9 002211:5.5 002221:2.7
010000:9.9 010001:9.7 010010:9.5 010011:9.2 010020:9.2 010021:8.5 010100:9.5 010101:9.1 010110:9
010111:8.3 010120:8.4 010121:7.1 010200:9.2 010201:8.1 010210:8.2 010211:7.1 010220:7.2
010221:5.3 011000:9.5 011001:9.3 011010:9.2 011011:8.5 011020:8.5 011021:7.3 011100:9.2
011101:8.2 011110:8 011111:7.2 011120:7 011121:5.9 011200:8.4 011201:7 011210:7.1 011211:5.2
011220:5 011221:3 012001:8.6 012011:7.5 012021:5.2 012101:7.1 012111:5.2 012121:2.9 012201:6.3
012211:2.9 012221:1.7 100000:9.8 100001:9.5 100010:9.4 100011:8.7 100020:9.1 100021:8.1
100100:9.4 100101:8.9 100110:8.6 100111:7.4 100120:7.7 100121:6.4 100200:8.7 100201:7.5
100210:7.4 100211:6.3 100220:6.3 100221:4.9 101000:9.4 101001:8.9 101010:8.8 101011:7.7
101020:7.6 101021:6.7 101100:8.6 101101:7.6 101110:7.4 101111:5.8 101120:5.9 101121:5 101200:7.2
101201:5.7 101210:5.7 101211:5.2 101220:5.2 101221:2.5 102001:8.3 102011:7 102021:5.4 102101:6.5
102111:5.8 102121:2.6 102201:5.3 102211:2.1 102221:1.3 110000:9.5 110001:9 110010:8.8 110011:7.6
110020:7.6 110021:7 110100:9 110101:7.7 110110:7.5 110111:6.2 110120:6.1 110121:5.3 110200:7.7
110201:6.6 110210:6.8 110211:5.9 110220:5.2 110221:3 111000:8.9 111001:7.8 111010:7.6 111011:6.7
111020:6.2 111021:5.8 111100:7.4 111101:5.9 111110:5.7 111111:5.7 111120:4.7 111121:2.3
111200:6.1 111201:5.2 111210:5.7 111211:2.9 111220:2.4 111221:1.6 112001:7.1 112011:5.9 112021:3
112101:5.8 112111:2.6 112121:1.5 112201:2.3 112211:1.3 112221:0.6 200000:9.3 200001:8.7
200010:8.6 200011:7.2 200020:7.5 200021:5.8 200100:8.6 200101:7.4 200110:7.4 200111:6.1
200120:5.6 200121:3.4 200200:7 200201:5.4 200210:5.2 200211:4 200220:4 200221:2.2 201000:8.5
201001:7.5 201010:7.4 201011:5.5 201020:6.2 201021:5.1 201100:7.2 201101:5.7 201110:5.5
201111:4.1 201120:4.6 201121:1.9 201200:5.3 201201:3.6 201210:3.4 201211:1.9 201220:1.9
201221:0.8 202001:6.4 202011:5.1 202021:2 202101:4.7 202111:2.1 202121:1.1 202201:2.4 202211:0.9
202221:0.4 210000:8.8 210001:7.5 210010:7.3 210011:5.3 210020:6 210021:5 210100:7.3 210101:5.5
210110:5.9 210111:4 210120:4.1 210121:2 210200:5.4 210201:4.3 210210:4.5 210211:2.2 210220:2
210221:1.1 211000:7.5 211001:5.5 211010:5.8 211011:4.5 211020:4 211021:2.1 211100:6.1 211101:5.1
211110:4.8 211111:1.8 211120:2 211121:0.9 211200:4.6 211201:1.8 211210:1.7 211211:0.7 211220:0.8
211221:0.2 212001:5.3 212011:2.4 212021:1.4 212101:2.4 212111:1.2 212121:0.5 212201:1 212211:0.3
212221:0.1
`
    .trim()
    .split(/\s+/)
    .map((kv) => {
      const [k, v] = kv.split(':') as [string, string];
      return [k, Number(v)];
    }),
);

/** Severity levels of each metric value, the spec's "distance" unit is 0.1 per level. */
const LEVELS: Record<string, Record<string, number>> = {
  AV: { N: 0, A: 0.1, L: 0.2, P: 0.3 },
  PR: { N: 0, L: 0.1, H: 0.2 },
  UI: { N: 0, P: 0.1, A: 0.2 },
  AC: { L: 0, H: 0.1 },
  AT: { N: 0, P: 0.1 },
  VC: { H: 0, L: 0.1, N: 0.2 },
  VI: { H: 0, L: 0.1, N: 0.2 },
  VA: { H: 0, L: 0.1, N: 0.2 },
  SC: { H: 0.1, L: 0.2, N: 0.3 },
  SI: { S: 0, H: 0.1, L: 0.2, N: 0.3 },
  SA: { S: 0, H: 0.1, L: 0.2, N: 0.3 },
  CR: { H: 0, M: 0.1, L: 0.2 },
  IR: { H: 0, M: 0.1, L: 0.2 },
  AR: { H: 0, M: 0.1, L: 0.2 },
  E: { U: 0.2, P: 0.1, A: 0 },
};

/** Highest-severity vectors of each EQ level (spec §8.2, "max_composed"). */
const MAX_COMPOSED = {
  eq1: [
    ['AV:N/PR:N/UI:N'],
    ['AV:A/PR:N/UI:N', 'AV:N/PR:L/UI:N', 'AV:N/PR:N/UI:P'],
    ['AV:P/PR:N/UI:N', 'AV:A/PR:L/UI:P'],
  ],
  eq2: [['AC:L/AT:N'], ['AC:H/AT:N', 'AC:L/AT:P']],
  // [eq3][eq6]
  eq3: [
    [
      ['VC:H/VI:H/VA:H/CR:H/IR:H/AR:H'],
      ['VC:H/VI:H/VA:L/CR:M/IR:M/AR:H', 'VC:H/VI:H/VA:H/CR:M/IR:M/AR:M'],
    ],
    [
      ['VC:L/VI:H/VA:H/CR:H/IR:H/AR:H', 'VC:H/VI:L/VA:H/CR:H/IR:H/AR:H'],
      [
        'VC:L/VI:H/VA:L/CR:H/IR:M/AR:H',
        'VC:L/VI:H/VA:H/CR:H/IR:M/AR:M',
        'VC:H/VI:L/VA:H/CR:M/IR:H/AR:M',
        'VC:H/VI:L/VA:L/CR:M/IR:H/AR:H',
        'VC:L/VI:L/VA:H/CR:H/IR:H/AR:M',
      ],
    ],
    [[], ['VC:L/VI:L/VA:L/CR:H/IR:H/AR:H']],
  ],
  eq4: [['SC:H/SI:S/SA:S'], ['SC:H/SI:H/SA:H'], ['SC:L/SI:L/SA:L']],
  eq5: [['E:A'], ['E:P'], ['E:U']],
} as const;

/** Depth of each MacroVector in levels (spec's max severity distances, +1). */
const MAX_SEVERITY = {
  eq1: [1, 4, 5],
  eq2: [1, 2],
  eq3eq6: [
    [7, 6],
    [8, 8],
    [0, 10],
  ],
  eq4: [6, 5, 4],
} as const;

function effective(m: ReadonlyMap<string, string>): (k: string) => string {
  return (k) => {
    const v = m.get(k) ?? 'X';
    if (v === 'X' && (k === 'E' || k === 'CR' || k === 'IR' || k === 'AR'))
      return k === 'E' ? 'A' : 'H';
    const modified = m.get(`M${k}`);
    if (modified !== undefined && modified !== 'X') return modified;
    return v;
  };
}

function macroVector(g: (k: string) => string): [number, number, number, number, number, number] {
  const AV = g('AV');
  const PR = g('PR');
  const UI = g('UI');
  const eq1 =
    AV === 'N' && PR === 'N' && UI === 'N'
      ? 0
      : (AV === 'N' || PR === 'N' || UI === 'N') && AV !== 'P'
        ? 1
        : 2;
  const eq2 = g('AC') === 'L' && g('AT') === 'N' ? 0 : 1;
  const VC = g('VC');
  const VI = g('VI');
  const VA = g('VA');
  const eq3 = VC === 'H' && VI === 'H' ? 0 : VC === 'H' || VI === 'H' || VA === 'H' ? 1 : 2;
  const eq4 =
    g('MSI') === 'S' || g('MSA') === 'S'
      ? 0
      : g('SC') === 'H' || g('SI') === 'H' || g('SA') === 'H'
        ? 1
        : 2;
  const E = g('E');
  const eq5 = E === 'A' ? 0 : E === 'P' ? 1 : 2;
  const eq6 =
    (g('CR') === 'H' && VC === 'H') ||
    (g('IR') === 'H' && VI === 'H') ||
    (g('AR') === 'H' && VA === 'H')
      ? 0
      : 1;
  return [eq1, eq2, eq3, eq4, eq5, eq6];
}

function parseComposed(s: string): Map<string, string> {
  return new Map(s.split('/').map((p) => p.split(':') as [string, string]));
}

/**
 * CVSS v4.0 score of a vector such as
 * `CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N`
 * (CVSS-B; threat and environmental metrics, when present, are applied as
 * the spec says, giving CVSS-BT/BE/BTE).
 * @throws VouchError CVSS_MALFORMED
 */
export function cvss4Score(vector: string): number {
  const m = metrics(vector, 'CVSS:4.0', V4_METRICS, V4_BASE);
  const g = effective(m);
  if (['VC', 'VI', 'VA', 'SC', 'SI', 'SA'].every((k) => g(k) === 'N')) return 0;
  const mv = macroVector(g);
  const [eq1, eq2, eq3, eq4, eq5, eq6] = mv;
  const key = (d: number[]) => d.join('');
  const value = V4_TABLE.get(key(mv));
  if (value === undefined) bad(vector, `no MacroVector ${key(mv)}`);
  const lookup = (d: number[]) => V4_TABLE.get(key(d)) ?? Number.NaN;

  const lowerEq1 = lookup([eq1 + 1, eq2, eq3, eq4, eq5, eq6]);
  const lowerEq2 = lookup([eq1, eq2 + 1, eq3, eq4, eq5, eq6]);
  let lowerEq3eq6: number;
  if (eq3 === 0 && eq6 === 0) {
    lowerEq3eq6 = Math.max(
      lookup([eq1, eq2, eq3, eq4, eq5, eq6 + 1]),
      lookup([eq1, eq2, eq3 + 1, eq4, eq5, eq6]),
    );
  } else if (eq3 === 1 && eq6 === 0) {
    lowerEq3eq6 = lookup([eq1, eq2, eq3, eq4, eq5, eq6 + 1]);
  } else if (eq6 === 1 && eq3 <= 1) {
    lowerEq3eq6 = lookup([eq1, eq2, eq3 + 1, eq4, eq5, eq6]);
  } else {
    lowerEq3eq6 = lookup([eq1, eq2, eq3 + 1, eq4, eq5, eq6 + 1]);
  }
  const lowerEq4 = lookup([eq1, eq2, eq3, eq4 + 1, eq5, eq6]);
  const lowerEq5 = lookup([eq1, eq2, eq3, eq4, eq5 + 1, eq6]);

  // The first highest-severity vector of this MacroVector that the scored vector does not exceed.
  let distances: Record<string, number> | undefined;
  const eq3Maxes = MAX_COMPOSED.eq3[eq3]?.[eq6] ?? [];
  search: for (const a of MAX_COMPOSED.eq1[eq1] ?? [])
    for (const b of MAX_COMPOSED.eq2[eq2] ?? [])
      for (const c of eq3Maxes)
        for (const d of MAX_COMPOSED.eq4[eq4] ?? [])
          for (const e of MAX_COMPOSED.eq5[eq5] ?? []) {
            const max = parseComposed(`${a}/${b}/${c}/${d}/${e}`);
            const dist: Record<string, number> = {};
            let ok = true;
            for (const k of Object.keys(LEVELS)) {
              const levels = LEVELS[k] as Record<string, number>;
              const x = (levels[g(k)] as number) - (levels[max.get(k) as string] as number);
              dist[k] = x;
              if (x < 0) ok = false;
            }
            if (ok) {
              distances = dist;
              break search;
            }
          }
  if (distances === undefined)
    bad(vector, 'no highest-severity vector found (inconsistent metrics)');
  const d = distances;
  const STEP = 0.1;
  const current = [
    (d.AV as number) + (d.PR as number) + (d.UI as number),
    (d.AC as number) + (d.AT as number),
    (d.VC as number) +
      (d.VI as number) +
      (d.VA as number) +
      (d.CR as number) +
      (d.IR as number) +
      (d.AR as number),
    (d.SC as number) + (d.SI as number) + (d.SA as number),
  ];
  const depth = [
    MAX_SEVERITY.eq1[eq1] as number,
    MAX_SEVERITY.eq2[eq2] as number,
    (MAX_SEVERITY.eq3eq6[eq3] as readonly number[])[eq6] as number,
    MAX_SEVERITY.eq4[eq4] as number,
  ];
  const lower = [lowerEq1, lowerEq2, lowerEq3eq6, lowerEq4];
  let n = 0;
  let sum = 0;
  for (let i = 0; i < 4; i++) {
    const available = value - (lower[i] as number);
    if (Number.isNaN(available)) continue;
    n++;
    sum += available * ((current[i] as number) / ((depth[i] as number) * STEP));
  }
  // EQ5 has no intra-MacroVector distance: it counts, with proportion 0.
  if (!Number.isNaN(value - lowerEq5)) n++;
  const mean = n === 0 ? 0 : sum / n;
  return Math.round((Math.max(0, Math.min(10, value - mean)) + 1e-6) * 10) / 10;
}

/**
 * Scores any supported vector (CVSS:3.0, CVSS:3.1, CVSS:4.0).
 * @throws VouchError CVSS_MALFORMED for other or broken vectors
 */
export function scoreVector(vector: string): CvssScore {
  if (typeof vector !== 'string') bad(String(vector), 'not a string');
  let version: CvssScore['version'];
  let score: number;
  if (vector.startsWith('CVSS:3.0/') || vector.startsWith('CVSS:3.1/')) {
    version = vector.startsWith('CVSS:3.0/') ? '3.0' : '3.1';
    score = cvss3BaseScore(vector);
  } else if (vector.startsWith('CVSS:4.0/')) {
    version = '4.0';
    score = cvss4Score(vector);
  } else {
    bad(vector, 'not a CVSS v3.0, v3.1 or v4.0 vector');
  }
  return { version, vector, score, severity: severityOf(score) };
}

/**
 * The highest computed score among OSV `severity` entries (CVSS_V3 and
 * CVSS_V4; other types and broken vectors are skipped and counted), or
 * undefined when none could be scored.
 */
export function highestSeverity(entries: readonly { type: string; score: string }[]): {
  best: CvssScore | undefined;
  skipped: number;
} {
  let best: CvssScore | undefined;
  let skipped = 0;
  for (const e of entries) {
    if (e.type !== 'CVSS_V3' && e.type !== 'CVSS_V4') {
      skipped++;
      continue;
    }
    try {
      const s = scoreVector(e.score);
      if (best === undefined || s.score > best.score) best = s;
    } catch (err) {
      if (!(err instanceof VouchError)) throw err;
      skipped++;
    }
  }
  return { best, skipped };
}
