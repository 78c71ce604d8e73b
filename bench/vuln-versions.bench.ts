import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCHEMES, type VersionScheme } from '../src/vuln/versions/index.ts';
import { type Benchmark, type BenchOptions, REPO } from './lib.ts';

/**
 * Version comparison throughput, per scheme: vouch's `scheme.compare(a, b)`
 * (parsing both strings every call, as range evaluation does) against the
 * naive comparator people reach for, `a.localeCompare(b, 'en', { numeric: true })`,
 * on the same pairs in the same process. The pairs are real versions from
 * the upstream ordering fixtures (../shared/vectors/osv-oracle/version-order),
 * cycled to 1,000,000 pairs per scheme (100,000 with --quick). Figures only:
 * no target, the baseline is not correct (its error rate on the fixtures is
 * printed beside its speed).
 */
const ORDER_DIR = join(REPO, '..', 'shared', 'vectors', 'osv-oracle', 'version-order');

const FIXTURES: Record<string, string[]> = {
  semver: ['semver'],
  go: ['semver'],
  pep440: ['pypi'],
  maven: ['maven'],
  rubygems: ['rubygems'],
  nuget: ['nuget'],
  composer: ['packagist', 'osv.dev'],
  debian: ['debian'],
  alpine: ['alpine'],
  rpm: ['redhat'],
  cran: ['cran'],
  hackage: ['hackage'],
  pub: ['pub'],
};

interface Pair {
  a: string;
  b: string;
  want: number;
}

function pairsFor(scheme: VersionScheme): Pair[] {
  const prefixes = FIXTURES[scheme.name] ?? [];
  const out: Pair[] = [];
  for (const f of readdirSync(ORDER_DIR)) {
    if (!prefixes.includes(f.split('-')[0] as string)) continue;
    for (const line of readFileSync(join(ORDER_DIR, f), 'utf8').split('\n')) {
      if (line === '' || line.startsWith('#') || line.startsWith('//')) continue;
      const [a, op, b] = line.split(' ') as [string, string, string];
      out.push({ a, b, want: op === '<' ? -1 : op === '>' ? 1 : 0 });
    }
  }
  return out;
}

function time(n: number, pairs: readonly Pair[], cmp: (a: string, b: string) => number): number {
  let sink = 0;
  const start = process.hrtime.bigint();
  for (let i = 0, j = 0; i < n; i++, j++) {
    if (j === pairs.length) j = 0;
    const p = pairs[j] as Pair;
    sink += cmp(p.a, p.b);
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (sink === Number.MIN_SAFE_INTEGER) console.error(sink); // keep the loop alive
  return ms;
}

const naive = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

export const benchmark: Benchmark = {
  name: 'vuln-versions',
  async run(options: BenchOptions) {
    const n = options.quick ? 100_000 : 1_000_000;
    let vouchTotal = 0;
    let peerTotal = 0;
    const notes: string[] = [];
    for (const scheme of SCHEMES) {
      const pairs = pairsFor(scheme);
      if (pairs.length === 0) continue;
      const wrong = pairs.filter((p) => Math.sign(naive(p.a, p.b)) !== p.want).length;
      time(Math.min(n, 50_000), pairs, scheme.compare); // warm-up
      time(Math.min(n, 50_000), pairs, naive);
      let v = Number.POSITIVE_INFINITY;
      let p = Number.POSITIVE_INFINITY;
      for (let r = 0; r < options.runs; r++) {
        v = Math.min(v, time(n, pairs, scheme.compare));
        p = Math.min(p, time(n, pairs, naive));
      }
      vouchTotal += v;
      peerTotal += p;
      const line = `${scheme.name}: ${((v * 1e6) / n).toFixed(0)} ns/pair vs ${((p * 1e6) / n).toFixed(0)} ns (localeCompare wrong on ${((100 * wrong) / pairs.length).toFixed(1)}% of ${pairs.length} fixture pairs)`;
      options.log(`  ${line}`);
      notes.push(line);
    }
    // Figures only: no ratio target, so the row carries no maxRatio and always passes.
    return {
      name: 'vuln-versions',
      input: `${n.toLocaleString('en')} pairs x ${SCHEMES.length} schemes`,
      peer: 'localeCompare(numeric)',
      target: 'figures only',
      vouchMs: vouchTotal,
      peerMs: peerTotal,
      ratio: vouchTotal / peerTotal,
      status: 'pass',
      note: notes.join('; '),
    };
  },
};
