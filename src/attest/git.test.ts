import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
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

test('a repository git refuses (dubious ownership) is not passed off as "no repository"', async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root to give the repository to another user');
    return;
  }
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  await writeFile(join(dir, 'a.txt'), 'a\n');
  initRepo(dir, env);
  execFileSync('chown', ['-R', '65534:65534', dir]);
  const logged: string[] = [];
  const g = await gitAttestor.attest({ ...ctx(dir, env), log: (m) => logged.push(m) });
  assert.equal(g.present, false);
  assert.match((g as { reason?: string }).reason ?? '', /dubious ownership/);
  assert.match(logged.join('\n'), /dubious ownership/);
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

test('sanitizeRemoteUrl never lets a credential through an unparseable or scp-like URL', () => {
  // A '/' in the password makes the URL unparseable by WHATWG rules.
  for (const url of [
    'https://user:abc/def@github.com/o/r.git',
    'https://u:tok#en@github.com/o/r.git',
    'user:hunter2@github.com:o/r.git',
  ]) {
    const clean = sanitizeRemoteUrl(url);
    for (const secret of ['abc/def', 'tok#en', 'hunter2']) {
      assert.ok(!clean?.includes(secret), `${url} gave ${clean}`);
    }
  }
  assert.equal(
    sanitizeRemoteUrl('https://user:abc/def@github.com/o/r.git'),
    'https://github.com/o/r.git',
  );
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

/** An SSH-signed repository with one signed commit; `allowed` says whether git is told whom to trust. */
async function sshSignedRepo(dir: string, env: NodeJS.ProcessEnv, allowed: boolean): Promise<void> {
  const key = join(dir, '.signing-key');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test', '-f', key], { env });
  await writeFile(
    join(dir, '.allowed_signers'),
    `test@example.com namespaces="git" ${(await readFile(`${key}.pub`, 'utf8')).trim()}\n`,
  );
  await writeFile(join(dir, '.gitignore'), '.signing-key*\n.allowed_signers\n.gitconfig\n');
  await writeFile(join(dir, 'a.txt'), 'a\n');
  gitIn(dir, env, 'init', '-q', '-b', 'main');
  gitIn(dir, env, 'config', 'gpg.format', 'ssh');
  gitIn(dir, env, 'config', 'user.signingkey', `${key}.pub`);
  if (allowed) {
    gitIn(dir, env, 'config', 'gpg.ssh.allowedSignersFile', join(dir, '.allowed_signers'));
  }
  gitIn(dir, env, 'add', '-A');
  gitIn(dir, env, 'commit', '-q', '-S', '-m', 'signed');
}

test('log.showSignature=true in the user config does not garble the signature status', async (t) => {
  if (!hasSshKeygen()) {
    t.skip('ssh-keygen is not installed');
    return;
  }
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  await sshSignedRepo(dir, env, true);
  gitIn(dir, env, 'config', '--global', 'log.showSignature', 'true');
  const g = await present(dir, env);
  assert.equal(g.signature?.status, 'good');
  assert.equal(g.signature?.code, 'G');
  assert.equal(g.signature?.signer, 'test@example.com');
});

test('an SSH-signed commit git cannot check (no allowed signers file) is not reported unsigned', async (t) => {
  if (!hasSshKeygen()) {
    t.skip('ssh-keygen is not installed');
    return;
  }
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  await sshSignedRepo(dir, env, false);
  const g = await present(dir, env);
  assert.equal(g.signature?.status, 'cannot-check');
  assert.match(g.signature?.reason ?? '', /allowedSignersFile/);
});

function hasGpg(): boolean {
  try {
    execFileSync('gpg', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('a GPG-signed commit: good with the key in the keyring, cannot-check without it', async (t) => {
  if (!hasGpg()) {
    t.skip('gpg is not installed');
    return;
  }
  const dir = await tempDir(t);
  const gnupg = join(dir, '.gnupg');
  const env = isolatedEnv(dir, { GNUPGHOME: gnupg });
  await mkdir(gnupg, { mode: 0o700 });
  t.after(() => {
    execFileSync('gpgconf', ['--kill', 'gpg-agent'], { env, stdio: 'ignore' });
  });
  const gpg = (...args: string[]) =>
    execFileSync('gpg', ['--batch', '--passphrase', '', ...args], { env, stdio: 'pipe' });
  gpg('--quick-gen-key', 'Test <test@example.com>', 'ed25519', 'sign', 'never');
  const colons = execFileSync('gpg', ['--batch', '--with-colons', '--list-keys'], {
    env,
    encoding: 'utf8',
  });
  const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(colons)?.[1] as string;
  await writeFile(join(dir, '.gitignore'), '.gnupg/\n.gitconfig\n');
  await writeFile(join(dir, 'a.txt'), 'a\n');
  gitIn(dir, env, 'init', '-q', '-b', 'main');
  gitIn(dir, env, 'config', 'user.signingkey', fpr);
  gitIn(dir, env, 'config', 'log.showSignature', 'true');
  gitIn(dir, env, 'add', '-A');
  gitIn(dir, env, 'commit', '-q', '-S', '-m', 'gpg-signed');

  const good = await present(dir, env);
  assert.equal(good.signature?.status, 'good');
  assert.equal(good.signature?.fingerprint, fpr);

  // Another verifier without the signer's key: git cannot check it, and says so.
  const stranger = join(dir, '.gnupg-empty');
  await mkdir(stranger, { mode: 0o700 });
  const unknown = await present(dir, { ...env, GNUPGHOME: stranger });
  assert.equal(unknown.signature?.status, 'cannot-check');
  assert.equal(unknown.signature?.code, 'E');
});

/**
 * A superproject with submodules, cloned as CI clones it:
 * - `vendor/lib` checked out one commit behind what the superproject pins,
 *   its remote a URL with a token in it;
 * - `vendor/lib/deep`, a submodule of lib, checked out (nested), remote scp-like;
 * - `other`, not checked out, declared in .gitmodules with a credential URL.
 * Returns the clone and the commits involved.
 */
async function superproject(root: string, env: NodeJS.ProcessEnv) {
  const file = ['-c', 'protocol.file.allow=always'];
  const repo = async (name: string, files: Record<string, string>) => {
    const d = join(root, name);
    await mkdir(d);
    for (const [f, text] of Object.entries(files)) await writeFile(join(d, f), text);
    initRepo(d, env);
    return d;
  };
  const deep = await repo('deep-src', { 'deep.txt': 'deep\n' });
  const lib = await repo('lib-src', { 'lib.txt': 'lib v1\n' });
  gitIn(lib, env, ...file, 'submodule', 'add', '-q', `file://${deep}`, 'deep');
  gitIn(lib, env, 'commit', '-q', '-m', 'add deep');
  const libOld = gitIn(lib, env, 'rev-parse', 'HEAD');
  await writeFile(join(lib, 'lib.txt'), 'lib v2\n');
  gitIn(lib, env, 'commit', '-q', '-am', 'v2');
  const libPinned = gitIn(lib, env, 'rev-parse', 'HEAD');
  const other = await repo('other-src', { 'o.txt': 'o\n' });
  const app = await repo('app-src', { 'a.txt': 'a\n' });
  gitIn(app, env, ...file, 'submodule', 'add', '-q', `file://${lib}`, 'vendor/lib');
  gitIn(app, env, ...file, 'submodule', 'add', '-q', `file://${other}`, 'other');
  gitIn(
    app,
    env,
    ...['config', '-f', '.gitmodules', 'submodule.other.url'],
    'https://bot:0ther-s3cret@git.example.com/acme/other.git?private_token=qq',
  );
  gitIn(app, env, 'commit', '-q', '-am', 'add submodules');

  const work = join(root, 'work');
  gitIn(root, env, ...file, 'clone', '-q', app, work);
  gitIn(work, env, ...file, 'submodule', 'update', '-q', '--init', '--recursive', 'vendor/lib');
  const libDir = join(work, 'vendor', 'lib');
  gitIn(libDir, env, 'checkout', '-q', libOld);
  gitIn(libDir, env, ...file, 'submodule', 'update', '-q', '--init');
  gitIn(
    libDir,
    env,
    'remote',
    'set-url',
    'origin',
    'https://x-access-token:ghs_l1bt0ken@github.com/acme/lib.git',
  );
  gitIn(join(libDir, 'deep'), env, 'remote', 'set-url', 'origin', 'git@github.com:acme/deep.git');
  return {
    work,
    libOld,
    libPinned,
    deep: gitIn(deep, env, 'rev-parse', 'HEAD'),
    other: gitIn(other, env, 'rev-parse', 'HEAD'),
  };
}

/** `git submodule status --recursive`, parsed: path → [state letter, commit]. */
function submoduleStatus(dir: string, env: NodeJS.ProcessEnv): Map<string, [string, string]> {
  const out = new Map<string, [string, string]>();
  for (const line of gitIn(dir, env, 'submodule', 'status', '--recursive').split('\n')) {
    const m = /^\s*([-+U ]?)([0-9a-f]{40}) (\S+)/.exec(line.startsWith(' ') ? line : ` ${line}`);
    if (m) out.set(m[3] as string, [m[1] as string, m[2] as string]);
  }
  return out;
}

test('submodules: each recorded with pinned and checked-out commit, nested ones too, URLs without credentials', async (t) => {
  const root = await tempDir(t);
  const env = isolatedEnv(root);
  const f = await superproject(root, env);
  const g = await present(f.work, env);
  assert.deepEqual(g.submodules, [
    {
      path: 'other',
      pinned: f.other,
      checkedOut: false,
      url: 'https://git.example.com/acme/other.git',
    },
    {
      path: 'vendor/lib',
      pinned: f.libPinned,
      checkedOut: true,
      commit: f.libOld,
      url: 'https://github.com/acme/lib.git',
    },
    {
      path: 'vendor/lib/deep',
      pinned: f.deep,
      checkedOut: true,
      commit: f.deep,
      url: 'git@github.com:acme/deep.git',
    },
  ]);
  // The same commits git's own porcelain reports: '-' not checked out, '+' checked out elsewhere.
  const status = submoduleStatus(f.work, env);
  assert.deepEqual(status.get('other'), ['-', f.other]);
  assert.deepEqual(status.get('vendor/lib'), ['+', f.libOld]);
  assert.deepEqual(status.get('vendor/lib/deep'), ['', f.deep]);
  const text = JSON.stringify(g);
  for (const secret of ['0ther-s3cret', 'ghs_l1bt0ken', 'private_token', 'bot']) {
    assert.ok(!text.includes(secret), `${secret} leaked`);
  }
  // The top-level record is unchanged by submodules and is the superproject's own.
  assert.equal(g.commit, gitIn(f.work, env, 'rev-parse', 'HEAD'));
});

test('submodules: found from a subdirectory too, paths from the top; none means no field', async (t) => {
  const root = await tempDir(t);
  const env = isolatedEnv(root);
  const f = await superproject(root, env);
  await mkdir(join(f.work, 'sub'));
  const g = await present(join(f.work, 'sub'), env);
  assert.deepEqual(
    g.submodules?.map((s) => s.path),
    ['other', 'vendor/lib', 'vendor/lib/deep'],
  );
  // Inside the uninitialised submodule's empty directory git answers for the
  // superproject: it must not be mistaken for a checked-out submodule at the superproject's commit.
  const inOther = await present(join(f.work, 'other'), env);
  assert.equal(inOther.subdir, 'other');
  assert.equal(inOther.submodules?.find((s) => s.path === 'other')?.checkedOut, false);

  const plain = join(root, 'plain');
  await mkdir(plain);
  await writeFile(join(plain, 'a.txt'), 'a\n');
  initRepo(plain, env);
  assert.equal('submodules' in (await present(plain, env)), false);
});

test('submodule with a relative URL: resolved against the superproject remote, credentials stripped', async (t) => {
  const root = await tempDir(t);
  const env = isolatedEnv(root);
  const f = await superproject(root, env);
  gitIn(f.work, env, 'config', '-f', '.gitmodules', 'submodule.other.url', '../other.git');
  gitIn(
    f.work,
    env,
    'remote',
    'set-url',
    'origin',
    'https://u:t0p-t0ken@git.example.com/acme/app.git',
  );
  const g = await present(f.work, env);
  assert.equal(
    g.submodules?.find((s) => s.path === 'other')?.url,
    'https://git.example.com/acme/other.git',
  );
  assert.ok(!JSON.stringify(g).includes('t0p-t0ken'));
  // Against a local remote it is left out, not guessed.
  gitIn(f.work, env, 'remote', 'set-url', 'origin', join(root, 'app-src'));
  const local = await present(f.work, env);
  assert.equal(local.submodules?.find((s) => s.path === 'other')?.url, undefined);
});

test('a link at a gitlink path is not a checkout of the submodule, even to a real clone of it', async (t) => {
  const root = await tempDir(t);
  const env = isolatedEnv(root);
  const f = await superproject(root, env);
  // A checked-out clone of `other`, at another commit, outside the superproject.
  const elsewhere = join(root, 'elsewhere');
  gitIn(root, env, 'clone', '-q', join(root, 'other-src'), elsewhere);
  await writeFile(join(elsewhere, 'o.txt'), 'moved\n');
  gitIn(elsewhere, env, 'commit', '-q', '-am', 'moved');
  await rm(join(f.work, 'other'), { recursive: true });
  await symlink(elsewhere, join(f.work, 'other'));
  const other = (await present(f.work, env)).submodules?.find((s) => s.path === 'other');
  assert.deepEqual(other, {
    path: 'other',
    pinned: f.other,
    checkedOut: false,
    url: 'https://git.example.com/acme/other.git',
  });
});
