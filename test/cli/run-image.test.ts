// `vouch run --image-digest-file` around a real image push (skopeo copy
// --digestfile of an OCI layout built in the test, to Debian's
// docker-registry), then `vouch attach` and `vouch verify oci://… --policy`,
// as the admission webhook would decide. Also --image and --json's "ok".
import assert from 'node:assert/strict';
import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildImage, pushImage, registrySkip, startRegistry } from '../oci/registry.ts';
import {
  generateKey,
  isolatedEnv,
  jsonOf,
  show,
  statementOf,
  tempDir,
  type VouchResult,
  vouch,
} from './helpers.ts';

const skip = registrySkip();

const POLICY = `apiVersion: vouch.dev/policy/v1
kind: Policy
metadata:
  name: cluster-admission
requireDigest: true
trust:
  signers:
    - name: ci
      key: k.pub
require:
  - name: provenance
    predicateType: slsaprovenance
    signers: [ci]
    maxAge: 90d
`;

async function project(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  const { key, pub } = await generateKey(dir, env);
  await writeFile(join(dir, 'policy.yaml'), POLICY);
  const run = (args: string[]) => vouch(args, { cwd: dir, env });
  return { dir, env, key, pub, run };
}

/** The manifest digest the registry serves for a tag (what a cluster would pull). */
async function servedDigest(host: string, repo: string, tag: string): Promise<string> {
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  assert.equal(res.status, 200);
  return res.headers.get('docker-content-digest') ?? '';
}

function usageError(r: VouchResult, code: RegExp, file?: string): void {
  assert.equal(r.code, 2, show(r));
  assert.match(r.stderr, code);
  if (file) assert.ok(r.stderr.includes(file), `names ${file}: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /signing provenance/);
}

test('skopeo push under vouch run: the pushed digest is attested, attached and admitted', {
  skip,
}, async (t) => {
  const reg = await startRegistry(t);
  const p = await project(t);
  const image = await buildImage(t, 'app v1\n');
  const repo = `oci://${reg.host}/team/app`;

  // The build: push the layout; skopeo writes the manifest digest to ./digest.
  const build = await p.run([
    'run',
    '--key',
    p.key,
    '--json',
    '--no-store',
    '--out',
    'prov.sigstore.json',
    '--image-digest-file',
    `digest=${repo}:1.0`,
    '--',
    'skopeo',
    'copy',
    '--quiet',
    '--dest-tls-verify=false',
    '--digestfile',
    'digest',
    `oci:${image.layout}:latest`,
    `docker://${reg.host}/team/app:1.0`,
  ]);
  assert.equal(build.code, 0, show(build));
  const d1 = await servedDigest(reg.host, 'team/app', '1.0');
  assert.match(d1, /^sha256:[0-9a-f]{64}$/);
  const out = jsonOf(build);
  assert.equal(out.ok, true);
  assert.equal(out.exitCode, 0);
  // The only subject is the image: the digest file is not a product.
  const subject = { name: `${reg.host}/team/app`, digest: { sha256: d1.slice(7) } };
  assert.deepEqual(out.subjects, [subject]);
  const statement = await statementOf(join(p.dir, 'prov.sigstore.json'));
  assert.deepEqual(statement.subject, [subject]);
  assert.equal(statement.predicateType, 'https://slsa.dev/provenance/v1');

  // Into the registry, then the admission question: allowed.
  const attach = await p.run([
    'attach',
    `${repo}@${d1}`,
    'prov.sigstore.json',
    '--insecure-registry',
  ]);
  assert.equal(attach.code, 0, show(attach));
  const verify = (ref: string) =>
    p.run(['verify', ref, '--policy', 'policy.yaml', '--insecure-registry', '--json']);
  const allowed = await verify(`${repo}@${d1}`);
  assert.equal(allowed.code, 0, show(allowed));
  assert.equal(jsonOf(allowed).subject, d1);

  // Another image in the same repository has no provenance: denied.
  const d2 = await pushImage(t, reg, 'team/app', '2.0', 'app v2\n');
  assert.notEqual(d2, d1);
  const denied = await verify(`${repo}@${d2}`);
  assert.equal(denied.code, 1, show(denied));
  assert.equal(jsonOf(denied).subject, d2);
  // …and this provenance cannot be attached to it.
  const misattach = await p.run([
    'attach',
    `${repo}@${d2}`,
    'prov.sigstore.json',
    '--insecure-registry',
  ]);
  assert.equal(misattach.code, 2, show(misattach));

  // Provenance from a key the policy does not trust, about d2: still denied.
  const other = await generateKey(p.dir, p.env, 'other');
  const foreign = await p.run([
    'run',
    '--key',
    other.key,
    '--no-store',
    '--out',
    'foreign.sigstore.json',
    '--image',
    `${repo}@${d2}`,
    '--',
    'true',
  ]);
  assert.equal(foreign.code, 0, show(foreign));
  const attachForeign = await p.run([
    'attach',
    `${repo}@${d2}`,
    'foreign.sigstore.json',
    '--insecure-registry',
  ]);
  assert.equal(attachForeign.code, 0, show(attachForeign));
  assert.equal((await verify(`${repo}@${d2}`)).code, 1);

  // A build that leaves junk or a tag in the digest file: exit 2, nothing signed.
  for (const [text, why] of [
    ['junk\n', /DIGEST_MALFORMED.*expected sha256/],
    [`${reg.host}/team/app:1.0\n`, /DIGEST_MALFORMED.*holds a tag/],
  ] as const) {
    const bad = await p.run([
      'run',
      '--key',
      p.key,
      '--out',
      'bad.sigstore.json',
      '--image-digest-file',
      `junk.digest=${repo}`,
      '--',
      'sh',
      '-c',
      `printf '${text}' > junk.digest`,
    ]);
    usageError(bad, why, 'junk.digest');
    await assert.rejects(access(join(p.dir, 'bad.sigstore.json')));
  }
  // The digest file of the earlier push, not written by this command: stale.
  const stale = await p.run(['run', '--key', p.key, '--image-digest-file', 'digest', '--', 'true']);
  usageError(stale, /IMAGE_DIGEST_FILE_STALE/, 'digest');
  // A tag for --image, a digest in the NAME: refused before the command runs.
  for (const flag of [
    ['--image', `${repo}:1.0`],
    ['--image-digest-file', `digest=${repo}@${d1}`],
  ]) {
    const early = await p.run(['run', '--key', p.key, ...flag, '--', 'touch', 'ran']);
    usageError(early, /USAGE/);
    await assert.rejects(access(join(p.dir, 'ran')), 'the command did not run');
  }
});

test('run --json: "ok" is true only when provenance was signed', async (t) => {
  const p = await project(t);
  const json = (...args: string[]) => p.run(['run', '--key', p.key, '--json', ...args]);

  // The command succeeds but writes nothing: exitCode 0, yet not ok, and vouch exits 1.
  const nothing = await json('--', 'true');
  assert.equal(nothing.code, 1, show(nothing));
  const n = jsonOf(nothing);
  assert.equal(n.ok, false);
  assert.equal(n.exitCode, 0);
  assert.equal(n.provenance, null);
  assert.match(n.reason, /no products/);

  const failed = await json('--', 'sh', '-c', 'exit 3');
  assert.equal(failed.code, 3, show(failed));
  assert.deepEqual([jsonOf(failed).ok, jsonOf(failed).exitCode], [false, 3]);

  // Signed provenance of a failed build: ok (provenance exists), exitCode the command's.
  const forced = await json('--attest-failure', '--', 'sh', '-c', 'echo x > log.txt; exit 4');
  assert.equal(forced.code, 4, show(forced));
  assert.deepEqual([jsonOf(forced).ok, jsonOf(forced).exitCode], [true, 4]);

  // An image alone is enough to attest, with no file written.
  const hex = 'c'.repeat(64);
  const image = await json('--image', `oci://registry.example.com/app@sha256:${hex}`, '--', 'true');
  assert.equal(image.code, 0, show(image));
  const i = jsonOf(image);
  assert.equal(i.ok, true);
  assert.deepEqual(i.subjects, [{ name: 'registry.example.com/app', digest: { sha256: hex } }]);
  const verify = await p.run(['verify', `sha256:${hex}`, '--key', p.pub]);
  assert.equal(verify.code, 0, show(verify));
  // An in-toto link has no place for an image: refused, not silently ignored.
  const link = await p.run([
    'run',
    '--format',
    'in-toto-link',
    '--step-name',
    'build',
    '--key',
    p.key,
    '--image',
    `oci://registry.example.com/app@sha256:${hex}`,
    '--',
    'true',
  ]);
  usageError(link, /not in-toto links/);
});
