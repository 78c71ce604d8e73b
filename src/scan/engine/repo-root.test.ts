import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gitWorkTreeRoot, posixRelative } from './repo-root.ts';

async function temp(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await realpath(await mkdtemp(join(tmpdir(), 'vouch-repo-root-')));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const NO_CEILING = {};

test('gitWorkTreeRoot: the work tree of a subdirectory, through a symbolic link, and of a linked worktree', async (t) => {
  const dir = await temp(t);
  const repo = join(dir, 'repo');
  await mkdir(join(repo, 'deploy', 'base'), { recursive: true });
  execFileSync('git', ['init', '-q', repo]);
  assert.equal(await gitWorkTreeRoot(join(repo, 'deploy', 'base'), NO_CEILING), repo);
  assert.equal(await gitWorkTreeRoot(repo, NO_CEILING), repo);
  // git agrees.
  assert.equal(
    execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: join(repo, 'deploy') })
      .toString()
      .trim(),
    repo,
  );
  // A link from outside is placed where its target is.
  await symlink(join(repo, 'deploy'), join(dir, 'link'));
  const top = await gitWorkTreeRoot(join(dir, 'link'), NO_CEILING);
  assert.equal(top, repo);
  assert.equal(posixRelative(top as string, await realpath(join(dir, 'link'))), 'deploy');
  // A `.git` file (linked worktree, submodule) marks a root too.
  await mkdir(join(dir, 'wt', 'sub'), { recursive: true });
  await writeFile(join(dir, 'wt', '.git'), `gitdir: ${repo}/.git/worktrees/wt\n`);
  assert.equal(await gitWorkTreeRoot(join(dir, 'wt', 'sub'), NO_CEILING), join(dir, 'wt'));
});

test('gitWorkTreeRoot: nothing outside git, for a .git that is not a repository, above a ceiling, or a missing path', async (t) => {
  const dir = await temp(t);
  await mkdir(join(dir, 'plain', 'a'), { recursive: true });
  if ((await gitWorkTreeRoot(dir, NO_CEILING)) !== undefined) {
    t.skip('the temp directory is inside a git work tree on this machine');
    return;
  }
  assert.equal(await gitWorkTreeRoot(join(dir, 'plain', 'a'), NO_CEILING), undefined);
  await mkdir(join(dir, 'plain', '.git'));
  assert.equal(await gitWorkTreeRoot(join(dir, 'plain', 'a'), NO_CEILING), undefined);
  await writeFile(join(dir, 'plain', 'a', '.git'), 'not a gitdir line\n');
  assert.equal(await gitWorkTreeRoot(join(dir, 'plain', 'a'), NO_CEILING), undefined);
  assert.equal(await gitWorkTreeRoot(join(dir, 'missing'), NO_CEILING), undefined);
  execFileSync('git', ['init', '-q', join(dir, 'repo')]);
  await mkdir(join(dir, 'repo', 'x', 'y'), { recursive: true });
  assert.equal(await gitWorkTreeRoot(join(dir, 'repo', 'x', 'y'), NO_CEILING), join(dir, 'repo'));
  const ceiling = { GIT_CEILING_DIRECTORIES: join(dir, 'repo') };
  assert.equal(await gitWorkTreeRoot(join(dir, 'repo', 'x', 'y'), ceiling), undefined);
  assert.equal(await gitWorkTreeRoot(join(dir, 'repo'), ceiling), join(dir, 'repo'));
});
