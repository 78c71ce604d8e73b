import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import { scanPath } from '../engine/index.ts';
import { base62 } from './checksum.ts';
import { DETECTORS, scanGitHistory } from './index.ts';

// A GitHub-format token with a valid CRC32 checksum, built here so the test holds no real secret.
function githubToken(): string {
  const body = 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5';
  return `ghp_${body}${base62(crc32(body), 6)}`;
}

test('git history: a secret added then removed is reported with commit, file and line', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-history-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', dir, ...args], {
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 't',
        GIT_AUTHOR_EMAIL: 't@example.com',
        GIT_COMMITTER_NAME: 't',
        GIT_COMMITTER_EMAIL: 't@example.com',
      },
    }).trim();
  const token = githubToken();
  git('init', '-q', '-b', 'main');
  await writeFile(join(dir, 'app.js'), 'const a = 1;\nconst b = 2;\n');
  git('add', '.');
  git('commit', '-q', '--no-gpg-sign', '-m', 'first');
  const first = git('rev-parse', 'HEAD');
  await writeFile(
    join(dir, 'app.js'),
    `const a = 1;\n+++ looks like a diff header\nconst token = "${token}";\nconst b = 2;\n`,
  );
  git('commit', '-q', '--no-gpg-sign', '-am', 'add token');
  const added = git('rev-parse', 'HEAD');
  await writeFile(join(dir, 'app.js'), 'const a = 1;\nconst b = 2;\n');
  git('commit', '-q', '--no-gpg-sign', '-am', 'remove token');

  const h = await scanGitHistory(dir, { detectors: DETECTORS });
  assert.equal(h.commits, 3);
  assert.deepEqual(
    h.findings.map((f) => [f.ruleId, f.commit, f.file, f.line]),
    [['secret/github-token', added, 'app.js', 3]],
  );
  assert.ok(!JSON.stringify(h.findings).includes(token), 'secret not redacted');

  // The work tree is clean: only --git-history finds it.
  const plain = await scanPath(dir, { only: ['secrets'] });
  assert.equal(plain.findings.length, 0);
  const withHistory = await scanPath(dir, { only: ['secrets'], gitHistory: {} });
  assert.equal(withHistory.totals.gitCommits, 3);
  assert.deepEqual(
    withHistory.findings.map((f) => [f.ruleId, f.file, f.line, f.commit]),
    [['secret/github-token', 'app.js', 3, added]],
  );
  assert.match(withHistory.findings[0]?.message ?? '', /added in commit [0-9a-f]{12}/);

  // --since: commits after the one that added it see nothing.
  assert.equal(
    (await scanGitHistory(dir, { detectors: DETECTORS, since: added })).findings.length,
    0,
  );
  assert.equal(
    (await scanGitHistory(dir, { detectors: DETECTORS, since: first })).findings.length,
    1,
  );
  await assert.rejects(
    scanGitHistory(dir, { detectors: DETECTORS, since: 'no-such-rev' }),
    (e: Error & { code?: string }) => e.code === 'SCAN_GIT_HISTORY',
  );
  await assert.rejects(
    scanGitHistory(dir, { detectors: DETECTORS, since: '--output=/tmp/x' }),
    (e: Error & { code?: string }) => e.code === 'SCAN_GIT_HISTORY',
  );
});
