import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CiAttestation, detectCi } from './ci.ts';
import type { GitAttestation } from './git.ts';
import { validateProvenance } from './predicate.ts';
import { buildProvenance } from './provenance.ts';

const HEAD = 'ffac537e6cbbf934b08745a378932722df287a53';
const OTHER = '1234567890abcdef1234567890abcdef12345678';

function repo(extra: Partial<Extract<GitAttestation, { present: true }>> = {}): GitAttestation {
  return {
    present: true,
    commit: HEAD,
    remote: { name: 'origin', url: 'https://github.com/octo-org/octo-repo' },
    subdir: '',
    dirty: false,
    changedPaths: 0,
    ...extra,
  };
}

function deps(git: GitAttestation, ci?: CiAttestation) {
  const st = buildProvenance({
    workdir: '/tmp/octo-repo',
    options: {},
    subjects: [{ name: 'dist/out.txt', digest: { sha256: 'ab'.repeat(32) } }],
    command: {
      argv: ['make'],
      redactedArgs: [],
      exitCode: 0,
      signal: null,
      startedOn: '2026-01-05T10:00:00.000Z',
      finishedOn: '2026-01-05T10:00:01.000Z',
      durationMs: 1000,
    },
    git,
    ...(ci ? { ci } : {}),
  });
  return validateProvenance(st.predicate, 'built').buildDefinition.resolvedDependencies ?? [];
}

const github = (sha: string, ref = 'refs/heads/main') =>
  detectCi({
    GITHUB_ACTIONS: 'true',
    GITHUB_REPOSITORY: 'octo-org/octo-repo',
    GITHUB_RUN_ID: '1',
    GITHUB_SHA: sha,
    GITHUB_REF: ref,
  });

test('a checked-out branch names the source ref; the CI is not needed for it', () => {
  assert.deepEqual(deps(repo({ branch: 'dev' }), github(HEAD)), [
    {
      uri: 'git+https://github.com/octo-org/octo-repo@refs/heads/dev',
      digest: { gitCommit: HEAD },
    },
  ]);
});

test('detached HEAD in CI at the CI commit: the CI ref, in the SLSA GitHub generator form', () => {
  assert.deepEqual(deps(repo(), github(HEAD)), [
    {
      uri: 'git+https://github.com/octo-org/octo-repo@refs/heads/main',
      digest: { gitCommit: HEAD },
      annotations: { refFrom: 'GITHUB_REF' },
    },
  ]);
  const tag = detectCi({
    GITLAB_CI: 'true',
    CI_COMMIT_SHA: HEAD,
    CI_COMMIT_REF_NAME: 'v2.0.0',
    CI_COMMIT_TAG: 'v2.0.0',
  });
  assert.equal(
    deps(repo(), tag)[0]?.uri,
    'git+https://github.com/octo-org/octo-repo@refs/tags/v2.0.0',
  );
});

test('detached HEAD at another commit than the CI built: no ref, and why', () => {
  const [source] = deps(repo(), github(OTHER));
  assert.equal(source?.uri, 'git+https://github.com/octo-org/octo-repo');
  assert.deepEqual(source?.digest, { gitCommit: HEAD });
  assert.match(
    String(source?.annotations?.refOmitted),
    new RegExp(`GITHUB_SHA ${OTHER} is not HEAD.*refs/heads/main`),
  );
  // Locally there is no CI ref to take.
  assert.match(String(deps(repo())[0]?.annotations?.refOmitted), /not run in a known CI/);
});

test('submodules: one dependency each after the source, at the checked-out commit, the pin beside it', () => {
  const pinned = 'aa'.repeat(20);
  const checked = 'bb'.repeat(20);
  const d = deps(
    repo({
      branch: 'main',
      submodules: [
        { path: 'other', pinned, checkedOut: false, url: 'https://git.example.com/acme/other.git' },
        {
          path: 'vendor/lib',
          pinned,
          checkedOut: true,
          commit: checked,
          url: 'git@github.com:acme/lib.git',
        },
        {
          path: 'vendor/tracking',
          pinned,
          checkedOut: true,
          commit: pinned,
          branch: 'main',
          url: 'https://git.example.com/acme/tracking.git',
        },
        { path: 'vendor/local', pinned, checkedOut: true, commit: pinned },
      ],
    }),
  );
  assert.deepEqual(d.slice(1), [
    {
      uri: 'git+https://git.example.com/acme/other.git',
      digest: { gitCommit: pinned },
      name: 'other',
      annotations: { submodule: 'other', pinnedCommit: pinned, checkedOut: false },
    },
    {
      uri: 'git+ssh://git@github.com/acme/lib.git',
      digest: { gitCommit: checked },
      name: 'vendor/lib',
      annotations: { submodule: 'vendor/lib', pinnedCommit: pinned, checkedOut: true },
    },
    {
      digest: { gitCommit: pinned },
      name: 'vendor/local',
      annotations: { submodule: 'vendor/local', pinnedCommit: pinned, checkedOut: true },
    },
    {
      uri: 'git+https://git.example.com/acme/tracking.git@refs/heads/main',
      digest: { gitCommit: pinned },
      name: 'vendor/tracking',
      annotations: { submodule: 'vendor/tracking', pinnedCommit: pinned, checkedOut: true },
    },
  ]);
});
