import assert from 'node:assert/strict';
import { appendFile, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  BUILD,
  generateKey,
  gitProject,
  jsonOf,
  sha256File,
  show,
  statementOf,
  vouch,
} from './helpers.ts';

async function storedBundles(dir: string): Promise<string[]> {
  const root = join(dir, '.vouch', 'bundles', 'sha256');
  const out: string[] = [];
  let shards: string[];
  try {
    shards = await readdir(root);
  } catch {
    return out;
  }
  for (const shard of shards)
    for (const f of await readdir(join(root, shard))) out.push(join(root, shard, f));
  return out;
}

test('run a real build, then verify the product; tampering and another key fail', async (t) => {
  const { dir, env } = await gitProject(t);
  const { key, pub } = await generateKey(dir, env);
  const other = await generateKey(dir, env, 'other');

  const r = await vouch(['run', '--key', key, '--json', '--', ...BUILD], { cwd: dir, env });
  assert.equal(r.code, 0, show(r));
  const out = jsonOf(r);
  const digest = await sha256File(join(dir, 'dist', 'out.txt'));
  assert.equal(await readFile(join(dir, 'dist', 'out.txt'), 'utf8'), 'HELLO, BUILD\n');
  assert.equal(out.exitCode, 0);
  assert.equal(out.predicateType, 'https://slsa.dev/provenance/v1');
  assert.deepEqual(out.subjects, [{ name: 'dist/out.txt', digest: { sha256: digest } }]);
  assert.ok(out.bundle.stored, 'stored');
  assert.equal(out.bundle.out, null);
  // The stored bundle is where the summary says, and is about the product.
  const st = await statementOf(join(dir, out.bundle.stored.path));
  assert.deepEqual(st.subject, out.subjects);
  assert.deepEqual(st.predicate.buildDefinition.externalParameters.command, BUILD);

  const ok = await vouch(['verify', 'dist/out.txt', '--key', pub], { cwd: dir, env });
  assert.equal(ok.code, 0, show(ok));
  assert.match(ok.stdout, /^VERIFIED: 1 of 1 bundle/m);
  const okJson = await vouch(['verify', 'dist/out.txt', '--key', pub, '--json'], {
    cwd: dir,
    env,
  });
  assert.equal(okJson.code, 0, show(okJson));
  const verdict = jsonOf(okJson);
  assert.equal(verdict.ok, true);
  assert.equal(verdict.subject, `sha256:${digest}`);
  assert.equal(verdict.bundles.length, 1);
  assert.equal(verdict.bundles[0].ok, true);
  assert.equal(verdict.bundles[0].statement.predicateType, 'https://slsa.dev/provenance/v1');

  const wrongKey = await vouch(['verify', 'dist/out.txt', '--key', other.pub, '--json'], {
    cwd: dir,
    env,
  });
  assert.equal(wrongKey.code, 1, show(wrongKey));
  const wk = jsonOf(wrongKey);
  assert.equal(wk.ok, false);
  assert.ok(
    wk.bundles[0].checks.some(
      (c: { name: string; ok: boolean }) => c.name === 'signature' && !c.ok,
    ),
  );

  await appendFile(join(dir, 'dist', 'out.txt'), 'x');
  const tampered = await vouch(['verify', 'dist/out.txt', '--key', pub, '--json'], {
    cwd: dir,
    env,
  });
  assert.equal(tampered.code, 1, show(tampered));
  const tv = jsonOf(tampered);
  assert.equal(tv.ok, false);
  assert.notEqual(tv.subject, `sha256:${digest}`);
  // No bundle is about the tampered bytes, so none is even considered.
  assert.deepEqual(tv.bundles, []);
  assert.match(tv.policy.reasons[0].detail, /no verified evidence/);
});

test("run exits with the wrapped command's code and stores nothing when it fails", async (t) => {
  const { dir, env } = await gitProject(t);
  const { key } = await generateKey(dir, env);
  const r = await vouch(['run', '--key', key, '--', 'sh', '-c', 'echo partial > p.txt; exit 3'], {
    cwd: dir,
    env,
  });
  assert.equal(r.code, 3, show(r));
  assert.match(r.stderr, /no provenance/);
  assert.deepEqual(await storedBundles(dir), []);

  // With --json the command's output goes to stderr, but it still reads vouch's stdin.
  const piped = await vouch(
    [
      'run',
      '--key',
      key,
      '--json',
      '--no-store',
      '--',
      'sh',
      '-c',
      'cat > from-stdin.txt; echo to-stdout',
    ],
    { cwd: dir, env, input: 'piped into vouch\n' },
  );
  assert.equal(piped.code, 0, show(piped));
  assert.equal(await readFile(join(dir, 'from-stdin.txt'), 'utf8'), 'piped into vouch\n');
  assert.match(piped.stderr, /to-stdout/);
  assert.equal(jsonOf(piped).ok, true);

  const j = await vouch(['run', '--key', key, '--json', '--', 'sh', '-c', 'exit 5'], {
    cwd: dir,
    env,
  });
  assert.equal(j.code, 5, show(j));
  assert.deepEqual(
    { ...jsonOf(j), reason: undefined },
    {
      ok: false,
      exitCode: 5,
      provenance: null,
      reason: undefined,
    },
  );
  assert.deepEqual(await storedBundles(dir), []);
});

test('run --attest-failure stores provenance that records the exit code', async (t) => {
  const { dir, env } = await gitProject(t);
  const { key, pub } = await generateKey(dir, env);
  const r = await vouch(
    ['run', '--key', key, '--attest-failure', '--json', '--', 'sh', '-c', 'echo x > f.txt; exit 4'],
    { cwd: dir, env },
  );
  assert.equal(r.code, 4, show(r));
  const out = jsonOf(r);
  assert.equal(out.exitCode, 4);
  assert.deepEqual(out.subjects, [
    { name: 'f.txt', digest: { sha256: await sha256File(join(dir, 'f.txt')) } },
  ]);
  const bundles = await storedBundles(dir);
  assert.equal(bundles.length, 1);
  const st = await statementOf(bundles[0] as string);
  const command = st.predicate.runDetails.byproducts.find(
    (b: { name: string }) => b.name === 'command',
  );
  assert.equal(command.annotations.exitCode, 4);
  assert.deepEqual(command.annotations.argv, ['sh', '-c', 'echo x > f.txt; exit 4']);
  // A failed build's provenance is still evidence about f.txt.
  const v = await vouch(['verify', 'f.txt', '--key', pub], { cwd: dir, env });
  assert.equal(v.code, 0, show(v));
});

test('run --out writes a bundle that verify --no-store --bundle accepts', async (t) => {
  const { dir, env } = await gitProject(t);
  const { key, pub } = await generateKey(dir, env);
  const r = await vouch(
    ['run', '--key', key, '--no-store', '--out', 'b.sigstore.json', '--json', '--', ...BUILD],
    { cwd: dir, env },
  );
  assert.equal(r.code, 0, show(r));
  assert.deepEqual(jsonOf(r).bundle, { stored: null, out: 'b.sigstore.json' });
  assert.deepEqual(await storedBundles(dir), []);
  const bundle = JSON.parse(await readFile(join(dir, 'b.sigstore.json'), 'utf8'));
  assert.equal(bundle.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');

  const v = await vouch(
    ['verify', 'dist/out.txt', '--no-store', '--bundle', 'b.sigstore.json', '--key', pub, '--json'],
    { cwd: dir, env },
  );
  assert.equal(v.code, 0, show(v));
  assert.equal(jsonOf(v).bundles[0].source, 'b.sigstore.json');
  // Without the bundle and without the store there is nothing to verify.
  const none = await vouch(['verify', 'dist/out.txt', '--no-store', '--key', pub], {
    cwd: dir,
    env,
  });
  assert.equal(none.code, 1, show(none));
  assert.match(none.stdout, /no bundles found/);
});

test('run with an encrypted key: VOUCH_PASSPHRASE signs; a wrong one stops before the command', async (t) => {
  const { dir, env } = await gitProject(t);
  const gen = await vouch(['keys', 'generate', '--prefix', 'enc'], {
    cwd: dir,
    env: { ...env, VOUCH_PASSPHRASE: 'sesame' },
  });
  assert.equal(gen.code, 0, show(gen));
  const marker = ['sh', '-c', 'echo ran > marker.txt'];

  const wrong = await vouch(['run', '--key', 'enc.key', '--json', '--', ...marker], {
    cwd: dir,
    env: { ...env, VOUCH_PASSPHRASE: 'not sesame' },
  });
  assert.equal(wrong.code, 2, show(wrong));
  assert.equal(jsonOf(wrong).error.code, 'KEY_PASSPHRASE');
  await assert.rejects(stat(join(dir, 'marker.txt')), { code: 'ENOENT' });

  const none = await vouch(['run', '--key', 'enc.key', '--', ...marker], { cwd: dir, env });
  assert.equal(none.code, 2, show(none));
  assert.match(none.stderr, /KEY_PASSPHRASE/);
  await assert.rejects(stat(join(dir, 'marker.txt')), { code: 'ENOENT' });

  const right = await vouch(['run', '--key', 'enc.key', '--json', '--', ...marker], {
    cwd: dir,
    env: { ...env, VOUCH_PASSPHRASE: 'sesame' },
  });
  assert.equal(right.code, 0, show(right));
  assert.equal(await readFile(join(dir, 'marker.txt'), 'utf8'), 'ran\n');
  const v = await vouch(['verify', 'marker.txt', '--key', 'enc.pub'], { cwd: dir, env });
  assert.equal(v.code, 0, show(v));
});

test('run usage errors: no command, no signing mode, --key with --keyless', async (t) => {
  const { dir, env } = await gitProject(t);
  const { key } = await generateKey(dir, env);
  const cases: Array<[string[], RegExp]> = [
    [['run', '--key', key], /missing the command/],
    [['run', '--', 'true'], /--key FILE or --keyless/],
    [['run', '--key', key, '--keyless', '--', 'true'], /exclude each other/],
    [['run', '--frobnicate', '--', 'true'], /frobnicate/],
  ];
  for (const [args, message] of cases) {
    const r = await vouch([...args.slice(0, 1), '--json', ...args.slice(1)], { cwd: dir, env });
    assert.equal(r.code, 2, show(r));
    const e = jsonOf(r).error;
    assert.equal(e.code, 'USAGE');
    assert.match(e.message, message);
  }
});

test("a --json after 'run --' belongs to the wrapped command, not to vouch", async (t) => {
  const { dir, env } = await gitProject(t);
  // No signing mode: a usage error. The --json is the command's, so the error is human text.
  const r = await vouch(['run', '--', 'echo', '--json'], { cwd: dir, env });
  assert.equal(r.code, 2, show(r));
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /error USAGE/);
});

test('run --json: the command output goes to stderr, stdout is only the summary', async (t) => {
  const { dir, env } = await gitProject(t);
  const { key } = await generateKey(dir, env);
  const r = await vouch(
    [
      'run',
      '--key',
      key,
      '--json',
      '--',
      'sh',
      '-c',
      'echo to-stdout; echo to-stderr >&2; echo x > o.txt',
    ],
    { cwd: dir, env },
  );
  assert.equal(r.code, 0, show(r));
  assert.equal(jsonOf(r).exitCode, 0);
  assert.ok(!r.stdout.includes('to-stdout'), r.stdout);
  assert.match(r.stderr, /to-stdout/);
  assert.match(r.stderr, /to-stderr/);
});
