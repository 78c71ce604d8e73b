// The CLI's top level (help, version, unknown verbs, JSON errors) and `evidence ls`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  generateKey,
  isolatedEnv,
  jsonOf,
  REPO_ROOT,
  sha256,
  show,
  tempDir,
  vouch,
} from './helpers.ts';

const VERBS = ['keys', 'run', 'attest', 'verify', 'evidence'];

test('help lists every verb on stdout, exit 0; bare vouch is a usage error', async (t) => {
  const dir = await tempDir(t);
  for (const args of [['help'], ['--help'], ['-h']]) {
    const r = await vouch(args, { cwd: dir });
    assert.equal(r.code, 0, show(r));
    for (const verb of VERBS) assert.match(r.stdout, new RegExp(`^  ${verb} +\\S`, 'm'));
    assert.match(r.stdout, /Exit codes: 0 ok, 1 verification/);
  }
  const bare = await vouch([], { cwd: dir });
  assert.equal(bare.code, 2, show(bare));
  assert.equal(bare.stdout, '');
  assert.match(bare.stderr, /^Usage: vouch <command>/m);
});

test('every verb answers --help on stdout with exit 0', async (t) => {
  const dir = await tempDir(t);
  for (const verb of VERBS) {
    const r = await vouch([verb, '--help'], { cwd: dir });
    assert.equal(r.code, 0, `${verb}: ${show(r)}`);
    assert.match(r.stdout, new RegExp(`^Usage: vouch ${verb}`), verb);
  }
});

test('version prints package.json version', async (t) => {
  const dir = await tempDir(t);
  const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8'));
  for (const args of [['version'], ['--version']]) {
    const r = await vouch(args, { cwd: dir });
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, `${pkg.version}\n`);
  }
});

test('unknown verb: exit 2; with --json an error object on stdout', async (t) => {
  const dir = await tempDir(t);
  const r = await vouch(['frobnicate'], { cwd: dir });
  assert.equal(r.code, 2, show(r));
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /unknown command "frobnicate"/);
  const j = await vouch(['frobnicate', '--json'], { cwd: dir });
  assert.equal(j.code, 2, show(j));
  assert.deepEqual(Object.keys(jsonOf(j)), ['error']);
  assert.equal(jsonOf(j).error.code, 'USAGE');
  assert.match(jsonOf(j).error.message, /frobnicate/);
});

test('--json errors: one JSON document on stdout, human message on stderr', async (t) => {
  const dir = await tempDir(t);
  const cases: Array<[string[], string, number]> = [
    [['verify', 'missing.bin', '--key', 'k.pub', '--json'], 'FILE_NOT_FOUND', 2],
    [['attest', '--json'], 'USAGE', 2],
    [['evidence', 'ls', '--bogus', '--json'], 'USAGE', 2],
    [['keys', 'generate', '--json'], 'KEY_PASSPHRASE', 2],
    [['run', '--json', '--', 'true'], 'USAGE', 2],
  ];
  for (const [args, code, exit] of cases) {
    const r = await vouch(args, { cwd: dir, env: isolatedEnv(dir) });
    assert.equal(r.code, exit, `${args.join(' ')}: ${show(r)}`);
    const out = jsonOf(r);
    assert.deepEqual(Object.keys(out), ['error'], args.join(' '));
    assert.equal(out.error.code, code, args.join(' '));
    assert.equal(typeof out.error.message, 'string');
    assert.match(r.stderr, new RegExp(`error ${code}: `), args.join(' '));
  }
});

test('evidence ls: by file, by digest, everything; --json shape', async (t) => {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  const { key } = await generateKey(dir, env);
  await writeFile(join(dir, 'a.bin'), 'A\n');
  await writeFile(join(dir, 'b.bin'), 'B\n');
  await writeFile(join(dir, 'p.json'), '{}\n');

  const empty = await vouch(['evidence', 'ls', '--json'], { cwd: dir, env });
  assert.equal(empty.code, 0, show(empty));
  assert.deepEqual(jsonOf(empty), []);
  const emptyHuman = await vouch(['evidence', 'ls'], { cwd: dir, env });
  assert.equal(emptyHuman.stdout, 'no evidence stored\n');

  const attest = async (file: string, type: string) => {
    const r = await vouch(
      ['attest', file, '--predicate-type', type, '--predicate', 'p.json', '--key', key, '--json'],
      { cwd: dir, env },
    );
    assert.equal(r.code, 0, show(r));
    return jsonOf(r).bundle.stored as { id: string; path: string };
  };
  const a1 = await attest('a.bin', 'custom');
  const a2 = await attest('a.bin', 'test-result');
  const b1 = await attest('b.bin', 'custom');

  const byFile = await vouch(['evidence', 'ls', 'a.bin', '--json'], { cwd: dir, env });
  assert.equal(byFile.code, 0, show(byFile));
  const entries = jsonOf(byFile);
  assert.equal(entries.length, 2);
  assert.deepEqual(entries.map((e: { id: string }) => e.id).sort(), [a1.id, a2.id].sort());
  for (const e of entries) {
    assert.deepEqual(Object.keys(e).sort(), [
      'id',
      'path',
      'predicateType',
      'storedAt',
      'subjects',
    ]);
    assert.deepEqual(e.subjects, [{ name: 'a.bin', digest: { sha256: sha256('A\n') } }]);
    assert.ok(!Number.isNaN(Date.parse(e.storedAt)), e.storedAt);
    assert.equal(e.path, e.id === a1.id ? a1.path : a2.path);
    // The path points at the bundle, which is about this file.
    const bundle = JSON.parse(await readFile(join(dir, e.path), 'utf8'));
    assert.equal(bundle.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
  }
  assert.deepEqual(entries.map((e: { predicateType: string }) => e.predicateType).sort(), [
    'https://in-toto.io/attestation/test-result/v0.1',
    'https://vouch.dev/attestation/custom/v0.1',
  ]);

  const byDigest = await vouch(['evidence', 'ls', `sha256:${sha256('B\n')}`, '--json'], {
    cwd: dir,
    env,
  });
  assert.equal(byDigest.code, 0, show(byDigest));
  assert.deepEqual(
    jsonOf(byDigest).map((e: { id: string }) => e.id),
    [b1.id],
  );

  const all = await vouch(['evidence', 'ls', '--json'], { cwd: dir, env });
  assert.deepEqual(
    jsonOf(all)
      .map((e: { id: string }) => e.id)
      .sort(),
    [a1.id, a2.id, b1.id].sort(),
  );

  const human = await vouch(['evidence', 'ls', 'b.bin'], { cwd: dir, env });
  assert.equal(human.code, 0, show(human));
  assert.match(human.stdout, /https:\/\/vouch\.dev\/attestation\/custom\/v0\.1 {2}b\.bin\n/);
  assert.ok(human.stdout.includes(b1.path));

  const none = await vouch(['evidence', 'ls', `sha256:${'0'.repeat(64)}`, '--json'], {
    cwd: dir,
    env,
  });
  assert.deepEqual(jsonOf(none), []);

  const otherStore = await vouch(['evidence', 'ls', '--store', 'elsewhere', '--json'], {
    cwd: dir,
    env,
  });
  assert.deepEqual(jsonOf(otherStore), []);
});

test('evidence usage errors', async (t) => {
  const dir = await tempDir(t);
  const bare = await vouch(['evidence'], { cwd: dir });
  assert.equal(bare.code, 2, show(bare));
  assert.match(bare.stderr, /error USAGE: .*missing subcommand: use ls/);
  const cases: Array<[string[], RegExp]> = [
    [['evidence', 'rm'], /unknown subcommand "rm"/],
    [['evidence', 'ls', 'a', 'b'], /at most one/],
  ];
  for (const [args, message] of cases) {
    const r = await vouch([...args, '--json'], { cwd: dir });
    assert.equal(r.code, 2, show(r));
    assert.equal(jsonOf(r).error.code, 'USAGE');
    assert.match(jsonOf(r).error.message, message);
  }
});

test('verbs with subcommands: none or an unknown one is exit 2 naming the choices; help is exit 0', async (t) => {
  const dir = await tempDir(t);
  const verbs: Array<[string, string]> = [
    ['evidence', 'use ls'],
    ['keys', 'use generate'],
    ['db', 'use import, update or status'],
    ['tee', 'use verify'],
    ['policy', 'use test, explain or init'],
    ['repro', 'use check, diff or normalize'],
  ];
  for (const [verb, choices] of verbs) {
    const bare = await vouch([verb, '--json'], { cwd: dir });
    assert.equal(bare.code, 2, show(bare));
    assert.equal(jsonOf(bare).error.code, 'USAGE');
    assert.equal(
      jsonOf(bare).error.message,
      `vouch ${verb}: missing subcommand: ${choices} (see vouch ${verb} --help)`,
    );
    const unknown = await vouch([verb, 'frobnicate', '--json'], { cwd: dir });
    assert.equal(unknown.code, 2, show(unknown));
    assert.match(
      jsonOf(unknown).error.message,
      new RegExp(`unknown subcommand "frobnicate": ${choices}`),
    );
    for (const h of ['help', '--help', '-h']) {
      const r = await vouch([verb, h], { cwd: dir });
      assert.equal(r.code, 0, `${verb} ${h}: ${show(r)}`);
      assert.match(r.stdout, new RegExp(`^Usage: vouch ${verb}`), `${verb} ${h}`);
    }
  }
});

test('bin/vouch runs through a chain of symbolic links (a user puts it on PATH that way)', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'a'));
  await symlink(join(REPO_ROOT, 'bin', 'vouch'), join(dir, 'a', 'vouch'));
  await symlink(join('a', 'vouch'), join(dir, 'vouch'));
  const r = spawnSync(join(dir, 'vouch'), ['--version'], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8'));
  assert.equal(r.stdout.trim(), pkg.version);
});

test('a missing file is named as typed inside the working directory (absolute outside it, and in --json)', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'work'));
  const cwd = join(dir, 'work');
  const r = await vouch(['evidence', 'ls', 'missing.bin'], { cwd });
  assert.equal(r.code, 2, show(r));
  assert.equal(r.stderr, 'vouch evidence: error FILE_NOT_FOUND: missing.bin: no such file\n');
  const outside = await vouch(['evidence', 'ls', '../gone.bin'], { cwd });
  assert.match(
    outside.stderr,
    new RegExp(`FILE_NOT_FOUND: ${join(dir, 'gone.bin')}: no such file`),
  );
  const json = await vouch(['evidence', 'ls', 'missing.bin', '--json'], { cwd });
  assert.equal(jsonOf(json).error.file, join(cwd, 'missing.bin'));
});

test('evidence ls of a tag or a malformed digest is a usage error, not a missing file', async (t) => {
  const dir = await tempDir(t);
  for (const target of ['app:1.2', 'sha256:zz', 'registry.example/app@latest']) {
    const r = await vouch(['evidence', 'ls', target], { cwd: dir });
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /error USAGE: .*is neither a file nor a digest/, target);
  }
});
