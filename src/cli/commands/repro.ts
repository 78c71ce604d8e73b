import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { detectCi, type GitAttestation, gitAttestor } from '../../attest/index.ts';
import { writeFileAtomic } from '../../core/atomic.ts';
import { digestBytes, digestTree } from '../../core/digest.ts';
import { VouchError } from '../../core/errors.ts';
import { readTextFile } from '../../core/json.ts';
import {
  type CheckResult,
  checkReproducible,
  diffFiles,
  matchOriginal,
  normalizeArchive,
  type OriginalMatch,
  REBUILD_PREDICATE_V1,
  rebuildStatement,
  renderHtml,
  renderText,
  VARIATION_NAMES,
  type VariationName,
} from '../../repro/index.ts';
import { loadVerificationKey, verifyBundle } from '../../sign/index.ts';
import { parse, subcommand, usage } from '../args.ts';
import { type Io, printJson } from '../io.ts';
import { PUBLISH_OPTIONS, signAndPublish } from '../publish.ts';
import { SIGNING_HELP, SIGNING_OPTIONS, signingModeFrom } from '../signing.ts';
import type { Command } from './command.ts';

const HELP = `Usage: vouch repro <check | diff | normalize> [options]

  vouch repro check [options] -- <build command…>
      Builds the current directory (or --source) several times in fresh copies, varying
      the environment, and compares the products. Exit 0 reproducible, 1 not (explained).
    --runs N              builds to compare (default 2; run 1 is the control)
    --vary LIST           only these variations (comma-separated; default all):
                          ${VARIATION_NAMES.join(',')}
    --no-vary LIST        all variations but these
    --products GLOB       the outputs to compare (repeatable; default: every file the build
                          creates or changes)
    --source DIR          the source tree to copy (default: the current directory)
    --no-bisect           do not rebuild to find which variation causes a difference
    --attest              sign a rebuild attestation (${REBUILD_PREDICATE_V1})
    --original BUNDLE     provenance of the original build: verified with --original-key,
                          then its subjects are compared with the rebuilt products
    --original-key FILE   public key the original bundle must verify with
${SIGNING_HELP.replace(/^/gm, '  ')}
    --store DIR           evidence store (default: .vouch)
    --no-store            do not store the bundle
    --out FILE            also write the bundle to FILE

  vouch repro diff A B [--json] [--html FILE]
      Structural diff of two files or directories (tar, gzip, zip/jar/whl, ar/deb, npm .tgz,
      OCI layouts, nested). Exit 0 identical, 1 different.
    --html FILE           also write an HTML report

  vouch repro normalize FILE (-o OUT | --in-place)
      Rewrites a tar (plain, gzip, xz or zstd), zip/jar, gzip, ar or .deb file
      deterministically: timestamps from SOURCE_DATE_EPOCH (else 0), members sorted (a
      .deb in dpkg's order, its control and data tars normalized inside their own
      compression), owner 0:0, gzip header without name/time. Inputs up to 1 GiB.
    -o, --output OUT      write here (atomically)
    --in-place            replace FILE (atomically)

Every subcommand takes --json.`;

export const reproCommand: Command = {
  name: 'repro',
  help: HELP,
  async run(argv, io) {
    const s = subcommand('repro', argv, ['check', 'diff', 'normalize']);
    if (s === 'help') {
      io.stdout(`${HELP}\n`);
      return 0;
    }
    const { sub, rest } = s;
    switch (sub) {
      case 'check':
        return check(rest, io);
      case 'diff':
        return diff(rest, io);
      case 'normalize':
        return normalize(rest, io);
    }
  },
};

async function diff(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('repro diff', argv, { html: { type: 'string' } });
  if (values.help) {
    io.stdout(`${HELP}\n`);
    return 0;
  }
  if (positionals.length !== 2) throw usage('repro diff', 'give two files or directories');
  const [a, b] = positionals as [string, string];
  const result = await diffFiles(resolve(io.cwd, a), resolve(io.cwd, b));
  const shown = { ...result, a, b };
  if (values.html) await writeFileAtomic(resolve(io.cwd, values.html), renderHtml(shown));
  if (values.json) printJson(io, shown);
  else io.stdout(renderText(shown));
  return result.identical ? 0 : 1;
}

async function normalize(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('repro normalize', argv, {
    output: { type: 'string', short: 'o' },
    'in-place': { type: 'boolean' },
  });
  if (values.help) {
    io.stdout(`${HELP}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw usage('repro normalize', 'give one file');
  if (!values.output === !values['in-place'])
    throw usage('repro normalize', 'give exactly one of -o OUT and --in-place');
  const file = positionals[0] as string;
  const sde = io.env.SOURCE_DATE_EPOCH;
  if (sde !== undefined && !/^\d{1,12}$/.test(sde)) {
    throw new VouchError(
      'USAGE',
      `SOURCE_DATE_EPOCH must be whole seconds, got ${JSON.stringify(sde)}`,
      { field: 'SOURCE_DATE_EPOCH' },
    );
  }
  const { data, report } = await normalizeArchive(resolve(io.cwd, file), {
    mtime: sde ? Number(sde) : 0,
  });
  const target = resolve(io.cwd, values['in-place'] ? file : (values.output as string));
  await writeFileAtomic(target, data);
  if (values.json)
    printJson(io, {
      file,
      output: values['in-place'] ? file : values.output,
      ...report,
      sha256: digestBytes(data).sha256,
    });
  else {
    io.stdout(
      `${file} (${report.format}, ${report.members} members) → ${values['in-place'] ? file : values.output}\n`,
    );
    if (report.changes.length === 0) io.stdout('  nothing to change\n');
    for (const c of report.changes) io.stdout(`  ${c.what}: ${c.count}\n`);
  }
  return 0;
}

function variationList(values: string[] | undefined, flag: string): VariationName[] | undefined {
  if (!values) return undefined;
  const out: VariationName[] = [];
  for (const v of values
    .flatMap((x) => x.split(','))
    .map((x) => x.trim())
    .filter(Boolean)) {
    if (!(VARIATION_NAMES as readonly string[]).includes(v)) {
      throw new VouchError(
        'USAGE',
        `unknown variation ${JSON.stringify(v)}: use ${VARIATION_NAMES.join(', ')}`,
        { field: flag },
      );
    }
    out.push(v as VariationName);
  }
  return out;
}

async function check(argv: string[], io: Io): Promise<number> {
  const { values, positionals, rest } = parse('repro check', argv, {
    runs: { type: 'string' },
    vary: { type: 'string', multiple: true },
    'no-vary': { type: 'string', multiple: true },
    products: { type: 'string', multiple: true },
    source: { type: 'string' },
    'no-bisect': { type: 'boolean' },
    attest: { type: 'boolean' },
    original: { type: 'string' },
    'original-key': { type: 'string' },
    ...SIGNING_OPTIONS,
    ...PUBLISH_OPTIONS,
  });
  if (values.help) {
    io.stdout(`${HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) throw usage('repro check', 'put the build command after --');
  if (rest.length === 0) throw usage('repro check', 'give the build command after --');
  const runs = values.runs === undefined ? 2 : Number(values.runs);
  const only = variationList(values.vary, '--vary');
  const not = new Set(variationList(values['no-vary'], '--no-vary') ?? []);
  const vary = (only ?? [...VARIATION_NAMES]).filter((v) => !not.has(v));
  if ((values.original === undefined) !== (values['original-key'] === undefined)) {
    throw usage('repro check', '--original and --original-key go together');
  }
  if (!values.attest) {
    // Signing flags without --attest would be ignored: say so, as sbom and scan do.
    const stray = ['original', 'key', 'keyless', 'identity-token', 'out', 'no-store'].find(
      (k) => values[k as keyof typeof values] !== undefined,
    );
    if (stray !== undefined) throw usage('repro check', `--${stray} needs --attest`);
  }
  // Check what can fail on input before spending time building.
  const mode = values.attest ? await signingModeFrom('repro check', values, io) : undefined;
  const original = values.original
    ? await verifyOriginal(
        resolve(io.cwd, values.original),
        resolve(io.cwd, values['original-key'] as string),
        values.original,
      )
    : undefined;
  const source = resolve(io.cwd, values.source ?? '.');
  const startedOn = new Date().toISOString();
  const result = await checkReproducible({
    argv: rest,
    source,
    runs,
    vary,
    ...(values.products ? { products: values.products } : {}),
    bisect: !values['no-bisect'],
    env: io.env,
    log: (m) => io.stderr(m),
  });
  const finishedOn = new Date().toISOString();
  let bundle: Awaited<ReturnType<typeof signAndPublish>> | undefined;
  let originalMatch: OriginalMatch | undefined;
  if (mode) {
    if (original) {
      originalMatch = {
        ...original.info,
        ...matchOriginal(result.runs[0]?.products ?? [], original.subjects),
      };
    }
    const statement = rebuildStatement({
      result,
      argv: rest,
      rebuilderId: detectCi(io.env).builderId,
      source: await sourceOf(source, io.env),
      ...(originalMatch ? { original: originalMatch } : {}),
      startedOn,
      finishedOn,
    });
    bundle = await signAndPublish(statement, mode, values, io);
  }
  const ok = result.reproducible && (originalMatch ? originalMatch.matches : true);
  if (values.json)
    printJson(io, {
      ...result,
      ...(originalMatch ? { original: originalMatch } : {}),
      ...(bundle ? { bundle } : {}),
    });
  else io.stdout(explain(result, originalMatch, bundle));
  return ok ? 0 : 1;
}

async function verifyOriginal(bundleFile: string, keyFile: string, shown: string) {
  const bytes = await readFile(bundleFile).catch(() => {
    throw new VouchError('FILE_NOT_FOUND', 'no such file', { file: shown });
  });
  const key = loadVerificationKey(await readTextFile(keyFile, 1024 * 1024), keyFile);
  const verdict = verifyBundle(bytes.toString('utf8'), shown, undefined, {
    mode: 'key',
    keys: [key],
  });
  if (!verdict.ok || !verdict.statement) {
    const why = verdict.checks
      .filter((c) => !c.ok)
      .map((c) => `${c.name}: ${c.detail}`)
      .join('; ');
    throw new VouchError(
      'VERIFICATION_FAILED',
      `the original provenance does not verify: ${why || 'no in-toto statement'}`,
      { file: shown },
    );
  }
  const signer = verdict.signers[0];
  return {
    info: {
      bundle: { sha256: digestBytes(bytes).sha256 as string },
      predicateType: verdict.statement.predicateType,
      signer: signer
        ? signer.kind === 'key'
          ? `key:${signer.keyid}`
          : JSON.stringify(signer)
        : 'unknown',
    },
    subjects: verdict.statement.subject as { name: string; digest: Record<string, string> }[],
  };
}

async function sourceOf(dir: string, env: NodeJS.ProcessEnv) {
  const git = (await gitAttestor.attest({
    workdir: dir,
    argv: [],
    env,
    options: {},
    log: () => {},
  })) as GitAttestation;
  if (git.present && git.commit) {
    return {
      ...(git.remote ? { uri: `git+${git.remote.url}` } : {}),
      digest: { gitCommit: git.commit },
      dirty: git.dirty,
    };
  }
  const tree = await digestTree(dir, { ignore: (rel) => rel.split('/')[0] === '.vouch' });
  return { digest: { sha256: tree.digest.sha256 as string } };
}

function explain(
  r: CheckResult,
  original: OriginalMatch | undefined,
  bundle: Awaited<ReturnType<typeof signAndPublish>> | undefined,
): string {
  const lines: string[] = [];
  const products = r.runs[0]?.products ?? [];
  if (r.reproducible) {
    lines.push(`reproducible: ${r.runs.length} builds agree on ${products.length} product(s)`);
    for (const p of products) lines.push(`  ${p.name} sha256:${p.digest.sha256}`);
  } else {
    lines.push(`not reproducible: ${r.differing.length} of ${products.length} product(s) differ`);
    for (const p of r.differing) lines.push(`  ${p}`);
    if (r.culprits.length > 0) {
      lines.push('caused by:');
      for (const c of r.culprits) {
        const classes = [...new Set(c.differences.map((d) => d.class))].join(', ') || 'unknown';
        lines.push(
          `  ${c.variations.join(' + ') || 'no variation (nondeterministic)'} → ${c.products.join(', ')} (${classes})`,
        );
        lines.push(`    fix: ${c.hint}`);
        for (const d of c.differences.slice(0, 5)) {
          lines.push(
            `    ${d.path}: ${d.field ? `${d.field} ${d.a} → ${d.b}` : d.kind} [${d.class}]`,
          );
          if (d.detail)
            lines.push(
              ...d.detail
                .split('\n')
                .slice(0, 12)
                .map((l) => `      ${l}`),
            );
        }
      }
    } else {
      for (const d of r.differences.slice(0, 10))
        lines.push(`  ${d.path}: ${d.kind} [${d.class}] fix: ${d.hint}`);
    }
  }
  lines.push(`varied: ${r.varied.join(', ') || 'nothing'}`);
  for (const u of r.unavailable) lines.push(`not available: ${u.name} (${u.reason})`);
  if (r.sourceDateEpoch !== null) lines.push(`SOURCE_DATE_EPOCH=${r.sourceDateEpoch}`);
  if (original) {
    lines.push(
      original.matches
        ? `matches the original build (${original.matched.length} subject(s))`
        : `does NOT match the original build: mismatched ${original.mismatched.join(', ') || '-'}; missing ${original.missing.join(', ') || '-'}`,
    );
  }
  if (bundle?.stored) lines.push(`stored ${bundle.stored.path}`);
  if (bundle?.out) lines.push(`wrote ${bundle.out}`);
  return `${lines.join('\n')}\n`;
}
