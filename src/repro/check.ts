import { spawnSync } from 'node:child_process';
import { chmod, chown, cp, lstat, mkdir, mkdtemp, readdir, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, matchesGlob, relative, resolve, sep } from 'node:path';
import { spawnCommand } from '../attest/spawn.ts';
import { compareCodePoints, type DigestSet, digestFile, digestTree } from '../core/digest.ts';
import { errorMessage, VouchError } from '../core/errors.ts';
import { diffFiles } from './diff/diff.ts';
import type { Difference } from './diff/types.ts';
import { probeMachine, unmount } from './machine.ts';
import {
  type BuildSetup,
  type Machine,
  VARIATIONS,
  type Variation,
  type VariationName,
} from './variations/index.ts';

export interface CheckOptions {
  /** The build command; argv[0] is looked up on PATH, never run through a shell. */
  argv: string[];
  /** The source tree, copied for every run. */
  source: string;
  /** Builds to compare, at least 2. Run 1 is the control, the others vary. */
  runs?: number;
  /** The variations to apply (default: all). */
  vary?: readonly VariationName[];
  /** Product globs relative to the build dir; default: every file the build created or changed. */
  products?: readonly string[];
  /** Say which variation causes which difference, by rebuilding (default true). */
  bisect?: boolean;
  env?: NodeJS.ProcessEnv;
  log?: (m: string) => void;
  /** Probed when absent. */
  machine?: Machine;
}

export interface Product {
  name: string;
  digest: DigestSet;
}

export interface RunRecord {
  /** 1-based. */
  run: number;
  role: 'control' | 'experiment';
  variations: VariationName[];
  products: Product[];
}

export interface Culprit {
  /** One variation, or several that only change the output together. */
  variations: VariationName[];
  products: string[];
  hint: string;
  /** How the products differ when only these variations are applied. */
  differences: Difference[];
}

export interface CheckResult {
  reproducible: boolean;
  runs: RunRecord[];
  varied: VariationName[];
  unavailable: { name: VariationName; reason: string }[];
  sourceDateEpoch: string | null;
  /** Products that differ between the control and any experiment. */
  differing: string[];
  /** Control vs the first differing experiment, member by member. */
  differences: Difference[];
  culprits: Culprit[];
}

const EXCLUDED = new Set(['.git', '.vouch', 'node_modules']);

/**
 * Builds the source tree `runs` times in fresh copies, the first as a
 * control and the others under every available variation, and compares the
 * products. When they differ, explains how (a structural diff) and why
 * (bisecting the variations by rebuilding). Never signs: see rebuildPredicate.
 *
 * @throws VouchError USAGE | FILE_NOT_FOUND | COMMAND_FAILED_TO_START | REPRO_BUILD_FAILED
 */
export async function checkReproducible(o: CheckOptions): Promise<CheckResult> {
  if (!o.argv[0]) throw new VouchError('USAGE', 'no build command given', { field: 'argv' });
  const runs = o.runs ?? 2;
  if (!Number.isInteger(runs) || runs < 2 || runs > 20)
    throw new VouchError('USAGE', 'must be an integer from 2 to 20', { field: '--runs' });
  const log = o.log ?? (() => {});
  let source: string;
  try {
    source = await realpath(resolve(o.source));
  } catch {
    throw new VouchError('FILE_NOT_FOUND', 'source directory does not exist', { file: o.source });
  }
  const machine = o.machine ?? (await probeMachine(o.env));
  const wanted = new Set(o.vary ?? VARIATIONS.map((v) => v.name));
  const unavailable: CheckResult['unavailable'] = [];
  const active: Variation[] = [];
  for (const v of VARIATIONS) {
    if (!wanted.has(v.name)) continue;
    const why = v.unavailable(machine);
    if (why) {
      unavailable.push({ name: v.name, reason: why });
      log(`vary ${v.name}: not available (${why})\n`);
    } else active.push(v);
  }
  const root = await mkdtemp(join(tmpdir(), 'vouch-repro-'));
  // `nobody` must reach the build dir when the user varies.
  await chmod(root, 0o755);
  const env = o.env ?? process.env;
  const builder = new Builder(root, source, o.argv, env, machine, o.products, log);
  try {
    const records: RunRecord[] = [];
    for (let n = 1; n <= runs; n++) {
      const on = n === 1 ? [] : active;
      records.push(await builder.run(n, on, n - 1));
    }
    const control = records[0] as RunRecord;
    if (control.products.length === 0) {
      throw new VouchError(
        'USAGE',
        'the build produced no files: name its outputs with --products',
        { field: '--products' },
      );
    }
    const differing = new Set<string>();
    let firstBad: RunRecord | undefined;
    for (const r of records.slice(1)) {
      const d = differingProducts(control.products, r.products);
      for (const p of d) differing.add(p);
      if (d.length > 0 && !firstBad) firstBad = r;
    }
    const result: CheckResult = {
      reproducible: differing.size === 0,
      runs: records,
      varied: active.map((v) => v.name),
      unavailable,
      sourceDateEpoch: env.SOURCE_DATE_EPOCH ?? null,
      differing: [...differing].sort(compareCodePoints),
      differences: [],
      culprits: [],
    };
    if (firstBad) {
      result.differences = await builder.explain(control, firstBad);
      if (o.bisect !== false && active.length > 0) {
        result.culprits = await bisect(
          builder,
          control,
          active,
          differingProducts(control.products, firstBad.products),
          log,
        );
      }
    }
    return result;
  } finally {
    await builder.cleanup();
    await rm(root, { recursive: true, force: true }).catch(() => {});
  }
}

function differingProducts(a: readonly Product[], b: readonly Product[]): string[] {
  const mb = new Map(b.map((p) => [p.name, p.digest.sha256]));
  const ma = new Map(a.map((p) => [p.name, p.digest.sha256]));
  const out = new Set<string>();
  for (const [name, d] of ma) if (mb.get(name) !== d) out.add(name);
  for (const name of mb.keys()) if (!ma.has(name)) out.add(name);
  return [...out].sort(compareCodePoints);
}

/**
 * Splits the variations in halves and rebuilds with each half alone until
 * every difference is pinned on one variation, or on a group that only
 * changes the output together.
 */
async function bisect(
  b: Builder,
  control: RunRecord,
  all: readonly Variation[],
  known: string[],
  log: (m: string) => void,
): Promise<Culprit[]> {
  let probe = 100;
  // Products that differ even when nothing varies (random ids, temp names, thread order)
  // would be blamed on every variation: a repeat of the control finds them first.
  let noise = new Set<string>();
  const test = async (set: readonly Variation[]): Promise<{ run: RunRecord; diff: string[] }> => {
    const run = await b.run(probe++, set, 1, true);
    return {
      run,
      diff: differingProducts(control.products, run.products).filter((p) => !noise.has(p)),
    };
  };
  const culprits: Culprit[] = [];
  log('bisect: repeating the control build\n');
  const repeat = await test([]);
  noise = new Set(repeat.diff.filter((p) => known.includes(p)));
  if (noise.size > 0) {
    culprits.push({
      variations: [],
      products: [...noise],
      hint: 'these differ between two builds under identical conditions: the build is nondeterministic by itself (random ids or temp names, parallel or hash-table order); make it deterministic, no variation is to blame',
      differences: about(await b.explain(control, repeat.run), noise),
    });
  }
  const visit = async (
    set: readonly Variation[],
    diff: string[],
    run: RunRecord | undefined,
  ): Promise<void> => {
    if (diff.length === 0) return;
    if (set.length === 1) {
      const v = set[0] as Variation;
      const r = run ?? (await test(set)).run;
      culprits.push({
        variations: [v.name],
        products: diff,
        hint: v.hint,
        differences: about(await b.explain(control, r), new Set(diff)),
      });
      return;
    }
    const half = Math.ceil(set.length / 2);
    const left = set.slice(0, half);
    const right = set.slice(half);
    const tl = await test(left);
    const tr = await test(right);
    const before = culprits.length;
    await visit(left, tl.diff, left.length === 1 ? tl.run : undefined);
    await visit(right, tr.diff, right.length === 1 ? tr.run : undefined);
    if (culprits.length === before) {
      log(`bisect: ${set.map((v) => v.name).join('+')} only differ together\n`);
      const r = run ?? (await test(set)).run;
      culprits.push({
        variations: set.map((v) => v.name),
        products: diff,
        hint: set.map((v) => v.hint).join('; '),
        differences: about(await b.explain(control, r), new Set(diff)),
      });
    }
  };
  log(`bisecting ${all.length} variations\n`);
  await visit(
    all,
    known.filter((p) => !noise.has(p)),
    undefined,
  );
  return culprits;
}

/** The differences inside these products (a difference's path starts with its product's name). */
function about(differences: Difference[], products: ReadonlySet<string>): Difference[] {
  return differences.filter((d) =>
    [...products].some((p) => d.path === p || d.path.startsWith(`${p}/`)),
  );
}

class Builder {
  readonly root: string;
  readonly source: string;
  readonly argv: string[];
  readonly env: NodeJS.ProcessEnv;
  readonly machine: Machine;
  readonly globs: readonly string[] | undefined;
  readonly log: (m: string) => void;
  /** Where each run's products were kept, by run number. */
  readonly kept = new Map<number, { dir: string; buildDir: string; home: string }>();
  #mounts: string[] = [];

  constructor(
    root: string,
    source: string,
    argv: string[],
    env: NodeJS.ProcessEnv,
    machine: Machine,
    globs: readonly string[] | undefined,
    log: (m: string) => void,
  ) {
    this.root = root;
    this.source = source;
    this.argv = argv;
    this.env = env;
    this.machine = machine;
    this.globs = globs && globs.length > 0 ? globs : undefined;
    this.log = log;
  }

  setup(on: readonly Variation[], n: number): BuildSetup {
    const sourceName = basename(this.source) || 'src';
    const s: BuildSetup = {
      root: this.root,
      sourceName,
      env: Object.fromEntries(
        Object.entries(this.env).filter((e): e is [string, string] => e[1] !== undefined),
      ),
      buildDir: join(this.root, 'build', sourceName),
      home: join(this.root, 'home'),
      umask: 0o022,
      wrappers: [],
    };
    for (const v of VARIATIONS) {
      if (on.includes(v)) v.vary(s, Math.max(1, n), this.machine);
      else if (this.machine && !v.unavailable(this.machine)) v.control(s);
    }
    s.env.HOME = s.home;
    s.env.PWD = s.buildDir;
    return s;
  }

  async run(runNo: number, on: readonly Variation[], n: number, probe = false): Promise<RunRecord> {
    const s = this.setup(on, n);
    const names = on.map((v) => v.name);
    this.log(
      `${probe ? 'bisect build' : `run ${runNo}`}${names.length ? ` (varied: ${names.join(', ')})` : ' (control)'}\n`,
    );
    await rm(s.buildDir, { recursive: true, force: true });
    await rm(s.home, { recursive: true, force: true });
    await mkdir(s.home, { recursive: true });
    let backing: string | undefined;
    if (s.disorder) {
      backing = join(this.root, `backing-${runNo}`, s.sourceName);
      await copyTree(this.source, backing);
      await mkdir(s.buildDir, { recursive: true });
      const args = [
        '-q',
        '--reverse-dirents=yes',
        '--shuffle-dirents=no',
        ...(this.machine.root ? ['--multi-user=yes'] : []),
        backing,
        s.buildDir,
      ];
      const m = spawnSync('disorderfs', args, { encoding: 'utf8', timeout: 30_000 });
      if (m.status !== 0)
        throw new VouchError(
          'REPRO_BUILD_FAILED',
          `run ${runNo}: cannot mount disorderfs: ${m.stderr}`,
        );
      this.#mounts.push(s.buildDir);
    } else {
      await copyTree(this.source, s.buildDir);
    }
    try {
      if (s.runAs) {
        await chownTree(backing ?? s.buildDir, s.runAs.uid, s.runAs.gid);
        await chownTree(s.home, s.runAs.uid, s.runAs.gid);
        await chmodParents(s.buildDir, this.root);
      }
      const before = this.globs ? undefined : await snapshot(s.buildDir);
      let argv = [...this.argv];
      const wrappers = [...s.wrappers];
      if (s.runAs) {
        const at = wrappers.filter((w) => w[0] === 'unshare').length;
        wrappers.splice(at, 0, [
          'setpriv',
          `--reuid=${s.runAs.uid}`,
          `--regid=${s.runAs.gid}`,
          '--clear-groups',
          '--',
        ]);
      }
      for (const w of [...wrappers].reverse()) argv = [...w, ...argv];
      let output = '';
      const previous = process.umask(s.umask);
      let result: Awaited<ReturnType<typeof spawnCommand>>;
      try {
        result = await spawnCommand(argv, {
          cwd: s.buildDir,
          env: s.env,
          stdio: 'pipe',
          log: (m) => {
            output = (output + m).slice(-4000);
          },
        });
      } finally {
        process.umask(previous);
      }
      if (result.exitCode !== 0) {
        throw new VouchError(
          'REPRO_BUILD_FAILED',
          `${probe ? 'a bisect build' : `run ${runNo}`}${names.length ? ` (varied: ${names.join(', ')})` : ' (control)'} exited with code ${result.exitCode}; its output ends:\n${output.trimEnd()}`,
          { field: 'argv' },
        );
      }
      const files = this.globs
        ? await expandFiles(this.globs, s.buildDir)
        : await changedFiles(s.buildDir, before as Map<string, string>);
      const keep = join(this.root, 'products', String(runNo));
      const products: Product[] = [];
      for (const rel of files) {
        const from = join(s.buildDir, rel);
        const to = join(keep, rel);
        await mkdir(dirname(to), { recursive: true });
        await cp(from, to, { verbatimSymlinks: true, preserveTimestamps: true });
        products.push({ name: rel, digest: await digestFile(to, ['sha256']) });
      }
      this.kept.set(runNo, { dir: keep, buildDir: s.buildDir, home: s.home });
      return {
        run: runNo,
        role: on.length === 0 ? 'control' : 'experiment',
        variations: names,
        products,
      };
    } finally {
      if (s.disorder) {
        unmount(s.buildDir);
        this.#mounts = this.#mounts.filter((m) => m !== s.buildDir);
      }
    }
  }

  /** Product by product, how run `r` differs from the control. */
  async explain(control: RunRecord, r: RunRecord): Promise<Difference[]> {
    const kc = this.kept.get(control.run);
    const kr = this.kept.get(r.run);
    if (!kc || !kr) return [];
    const out: Difference[] = [];
    const names = differingProducts(control.products, r.products);
    const buildPaths = [kc.buildDir, kr.buildDir, kc.home, kr.home, this.source];
    for (const name of names) {
      const inA = control.products.some((p) => p.name === name);
      const inB = r.products.some((p) => p.name === name);
      if (!inA || !inB) {
        out.push({
          path: name,
          kind: inA ? 'removed' : 'added',
          class: 'unknown',
          hint: 'a product only one build makes',
          detail: `only in ${inA ? 'the control' : `run ${r.run}`}`,
        });
        continue;
      }
      try {
        const d = await diffFiles(join(kc.dir, name), join(kr.dir, name), { name, buildPaths });
        out.push(...d.differences);
      } catch (e) {
        out.push({
          path: name,
          kind: 'content',
          class: 'unknown',
          hint: 'compare the products by hand',
          detail: `cannot compare: ${errorMessage(e)}`,
        });
      }
    }
    return out;
  }

  async cleanup(): Promise<void> {
    for (const m of this.#mounts) unmount(m);
    this.#mounts = [];
  }
}

async function copyTree(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  await cp(from, to, {
    recursive: true,
    verbatimSymlinks: true,
    preserveTimestamps: true,
    filter: (src) => {
      const rel = relative(from, src);
      return rel.split(sep)[0] !== '.vouch';
    },
  });
}

async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  await chown(dir, uid, gid);
  for (const name of await readdir(dir)) {
    const p = join(dir, name);
    const st = await lstat(p);
    if (st.isDirectory()) await chownTree(p, uid, gid);
    else if (!st.isSymbolicLink()) await chown(p, uid, gid);
  }
}

async function chmodParents(dir: string, root: string): Promise<void> {
  for (let d = dirname(dir); d.startsWith(root) && d !== root; d = dirname(d))
    await chmod(d, 0o755);
}

async function snapshot(dir: string): Promise<Map<string, string>> {
  const { entries } = await digestTree(dir, {
    ignore: (rel) => EXCLUDED.has(rel.split('/')[0] as string),
  });
  // A product rebuilt with the same bytes (a stale copy in the source) still counts: mtimes too.
  const out = new Map<string, string>();
  for (const e of entries) {
    const st = await lstat(join(dir, e.path));
    out.set(e.path, `${e.digest.sha256}:${st.mtimeMs}`);
  }
  return out;
}

async function changedFiles(dir: string, before: Map<string, string>): Promise<string[]> {
  const after = await snapshot(dir);
  return [...after]
    .filter(([p, d]) => before.get(p) !== d)
    .map(([p]) => p)
    .sort(compareCodePoints);
}

async function expandFiles(globs: readonly string[], dir: string): Promise<string[]> {
  const { entries } = await digestTree(dir, {
    ignore: (rel) => EXCLUDED.has(rel.split('/')[0] as string),
  });
  return entries
    .map((e) => e.path)
    .filter((p) => globs.some((g) => matchesGlob(p, g)))
    .sort(compareCodePoints);
}
