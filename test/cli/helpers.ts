// Shared fixtures for the CLI end-to-end tests (not itself a test file): they run
// `src/cli/main.ts` in a child Node.js, in a temp directory, as a user would.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHARED } from '../shared.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The CLI entry users run (bin/vouch.js): it also enables the compile cache. */
export const CLI_MAIN = join(REPO_ROOT, 'bin', 'vouch.js');

/**
 * One compile cache for every CLI child of a test run. Each test has its own
 * HOME, so the per-user default would start cold in every test; sharing one
 * keeps a spawn at ~0.1 s instead of ~0.4 s.
 */
export const TEST_COMPILE_CACHE = join(
  tmpdir(),
  `vouch-test-compile-cache-${process.getuid?.() ?? 0}`,
);
export const VECTORS = `${SHARED}/vectors`;

export interface VouchResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface VouchOptions {
  cwd: string;
  /** The whole environment of the child (no inheritance): use `isolatedEnv`. */
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is always a pipe (never a terminal). */
  input?: string;
}

/** Runs `vouch <args>` from this checkout. stdin is a pipe, so there is no TTY to prompt on. */
export function vouch(args: readonly string[], options: VouchOptions): Promise<VouchResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_MAIN, ...args], {
      cwd: options.cwd,
      env: options.env ?? isolatedEnv(options.cwd),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Parses stdout as one JSON document, with the whole result in the message when it is not. */
// biome-ignore lint/suspicious/noExplicitAny: tests read JSON of a shape they assert on
export function jsonOf(r: VouchResult): any {
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`stdout is not JSON (exit ${r.code}):\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}

/** For assertion messages: everything the run printed. */
export function show(r: VouchResult): string {
  return `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
}

/** A temp directory (real path), removed after the test. */
export async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await realpath(await mkdtemp(join(tmpdir(), 'vouch-cli-')));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * An environment isolated from the developer's: own HOME and caches, no git
 * system/global config, fixed git identity, no CI variables, no passphrase.
 */
export function isolatedEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: join(home, '.home'),
    XDG_CACHE_HOME: join(home, '.home', '.cache'),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: join(home, '.home', '.gitconfig'),
    GIT_CEILING_DIRECTORIES: home,
    GIT_AUTHOR_NAME: 'Test',
    GIT_AUTHOR_EMAIL: 'test@example.com',
    GIT_COMMITTER_NAME: 'Test',
    GIT_COMMITTER_EMAIL: 'test@example.com',
    LANG: 'C',
    NODE_COMPILE_CACHE: TEST_COMPILE_CACHE,
    ...extra,
  };
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function sha256File(path: string): Promise<string> {
  return sha256(await readFile(path));
}

export function git(cwd: string, env: NodeJS.ProcessEnv, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env, encoding: 'utf8' }).trim();
}

/** A fresh git repository with `src.txt` committed, inside a temp dir; returns it and its env. */
export async function gitProject(t: { after: (fn: () => Promise<void>) => void }) {
  const root = await tempDir(t);
  const dir = join(root, 'proj');
  await mkdir(dir);
  await mkdir(join(root, '.home'));
  const env = isolatedEnv(root);
  await writeFile(join(dir, 'src.txt'), 'hello, build\n');
  git(dir, env, 'init', '-q', '-b', 'main');
  git(dir, env, 'add', '-A');
  git(dir, env, 'commit', '-q', '--no-gpg-sign', '-m', 'initial');
  return { dir, env };
}

/** The build the run tests wrap: upper-cases src.txt into dist/out.txt. */
export const BUILD = ['sh', '-c', 'mkdir -p dist && tr a-z A-Z < src.txt > dist/out.txt'];

/** `vouch keys generate --no-passphrase --prefix <prefix>`; fails the test when it fails. */
export async function generateKey(
  cwd: string,
  env: NodeJS.ProcessEnv,
  prefix = 'k',
  algorithm = 'ecdsa-p256',
): Promise<{ key: string; pub: string }> {
  const r = await vouch(
    ['keys', 'generate', '--no-passphrase', '--prefix', prefix, '--algorithm', algorithm],
    { cwd, env },
  );
  if (r.code !== 0) throw new Error(`keys generate failed: ${show(r)}`);
  return { key: `${prefix}.key`, pub: `${prefix}.pub` };
}

/** The in-toto Statement inside a DSSE bundle file. */
// biome-ignore lint/suspicious/noExplicitAny: tests read JSON of a shape they assert on
export async function statementOf(bundlePath: string): Promise<any> {
  const bundle = JSON.parse(await readFile(bundlePath, 'utf8'));
  return JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
}

/**
 * The arguments of `vouch attest` that sign `predicate` (a test result, JSON) as a
 * test-result about `subject` with `key`; append flags such as `--out` after them.
 */
export function attestTestResultArgs(
  subject: string,
  predicate = 'tests.json',
  key = 'ci.key',
): string[] {
  return [...testResultArgs(subject, predicate), '--key', key];
}

/**
 * As `attestTestResultArgs`, signed keyless instead: `token` (an identity token)
 * for the Fulcio and Rekor at `sigstore` (a mock Sigstore's base URL).
 */
export function attestTestResultKeylessArgs(
  subject: string,
  token: string,
  sigstore: string,
  predicate = 'tests.json',
): string[] {
  return [
    ...testResultArgs(subject, predicate),
    '--keyless',
    '--identity-token',
    token,
    '--fulcio-url',
    sigstore,
    '--rekor-url',
    sigstore,
  ];
}

const testResultArgs = (subject: string, predicate: string) => [
  'attest',
  subject,
  '--predicate-type',
  'test-result',
  '--predicate',
  predicate,
];

/**
 * The policy `gate` (gate.yaml in the decision tests): it requires a test-result
 * signed by ci.pub, as `attestTestResultArgs` signs it. `requireDigest`, when
 * given, is written as that field; otherwise the policy has none.
 */
export const GATE_POLICY = (requireDigest?: boolean) => `apiVersion: vouch.dev/policy/v1
kind: Policy
metadata:
  name: gate
${requireDigest === undefined ? '' : `requireDigest: ${requireDigest}\n`}trust:
  signers:
    - name: ci
      key: ci.pub
require:
  - name: tested
    predicateType: test-result
    signers: [ci]
`;

/** An SLSA provenance predicate (JSON text) by builder https://ci.example/, finished at `finishedOn`. */
export const PROVENANCE = (finishedOn: string) =>
  JSON.stringify({
    buildDefinition: { buildType: 'https://vouch.dev/build/v1', externalParameters: {} },
    runDetails: { builder: { id: 'https://ci.example/' }, metadata: { finishedOn } },
  });

/**
 * A temp project for the policy tests: a key pair `<name>.key`/`<name>.pub` for each of `keys`,
 * app.bin, and prov.json (provenance finished now). `attestProvenance(key, ...extra)` signs
 * prov.json as SLSA provenance of app.bin with `key`; `extra` flags follow.
 */
export async function provenanceProject(
  t: { after: (fn: () => Promise<void>) => void },
  keys: readonly string[],
) {
  const dir = await tempDir(t);
  await mkdir(join(dir, '.home'));
  const env = isolatedEnv(dir);
  await Promise.all(keys.map((name) => generateKey(dir, env, name)));
  await writeFile(join(dir, 'app.bin'), 'the app\n');
  await writeFile(join(dir, 'prov.json'), PROVENANCE(new Date().toISOString()));
  const run = (...args: string[]) => vouch(args, { cwd: dir, env });
  const attestProvenance = (key: string, ...extra: string[]) =>
    run(
      'attest',
      'app.bin',
      '--predicate-type',
      'slsaprovenance',
      '--predicate',
      'prov.json',
      '--key',
      key,
      ...extra,
    );
  return { dir, env, run, attestProvenance };
}
