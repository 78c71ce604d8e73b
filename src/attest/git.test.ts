import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AttestationContext } from './attestor.ts';
import { type GitAttestation, gitAttestor, sanitizeRemoteUrl } from './git.ts';
import { gitIn, initRepo, isolatedEnv, tempDir } from './testing.ts';

function ctx(workdir: string, env: NodeJS.ProcessEnv): AttestationContext {
  return { workdir, argv: ['true'], env, options: {}, log: () => {} };
}

async function present(workdir: string, env: NodeJS.ProcessEnv) {
  const g: GitAttestation = await gitAttestor.attest(ctx(workdir, env));
  assert.ok(g.present, 'expected a git repository');
  return g;
}

function hasSshKeygen(): boolean {
  try {
    execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' });
    return true;
  } catch (e) {
    // ssh-keygen -? exits non-zero but exists; ENOENT means missing.
    return (e as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

test('not a git repository: present false, not an error', async (t) => {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir, { GIT_CEILING_DIRECTORIES: dir });
  assert.deepEqual(await gitAttestor.attest(ctx(dir, env)), { present: false });
});

test('commit, tree, branch, subdir and clean state match git itself', async (t) => {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  await writeFile(join(dir, 'a.txt'), 'a\n');
  initRepo(dir, env);
  const g = await present(dir, env);
  assert.equal(g.commit, gitIn(dir, env, 'rev-parse', 'HEAD'));
  assert.equal(g.tree, gitIn(dir, env, 'rev-parse', 'HEAD^{tree}'));
  assert.equal(g.branch, 'main');
  assert.equal(g.subdir, '');
  assert.equal(g.dirty, false);
  assert.equal(g.remote, undefined);

  await writeFile(join(dir, 'untracked.txt'), 'new\n');
  const dirty = await present(dir, env);
  assert.equal(dirty.dirty, true);
  assert.equal(dirty.changedPaths, 1);

  gitIn(dir, env, 'checkout', '-q', '--detach');
  assert.equal((await present(dir, env)).branch, undefined);
});

test('remote URL is recorded without credentials', async (t) => {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  await writeFile(join(dir, 'a.txt'), 'a\n');
  initRepo(dir, env);
  gitIn(dir, env, 'remote', 'add', 'origin', 'https://user:s3cr3t-t0ken@git.example.com/x.git');
  const g = await present(dir, env);
  assert.deepEqual(g.remote, { name: 'origin', url: 'https://git.example.com/x.git' });
  assert.ok(!JSON.stringify(g).includes('s3cr3t-t0ken'));
  assert.ok(!JSON.stringify(g).includes('user'));
});

test('sanitizeRemoteUrl strips user, password and query; keeps scp-style account; drops local paths', () => {
  assert.equal(
    sanitizeRemoteUrl('https://x-access-token:ghs_abc@github.com/o/r.git'),
    'https://github.com/o/r.git',
  );
  assert.equal(sanitizeRemoteUrl('https://ghp_tokenonly@github.com/o/r'), 'https://github.com/o/r');
  assert.equal(
    sanitizeRemoteUrl('https://gitlab.com/o/r.git?private_token=abc'),
    'https://gitlab.com/o/r.git',
  );
  assert.equal(sanitizeRemoteUrl('ssh://git@github.com/o/r.git'), 'ssh://github.com/o/r.git');
  assert.equal(sanitizeRemoteUrl('git@github.com:o/r.git'), 'git@github.com:o/r.git');
  assert.equal(sanitizeRemoteUrl('/home/me/src/r.git'), undefined);
  assert.equal(sanitizeRemoteUrl('file:///home/me/src/r.git'), undefined);
});

test('SSH-signed commit verifies as good with signer key; unsigned commit reports none', async (t) => {
  if (!hasSshKeygen()) {
    t.skip('ssh-keygen is not installed');
    return;
  }
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  const key = join(dir, '.signing-key');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test', '-f', key], { env });
  const pub = execFileSync('ssh-keygen', ['-l', '-f', `${key}.pub`], { env, encoding: 'utf8' });
  const fingerprint = pub.split(' ')[1] as string; // "256 SHA256:… test (ED25519)"
  await writeFile(
    join(dir, '.allowed_signers'),
    `test@example.com namespaces="git" ${(await readFile(`${key}.pub`, 'utf8')).trim()}\n`,
  );
  await writeFile(join(dir, '.gitignore'), '.signing-key*\n.allowed_signers\n.gitconfig\n');
  await writeFile(join(dir, 'a.txt'), 'a\n');
  initRepo(dir, env); // the first commit is unsigned
  gitIn(dir, env, 'config', 'gpg.format', 'ssh');
  gitIn(dir, env, 'config', 'user.signingkey', `${key}.pub`);
  gitIn(dir, env, 'config', 'gpg.ssh.allowedSignersFile', join(dir, '.allowed_signers'));

  const unsigned = await present(dir, env);
  assert.deepEqual(unsigned.signature, { status: 'none', code: 'N' });

  await writeFile(join(dir, 'b.txt'), 'b\n');
  gitIn(dir, env, 'add', 'b.txt');
  gitIn(dir, env, 'commit', '-q', '-S', '-m', 'signed');
  const signed = await present(dir, env);
  assert.equal(signed.signature?.status, 'good');
  assert.equal(signed.signature?.code, 'G');
  assert.equal(signed.signature?.signer, 'test@example.com');
  assert.equal(signed.signature?.fingerprint, fingerprint);
});

test('a signature by a key not in the allowed signers file is not reported good', async (t) => {
  if (!hasSshKeygen()) {
    t.skip('ssh-keygen is not installed');
    return;
  }
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  const key = join(dir, '.signing-key');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test', '-f', key], { env });
  await writeFile(join(dir, '.allowed_signers'), ''); // trusts nobody
  await writeFile(join(dir, '.gitignore'), '.signing-key*\n.allowed_signers\n.gitconfig\n');
  await writeFile(join(dir, 'a.txt'), 'a\n');
  gitIn(dir, env, 'init', '-q', '-b', 'main');
  gitIn(dir, env, 'config', 'gpg.format', 'ssh');
  gitIn(dir, env, 'config', 'user.signingkey', `${key}.pub`);
  gitIn(dir, env, 'config', 'gpg.ssh.allowedSignersFile', join(dir, '.allowed_signers'));
  gitIn(dir, env, 'add', '-A');
  gitIn(dir, env, 'commit', '-q', '-S', '-m', 'signed by a stranger');
  const g = await present(dir, env);
  assert.notEqual(g.signature?.status, 'good');
  assert.notEqual(g.signature?.status, 'none');
});
