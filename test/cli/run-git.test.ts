// `vouch run` provenance about git sources: submodules and CI detached checkouts.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import {
  BUILD,
  generateKey,
  git,
  gitProject,
  jsonOf,
  show,
  statementOf,
  vouch,
} from './helpers.ts';

const FILE = ['-c', 'protocol.file.allow=always'];

/** `vouch run --key … -- BUILD` in `dir` (a key is made on first use); the signed Statement's predicate. */
// biome-ignore lint/suspicious/noExplicitAny: the test reads the JSON it asserts on
async function provenance(dir: string, env: NodeJS.ProcessEnv): Promise<any> {
  const key = 'k.key';
  if (!existsSync(join(dir, key))) await generateKey(dir, env);
  const r = await vouch(['run', '--key', key, '--json', '--', ...BUILD], { cwd: dir, env });
  assert.equal(r.code, 0, show(r));
  return (await statementOf(join(dir, jsonOf(r).bundle.stored.path))).predicate;
}

/** A repository with one commit of `name.txt`, beside `dir`. */
async function library(dir: string, env: NodeJS.ProcessEnv, name: string): Promise<string> {
  const lib = join(dirname(dir), `${name}-src`);
  await mkdir(lib);
  await writeFile(join(lib, `${name}.txt`), `${name}\n`);
  git(lib, env, 'init', '-q', '-b', 'main');
  git(lib, env, 'add', '-A');
  git(lib, env, 'commit', '-q', '-m', name);
  return lib;
}

test('run: submodules are resolved dependencies at their checked-out commit; their gitlinks are no materials', async (t) => {
  const { dir, env } = await gitProject(t);
  const lib = await library(dir, env, 'lib');
  const other = await library(dir, env, 'other');
  git(dir, env, ...FILE, 'submodule', 'add', '-q', `file://${lib}`, 'vendor/lib');
  git(dir, env, ...FILE, 'submodule', 'add', '-q', `file://${other}`, 'other');
  git(dir, env, 'commit', '-q', '-m', 'submodules');
  // `other` as a fresh clone has it: an empty directory, never checked out.
  git(dir, env, 'submodule', 'deinit', '-q', '-f', 'other');
  const libDir = join(dir, 'vendor', 'lib');
  git(
    libDir,
    env,
    'remote',
    'set-url',
    'origin',
    'https://ci:glpat-l1bs3cret@gitlab.example.com/acme/lib.git',
  );
  const libCommit = git(libDir, env, 'rev-parse', 'HEAD');
  const otherCommit = git(other, env, 'rev-parse', 'HEAD');

  const p = await provenance(dir, env);
  const deps = p.buildDefinition.resolvedDependencies;
  const uris: string[] = deps.map((d: { uri?: string }) => d.uri);
  assert.deepEqual(
    deps.filter((d: { name?: string }) => d.name && d.name !== 'git'),
    [
      {
        digest: { gitCommit: otherCommit },
        name: 'other',
        annotations: { submodule: 'other', pinnedCommit: otherCommit, checkedOut: false },
      },
      {
        // `submodule add` leaves the default branch checked out, not a detached HEAD.
        uri: 'git+https://gitlab.example.com/acme/lib.git@refs/heads/main',
        digest: { gitCommit: libCommit },
        name: 'vendor/lib',
        annotations: { submodule: 'vendor/lib', pinnedCommit: libCommit, checkedOut: true },
      },
    ],
  );
  assert.ok(!JSON.stringify(p).includes('l1bs3cret'));
  // The submodule's content is recorded by its commit: neither the gitlink
  // nor the files inside are file materials; .gitmodules is.
  assert.ok(uris.includes('file:.gitmodules'), uris.join('\n'));
  assert.ok(uris.includes('file:src.txt'));
  for (const u of uris) assert.ok(!/^file:(other|vendor)/.test(u ?? ''), `${u} is a material`);
});

test('run: a file standing where a gitlink is recorded is not hashed as the submodule', async (t) => {
  const { dir, env } = await gitProject(t);
  const other = await library(dir, env, 'other');
  git(dir, env, ...FILE, 'submodule', 'add', '-q', `file://${other}`, 'other');
  git(dir, env, 'commit', '-q', '-m', 'submodule');
  git(dir, env, 'submodule', 'deinit', '-q', '-f', 'other');
  await rm(join(dir, 'other'), { recursive: true });
  await writeFile(join(dir, 'other'), 'not the submodule\n');
  const p = await provenance(dir, env);
  const uris: string[] = p.buildDefinition.resolvedDependencies.map((d: { uri?: string }) => d.uri);
  assert.ok(!uris.includes('file:other'), uris.join('\n'));
  const sub = p.buildDefinition.resolvedDependencies.find(
    (d: { name?: string }) => d.name === 'other',
  );
  assert.deepEqual(sub?.annotations, {
    submodule: 'other',
    pinnedCommit: git(other, env, 'rev-parse', 'HEAD'),
    checkedOut: false,
  });
});

/** Variables GitHub Actions sets for a push to main, for the checkout at `sha`. */
function githubEnv(sha: string): NodeJS.ProcessEnv {
  return {
    GITHUB_ACTIONS: 'true',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: 'octo-org/octo-repo',
    GITHUB_RUN_ID: '42',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_WORKFLOW_REF: 'octo-org/octo-repo/.github/workflows/build.yml@refs/heads/main',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_SHA: sha,
    GITHUB_REF: 'refs/heads/main',
  };
}

test('run on a detached HEAD as CI checks out: the CI ref when the CI commit is HEAD, none (and why) when not', async (t) => {
  const { dir, env } = await gitProject(t);
  // actions/checkout: origin with a token in it, HEAD detached at GITHUB_SHA.
  git(
    dir,
    env,
    'remote',
    'add',
    'origin',
    'https://x-access-token:ghs_ch3ck0ut@github.com/octo-org/octo-repo',
  );
  git(dir, env, 'checkout', '-q', '--detach');
  const head = git(dir, env, 'rev-parse', 'HEAD');

  const atHead = await provenance(dir, { ...env, ...githubEnv(head) });
  assert.deepEqual(atHead.buildDefinition.resolvedDependencies[0], {
    uri: 'git+https://github.com/octo-org/octo-repo@refs/heads/main',
    digest: { gitCommit: head },
    annotations: { refFrom: 'GITHUB_REF' },
  });
  assert.ok(!JSON.stringify(atHead).includes('ghs_ch3ck0ut'));

  const elsewhere = 'f'.repeat(40);
  const off = await provenance(dir, { ...env, ...githubEnv(elsewhere) });
  const source = off.buildDefinition.resolvedDependencies[0];
  assert.equal(source.uri, 'git+https://github.com/octo-org/octo-repo');
  assert.deepEqual(source.digest, { gitCommit: head });
  assert.match(source.annotations.refOmitted, new RegExp(`GITHUB_SHA ${elsewhere} is not HEAD`));

  // GitLab: a tag pipeline names the tag.
  const tag = await provenance(dir, {
    ...env,
    GITLAB_CI: 'true',
    CI_PROJECT_URL: 'https://gitlab.example.com/acme/app',
    CI_COMMIT_SHA: head,
    CI_COMMIT_REF_NAME: 'v1.0.0',
    CI_COMMIT_TAG: 'v1.0.0',
  });
  assert.equal(
    tag.buildDefinition.resolvedDependencies[0].uri,
    'git+https://github.com/octo-org/octo-repo@refs/tags/v1.0.0',
  );
});
