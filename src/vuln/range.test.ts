import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SHARED } from '../../test/shared.ts';
import { isVouchError } from '../core/errors.ts';
import { type OsvAffected, parseOsvRecord } from './osv.ts';
import { AliasGroups, affectedVersions, aliasesKey, isWithdrawn, QueriedVersion } from './range.ts';
import { normalizeName, SCHEMES, type VersionScheme } from './versions/index.ts';

const ORACLE = join(SHARED, 'vectors/osv-oracle');
const ECOSYSTEMS = [
  'AlmaLinux',
  'CRAN',
  'GHC',
  'Go',
  'Hackage',
  'OSS-Fuzz',
  'PyPI',
  'SwiftURL',
  'crates.io',
];

function lines(file: string): unknown[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
}

interface OracleLine {
  id: string;
  ecosystem: string;
  package: string;
  version: string;
  affected: boolean;
}

function answer(affected: readonly OsvAffected[], o: Omit<OracleLine, 'affected' | 'id'>): boolean {
  const want = normalizeName(o.ecosystem, o.package);
  return affected.some(
    (a) =>
      a.package !== undefined &&
      a.package.ecosystem === o.ecosystem &&
      normalizeName(o.ecosystem, a.package.name) === want &&
      affectedVersions(a, o.version).affected,
  );
}

describe('OSV oracle (score.mjs)', () => {
  it('scores >= 99.9 % in every ecosystem, on affected and unaffected lines alike', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vouch-osv-oracle-'));
    try {
      const out: string[] = [];
      const almaProbes: { affected: readonly OsvAffected[]; o: OracleLine }[] = [];
      for (const eco of ECOSYSTEMS) {
        const records = new Map<string, readonly OsvAffected[]>();
        for (const [i, raw] of lines(join(ORACLE, `records-${eco}.jsonl`)).entries()) {
          const rec = parseOsvRecord(raw, `records-${eco}.jsonl:${i + 1}`);
          records.set(rec.id, rec.affected);
        }
        for (const o of lines(join(ORACLE, `oracle-${eco}.jsonl`)) as OracleLine[]) {
          const affected = records.get(o.id);
          assert.ok(affected, o.id);
          out.push(
            JSON.stringify({
              id: o.id,
              package: o.package,
              version: o.version,
              affected: answer(affected, o),
            }),
          );
          if (eco === 'AlmaLinux' && almaProbes.length < 2000) almaProbes.push({ affected, o });
        }
      }
      const answers = join(dir, 'answers.jsonl');
      writeFileSync(answers, `${out.join('\n')}\n`);
      const run = spawnSync(process.execPath, [join(ORACLE, 'score.mjs'), answers], {
        encoding: 'utf8',
      });
      assert.equal(run.status, 0, run.stderr);
      const report = run.stdout;
      const seen = new Set<string>();
      for (const row of report.split('\n')) {
        const m = /^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)/.exec(row);
        if (!m || m[1] === 'ecosystem') continue;
        const [, eco, , , missing, acc, onTrue, onFalse] = m as unknown as string[];
        seen.add(eco as string);
        assert.equal(missing, '0', `${eco} missing answers\n${report}`);
        for (const pct of [acc, onTrue, onFalse]) {
          if (pct === 'n/a') continue;
          assert.ok(Number.parseFloat(pct as string) >= 99.9, `${eco}: ${pct}\n${report}`);
        }
      }
      assert.deepEqual([...seen].sort(), [...ECOSYSTEMS].sort(), report);
      assert.match(report, /^49433 passed, 0 failed$/m);

      // AlmaLinux lines are all `fixed` versions (false). An always-false matcher
      // would pass them, so also probe just below each fix: X~ sorts before X in
      // rpm and lies inside [introduced 0, fixed X).
      for (const { affected, o } of almaProbes) {
        assert.equal(
          answer(affected, { ...o, version: `${o.version}~` }),
          true,
          `${o.id} ${o.version}~`,
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function entry(
  ranges: OsvAffected['ranges'],
  versions: string[] = [],
  ecosystem = 'PyPI',
): OsvAffected {
  return { package: { ecosystem, name: 'p' }, severity: [], ranges, versions };
}

describe('affectedVersions', () => {
  const eco = (events: OsvAffected['ranges'][number]['events']) =>
    entry([{ type: 'ECOSYSTEM', events }]);

  it('introduced/fixed, introduced 0, unsorted events, several intervals', () => {
    const a = eco([{ fixed: '2.0' }, { introduced: '1.5' }, { introduced: '0' }, { fixed: '1.0' }]);
    const got = ['0.1', '1.0', '1.4', '1.5', '1.9', '2.0', '3.0'].map(
      (v) => affectedVersions(a, v).affected,
    );
    assert.deepEqual(got, [true, false, false, true, true, false, false]);
    assert.match(affectedVersions(a, '1.9').reason, />= 1\.5, < 2\.0/);
    assert.match(affectedVersions(a, '2.0').reason, /fixed in 2\.0/);
  });

  it('last_affected is inclusive, limit caps the range, and ranges are ORed', () => {
    assert.deepEqual(
      ['1.0', '1.2', '1.2.1'].map(
        (v) => affectedVersions(eco([{ introduced: '1.0' }, { last_affected: '1.2' }]), v).affected,
      ),
      [true, true, false],
    );
    const limited = eco([{ introduced: '1.0' }, { limit: '1.5' }]);
    assert.deepEqual(
      ['0.9', '1.4', '1.5', '9'].map((v) => affectedVersions(limited, v).affected),
      [false, true, false, false],
    );
    const two = entry([
      { type: 'ECOSYSTEM', events: [{ introduced: '1.0' }, { fixed: '1.1' }] },
      { type: 'ECOSYSTEM', events: [{ introduced: '2.0' }, { fixed: '2.1' }] },
    ]);
    assert.deepEqual(
      ['1.0.5', '1.5', '2.0.1', '2.1'].map((v) => affectedVersions(two, v).affected),
      [true, false, true, false],
    );
  });

  it('uses the ecosystem order, not string order (PEP 440, semver pre-releases)', () => {
    const a = eco([{ introduced: '0' }, { fixed: '1.10' }]);
    assert.equal(affectedVersions(a, '1.9').affected, true);
    assert.equal(affectedVersions(a, '1.10.0').affected, false); // = 1.10
    assert.equal(affectedVersions(a, '1.10rc1').affected, true); // a pre-release of the fix
    const crate = entry(
      [{ type: 'SEMVER', events: [{ introduced: '0.0.0-0' }, { fixed: '0.3.0' }] }],
      [],
      'crates.io',
    );
    assert.equal(affectedVersions(crate, '0.0.0').affected, true);
    assert.equal(affectedVersions(crate, '0.3.0-beta.1').affected, true);
    assert.equal(affectedVersions(crate, '0.3.0').affected, false);
    const go = entry(
      [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '20.10.11+incompatible' }] }],
      [],
      'Go',
    );
    assert.equal(affectedVersions(go, '20.10.11').affected, false);
    assert.equal(affectedVersions(go, '20.10.10+incompatible').affected, true);
  });

  it('versions lists count, compared by the scheme (PEP 440 1.0 = 1.0.0)', () => {
    const a = entry([], ['1.0.0', '2.0']);
    assert.equal(affectedVersions(a, '1.0').affected, true);
    assert.equal(affectedVersions(a, '2.0.0').affected, true);
    assert.equal(affectedVersions(a, '1.5').affected, false);
    // no scheme: exact string only, and GIT ranges are reported, not guessed
    const fuzz: OsvAffected = {
      package: { ecosystem: 'OSS-Fuzz', name: 'p' },
      severity: [],
      ranges: [
        {
          type: 'GIT',
          repo: 'https://example.org/r',
          events: [{ introduced: 'abc' }, { fixed: 'def' }],
        },
      ],
      versions: ['v1.0'],
    };
    assert.equal(affectedVersions(fuzz, 'v1.0').affected, true);
    const r = affectedVersions(fuzz, 'v1.1');
    assert.equal(r.affected, false);
    assert.equal(r.unevaluable, 'git-range');
    const noScheme = {
      ...fuzz,
      ranges: [{ type: 'ECOSYSTEM' as const, events: [{ introduced: '0' }] }],
      versions: [],
    };
    assert.equal(affectedVersions(noScheme, '1').unevaluable, 'no-scheme');
  });

  it('a malformed event skips its range; a malformed query version throws VERSION_MALFORMED', () => {
    const a = entry(
      [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.0' }] }],
      [],
      'Debian:12',
    );
    assert.throws(
      () => affectedVersions(a, 'x:1'),
      (e) => isVouchError(e) && e.code === 'VERSION_MALFORMED' && e.message.includes('"x:1"'),
    );
    const b = entry(
      [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: 'bogus:1' }] }],
      [],
      'Debian:12',
    );
    const r = affectedVersions(b, '0.5');
    assert.equal(r.affected, false);
    assert.equal(r.unevaluable, 'malformed-event');
  });
});

/** Runs `f` while counting the strings `scheme.parse` is called with. */
function countingParses<T>(name: string, f: () => T): { result: T; parsed: string[] } {
  const scheme = SCHEMES.find((s) => s.name === name) as VersionScheme;
  const real = scheme.parse;
  const parsed: string[] = [];
  (scheme as { parse: VersionScheme['parse'] }).parse = (v) => {
    parsed.push(v);
    return real(v);
  };
  try {
    return { result: f(), parsed };
  } finally {
    (scheme as { parse: VersionScheme['parse'] }).parse = real;
  }
}

describe('parse once', () => {
  const entries = [
    entry(
      [
        {
          type: 'ECOSYSTEM',
          events: [{ introduced: '0' }, { fixed: '1.0' }, { introduced: '1.5' }, { fixed: '2.0' }],
        },
        { type: 'ECOSYSTEM', events: [{ introduced: '3.0' }, { last_affected: '3.2' }] },
      ],
      ['0.1', '0.2', '1.0.0'],
    ),
    entry([{ type: 'ECOSYSTEM', events: [{ introduced: '1.0' }, { limit: '1.8' }] }], ['9.0']),
  ];

  it('the queried version once per scheme across entries; each list version and event once per call', () => {
    const { result, parsed } = countingParses('pep440', () => {
      const q = new QueriedVersion('1.7');
      return entries.map((a) => affectedVersions(a, q));
    });
    assert.deepEqual(
      result.map((r) => r.affected),
      [true, true],
    );
    assert.equal(parsed.filter((v) => v === '1.7').length, 1, parsed.join(' '));
    // Each list version and each event (not introduced 0) of the ranges evaluated, once per
    // entry: the first entry's second range is not reached (its first range already says yes).
    assert.deepEqual(
      parsed.filter((v) => v !== '1.7').sort(),
      ['0.1', '0.2', '1.0.0', '1.0', '1.5', '2.0', '9.0', '1.0', '1.8'].sort(),
    );
  });

  it('a string and a QueriedVersion give the same verdicts and reasons', () => {
    for (const v of [
      '0.1',
      '1.0',
      '1.0.0',
      '1.4',
      '1.5',
      '1.79',
      '1.8',
      '2.0',
      '3.1',
      '3.2.1',
      '9',
    ]) {
      const q = new QueriedVersion(v);
      for (const a of entries) assert.deepEqual(affectedVersions(a, q), affectedVersions(a, v), v);
    }
  });

  it('a malformed queried version throws the same VERSION_MALFORMED every time, parsed once', () => {
    const a = entry(
      [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.0' }] }],
      ['0.5'],
      'Debian:12',
    );
    const { result, parsed } = countingParses('debian', () => {
      const q = new QueriedVersion('x:1');
      const errors: unknown[] = [];
      for (let i = 0; i < 3; i++) {
        try {
          affectedVersions(a, q);
        } catch (e) {
          errors.push(e);
        }
      }
      return errors;
    });
    assert.equal(result.length, 3);
    assert.ok(isVouchError(result[0]) && result[0].code === 'VERSION_MALFORMED');
    assert.ok(result.every((e) => e === result[0]));
    assert.equal(parsed.filter((v) => v === 'x:1').length, 1);
  });
});

describe('withdrawn and aliases', () => {
  const base = { modified: '2024-01-01T00:00:00Z', aliases: [], upstream: [] };
  it('isWithdrawn compares the timestamp with now', () => {
    const rec = parseOsvRecord({ ...base, id: 'X-1', withdrawn: '2024-06-01T00:00:00Z' }, 't');
    assert.equal(isWithdrawn(rec, Date.parse('2024-07-01T00:00:00Z')), true);
    assert.equal(isWithdrawn(rec, new Date('2024-05-01T00:00:00Z')), false);
    assert.equal(isWithdrawn(parseOsvRecord({ ...base, id: 'X-2' }, 't')), false);
    const real = parseOsvRecord(
      JSON.parse(readFileSync(join(ORACLE, '../osv/golang/GO-2024-2445.json'), 'utf8')),
      'GO-2024-2445.json',
    );
    assert.equal(isWithdrawn(real), true);
  });

  it('aliasesKey prefers CVE, then GHSA; AliasGroups joins records linked through a third id', () => {
    assert.equal(
      aliasesKey({
        id: 'PYSEC-2021-1',
        aliases: ['GHSA-aaaa-bbbb-cccc', 'CVE-2021-9'],
        upstream: [],
      }),
      'CVE-2021-9',
    );
    assert.equal(
      aliasesKey({
        id: 'GO-2022-1',
        aliases: ['GHSA-zzzz-zzzz-zzzz', 'GHSA-aaaa-aaaa-aaaa'],
        upstream: [],
      }),
      'GHSA-aaaa-aaaa-aaaa',
    );
    const g = new AliasGroups();
    g.add({ id: 'PYSEC-1', aliases: ['GHSA-x'], upstream: [] });
    g.add({ id: 'GHSA-x', aliases: ['CVE-2020-1'], upstream: [] });
    g.add({ id: 'GO-1', aliases: [], upstream: ['CVE-2020-1'] });
    g.add({ id: 'RUSTSEC-1', aliases: [], upstream: [] });
    assert.equal(g.keyOf('PYSEC-1'), 'CVE-2020-1');
    assert.equal(g.keyOf('GO-1'), 'CVE-2020-1');
    assert.equal(g.keyOf('RUSTSEC-1'), 'RUSTSEC-1');
    assert.equal(g.keyOf('never-seen'), 'never-seen');
  });
});
