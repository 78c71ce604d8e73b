import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SHARED } from '../../../test/shared.ts';
import { isVouchError } from '../../core/errors.ts';
import { defineScheme, normalizeName, SCHEMES, schemeFor, type VersionScheme } from './index.ts';

const ORDER_DIR = join(SHARED, 'vectors/osv-oracle/version-order');

function scheme(name: string): VersionScheme {
  const s = SCHEMES.find((x) => x.name === name);
  assert.ok(s, name);
  return s;
}

/** Asserts a < b < c … strictly, in both directions. */
function ascending(s: VersionScheme, list: string[]): void {
  for (let i = 0; i + 1 < list.length; i++) {
    const a = list[i] as string;
    const b = list[i + 1] as string;
    assert.ok(s.compare(a, b) < 0, `${s.name}: ${a} < ${b}`);
    assert.ok(s.compare(b, a) > 0, `${s.name}: ${b} > ${a}`);
  }
}

function equal(s: VersionScheme, a: string, b: string): void {
  assert.equal(s.compare(a, b), 0, `${s.name}: ${a} = ${b}`);
  assert.equal(s.compare(b, a), 0, `${s.name}: ${b} = ${a}`);
}

// Which scheme reads which upstream fixture (osv-scalibr's compare_test.go mapping).
const FIXTURE_SCHEMES: Record<string, string[]> = {
  semver: ['semver', 'go'],
  nuget: ['nuget'],
  maven: ['maven'],
  pypi: ['pep440'],
  debian: ['debian'],
  alpine: ['alpine'],
  redhat: ['rpm'],
  rubygems: ['rubygems'],
  packagist: ['composer'],
  'osv.dev': ['composer'],
  cran: ['cran'],
  hackage: ['hackage'],
  pub: ['pub'],
};

describe('version-order fixtures (osv-scalibr, osv.dev)', () => {
  const files = readdirSync(ORDER_DIR).filter((f) => f.endsWith('.txt'));
  it('covers every fixture file', () => {
    assert.equal(files.length, 20);
    for (const f of files) assert.ok(FIXTURE_SCHEMES[f.split('-')[0] as string], f);
  });
  for (const f of files.sort()) {
    for (const name of FIXTURE_SCHEMES[f.split('-')[0] as string] ?? []) {
      it(`${f} sorts exactly under ${name}`, () => {
        const s = scheme(name);
        const wrong: string[] = [];
        let n = 0;
        for (const line of readFileSync(join(ORDER_DIR, f), 'utf8').split('\n')) {
          if (line === '' || line.startsWith('#') || line.startsWith('//')) continue;
          const [a, op, b] = line.split(' ') as [string, string, string];
          const want = op === '<' ? -1 : op === '>' ? 1 : 0;
          n++;
          let got: string;
          try {
            got = `${Math.sign(s.compare(a, b))}/${Math.sign(s.compare(b, a))}`;
          } catch (e) {
            got = String(e);
          }
          if (got !== `${want}/${-want}`) wrong.push(`${line} -> ${got}`);
        }
        assert.ok(n > 10, `${f}: only ${n} pairs`);
        assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} of ${n} pairs wrong`);
      });
    }
  }
});

/** Every `a op b` line of a fixture file. */
function fixturePairs(file: string): [string, string][] {
  const out: [string, string][] = [];
  for (const line of readFileSync(join(ORDER_DIR, file), 'utf8').split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('//')) continue;
    const [a, , b] = line.split(' ') as [string, string, string];
    out.push([a, b]);
  }
  return out;
}

/** What a call returns, or the error it throws (code and message), as one comparable string. */
function outcome(f: () => number): string {
  try {
    return `= ${f()}`;
  } catch (e) {
    return isVouchError(e) ? `! ${e.code} ${e.message}` : `!! ${String(e)}`;
  }
}

describe('parse once: compareParsed agrees with compare', () => {
  it('every scheme has parse, compareParsed and compare', () => {
    assert.equal(SCHEMES.length, 13);
    for (const s of SCHEMES) {
      assert.equal(typeof s.parse, 'function', s.name);
      assert.equal(typeof s.compareParsed, 'function', s.name);
      assert.equal(typeof s.compare, 'function', s.name);
    }
  });
  const files = readdirSync(ORDER_DIR)
    .filter((f) => f.endsWith('.txt'))
    .sort();
  for (const f of files) {
    for (const name of FIXTURE_SCHEMES[f.split('-')[0] as string] ?? []) {
      it(`${f}: the same result on every pair, both ways, under ${name}`, () => {
        const s = scheme(name);
        const pairs = fixturePairs(f);
        // Each distinct version parsed once and then shared by every pair it is
        // in, so a compareParsed that changed its inputs would show here.
        const parsed = new Map<string, { ok: true; p: unknown } | { ok: false }>();
        const parsedOf = (v: string) => {
          let x = parsed.get(v);
          if (x === undefined) {
            try {
              x = { ok: true, p: s.parse(v) };
            } catch (e) {
              if (!isVouchError(e)) throw e;
              x = { ok: false };
            }
            parsed.set(v, x);
          }
          return x;
        };
        const wrong: string[] = [];
        for (const [a, b] of pairs) {
          for (const [x, y] of [
            [a, b],
            [b, a],
          ] as const) {
            const want = outcome(() => s.compare(x, y));
            const px = parsedOf(x);
            const py = parsedOf(y);
            // compare throws exactly when one side does not parse (the first failing side's error).
            const got =
              px.ok && py.ok
                ? outcome(() => s.compareParsed(px.p, py.p))
                : outcome(() => s.compareParsed(s.parse(x), s.parse(y)));
            if (got !== want) wrong.push(`${x} vs ${y}: compare ${want}, compareParsed ${got}`);
          }
        }
        assert.ok(pairs.length > 10, `${f}: only ${pairs.length} pairs`);
        assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} of ${2 * pairs.length} differ`);
      });
    }
  }

  it('defineScheme: compare parses a then b, and orders by compareParsed', () => {
    const seen: string[] = [];
    const s = defineScheme(
      'test',
      (v: string) => {
        seen.push(v);
        if (v === 'bad') throw new Error(`cannot read ${v}`);
        return Number(v);
      },
      (a, b) => a - b,
    );
    assert.equal(s.compare('2', '10'), -8);
    assert.deepEqual(seen, ['2', '10']);
    assert.throws(() => s.compare('bad', '1'), /cannot read bad/);
    assert.equal(s.compareParsed(s.parse('3'), s.parse('3')), 0);
  });
});

describe("schemes, from each ecosystem's own specification", () => {
  it('SemVer 2.0.0 §11 precedence list', () => {
    ascending(scheme('semver'), [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '2.0.0',
      '2.1.0',
      '2.1.1',
    ]);
    equal(scheme('semver'), '1.0.0+build.1', '1.0.0+build.2');
    equal(scheme('semver'), '1.2', '1.2.0');
    // crates.io's "from the start" sentinel is below every real version
    ascending(scheme('semver'), ['0.0.0-0', '0.0.0', '0.0.1-alpha']);
  });

  it('Go: v prefix, pseudo-versions, +incompatible', () => {
    const go = scheme('go');
    equal(go, 'v1.2.3', '1.2.3');
    equal(go, '20.10.9+incompatible', '20.10.9');
    ascending(go, [
      '0.0.0-20190101000000-abcdefabcdef',
      '0.0.0-20210101000000-abcdefabcdef',
      '1.2.3',
      '1.2.4-0.20220101000000-abcdefabcdef', // pseudo-version after v1.2.3
      '1.2.4',
      '2.0.0+incompatible',
      '20.10.9+incompatible',
    ]);
    // stdlib ranges start at e.g. "1.21.0-0"
    ascending(go, ['1.20.99', '1.21.0-0', '1.21.0-rc.1', '1.21.0']);
  });

  it('PEP 440 examples (summary of permitted suffixes and relative ordering)', () => {
    ascending(scheme('pep440'), [
      '1.dev0',
      '1.0.dev456',
      '1.0a1',
      '1.0a2.dev456',
      '1.0a12.dev456',
      '1.0a12',
      '1.0b1.dev456',
      '1.0b2',
      '1.0b2.post345.dev456',
      '1.0b2.post345',
      '1.0rc1.dev456',
      '1.0rc1',
      '1.0',
      '1.0+abc.5',
      '1.0+abc.7',
      '1.0+5',
      '1.0.post456.dev34',
      '1.0.post456',
      '1.0.15',
      '1.1.dev1',
    ]);
    const p = scheme('pep440');
    equal(p, '1.0', '1.0.0');
    equal(p, '1.0-1', '1.0.post1');
    equal(p, '1.0ALPHA1', '1.0a1');
    equal(p, '1.0c1', '1.0rc1');
    equal(p, '1.0-r4', '1.0.post4');
    equal(p, '1.0_dev', '1.0.dev0');
    ascending(p, ['1!0.1', '1!1.0']);
    ascending(p, ['2020.1', '1!0.1']); // the epoch wins
  });

  it('Maven ComparableVersion tests (maven-artifact ComparableVersionTest)', () => {
    const m = scheme('maven');
    ascending(m, [
      '1-alpha2snapshot',
      '1-alpha2',
      '1-alpha-123',
      '1-beta-2',
      '1-beta123',
      '1-m2',
      '1-m11',
      '1-rc',
      '1-cr2',
      '1-rc123',
      '1-SNAPSHOT',
      '1',
      '1-sp',
      '1-sp2',
      '1-sp123',
      '1-abc',
      '1-def',
      '1-pom-1',
      '1-1-snapshot',
      '1-1',
      '1-2',
      '1-123',
    ]);
    for (const [a, b] of [
      ['1', '1.0.0'],
      ['1', '1-0'],
      ['1', '1.ga'],
      ['1', '1-final'],
      ['1', '1.release'],
      ['1a', '1-a'],
      ['1a1', '1-alpha-1'],
      ['1b2', '1-beta-2'],
      ['1m3', '1-milestone-3'],
      ['1X', '1x'],
      ['1cr', '1rc'],
      ['1-ga-1', '1-1'],
    ] as const)
      equal(m, a, b);
  });

  it('Debian policy §5.6.12: ~ below everything, epochs, revisions', () => {
    const d = scheme('debian');
    ascending(d, [
      '1.0~rc1~git1',
      '1.0~rc1',
      '1.0',
      '1.0-1',
      '1.0a',
      '1.0+b1',
      '1.1',
      '1:0.9',
      '2:0.1',
    ]);
    ascending(d, ['2.30-2', '2.30-10', '2.30-10ubuntu1']);
    equal(d, '1.0', '1.0-0');
    equal(d, '0:1.2', '1.2');
    equal(d, '1.02', '1.2');
    ascending(d, ['1.0~~', '1.0~~a', '1.0~', '1.0']); // the policy's own ~ example
  });

  it('rpmvercmp: ~ pre-release, ^ snapshot, epochs, module builds', () => {
    const r = scheme('rpm');
    ascending(r, ['1.0~rc1', '1.0', '1.0^git1', '1.0.1', '1:0.1']);
    ascending(r, [
      '8.0.26-1.module_el8.4.0+915+de215114',
      '8.0.32-1.module_el8.8.0+3567+29a0eb37',
      '2:8.0.21-1.module_el8.2.0+493+63b41e36',
    ]);
    equal(r, '1.0-1', '0:1.0-1');
    equal(r, '1.0_1', '1.0.1');
  });

  it('Alpine apk, RubyGems, NuGet, Composer, PVP, CRAN', () => {
    ascending(scheme('alpine'), [
      '1.2.3_alpha1',
      '1.2.3_rc2',
      '1.2.3',
      '1.2.3-r1',
      '1.2.3_p1',
      '1.2.3a',
      '1.2.4',
    ]);
    ascending(scheme('rubygems'), ['1.0.a', '1.0.b1', '1.0.rc1', '1.0', '1.0.1', '1.1']);
    equal(scheme('rubygems'), '1.0.0', '1');
    equal(scheme('rubygems'), '1.0.a', '1.a');
    ascending(scheme('nuget'), ['1.0.0-Alpha', '1.0.0-beta', '1.0.0', '1.0.0.1', '1.0.1']);
    equal(scheme('nuget'), '1.0.0-BETA', '1.0.0-beta');
    ascending(scheme('composer'), [
      '1.0-dev',
      '1.0alpha1',
      '1.0-beta2',
      '1.0RC1',
      '1.0',
      'v1.0.1',
      '1.0.1pl1',
    ]);
    // PHP's version_compare: patch level above any number at the same place
    ascending(scheme('composer'), ['1.0.1', '1.0pl1']);
    ascending(scheme('hackage'), ['0.4', '0.4.0', '0.4.0.0', '0.4.0.1', '0.10']);
    ascending(scheme('cran'), ['1.0-1', '1.0-2', '1.0-10', '1.1']);
  });
});

describe('malformed versions', () => {
  const cases: [string, string][] = [
    ['semver', ''],
    ['semver', 'latest'],
    ['semver', '1.2.3 '],
    ['go', 'master'],
    ['pep440', 'a b'],
    ['debian', 'x:1.0'],
    ['debian', 'abc'],
    ['debian', '1.0_1'],
    ['hackage', '1.0-rc1'],
    ['cran', '1.0a'],
    ['rubygems', 'a.1'],
    ['nuget', 'x'],
    ['maven', '1.0\n'],
    ['rpm', '1.0\u0000'],
    ['alpine', '\t'],
    ['semver', `1.${'0'.repeat(300)}`],
  ];
  for (const [name, v] of cases) {
    it(`${name} rejects ${JSON.stringify(v.slice(0, 20))}`, () => {
      const s = scheme(name);
      for (const f of [() => s.parse(v), () => s.compare(v, '1.0'), () => s.compare('1.0', v)]) {
        assert.throws(
          f,
          (e) =>
            isVouchError(e) &&
            e.code === 'VERSION_MALFORMED' &&
            e.message.includes(JSON.stringify(v.slice(0, 10)).slice(1, -1)),
        );
      }
    });
  }
  it('a digit string of any length compares exactly (no float or int overflow)', () => {
    ascending(scheme('semver'), ['99999999999999999999.0.0', '100000000000000000000.0.0']);
    ascending(scheme('debian'), ['1.9007199254740993', '1.9007199254740994']);
  });
});

describe('schemeFor and normalizeName', () => {
  it('maps OSV ecosystems, with release suffixes', () => {
    const cases: [string, string | undefined][] = [
      ['npm', 'semver'],
      ['crates.io', 'semver'],
      ['Hex', 'semver'],
      ['SwiftURL', 'semver'],
      ['Go', 'go'],
      ['PyPI', 'pep440'],
      ['Maven', 'maven'],
      ['RubyGems', 'rubygems'],
      ['NuGet', 'nuget'],
      ['Packagist', 'composer'],
      ['Packagist:https://packages.drupal.org/8', 'composer'],
      ['Debian:12', 'debian'],
      ['Ubuntu:22.04:LTS', 'debian'],
      ['Alpine:v3.19', 'alpine'],
      ['AlmaLinux:9', 'rpm'],
      ['Rocky Linux:8', 'rpm'],
      ['CRAN', 'cran'],
      ['Hackage', 'hackage'],
      ['GHC', 'hackage'],
      ['Pub', 'pub'],
      ['OSS-Fuzz', undefined],
      ['GIT', undefined],
      ['Linux', undefined],
      ['npmx', undefined],
      ['', undefined],
    ];
    for (const [eco, name] of cases) assert.equal(schemeFor(eco)?.name, name, eco);
  });

  it('normalises names per ecosystem', () => {
    assert.equal(normalizeName('PyPI', 'Foo.Bar__baz-Qux'), 'foo-bar-baz-qux');
    assert.equal(normalizeName('PyPI', 'zope.interface'), normalizeName('PyPI', 'Zope_Interface'));
    assert.equal(
      normalizeName('Maven', 'org.apache.logging.log4j/log4j-core'),
      'org.apache.logging.log4j:log4j-core',
    );
    assert.equal(
      normalizeName('Maven', 'org.apache.logging.log4j:log4j-core'),
      'org.apache.logging.log4j:log4j-core',
    );
    assert.equal(normalizeName('Go', 'github.com/BurntSushi/toml'), 'github.com/BurntSushi/toml');
    assert.equal(normalizeName('npm', '@Scope/Pkg'), '@Scope/Pkg');
    assert.equal(normalizeName('NuGet', 'Newtonsoft.Json'), 'newtonsoft.json');
    assert.equal(normalizeName('crates.io', 'Serde_JSON'), 'serde-json');
    assert.equal(normalizeName('Packagist', 'Symfony/HTTP-Kernel'), 'symfony/http-kernel');
    assert.equal(normalizeName('Debian:12', 'OpenSSL'), 'openssl');
  });
});
