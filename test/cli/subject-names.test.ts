// Every verb names a file subject the way `vouch run` names its products: the path relative
// to the working directory when the file is inside it, its base name when it is not.
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileSubjectName, subjectNameOf } from '../../src/core/subject-name.ts';
import {
  generateKey,
  isolatedEnv,
  jsonOf,
  sha256,
  show,
  statementOf,
  tempDir,
  VECTORS,
  vouch,
} from './helpers.ts';

const RECORDS = `${VECTORS}/osv-oracle/records-PyPI.jsonl`;

/** Requires provenance whose subject for the artifact is named dist/app.tgz (CEL `subject.name`). */
const POLICY = `apiVersion: vouch.dev/policy/v1
kind: Policy
metadata: { name: names }
trust:
  signers:
    - name: ci
      key: k.pub
require:
  - name: provenance
    predicateType: slsaprovenance
    signers: [ci]
    where: subject.name == "dist/app.tgz"
`;

/**
 * A scratch directory `work` (not a git repository) with a key pair k.key/k.pub and an empty
 * predicate p.json; with `built`, also dist/app.tgz holding "x\n".
 */
async function scratch(t: Parameters<typeof tempDir>[0], built = true) {
  const root = await tempDir(t);
  const dir = join(root, 'work');
  await mkdir(join(root, '.home'), { recursive: true });
  await mkdir(dir);
  const env = isolatedEnv(root, { SOURCE_DATE_EPOCH: '1764000000' });
  if (built) {
    await mkdir(join(dir, 'dist'));
    await writeFile(join(dir, 'dist', 'app.tgz'), 'x\n');
  }
  await generateKey(dir, env);
  await writeFile(join(dir, 'p.json'), '{}\n');
  const run = (...args: string[]) => vouch(args, { cwd: dir, env });
  return { root, dir, env, run };
}

test('run, attest, sbom, vulns and the VSA of verify name dist/app.tgz alike', async (t) => {
  // Outside git, a dist/app.tgz that existed with the same bytes would be a material, not a
  // product: the build creates it, as a clean build does.
  const { dir, run } = await scratch(t, false);
  const digest = sha256('x\n');
  const db = await run('db', 'import', RECORDS, '--db', 'db');
  assert.equal(db.code, 0, show(db));

  const built = await run(
    'run',
    '--key',
    'k.key',
    '--json',
    '--',
    'sh',
    '-c',
    'mkdir -p dist; echo x > dist/app.tgz',
  );
  assert.equal(built.code, 0, show(built));
  assert.deepEqual(
    jsonOf(built).subjects.map((s: { name: string }) => s.name),
    ['dist/app.tgz'],
  );

  const attested = await run(
    'attest',
    'dist/app.tgz',
    '--predicate-type',
    'custom',
    '--predicate',
    'p.json',
    '--key',
    'k.key',
    '--json',
  );
  assert.equal(attested.code, 0, show(attested));
  assert.deepEqual(jsonOf(attested).subject, { name: 'dist/app.tgz', digest: { sha256: digest } });

  // A spelling with ./ and .. is normalized to the same name.
  const spelled = await run(
    'attest',
    './dist/../dist/app.tgz',
    '--predicate-type',
    'test-result',
    '--predicate',
    'p.json',
    '--key',
    'k.key',
    '--json',
  );
  assert.equal(spelled.code, 0, show(spelled));
  assert.equal(jsonOf(spelled).subject.name, 'dist/app.tgz');

  const sbom = await run(
    'sbom',
    '.',
    '--attest',
    '--key',
    'k.key',
    '--subject',
    'dist/app.tgz',
    '-o',
    'sbom.cdx.json',
    '--json',
  );
  assert.equal(sbom.code, 0, show(sbom));
  assert.equal(jsonOf(sbom).attestation.subject.name, 'dist/app.tgz');

  const vulns = await run(
    'vulns',
    'sbom.cdx.json',
    '--db',
    'db',
    '--attest-key',
    'k.key',
    '--subject',
    'dist/app.tgz',
    '--out',
    'vulns.sigstore.json',
  );
  assert.equal(vulns.code, 0, show(vulns));
  assert.match(vulns.stderr, /about dist\/app\.tgz sha256:/);
  assert.equal(
    (await statementOf(join(dir, 'vulns.sigstore.json'))).subject[0].name,
    'dist/app.tgz',
  );

  await writeFile(join(dir, 'policy.yaml'), POLICY);
  const verified = await run(
    'verify',
    'dist/app.tgz',
    '--policy',
    'policy.yaml',
    '--sign-decision-key',
    'k.key',
    '--decision-out',
    'vsa.json',
  );
  // The policy's CEL `where` tests subject.name: it passes only because run named it dist/app.tgz.
  assert.equal(verified.code, 0, show(verified));
  const vsa = await statementOf(join(dir, 'vsa.json'));
  assert.equal(vsa.predicate.resourceUri, 'file:dist/app.tgz');
  assert.equal(vsa.subject[0].digest.sha256, digest);

  // Every bundle the store holds about the file: one name per verb, all the same file.
  const ls = await run('evidence', 'ls', 'dist/app.tgz', '--json');
  assert.equal(ls.code, 0, show(ls));
  const entries: { predicateType: string; subjects: { name: string }[] }[] = jsonOf(ls);
  assert.equal(entries.length, 6, show(ls)); // run, attest ×2, sbom, vulns, VSA
  const names = new Set(entries.flatMap((e) => e.subjects.map((s) => s.name)));
  assert.deepEqual([...names].sort(), ['dist/app.tgz', 'file:dist/app.tgz']);
});

test('a file outside the working directory is named by its base name; --name wins', async (t) => {
  const { root, dir, run } = await scratch(t);
  await writeFile(join(root, 'outside.bin'), 'outside\n');
  const outsideArgs = ['--predicate-type', 'custom', '--predicate', 'p.json', '--key', 'k.key'];

  const relative = await run('attest', '../outside.bin', ...outsideArgs, '--json');
  assert.equal(relative.code, 0, show(relative));
  assert.equal(jsonOf(relative).subject.name, 'outside.bin');

  // An absolute path never reaches the evidence, inside or outside.
  const absolute = await run('attest', join(root, 'outside.bin'), ...outsideArgs, '--json');
  assert.equal(jsonOf(absolute).subject.name, 'outside.bin', show(absolute));
  const absInside = await run('attest', join(dir, 'dist', 'app.tgz'), ...outsideArgs, '--json');
  assert.equal(jsonOf(absInside).subject.name, 'dist/app.tgz', show(absInside));

  const sbom = await run(
    'sbom',
    '.',
    '--attest',
    '--key',
    'k.key',
    '--subject',
    '../outside.bin',
    '-o',
    'sbom.json',
    '--json',
  );
  assert.equal(jsonOf(sbom).attestation.subject.name, 'outside.bin', show(sbom));

  const named = await run('attest', 'dist/app.tgz', ...outsideArgs, '--name', 'app', '--json');
  assert.equal(named.code, 0, show(named));
  assert.deepEqual(jsonOf(named).subject, { name: 'app', digest: { sha256: sha256('x\n') } });

  // scan --attest --subject FILE names the artifact the same way.
  const scan = await run(
    'scan',
    'p.json',
    '--attest',
    '--key',
    'k.key',
    '--subject',
    'dist/app.tgz',
    '--json',
  );
  assert.equal(scan.code, 0, show(scan));
  assert.equal(jsonOf(scan).attestation.subject.name, 'dist/app.tgz');
});

test('subjectNameOf and fileSubjectName: relative inside, base name outside, links to the directory', async (t) => {
  const root = await tempDir(t);
  const cwd = join(root, 'work');
  await mkdir(join(cwd, 'dist'), { recursive: true });
  await symlink(cwd, join(root, 'alias'));
  assert.equal(subjectNameOf('dist/app.tgz', cwd), 'dist/app.tgz');
  assert.equal(subjectNameOf('./dist//x/../app.tgz', cwd), 'dist/app.tgz');
  assert.equal(subjectNameOf(join(cwd, 'dist', 'app.tgz'), cwd), 'dist/app.tgz');
  assert.equal(subjectNameOf('../elsewhere/app.tgz', cwd), 'app.tgz');
  assert.equal(subjectNameOf('/etc/passwd', cwd), 'passwd');
  // A name that merely starts with two dots is inside.
  assert.equal(subjectNameOf('..app.tgz', cwd), '..app.tgz');
  // The directory itself has no relative name.
  assert.equal(subjectNameOf('.', cwd), 'work');
  // Spelled through a symbolic link to the working directory: lexically outside, really inside.
  const viaLink = join(root, 'alias', 'dist', 'app.tgz');
  assert.equal(subjectNameOf(viaLink, cwd), 'app.tgz');
  assert.equal(await fileSubjectName(viaLink, cwd), 'dist/app.tgz');
  assert.equal(await fileSubjectName(join(root, 'missing', 'app.tgz'), cwd), 'app.tgz');
});
