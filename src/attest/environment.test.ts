import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_ENV_ALLOW, recordEnvironment } from './environment.ts';
import { REDACTED, redactArgv, secretKind } from './secrets.ts';

// Fake credentials with the real formats' shapes; none is live.
const GHP = `ghp_${'A1b2C3d4E5f6G7h8I9j0'.repeat(2)}`;
const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const AWS = 'AKIAIOSFODNN7EXAMPLE';
const PEM =
  '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----';

test('only allowlisted names are recorded', () => {
  const rec = recordEnvironment(
    { NODE_ENV: 'production', HOME: '/home/me', PATH: '/usr/bin' },
    DEFAULT_ENV_ALLOW,
  );
  assert.deepEqual(rec.variables, { NODE_ENV: 'production' });
  assert.deepEqual(rec.redacted, []);
});

test('secret-like names are redacted even when explicitly allowed', () => {
  const env = {
    GITHUB_TOKEN: GHP,
    API_KEY: 'plain-looking',
    DB_PASSWORD: 'hunter2',
    SESSION_ID: 'sess-3141',
  };
  const rec = recordEnvironment(env, Object.keys(env));
  for (const name of Object.keys(env)) assert.equal(rec.variables[name], REDACTED, name);
  const json = JSON.stringify(rec);
  for (const v of Object.values(env))
    assert.ok(!json.includes(v), `value of length ${v.length} leaked`);
  assert.match(rec.note, /redacted/);
});

test('allowlisted names with secret-looking values are redacted, and say why', () => {
  const env = { NODE_ENV: JWT, LANG: GHP, TZ: AWS, CI: PEM, MY_VAR: 'u9Xk2LmQ7vRt4ZpW8sYb3NcJ' };
  const rec = recordEnvironment(env, [...DEFAULT_ENV_ALLOW, 'MY_VAR']);
  const json = JSON.stringify(rec);
  for (const v of Object.values(env)) assert.ok(!json.includes(v));
  const reasons = Object.fromEntries(rec.redacted.map((r) => [r.name, r.reason]));
  assert.deepEqual(reasons, {
    CI: 'value looks like pem',
    LANG: 'value looks like github-token',
    MY_VAR: 'value looks like high-entropy',
    NODE_ENV: 'value looks like jwt',
    TZ: 'value looks like aws-access-key',
  });
});

test('ordinary values are kept: commit SHAs, refs, locales', () => {
  const env = {
    GITHUB_SHA: 'ffac537e6cbbf934b08745a378932722df287a53',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_WORKFLOW_REF: 'octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main',
    LANG: 'en_US.UTF-8',
  };
  assert.deepEqual(recordEnvironment(env, DEFAULT_ENV_ALLOW).variables, env);
});

test('secretKind recognises the documented token formats', () => {
  assert.equal(secretKind(`github_pat_${'a1B2'.repeat(10)}`), 'github-token');
  assert.equal(secretKind('https://user:pa55@example.com/x.git'), 'url-credentials');
  assert.equal(secretKind('hello world'), undefined);
});

test('redactArgv hides --token=…, the value after --password, and token-shaped arguments', () => {
  const argv = ['deploy', `--token=${GHP}`, '--password', 'hunter2', JWT, '--out', 'dist'];
  const r = redactArgv(argv);
  assert.deepEqual(r.argv, [
    'deploy',
    `--token=${REDACTED}`,
    '--password',
    REDACTED,
    REDACTED,
    '--out',
    'dist',
  ]);
  assert.deepEqual(r.redacted, [1, 3, 4]);
});

test('redactArgv hides NAME=value arguments with secret-like names (docker -e, --build-arg, env)', () => {
  const argv = [
    'docker',
    'build',
    '--build-arg',
    'NPM_TOKEN=hunter2',
    '-e',
    'DB_PASSWORD=hunter2',
    '--build-arg',
    'VERSION=1.2.3',
  ];
  const r = redactArgv(argv);
  assert.deepEqual(r.argv, [
    'docker',
    'build',
    '--build-arg',
    `NPM_TOKEN=${REDACTED}`,
    '-e',
    `DB_PASSWORD=${REDACTED}`,
    '--build-arg',
    'VERSION=1.2.3',
  ]);
  assert.deepEqual(r.redacted, [3, 5]);
});

test('redactArgv hides credential headers and assignments, also inside a shell script', () => {
  const argv = [
    'curl',
    '-H',
    'Authorization: Bearer s3cret-bearer',
    '--header',
    'PRIVATE-TOKEN: s3cret-private',
    'sh',
    '-c',
    'NPM_TOKEN=s3cret-assign npm publish',
  ];
  const r = redactArgv(argv);
  const json = JSON.stringify(r.argv);
  for (const s of ['s3cret-bearer', 's3cret-private', 's3cret-assign']) {
    assert.ok(!json.includes(s), `${s} leaked`);
  }
  // A reference to a variable is not a secret: the script stays readable.
  const ref = ['sh', '-c', 'curl -H "Authorization: Bearer $TOKEN" -d NPM_TOKEN=$NPM_TOKEN x'];
  assert.deepEqual(redactArgv(ref).argv, ref);
});

test('secretKind: a password with an empty user name, and GitLab CI job tokens', () => {
  assert.equal(secretKind('redis://:hunter2@cache.internal:6379/0'), 'url-credentials');
  assert.equal(secretKind('https://:hunter2@example.com/x'), 'url-credentials');
  assert.equal(secretKind('glcbt-64_abcdefghijklmnopqrstu'), 'gitlab-token');
  assert.equal(secretKind('https://example.com:8443/path@v1'), undefined);
});

test('redactArgv hides user:password pairs and stuck-on passwords, not uid:gid or ports', () => {
  const cases: Array<[string[], string[]]> = [
    [
      ['curl', '-u', 'admin:hunter2', 'https://x'],
      ['curl', '-u', REDACTED, 'https://x'],
    ],
    [
      ['curl', '--proxy-user', 'me:hunter2', 'https://x'],
      ['curl', '--proxy-user', REDACTED, 'https://x'],
    ],
    [
      ['mysql', '-uroot', '-phunter2', 'db'],
      ['mysql', '-uroot', `-p${REDACTED}`, 'db'],
    ],
    [
      ['/usr/bin/sshpass', '-p', 'hunter2', 'ssh', 'host'],
      ['/usr/bin/sshpass', '-p', REDACTED, 'ssh', 'host'],
    ],
    // Not secrets: a uid:gid, a user name alone, a port, mkdir's -p.
    [
      ['docker', 'run', '-u', '1000:1000', '-p', '8080:80', 'img'],
      ['docker', 'run', '-u', '1000:1000', '-p', '8080:80', 'img'],
    ],
    [
      ['curl', '-u', 'admin', 'https://x'],
      ['curl', '-u', 'admin', 'https://x'],
    ],
    [
      ['mkdir', '-p', 'dist'],
      ['mkdir', '-p', 'dist'],
    ],
    [
      ['ssh', '-p', '2222', 'host'],
      ['ssh', '-p', '2222', 'host'],
    ],
  ];
  for (const [argv, want] of cases) assert.deepEqual(redactArgv(argv).argv, want, argv.join(' '));
  // Inside a script; a $VAR reference stays readable.
  for (const script of [
    'curl -fsS -u admin:hunter2 https://x',
    'curl --user=admin:hunter2 https://x',
    'mysqldump -h db -u root -phunter2 app > dump.sql',
    'sshpass -p hunter2 scp a host:',
  ]) {
    const out = JSON.stringify(redactArgv(['sh', '-c', script]).argv);
    assert.ok(!out.includes('hunter2'), `${script} leaked`);
  }
  for (const script of [
    'curl -u "$USER:$PASS" https://x',
    'docker run -u 1000:1000 img',
    'mysql -p db',
  ]) {
    assert.deepEqual(redactArgv(['sh', '-c', script]).argv, ['sh', '-c', script], script);
  }
});
