import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { access, chmod, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { isVouchError } from '../core/errors.ts';
import { STATEMENT_V1 } from '../core/statement.ts';
import type { CommandAttestation } from './command.ts';
import type { GitAttestation } from './git.ts';
import { digestFiles } from './hashing.ts';
import type { MaterialsAttestation } from './materials.ts';
import { SLSA_PROVENANCE_V1, VOUCH_RUN_BUILD_TYPE, validateProvenance } from './predicate.ts';
import { runAndAttest } from './run.ts';
import { gitIn, initRepo, isolatedEnv, nodeScript, sha256, tempDir } from './testing.ts';
import { listFiles } from './tree.ts';

const BUILD = nodeScript(
  "const fs=require('fs');fs.mkdirSync('dist',{recursive:true});fs.writeFileSync('dist/out.txt','built:'+fs.readFileSync('src/in.txt','utf8'))",
);

/** A small project in a fresh git repository with one commit. */
async function project(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const home = join(dir, '.home');
  await mkdir(home);
  const workdir = join(dir, 'proj');
  await mkdir(join(workdir, 'src'), { recursive: true });
  await writeFile(join(workdir, 'src', 'in.txt'), 'input\n');
  await writeFile(join(workdir, 'package-lock.json'), '{"lockfileVersion":3}\n');
  await writeFile(join(workdir, '.gitignore'), 'dist/\n');
  const env = isolatedEnv(home, { GIT_CEILING_DIRECTORIES: dir });
  initRepo(workdir, env);
  return { dir, workdir, env };
}

test('a real build: subjects, materials, git, builder, determinism of shape', async (t) => {
  const { dir, workdir, env } = await project(t);
  gitIn(workdir, env, 'remote', 'add', 'origin', 'https://user:token123@git.example.com/x.git');
  const r = await runAndAttest({ argv: BUILD, workdir, env, stdio: 'pipe' });

  assert.equal(r.exitCode, 0);
  assert.ok(r.statement, r.noProvenanceReason);
  const st = r.statement;
  assert.equal(st._type, STATEMENT_V1);
  assert.equal(st.predicateType, SLSA_PROVENANCE_V1);
  assert.deepEqual(st.subject, [
    { name: 'dist/out.txt', digest: { sha256: sha256('built:input\n') } },
  ]);
  assert.deepEqual(r.subjects, st.subject);

  const pred = validateProvenance(st.predicate, 'test');
  assert.equal(pred.buildDefinition.buildType, VOUCH_RUN_BUILD_TYPE);
  assert.deepEqual(pred.buildDefinition.externalParameters, { command: BUILD, workdir: 'proj' });
  const commit = gitIn(workdir, env, 'rev-parse', 'HEAD');
  assert.deepEqual(pred.buildDefinition.resolvedDependencies, [
    { uri: 'git+https://git.example.com/x.git@refs/heads/main', digest: { gitCommit: commit } },
    { uri: 'file:.gitignore', digest: { sha256: sha256('dist/\n') } },
    { uri: 'file:package-lock.json', digest: { sha256: sha256('{"lockfileVersion":3}\n') } },
    { uri: 'file:src/in.txt', digest: { sha256: sha256('input\n') } },
  ]);
  assert.equal(pred.runDetails.builder.id, 'https://vouch.dev/builders/local@v1');
  assert.match(pred.runDetails.metadata?.invocationId ?? '', /^urn:uuid:[0-9a-f-]{36}$/);
  assert.deepEqual(
    pred.runDetails.byproducts?.map((b) => b.name),
    ['command', 'git', 'environment', 'ci'],
  );

  const git = r.attestations.git as GitAttestation;
  assert.ok(git.present);
  assert.equal(git.commit, commit);
  assert.equal(git.tree, gitIn(workdir, env, 'rev-parse', 'HEAD^{tree}'));
  assert.equal(git.dirty, false);
  assert.equal(git.remote?.url, 'https://git.example.com/x.git');

  const json = JSON.stringify(st);
  assert.ok(!json.includes('token123'), 'remote credentials leaked');
  assert.ok(!json.includes(dir), 'absolute machine path leaked');

  // Second run after an untracked change: dirty, and the rebuilt output is still the product.
  await writeFile(join(workdir, 'notes.txt'), 'scratch\n');
  const again = await runAndAttest({ argv: BUILD, workdir, env, stdio: 'pipe' });
  assert.equal((again.attestations.git as GitAttestation & { present: true }).dirty, true);
  assert.deepEqual(again.statement?.subject, st.subject);
});

test('a failing command: exit code propagated, no statement unless attestFailure', async (t) => {
  const { workdir, env } = await project(t);
  const failing = nodeScript("require('fs').writeFileSync('partial.txt','half');process.exit(3)");
  const r = await runAndAttest({ argv: failing, workdir, env, stdio: 'pipe' });
  assert.equal(r.exitCode, 3);
  assert.equal(r.statement, undefined);
  assert.match(r.noProvenanceReason ?? '', /exited with code 3/);
  assert.equal((r.attestations.command as CommandAttestation).exitCode, 3);

  const forced = await runAndAttest({
    argv: failing,
    workdir,
    env,
    stdio: 'pipe',
    attestFailure: true,
  });
  assert.equal(forced.exitCode, 3);
  assert.ok(forced.statement);
  const cmd = forced.statement.predicate?.runDetails.byproducts?.find((b) => b.name === 'command');
  assert.equal(cmd?.annotations?.exitCode, 3);
  assert.deepEqual(
    forced.subjects.map((s) => s.name),
    ['partial.txt'],
  );
});

test('a command that cannot start: COMMAND_FAILED_TO_START naming argv[0]', async (t) => {
  const { workdir, env } = await project(t);
  await assert.rejects(
    runAndAttest({ argv: ['./no-such-program-xyz', '--flag'], workdir, env, stdio: 'pipe' }),
    (e) => {
      assert.ok(isVouchError(e));
      assert.equal(e.code, 'COMMAND_FAILED_TO_START');
      assert.ok(e.message.includes('./no-such-program-xyz'));
      return true;
    },
  );
});

test('no products: no statement, with a reason', async (t) => {
  const { workdir, env } = await project(t);
  const r = await runAndAttest({ argv: nodeScript(''), workdir, env, stdio: 'pipe' });
  assert.equal(r.exitCode, 0);
  assert.equal(r.statement, undefined);
  assert.match(r.noProvenanceReason ?? '', /no products/);
});

test('secrets in the environment and argv never reach the statement', async (t) => {
  const { workdir, env } = await project(t);
  const ghToken = `ghs_${'Zx9Qw8Er7Ty6Ui5Op4As'.repeat(2)}`;
  const apiKey = 'sk-live-0123456789-not-random-looking';
  const ghpInAllowed = `ghp_${'A1b2C3d4E5f6G7h8I9j0'.repeat(2)}`;
  const jwt =
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
  const runEnv = {
    ...env,
    GITHUB_TOKEN: ghToken,
    API_KEY: apiKey,
    NODE_ENV: ghpInAllowed,
    MY_SETTING: jwt,
    SOURCE_DATE_EPOCH: '1700000000',
  };
  const r = await runAndAttest({
    argv: [...BUILD, '--', `--token=${ghToken}`],
    workdir,
    env: runEnv,
    stdio: 'pipe',
    attestOptions: { envAllow: ['GITHUB_TOKEN', 'API_KEY', 'MY_SETTING'] },
  });
  assert.ok(r.statement);
  const json = JSON.stringify({ statement: r.statement, attestations: r.attestations });
  for (const secret of [ghToken, apiKey, ghpInAllowed, jwt]) {
    assert.ok(!json.includes(secret), `secret of length ${secret.length} leaked`);
  }
  const envRecorded = r.statement.predicate?.buildDefinition.internalParameters?.env as Record<
    string,
    string
  >;
  assert.deepEqual(envRecorded, {
    API_KEY: '[redacted]',
    GITHUB_TOKEN: '[redacted]',
    LANG: 'C',
    MY_SETTING: '[redacted]',
    NODE_ENV: '[redacted]',
    SOURCE_DATE_EPOCH: '1700000000',
  });
});

test('GitHub Actions context: builder id and invocation id from the run', async (t) => {
  const { workdir, env } = await project(t);
  const ghEnv = {
    ...env,
    GITHUB_ACTIONS: 'true',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: 'octo-org/octo-repo',
    GITHUB_RUN_ID: '42',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_WORKFLOW_REF: 'octo-org/octo-repo/.github/workflows/build.yml@refs/heads/main',
  };
  const r = await runAndAttest({ argv: BUILD, workdir, env: ghEnv, stdio: 'pipe' });
  const rd = r.statement?.predicate?.runDetails;
  assert.equal(
    rd?.builder.id,
    'https://github.com/octo-org/octo-repo/.github/workflows/build.yml@refs/heads/main',
  );
  assert.equal(
    rd?.metadata?.invocationId,
    'https://github.com/octo-org/octo-repo/actions/runs/42/attempts/1',
  );
});

test('a build that leaves a symlink escaping the tree is rejected with PATH_ESCAPE', async (t) => {
  const { workdir, env } = await project(t);
  const r = runAndAttest({
    argv: nodeScript("require('fs').symlinkSync('/etc/passwd','leak.txt')"),
    workdir,
    env,
    stdio: 'pipe',
  });
  await assert.rejects(
    r,
    (e) => isVouchError(e) && e.code === 'PATH_ESCAPE' && e.file === 'leak.txt',
  );
});

test('--products naming a symlink to ../outside is rejected with PATH_ESCAPE', async (t) => {
  const { dir, workdir, env } = await project(t);
  await writeFile(join(dir, 'outside'), 'not yours');
  await symlink('../outside', join(workdir, 'artifact'));
  const r = runAndAttest({
    argv: BUILD,
    workdir,
    env,
    stdio: 'pipe',
    attestOptions: { products: ['artifact', 'dist/*'] },
  });
  await assert.rejects(
    r,
    (e) => isVouchError(e) && e.code === 'PATH_ESCAPE' && e.file === 'artifact',
  );
});

test('--materials reaching a directory outside the tree through a link is PATH_ESCAPE; a link to a file is digested as a link', async (t) => {
  const { dir, workdir, env } = await project(t);
  await mkdir(join(dir, 'elsewhere'));
  await writeFile(join(dir, 'elsewhere', 'secret.txt'), 'not yours');
  await symlink('../elsewhere', join(workdir, 'vendor'));
  await symlink('../elsewhere/secret.txt', join(workdir, 'pointer'));
  const r = runAndAttest({
    argv: BUILD,
    workdir,
    env,
    stdio: 'pipe',
    attestOptions: { materials: ['vendor/**', 'src/*'] },
  });
  await assert.rejects(
    r,
    (e) =>
      isVouchError(e) &&
      e.code === 'PATH_ESCAPE' &&
      e.file === 'vendor/secret.txt' &&
      /outside the working directory/.test(e.message),
  );
  // A link as the material itself is recorded by its target text, never read through.
  const ok = await runAndAttest({
    argv: BUILD,
    workdir,
    env,
    stdio: 'pipe',
    attestOptions: { materials: ['pointer', 'src/*'] },
  });
  const m = (ok.attestations.materials as MaterialsAttestation).materials;
  assert.deepEqual(m.find((x) => x.path === 'pointer')?.digest, {
    sha256: sha256('../elsewhere/secret.txt'),
  });
});

test('outside git: materials are every file except .git, node_modules, .vouch', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'node_modules', 'dep'), { recursive: true });
  await mkdir(join(dir, '.vouch'));
  await writeFile(join(dir, 'node_modules', 'dep', 'index.js'), '');
  await writeFile(join(dir, '.vouch', 'x.json'), '{}');
  await writeFile(join(dir, 'main.c'), 'int main(){}');
  await writeFile(join(dir, 'Cargo.lock'), '# lock');
  const env = isolatedEnv(dir, { GIT_CEILING_DIRECTORIES: dir });
  const r = await runAndAttest({
    argv: nodeScript("require('fs').writeFileSync('a.out','bin')"),
    workdir: dir,
    env,
    stdio: 'pipe',
  });
  assert.deepEqual(
    r.statement?.predicate?.buildDefinition.resolvedDependencies?.map((d) => d.uri),
    ['file:Cargo.lock', 'file:main.c'],
  );
  assert.deepEqual(r.attestations.git, { present: false });
  assert.deepEqual(r.subjects, [{ name: 'a.out', digest: { sha256: sha256('bin') } }]);
});

test('in git: tracked files plus untracked lockfiles at the top are the materials', async (t) => {
  const { workdir, env } = await project(t);
  await writeFile(join(workdir, 'yarn.lock'), '# yarn\n');
  await writeFile(join(workdir, 'notes.txt'), 'untracked, not a lockfile');
  const r = await runAndAttest({ argv: BUILD, workdir, env, stdio: 'pipe' });
  const materials = r.attestations.materials as MaterialsAttestation;
  assert.equal(materials.source, 'git');
  assert.deepEqual(
    materials.materials.map((m) => m.path),
    ['.gitignore', 'package-lock.json', 'src/in.txt', 'yarn.lock'],
  );
  assert.deepEqual(materials.materials[3]?.digest, { sha256: sha256('# yarn\n') });
});

test('outside git, 40 files in 20 directories: materials are the listing, digested; products the changed ones', async (t) => {
  const dir = await tempDir(t);
  for (let d = 0; d < 10; d++) {
    await mkdir(join(dir, `src${d}`, 'deep'), { recursive: true });
    for (let f = 0; f < 4; f++) await writeFile(join(dir, `src${d}`, `m${f}.c`), `${d}.${f}`);
    await writeFile(join(dir, `src${d}`, 'deep', 'h.h'), `h${d}`);
  }
  await writeFile(join(dir, 'go.sum'), 'sum');
  const expected = await listFiles(dir);
  const digests = await digestFiles(dir, expected);
  const env = isolatedEnv(dir, { GIT_CEILING_DIRECTORIES: dir });
  const r = await runAndAttest({
    // Rewrites one input with new bytes, one with the same bytes, and adds a file.
    argv: nodeScript(
      "const fs=require('fs');fs.writeFileSync('src3/m1.c','changed');fs.writeFileSync('src5/m2.c','5.2');fs.writeFileSync('src7/deep/new.o','obj')",
    ),
    workdir: dir,
    env,
    stdio: 'pipe',
  });
  const materials = r.attestations.materials as MaterialsAttestation;
  assert.equal(materials.source, 'walk');
  assert.deepEqual(
    materials.materials,
    expected.map((path, i) => ({ path, digest: digests[i] })),
  );
  assert.deepEqual(
    r.subjects.map((s) => s.name),
    ['src3/m1.c', 'src7/deep/new.o'],
  );
  assert.deepEqual(r.subjects[0]?.digest, { sha256: sha256('changed') });
});

test('SIGTERM sent to vouch is forwarded to the command, and its result recorded', async (t) => {
  const { workdir, env } = await project(t);
  const child = nodeScript(
    "const fs=require('fs');process.on('SIGTERM',()=>{fs.writeFileSync('got-term','yes');process.exit(7)});fs.writeFileSync('ready','');setInterval(()=>{},1000)",
  );
  const running = runAndAttest({ argv: child, workdir, env, stdio: 'pipe', attestFailure: true });
  for (;;) {
    try {
      await access(join(workdir, 'ready'));
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  process.kill(process.pid, 'SIGTERM');
  const r = await running;
  assert.equal(r.exitCode, 7);
  assert.deepEqual(
    r.subjects.map((s) => s.name),
    ['got-term', 'ready'],
  );
  assert.equal(process.listenerCount('SIGTERM'), 0, 'signal handlers removed after the run');
});

/** A `git` first on PATH that logs each argv line to `log`, then runs the real git. */
async function loggingGit(dir: string): Promise<{ path: string; log: string }> {
  const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  const bin = join(dir, 'logging-bin');
  const log = join(dir, 'git.log');
  await mkdir(bin);
  await writeFile(
    join(bin, 'git'),
    `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec '${real}' "$@"\n`,
  );
  await chmod(join(bin, 'git'), 0o755);
  await writeFile(log, '');
  return { path: `${bin}:${process.env.PATH}`, log };
}

test('git and materials share one "inside a work tree?" probe: in git and outside it', async (t) => {
  const { dir, workdir, env } = await project(t);
  const { path, log } = await loggingGit(dir);
  const probes = async () =>
    (await readFile(log, 'utf8')).split('\n').filter((l) => l.includes('--is-inside-work-tree'));

  const r = await runAndAttest({
    argv: BUILD,
    workdir,
    env: { ...env, PATH: path },
    stdio: 'pipe',
  });
  assert.equal((r.attestations.git as GitAttestation).present, true);
  const m = r.attestations.materials as MaterialsAttestation;
  assert.equal(m.source, 'git');
  assert.deepEqual(
    m.materials.map((x) => x.path),
    ['.gitignore', 'package-lock.json', 'src/in.txt'],
  );
  assert.equal((await probes()).length, 1, 'one rev-parse --is-inside-work-tree per run');

  // Outside any repository: both still get git's "no", from one process.
  const plain = join(dir, 'plain');
  await mkdir(join(plain, 'src'), { recursive: true });
  await writeFile(join(plain, 'src', 'in.txt'), 'input\n');
  await writeFile(log, '');
  const env2 = { ...env, PATH: path, GIT_CEILING_DIRECTORIES: dir };
  const o = await runAndAttest({ argv: BUILD, workdir: plain, env: env2, stdio: 'pipe' });
  assert.deepEqual(o.attestations.git, { present: false });
  const om = o.attestations.materials as MaterialsAttestation;
  assert.equal(om.source, 'walk');
  assert.deepEqual(
    om.materials.map((x) => x.path),
    ['src/in.txt'],
  );
  assert.equal((await probes()).length, 1);
});
