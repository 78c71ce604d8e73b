// in-toto layouts and links on the command line: `vouch verify --intoto-layout`
// and `vouch run --format in-toto-link`. verify.ts and run.ts only declare the
// flags (spread from here) and hand over with one early return.
import { resolve } from 'node:path';
import { writeFileAtomic } from '../core/atomic.ts';
import { readTextFile } from '../core/json.ts';
import type { InspectionMode, IntotoPublicKey, IntotoVerdict } from '../policy/intoto/index.ts';
import { usage } from './args.ts';
import { displayPath, type Io, printJson } from './io.ts';
import { passphraseFor } from './signing.ts';

/** The in-toto implementation loads only when an in-toto flag is used, not on every run/verify. */
const intoto = () => import('../policy/intoto/index.ts');

/** Flags of `vouch verify` for in-toto layouts. */
export const INTOTO_VERIFY_OPTIONS = {
  'intoto-layout': { type: 'string' },
  'layout-key': { type: 'string', multiple: true },
  'link-dir': { type: 'string' },
  at: { type: 'string' },
  'run-inspections': { type: 'boolean' },
  'insecure-skip-inspections': { type: 'boolean' },
  'inspection-timeout': { type: 'string' },
} as const;

export const INTOTO_VERIFY_HELP = `in-toto layouts (metadata v0.9, Metablock or DSSE):
  --intoto-layout FILE  verify this root layout and its links instead of an artifact
  --layout-key FILE     the layout owner's public key (PEM, or in-toto-keygen's JSON);
                        repeatable, every key must have signed the layout
  --link-dir DIR        where <step>.<keyid8>.link files are (default: .)
  --at TIME             verification time for the layout's expiry (RFC 3339; default now)
  --run-inspections     run the layout's inspection commands (in the current directory);
                        without it a layout with inspections does not pass
  --inspection-timeout SECONDS  kill an inspection (and every process it started) after
                        SECONDS and fail it (default 10, as in-toto); decimals allowed
  --insecure-skip-inspections  pass without running inspections (prints a warning)`;

interface IntotoVerifyValues {
  'intoto-layout'?: string | undefined;
  'layout-key'?: string[] | undefined;
  'link-dir'?: string | undefined;
  at?: string | undefined;
  'run-inspections'?: boolean | undefined;
  'insecure-skip-inspections'?: boolean | undefined;
  'inspection-timeout'?: string | undefined;
  json?: boolean | undefined;
}

const KEY_FILE_LIMIT = 1024 * 1024;

/**
 * `vouch verify --intoto-layout …`: 0 when the layout and its links verify,
 * 1 with every reason when they do not.
 *
 * @throws VouchError USAGE | FILE_* | JSON_* | DSSE_* | KEY_* (exit 2)
 */
export async function runIntotoVerify(values: IntotoVerifyValues, io: Io): Promise<number> {
  const layoutPath = values['intoto-layout'];
  if (!layoutPath) throw usage('verify', '--intoto-layout needs a layout file');
  const keyFiles = values['layout-key'] ?? [];
  if (keyFiles.length === 0) {
    throw usage('verify', '--intoto-layout needs the owner key: --layout-key FILE');
  }
  if (values['run-inspections'] && values['insecure-skip-inspections']) {
    throw usage('verify', '--run-inspections and --insecure-skip-inspections exclude each other');
  }
  let at = new Date();
  if (values.at !== undefined) {
    const t = (await intoto()).parseTime(values.at);
    if (t === undefined) {
      throw usage(
        'verify',
        `--at must be an RFC 3339 time such as 2030-01-01T00:00:00Z, got ${JSON.stringify(values.at)}`,
      );
    }
    at = new Date(t);
  }
  const layoutKeys: IntotoPublicKey[] = [];
  for (const f of keyFiles) {
    const path = resolve(io.cwd, f);
    layoutKeys.push(
      (await intoto()).loadIntotoPublicKey(await readTextFile(path, KEY_FILE_LIMIT), f),
    );
  }
  const timeout = values['inspection-timeout'];
  if (timeout !== undefined && !values['run-inspections']) {
    throw usage('verify', '--inspection-timeout applies only with --run-inspections');
  }
  const timeoutSeconds = timeout === undefined ? undefined : inspectionTimeout(timeout);
  let inspections: InspectionMode = { mode: 'refuse' };
  if (values['run-inspections']) {
    inspections = {
      mode: 'run',
      workdir: io.cwd,
      ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }),
    };
  }
  if (values['insecure-skip-inspections']) {
    io.stderr("vouch verify: WARNING: skipping the layout's inspections (insecure)\n");
    inspections = { mode: 'insecure-skip' };
  }
  const verdict = await (await intoto()).verifyIntotoLayout({
    layoutPath: resolve(io.cwd, layoutPath),
    layoutKeys,
    linkDir: resolve(io.cwd, values['link-dir'] ?? '.'),
    at,
    inspections,
    log: (m) => io.stderr(m),
  });
  verdict.layout = layoutPath;
  if (values.json) printJson(io, verdict);
  else printVerdict(io, verdict);
  return verdict.ok ? 0 : 1;
}

/** Longest timer Node keeps, 2^31 - 1 ms (MAX_INSPECTION_TIMEOUT_SECONDS, without loading in-toto). */
const MAX_TIMEOUT_SECONDS = 2_147_483;

function inspectionTimeout(text: string): number {
  const seconds = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!(seconds > 0 && seconds <= MAX_TIMEOUT_SECONDS)) {
    throw usage(
      'verify',
      `--inspection-timeout must be a number of seconds more than 0 and at most ${MAX_TIMEOUT_SECONDS}, got ${JSON.stringify(text)}`,
    );
  }
  return seconds;
}

function printVerdict(io: Io, v: IntotoVerdict): void {
  io.stdout(`${v.layout}  in-toto layout (${v.envelope}), expires ${v.expires ?? '?'}\n`);
  for (const c of v.checks) io.stdout(`  ${c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}\n`);
  for (const w of v.warnings) io.stdout(`  ! ${w}\n`);
  const failed = v.checks.filter((c) => !c.ok).length;
  io.stdout(
    v.ok
      ? `PASSED: ${v.checks.length} check(s) passed\n`
      : `FAILED: ${failed} of ${v.checks.length} check(s) failed\n`,
  );
}

/** Flags of `vouch run` for in-toto links. */
export const INTOTO_RUN_OPTIONS = {
  format: { type: 'string' },
  'step-name': { type: 'string' },
  exclude: { type: 'string', multiple: true },
  'base-path': { type: 'string' },
  'lstrip-paths': { type: 'string', multiple: true },
} as const;

export const INTOTO_RUN_HELP = `in-toto links:
  --format in-toto-link  write a signed in-toto link (metadata v0.9) instead of provenance;
                         needs --key (PEM or in-toto-keygen's JSON key) and --step-name
  --step-name NAME       the layout step; the link is written to NAME.<keyid8>.link
                         (or to --out FILE); only --materials globs are recorded as materials
                         (a matched directory recursively, symlinks followed, as in-toto-run)
  --exclude PATTERN      gitignore-style path not to record, repeatable; replaces in-toto's
                         defaults ('*.link*', '.git', '*.pyc', '*~')
  --base-path DIR        look up --materials/--products in DIR and record them relative
                         to it, as in-toto-run (the command still runs here)
  --lstrip-paths PREFIX  remove PREFIX from the start of recorded names (the first that
                         matches; repeatable, none may start another); two artifacts
                         recorded under the same name are an error, as in in-toto-run`;

interface IntotoRunValues {
  format?: string | undefined;
  'step-name'?: string | undefined;
  key?: string | undefined;
  keyless?: boolean | undefined;
  materials?: string[] | undefined;
  products?: string[] | undefined;
  exclude?: string[] | undefined;
  'base-path'?: string | undefined;
  'lstrip-paths'?: string[] | undefined;
  out?: string | undefined;
  json?: boolean | undefined;
}

/**
 * The in-toto link flags mean nothing for provenance: refused, not ignored.
 *
 * @throws VouchError USAGE
 */
export function refuseIntotoRunFlags(values: IntotoRunValues): void {
  const given = (['step-name', 'exclude', 'base-path', 'lstrip-paths'] as const).filter(
    (f) => values[f] !== undefined,
  );
  if (given.length > 0) {
    throw usage(
      'run',
      `${given.map((f) => `--${f}`).join(', ')} ${given.length > 1 ? 'are' : 'is'} for --format in-toto-link`,
    );
  }
}

/**
 * `vouch run --format in-toto-link --step-name NAME --key KEY -- cmd…`.
 * Exits with the command's exit code; a failed command writes no link.
 *
 * @throws VouchError USAGE | FILE_* | KEY_* | COMMAND_FAILED_TO_START | PATH_ESCAPE
 */
export async function runIntotoLink(
  values: IntotoRunValues,
  argv: string[],
  io: Io,
): Promise<number> {
  if (values.format !== 'in-toto-link') {
    throw usage(
      'run',
      `unknown --format ${JSON.stringify(values.format)}: the only one is in-toto-link`,
    );
  }
  const name = values['step-name'];
  if (!name) throw usage('run', '--format in-toto-link needs --step-name NAME');
  if (/[/\\]/.test(name) || name === '.' || name === '..') {
    throw usage('run', '--step-name must not contain path separators');
  }
  if (values.keyless || !values.key) {
    throw usage(
      'run',
      '--format in-toto-link signs with a key: --key FILE (keyless is not an in-toto key)',
    );
  }
  if (argv.length === 0) throw usage('run', 'missing the command to run after --');
  // Load the key (and ask for its passphrase) before the step runs, not after it.
  const keyText = await readTextFile(resolve(io.cwd, values.key), KEY_FILE_LIMIT);
  const encrypted =
    keyText.includes('BEGIN ENCRYPTED PRIVATE KEY') || /Proc-Type:\s*4,ENCRYPTED/.test(keyText);
  const passphrase = encrypted ? await passphraseFor(values.key, io) : undefined;
  const { linkFileNameFor, loadIntotoSigningKey, metablockJson, recordLink, signMetablock } =
    await intoto();
  const key = loadIntotoSigningKey(keyText, values.key, passphrase);

  const result = await recordLink({
    name,
    argv,
    workdir: io.cwd,
    env: io.env,
    ...(values.materials ? { materials: values.materials } : {}),
    ...(values.products ? { products: values.products } : {}),
    ...(values.exclude ? { exclude: values.exclude } : {}),
    ...(values['base-path'] !== undefined ? { basePath: values['base-path'] } : {}),
    ...(values['lstrip-paths'] ? { lstripPaths: values['lstrip-paths'] } : {}),
    stdio: values.json ? 'pipe' : 'inherit',
    log: (m) => io.stderr(m.endsWith('\n') ? m : `${m}\n`),
  });
  if (!result.link) {
    io.stderr(`vouch run: no link: the command exited with ${result.exitCode}\n`);
    if (values.json) printJson(io, { exitCode: result.exitCode, link: null });
    return result.exitCode;
  }
  const metablock = await signMetablock(result.link, key);
  const file = resolve(io.cwd, values.out ?? linkFileNameFor(result.link, key));
  await writeFileAtomic(file, metablockJson(metablock));
  const shown = displayPath(file, io.cwd);
  if (values.json) {
    printJson(io, {
      exitCode: result.exitCode,
      link: shown,
      step: name,
      keyid: key.keyid,
      // The functionary key as a layout's "keys" must list it.
      key: key.dict,
      materials: result.link.materials,
      products: result.link.products,
    });
  } else {
    const n = (o: object) => Object.keys(o).length;
    io.stderr(
      `vouch run: wrote ${shown} (${n(result.link.materials)} material(s), ${n(result.link.products)} product(s), key ${key.keyid.slice(0, 8)})\n`,
    );
  }
  return result.exitCode;
}
