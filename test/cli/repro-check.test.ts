// The demo, end to end as a user runs it: a tiny project whose build embeds
// `date` is found not reproducible, the clock is named with its fix; with
// SOURCE_DATE_EPOCH used it is reproducible, and the signed rebuild
// attestation verifies (and a tampered one does not).
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  generateKey,
  git,
  isolatedEnv,
  jsonOf,
  show,
  statementOf,
  tempDir,
  vouch,
} from './helpers.ts';

const NOT_REPRO = 'mkdir -p dist && { echo "tiny 1.0"; date; } > dist/out.txt\n';
const FIXED =
  'mkdir -p dist && { echo "tiny 1.0"; TZ=UTC date -d "@$SOURCE_DATE_EPOCH" +%FT%TZ; } > dist/out.txt\n';

async function project(t: { after: (fn: () => Promise<void>) => void }, build: string) {
  const dir = await tempDir(t);
  const proj = join(dir, 'proj');
  await mkdir(proj);
  await mkdir(join(dir, '.home'));
  await writeFile(join(proj, 'build.sh'), build);
  return { dir, proj, env: isolatedEnv(dir) };
}

test('repro check: a build that embeds `date` is not reproducible; the clock is named with the fix', async (t) => {
  const { proj, env } = await project(t, NOT_REPRO);
  const r = await vouch(
    ['repro', 'check', '--json', '--products', 'dist/**', '--', 'sh', 'build.sh'],
    { cwd: proj, env },
  );
  assert.equal(r.code, 1, show(r));
  const j = jsonOf(r);
  assert.equal(j.reproducible, false);
  assert.deepEqual(j.differing, ['dist/out.txt']);
  assert.equal(j.runs.length, 2);
  assert.equal(j.runs[0].role, 'control');
  // Bisecting pins it on the clock alone, nothing else.
  assert.deepEqual(
    j.culprits.map((c: { variations: string[] }) => c.variations),
    [['clock']],
  );
  assert.match(j.culprits[0].hint, /SOURCE_DATE_EPOCH/);
  const content = j.culprits[0].differences.find(
    (d: { path: string; kind: string }) => d.path === 'dist/out.txt' && d.kind === 'content',
  );
  assert.equal(content.class, 'timestamp');
  assert.match(content.detail, /^-.*2024/m);
  // Human output says the same.
  const text = await vouch(
    ['repro', 'check', '--products', 'dist/**', '--vary', 'clock,env', '--', 'sh', 'build.sh'],
    { cwd: proj, env },
  );
  assert.equal(text.code, 1, show(text));
  assert.match(text.stdout, /not reproducible/);
  assert.match(text.stdout, /clock → dist\/out\.txt \(timestamp\)/);
  assert.match(text.stdout, /fix: set SOURCE_DATE_EPOCH/);
});

test('repro check: with SOURCE_DATE_EPOCH used the build is reproducible; --attest signs a rebuild attestation that verifies', async (t) => {
  const { dir, proj, env } = await project(t, FIXED);
  const fixedEnv = { ...env, SOURCE_DATE_EPOCH: '1700000000' };
  git(proj, env, 'init', '-q', '-b', 'main');
  git(proj, env, 'add', '-A');
  git(proj, env, 'commit', '-q', '--no-gpg-sign', '-m', 'tiny');
  const commit = git(proj, env, 'rev-parse', 'HEAD');
  const { key, pub } = await generateKey(dir, env, join(dir, 'rebuilder'));
  const r = await vouch(
    [
      'repro',
      'check',
      '--json',
      '--attest',
      '--key',
      key,
      '--no-store',
      '--out',
      join(dir, 'rebuild.json'),
      '--',
      'sh',
      'build.sh',
    ],
    { cwd: proj, env: fixedEnv },
  );
  assert.equal(r.code, 0, show(r));
  const j = jsonOf(r);
  assert.equal(j.reproducible, true);
  assert.equal(j.sourceDateEpoch, '1700000000');
  assert.deepEqual(
    j.runs[0].products.map((p: { name: string }) => p.name),
    ['dist/out.txt'],
  );
  const digest = j.runs[0].products[0].digest.sha256;
  assert.equal(j.runs[1].products[0].digest.sha256, digest);

  const st = await statementOf(join(dir, 'rebuild.json'));
  assert.equal(st.predicateType, 'https://vouch.dev/attestation/rebuild/v1');
  assert.deepEqual(st.subject, [{ name: 'dist/out.txt', digest: { sha256: digest } }]);
  assert.equal(st.predicate.agreement.reproducible, true);
  assert.equal(st.predicate.agreement.agreeing, 2);
  assert.deepEqual(st.predicate.command, ['sh', 'build.sh']);
  assert.equal(st.predicate.rebuilder.id, 'https://vouch.dev/builders/local@v1');
  assert.deepEqual(st.predicate.source, { digest: { gitCommit: commit }, dirty: false });
  assert.ok(st.predicate.variations.varied.includes('clock'));

  // The bundle verifies against the rebuilder's key, and a tampered copy does not.
  const verifyRebuild = (bundle: string) =>
    vouch(
      [
        'verify',
        `sha256:${digest}`,
        '--key',
        pub,
        '--type',
        'https://vouch.dev/attestation/rebuild/v1',
        '--bundle',
        join(dir, bundle),
      ],
      { cwd: dir, env },
    );
  const ok = await verifyRebuild('rebuild.json');
  assert.equal(ok.code, 0, show(ok));
  const bundle = JSON.parse(await readFile(join(dir, 'rebuild.json'), 'utf8'));
  const stmt = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
  stmt.predicate.agreement.reproducible = false;
  bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(stmt)).toString('base64');
  await writeFile(join(dir, 'tampered.json'), JSON.stringify(bundle));
  const bad = await verifyRebuild('tampered.json');
  assert.equal(bad.code, 1, show(bad));
});

test('repro check --original: verified first, then its subjects are compared with the rebuilt products', async (t) => {
  const { dir, proj, env } = await project(t, FIXED);
  const fixedEnv = { ...env, SOURCE_DATE_EPOCH: '1700000000' };
  const builder = await generateKey(dir, env, join(dir, 'builder'));
  const rebuilder = await generateKey(dir, env, join(dir, 'rebuilder'));
  // The original build, with provenance.
  const orig = await vouch(
    [
      'run',
      '--key',
      builder.key,
      '--no-store',
      '--out',
      join(dir, 'orig.json'),
      '--',
      'sh',
      'build.sh',
    ],
    { cwd: proj, env: fixedEnv },
  );
  assert.equal(orig.code, 0, show(orig));
  const args = (original: string, key: string) => [
    'repro',
    'check',
    '--json',
    '--vary',
    'clock,tz',
    '--no-bisect',
    '--attest',
    '--key',
    rebuilder.key,
    '--no-store',
    '--original',
    original,
    '--original-key',
    key,
    '--',
    'sh',
    'build.sh',
  ];
  const r = await vouch(args(join(dir, 'orig.json'), builder.pub), { cwd: proj, env: fixedEnv });
  assert.equal(r.code, 0, show(r));
  assert.equal(jsonOf(r).original.matches, true);
  assert.deepEqual(jsonOf(r).original.matched, ['dist/out.txt']);
  // The wrong key: the original does not verify, nothing is built or signed.
  const wrong = await vouch(args(join(dir, 'orig.json'), rebuilder.pub), {
    cwd: proj,
    env: fixedEnv,
  });
  assert.equal(wrong.code, 1, show(wrong));
  assert.match(wrong.stderr, /original provenance does not verify/);
  // Another SOURCE_DATE_EPOCH rebuilds reproducibly but not what the original built.
  const other = await vouch(args(join(dir, 'orig.json'), builder.pub), {
    cwd: proj,
    env: { ...fixedEnv, SOURCE_DATE_EPOCH: '1700000001' },
  });
  assert.equal(other.code, 1, show(other));
  assert.equal(jsonOf(other).reproducible, true);
  assert.deepEqual(jsonOf(other).original.mismatched, ['dist/out.txt']);
});

test('repro check: bad input and failing builds', async (t) => {
  const { proj, env } = await project(t, 'exit 3\n');
  const failed = await vouch(
    ['repro', 'check', '--vary', 'tz', '--', 'sh', '-c', 'echo compiling; echo broken >&2; exit 3'],
    { cwd: proj, env },
  );
  assert.equal(failed.code, 2, show(failed));
  assert.match(failed.stderr, /REPRO_BUILD_FAILED/);
  assert.match(failed.stderr, /run 1 \(control\) exited with code 3/);
  assert.match(failed.stderr, /broken/);
  for (const args of [
    ['repro', 'check'],
    ['repro', 'check', '--vary', 'moon', '--', 'true'],
    ['repro', 'check', '--runs', '1', '--', 'true'],
    ['repro', 'check', '--original', 'x.json', '--', 'true'],
    ['repro', 'frobnicate'],
  ]) {
    const r = await vouch(args, { cwd: proj, env });
    assert.equal(r.code, 2, `${args.join(' ')}: ${show(r)}`);
  }
  // Signing flags without --attest are refused, not silently ignored.
  for (const flag of [['--out', 'r.json'], ['--key', 'k.key'], ['--no-store']]) {
    const r = await vouch(['repro', 'check', ...flag, '--', 'true'], { cwd: proj, env });
    assert.equal(r.code, 2, `${flag.join(' ')}: ${show(r)}`);
    assert.match(r.stderr, new RegExp(`${flag[0]} needs --attest`));
  }
  const nothing = await vouch(['repro', 'check', '--vary', 'tz', '--', 'true'], { cwd: proj, env });
  assert.equal(nothing.code, 2, show(nothing));
  assert.match(nothing.stderr, /--products/);
});

test('repro check: each variation is pinned on the output it changes (or reported not available, with why)', async (t) => {
  const { proj, env } = await project(t, '');
  await mkdir(join(proj, 'files'));
  for (const f of ['a', 'b', 'c', 'd', 'e']) await writeFile(join(proj, 'files', f), `${f}\n`);
  const build = [
    'mkdir -p out',
    'find files -type f > out/list.txt',
    'id -un > out/user.txt',
    'hostname > out/host.txt',
    'touch out/perm && stat -c %a out/perm > out/mode.txt',
    'echo "$PWD" > out/pwd.txt',
    'echo "$HOME" > out/home.txt',
    'echo "$TZ" > out/tz.txt',
    'echo "$VOUCH_REPRO_NOISE" > out/env.txt',
    'echo stable > out/stable.txt',
  ].join(' && ');
  const r = await vouch(
    ['repro', 'check', '--json', '--products', 'out/*', '--', 'sh', '-c', build],
    { cwd: proj, env },
  );
  assert.equal(r.code, 1, show(r));
  const j = jsonOf(r);
  const blamed = new Map<string, { products: string[]; differences: { class: string }[] }>(
    j.culprits.map((c: { variations: string[] }) => [c.variations.join('+'), c]),
  );
  const unavailable = new Map(
    j.unavailable.map((u: { name: string; reason: string }) => [u.name, u.reason]),
  );
  const expect: [string, string, string][] = [
    ['order', 'out/list.txt', 'file-order'],
    ['user', 'out/user.txt', 'unknown'],
    ['hostname', 'out/host.txt', 'unknown'],
    ['umask', 'out/mode.txt', 'permissions-ownership'],
    ['path', 'out/pwd.txt', 'embedded-build-path'],
    ['home', 'out/home.txt', 'embedded-build-path'],
    ['tz', 'out/tz.txt', 'timestamp'],
    ['env', 'out/env.txt', 'unknown'],
  ];
  for (const [variation, product, cls] of expect) {
    if (unavailable.has(variation)) {
      assert.match(String(unavailable.get(variation)), /not installed|needs root|do not work/);
      continue;
    }
    const c = blamed.get(variation);
    assert.ok(
      c,
      `no culprit ${variation}: ${JSON.stringify(j.culprits.map((x: { variations: string[] }) => x.variations))}`,
    );
    assert.deepEqual(c.products, [product], variation);
    assert.equal(c.differences[0]?.class, cls, variation);
  }
  assert.ok(!j.differing.includes('out/stable.txt'));
  // Turning the culprits off makes the same build reproducible.
  const off = await vouch(
    [
      'repro',
      'check',
      '--json',
      '--products',
      'out/*',
      '--no-vary',
      'order,user,hostname,umask,path,home,tz,env',
      '--',
      'sh',
      '-c',
      build,
    ],
    { cwd: proj, env },
  );
  assert.equal(off.code, 0, show(off));
  // locale only where fr_CH.UTF-8 or de_DE.UTF-8 is installed; else reported not available.
  const o = jsonOf(off);
  const localeOff = o.unavailable.some((u: { name: string }) => u.name === 'locale');
  assert.deepEqual(o.varied, localeOff ? ['clock'] : ['clock', 'locale']);
});

test('repro check: a product that differs between two builds under the same conditions is blamed on no variation, not on every one', async (t) => {
  // A random temp name (mktemp) changes on every build; the build path only under `path`.
  const { proj, env } = await project(
    t,
    'mkdir -p dist && mktemp -u /tmp/build.XXXXXXXX > dist/tmp.txt && echo "$PWD" > dist/pwd.txt\n',
  );
  const r = await vouch(
    [
      'repro',
      'check',
      '--json',
      '--vary',
      'tz,umask,path',
      '--products',
      'dist/*',
      '--',
      'sh',
      'build.sh',
    ],
    { cwd: proj, env },
  );
  assert.equal(r.code, 1, show(r));
  const j = jsonOf(r);
  assert.deepEqual(j.differing, ['dist/pwd.txt', 'dist/tmp.txt']);
  assert.deepEqual(
    j.culprits.map((c: { variations: string[]; products: string[] }) => [c.variations, c.products]),
    [
      [[], ['dist/tmp.txt']],
      [['path'], ['dist/pwd.txt']],
    ],
  );
  assert.match(j.culprits[0].hint, /identical conditions/);
  const text = await vouch(
    ['repro', 'check', '--vary', 'tz,umask', '--products', 'dist/tmp.txt', '--', 'sh', 'build.sh'],
    { cwd: proj, env },
  );
  assert.equal(text.code, 1, show(text));
  assert.match(text.stdout, /no variation \(nondeterministic\) → dist\/tmp\.txt/);
  assert.doesNotMatch(text.stdout, /^\s+(tz|umask) →/m);
});
