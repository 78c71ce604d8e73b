// k-of-n rebuilders: a policy that requires two distinct rebuilder keys whose
// rebuild attestations say the build is reproducible and matches the original
// build's verified provenance. Allowed with both; denied with one rebuilder
// (also when it attested twice: the same key counts once), and denied when the
// second rebuilder's evidence fails either half of the `where`.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateKey, isolatedEnv, jsonOf, show, tempDir, vouch } from './helpers.ts';

const BUILD =
  'mkdir -p dist && { echo "tiny 1.0"; TZ=UTC date -d "@$SOURCE_DATE_EPOCH" +%FT%TZ; } > dist/out.txt\n';
const REBUILD = 'https://vouch.dev/attestation/rebuild/v1';

const POLICY = `apiVersion: vouch.dev/policy/v1
kind: Policy
metadata:
  name: two-rebuilders
trust:
  signers:
    - { name: r1, key: r1.pub }
    - { name: r2, key: r2.pub }
require:
  - name: rebuilt-by-two
    predicateType: ${REBUILD}
    signers: [r1, r2]
    minSigners: 2
    where: predicate.agreement.reproducible && predicate.original.matches
`;

test('k-of-n rebuilders: two distinct rebuilders agreeing with the original allow; one, or one twice, or a rebuild that disagrees, deny', async (t) => {
  const dir = await tempDir(t);
  const proj = join(dir, 'proj');
  await mkdir(proj);
  await mkdir(join(dir, '.home'));
  await writeFile(join(proj, 'build.sh'), BUILD);
  const env = isolatedEnv(dir, { SOURCE_DATE_EPOCH: '1700000000' });
  const builder = await generateKey(dir, env, join(dir, 'builder'));
  const r1 = await generateKey(dir, env, join(dir, 'r1'));
  const r2 = await generateKey(dir, env, join(dir, 'r2'));
  await writeFile(join(dir, 'policy.yaml'), POLICY);

  const run = await vouch(
    [
      'run',
      '--key',
      builder.key,
      '--no-store',
      '--out',
      join(dir, 'build.json'),
      '--',
      'sh',
      'build.sh',
    ],
    { cwd: proj, env },
  );
  assert.equal(run.code, 0, show(run));
  // An original whose provenance names another digest: the same build at
  // another SOURCE_DATE_EPOCH, in a copy (the build rewrites dist/).
  const otherProj = join(dir, 'other-proj');
  await mkdir(otherProj);
  await writeFile(join(otherProj, 'build.sh'), BUILD);
  const other = await vouch(
    [
      'run',
      '--key',
      builder.key,
      '--no-store',
      '--out',
      join(dir, 'other.json'),
      '--',
      'sh',
      'build.sh',
    ],
    { cwd: otherProj, env: { ...env, SOURCE_DATE_EPOCH: '1600000000' } },
  );
  assert.equal(other.code, 0, show(other));

  const rebuild = (
    key: string,
    store: string,
    opts: { original?: string; script?: string; cwd?: string } = {},
  ) =>
    vouch(
      [
        'repro',
        'check',
        '--json',
        '--vary',
        'clock,tz,umask,env',
        '--no-bisect',
        '--attest',
        '--key',
        key,
        '--original',
        opts.original ?? join(dir, 'build.json'),
        '--original-key',
        builder.pub,
        '--store',
        join(dir, store),
        '--products',
        'dist/**',
        '--',
        'sh',
        opts.script ?? 'build.sh',
      ],
      { cwd: opts.cwd ?? proj, env },
    );
  const verify = async (store: string) => {
    const r = await vouch(
      [
        'verify',
        'dist/out.txt',
        '--json',
        '--policy',
        join(dir, 'policy.yaml'),
        '--store',
        join(dir, store),
      ],
      { cwd: proj, env },
    );
    assert.ok(r.code === 0 || r.code === 1, show(r));
    const v = jsonOf(r);
    assert.equal(v.decision, r.code === 0 ? 'allow' : 'deny', show(r));
    const rule = v.rules.find((x: { name: string }) => x.name === 'rebuilt-by-two');
    return { code: r.code, v, rule, r };
  };

  // Both rebuilders, into one shared store: allowed, using one bundle of each.
  for (const k of [r1.key, r2.key]) {
    const r = await rebuild(k, 'shared');
    assert.equal(r.code, 0, show(r));
    assert.equal(jsonOf(r).original.matches, true);
  }
  const both = await verify('shared');
  assert.equal(both.code, 0, show(both.r));
  assert.equal(both.rule.status, 'pass');
  assert.deepEqual(both.rule.evidence.map((e: { signers: string[] }) => e.signers).sort(), [
    ['r1'],
    ['r2'],
  ]);

  // One rebuilder, attested twice: two accepted bundles, one identity. Denied.
  for (let i = 0; i < 2; i++) {
    const r = await rebuild(r1.key, 'one');
    assert.equal(r.code, 0, show(r));
  }
  const once = await verify('one');
  assert.equal(once.code, 1, show(once.r));
  assert.equal(once.v.evidence.filter((e: { accepted: boolean }) => e.accepted).length, 2);
  assert.equal(once.rule.status, 'fail');
  assert.match(once.rule.reasons.join('\n'), /1 distinct signer identity \(r1\) over 2 bundle/);

  // r2's rebuild is reproducible but does not match its (other) original: it does not count.
  const mis = await rebuild(r1.key, 'mismatch');
  assert.equal(mis.code, 0, show(mis));
  const misR2 = await rebuild(r2.key, 'mismatch', { original: join(dir, 'other.json') });
  assert.equal(misR2.code, 1, show(misR2));
  assert.equal(jsonOf(misR2).reproducible, true);
  assert.equal(jsonOf(misR2).original.matches, false);
  const mismatch = await verify('mismatch');
  assert.equal(mismatch.code, 1, show(mismatch.r));
  assert.equal(mismatch.v.evidence.length, 2, 'both bundles are about the digest and verify');
  assert.match(mismatch.rule.reasons.join('\n'), /1 distinct signer identity \(r1\)/);

  // r2 rebuilds a tree whose build also stamps the time: not reproducible, though
  // dist/out.txt is the same and matches the original. It does not count either.
  const stamped = join(dir, 'stamped');
  await mkdir(stamped);
  await writeFile(join(stamped, 'build.sh'), `${BUILD}date +%s%N > dist/stamp.txt\n`);
  const nr1 = await rebuild(r1.key, 'unreproducible');
  assert.equal(nr1.code, 0, show(nr1));
  const nr2 = await rebuild(r2.key, 'unreproducible', { cwd: stamped });
  assert.equal(nr2.code, 1, show(nr2));
  assert.equal(jsonOf(nr2).reproducible, false);
  assert.equal(jsonOf(nr2).original.matches, true);
  const unrepro = await verify('unreproducible');
  assert.equal(unrepro.code, 1, show(unrepro.r));
  assert.equal(unrepro.v.evidence.length, 2);
  assert.match(unrepro.rule.reasons.join('\n'), /1 distinct signer identity \(r1\)/);
});
