// vouch sbom end to end: the CLI run as a user would, on real lockfiles (the
// npm vectors, made by the real npm), an OCI layout built with GNU tar, and
// bad input. Documents are checked against the official JSON Schemas.
import assert from 'node:assert/strict';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeLayout } from '../../src/sbom/image/testing.ts';
import { cyclonedxValidator, schemaErrors, spdxValidator } from '../../src/sbom/writers/testing.ts';
import {
  generateKey,
  isolatedEnv,
  jsonOf,
  sha256File,
  show,
  statementOf,
  tempDir,
  VECTORS,
  vouch,
} from './helpers.ts';

const NPM_V3 = join(VECTORS, 'sbom', 'npm-v3_sigstore-js');

/** A temp project holding the real sigstore-js package-lock.json (lockfileVersion 3). */
async function npmProject(t: Parameters<typeof tempDir>[0]) {
  const root = await tempDir(t);
  const dir = join(root, 'proj');
  await mkdir(join(root, '.home'));
  await cp(NPM_V3, dir, { recursive: true });
  return { root, dir, env: isolatedEnv(root, { SOURCE_DATE_EPOCH: '1700000000' }) };
}

test('vouch sbom <dir>: CycloneDX on stdout, valid, counts on stderr', async (t) => {
  const { dir, env } = await npmProject(t);
  const r = await vouch(['sbom', '.'], { cwd: dir, env });
  assert.equal(r.code, 0, show(r));
  const doc = jsonOf(r);
  assert.equal(schemaErrors(cyclonedxValidator(), doc), undefined);
  assert.equal(doc.metadata.timestamp, '2023-11-14T22:13:20Z');
  assert.match(
    r.stderr,
    /package-lock\.json: npm package-lock\.json v3: declared (\d+), emitted (\d+), merged (\d+), skipped 0/,
  );
  const [, declared, emitted, merged] = /declared (\d+), emitted (\d+), merged (\d+)/.exec(
    r.stderr,
  ) as unknown as [string, string, string, string];
  assert.equal(Number(declared), Number(emitted) + Number(merged));
  assert.equal(doc.components.length, Number(emitted));
  assert.ok(doc.components.length > 500);
  assert.match(r.stderr, /total: 1 file\(s\), declared \d+, emitted \d+ components/);
  assert.doesNotMatch(r.stderr, /warning/);
  assert.equal(doc.compositions[0].aggregate, 'complete');
  assert.ok(
    doc.components.some((c: { purl: string }) => c.purl.startsWith('pkg:npm/%40sigstore/')),
  );
});

test('vouch sbom: same input and SOURCE_DATE_EPOCH give the same bytes, in both formats', async (t) => {
  const { dir, env } = await npmProject(t);
  for (const format of ['cyclonedx-json', 'spdx-json']) {
    const a = await vouch(['sbom', '.', '--format', format], { cwd: dir, env });
    const b = await vouch(['sbom', '.', '--format', format, '-o', 'out.json'], { cwd: dir, env });
    assert.equal(a.code, 0, show(a));
    assert.equal(b.code, 0, show(b));
    assert.equal(b.stdout, '');
    assert.equal(await readFile(join(dir, 'out.json'), 'utf8'), a.stdout);
    const other = await vouch(['sbom', '.', '--format', format], {
      cwd: dir,
      env: { ...env, SOURCE_DATE_EPOCH: '1700000001' },
    });
    assert.notEqual(other.stdout, a.stdout);
  }
});

test('vouch sbom --format spdx-json: valid SPDX 2.3 with purls and DEPENDS_ON', async (t) => {
  const { dir, env } = await npmProject(t);
  const r = await vouch(['sbom', '.', '--format', 'spdx-json'], { cwd: dir, env });
  assert.equal(r.code, 0, show(r));
  const doc = jsonOf(r);
  assert.equal(schemaErrors(spdxValidator(), doc), undefined);
  assert.equal(doc.creationInfo.created, '2023-11-14T22:13:20Z');
  assert.ok(
    doc.relationships.some(
      (x: { relationshipType: string }) => x.relationshipType === 'DEPENDS_ON',
    ),
  );
  assert.ok(
    doc.packages.every((p: { SPDXID: string }) => /^SPDXRef-[A-Za-z0-9.-]+$/.test(p.SPDXID)),
  );
});

test('vouch sbom --json: summary with accounting; the document inline unless -o', async (t) => {
  const { dir, env } = await npmProject(t);
  const inline = await vouch(['sbom', '.', '--json'], { cwd: dir, env });
  assert.equal(inline.code, 0, show(inline));
  const s = jsonOf(inline);
  assert.equal(s.format, 'cyclonedx-json');
  assert.equal(s.predicateType, 'https://cyclonedx.org/bom');
  assert.equal(s.output, null);
  assert.equal(s.complete, true);
  assert.equal(s.totals.files, 1);
  assert.equal(s.totals.components, s.document.components.length);
  assert.equal(s.accounting[0].file, 'package-lock.json');
  assert.equal(s.attestation, null);
  const toFile = await vouch(['sbom', '.', '--json', '-o', 'sbom.cdx.json'], { cwd: dir, env });
  const s2 = jsonOf(toFile);
  assert.equal(s2.output, 'sbom.cdx.json');
  assert.equal(s2.document, undefined);
  const written = JSON.parse(await readFile(join(dir, 'sbom.cdx.json'), 'utf8'));
  assert.deepEqual(written, s.document);
});

test('vouch sbom <lockfile>: one file', async (t) => {
  const { dir, env } = await npmProject(t);
  const r = await vouch(['sbom', 'package-lock.json', '--json'], { cwd: dir, env });
  assert.equal(r.code, 0, show(r));
  const s = jsonOf(r);
  assert.deepEqual(s.subject, { kind: 'file', name: 'package-lock.json' });
  assert.ok(s.totals.components > 500);
});

test('vouch sbom: an unsupported lockfile version is exit 2 unless --allow-partial', async (t) => {
  const { dir, env } = await npmProject(t);
  await mkdir(join(dir, 'old'));
  await writeFile(
    join(dir, 'old', 'package-lock.json'),
    JSON.stringify({ name: 'old', lockfileVersion: 99, packages: {} }),
  );
  const strict = await vouch(['sbom', '.'], { cwd: dir, env });
  assert.equal(strict.code, 2, show(strict));
  assert.equal(strict.stdout, '');
  assert.match(strict.stderr, /old\/package-lock\.json/);
  const jsonErr = await vouch(['sbom', '.', '--json'], { cwd: dir, env });
  assert.equal(jsonErr.code, 2);
  assert.match(jsonOf(jsonErr).error.message, /old\/package-lock\.json/);

  const partial = await vouch(['sbom', '.', '--allow-partial', '--json'], { cwd: dir, env });
  assert.equal(partial.code, 0, show(partial));
  const s = jsonOf(partial);
  assert.equal(s.complete, false);
  assert.equal(s.totals.failed, 1);
  assert.equal(s.document.compositions[0].aggregate, 'incomplete');
  const failed = s.accounting.find((a: { file: string }) => a.file === 'old/package-lock.json');
  assert.match(failed.incompleteReason, /^failed: /);
  assert.match(partial.stderr, /warning: old\/package-lock\.json: npm: failed: /);
  assert.match(partial.stderr, /warning: 1 file\(s\) could not be read/);
  // The readable lockfile is still all there.
  assert.ok(s.totals.components > 500);
});

test('vouch sbom: malformed and truncated lockfiles are exit 2 naming the file', async (t) => {
  const root = await tempDir(t);
  await writeFile(
    join(root, 'package-lock.json'),
    '{"name": "x", "lockfileVersion": 3, "packages": {',
  );
  const r = await vouch(['sbom', '.'], { cwd: root });
  assert.equal(r.code, 2, show(r));
  assert.match(r.stderr, /package-lock\.json/);
});

test('vouch sbom: an empty directory is an empty, valid SBOM with a warning', async (t) => {
  const root = await tempDir(t);
  await mkdir(join(root, 'empty'));
  const r = await vouch(['sbom', 'empty'], { cwd: root });
  assert.equal(r.code, 0, show(r));
  assert.equal(schemaErrors(cyclonedxValidator(), jsonOf(r)), undefined);
  assert.match(r.stderr, /warning: no lockfile or package database found in empty/);
});

test('vouch sbom: usage errors are exit 2', async (t) => {
  const { dir, env } = await npmProject(t);
  for (const args of [
    ['sbom'],
    ['sbom', 'a', 'b'],
    ['sbom', '.', '--format', 'xml'],
    ['sbom', '.', '--bogus'],
    ['sbom', '.', '--attest', '--key', 'none.key'],
    ['sbom', '.', '--key', 'k.key'],
    ['sbom', '.', '--subject', 'package.json'],
    ['sbom', 'no-such-dir'],
    ['sbom', 'diff', 'only-one.json'],
  ]) {
    const r = await vouch(args, { cwd: dir, env });
    assert.equal(r.code, 2, `${args.join(' ')}: ${show(r)}`);
    assert.equal(r.stdout, '', args.join(' '));
  }
  const help = await vouch(['sbom', '--help'], { cwd: dir, env });
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--allow-partial/);
});

test('vouch sbom --attest: a signed Statement about --subject with the document as predicate', async (t) => {
  const { dir, env } = await npmProject(t);
  const { key } = await generateKey(dir, env);
  await writeFile(join(dir, 'app.tgz'), 'the artifact');
  for (const [format, type] of [
    ['cyclonedx-json', 'https://cyclonedx.org/bom'],
    ['spdx-json', 'https://spdx.dev/Document'],
  ] as const) {
    const r = await vouch(
      [
        'sbom',
        '.',
        '--format',
        format,
        '-o',
        'sbom.json',
        '--json',
        '--attest',
        '--key',
        key,
        '--subject',
        'app.tgz',
        '--out',
        'sbom.sigstore.json',
      ],
      { cwd: dir, env },
    );
    assert.equal(r.code, 0, show(r));
    const s = jsonOf(r);
    const digest = await sha256File(join(dir, 'app.tgz'));
    assert.deepEqual(s.attestation.subject, { name: 'app.tgz', digest: { sha256: digest } });
    assert.ok(s.attestation.bundle.stored.id);
    const st = await statementOf(join(dir, 'sbom.sigstore.json'));
    assert.equal(st.predicateType, type);
    assert.deepEqual(st.subject, [{ name: 'app.tgz', digest: { sha256: digest } }]);
    assert.deepEqual(st.predicate, JSON.parse(await readFile(join(dir, 'sbom.json'), 'utf8')));
  }
  const noSubject = await vouch(['sbom', '.', '--attest', '--key', key], { cwd: dir, env });
  assert.equal(noSubject.code, 2);
  assert.match(noSubject.stderr, /--subject/);
});

test('vouch sbom <OCI layout>: lockfiles inside the image, image digest as subject and attestation subject', async (t) => {
  const root = await tempDir(t);
  await mkdir(join(root, '.home'));
  const env = isolatedEnv(root, { SOURCE_DATE_EPOCH: '1700000000' });
  const layout = await writeLayout(join(root, 'layout'), 'app:1', [
    {
      compression: 'gzip',
      async build(dir) {
        await mkdir(join(dir, 'app', 'node_modules', 'dep'), { recursive: true });
        await cp(join(NPM_V3, 'package-lock.json'), join(dir, 'app', 'package-lock.json'));
        // A dependency's own lockfile: not what the image installed, never read.
        await writeFile(
          join(dir, 'app', 'node_modules', 'dep', 'package-lock.json'),
          JSON.stringify({ name: 'dep', lockfileVersion: 99 }),
        );
      },
    },
  ]);
  const { key } = await generateKey(root, env);
  const r = await vouch(
    ['sbom', 'layout', '--json', '-o', 'image.cdx.json', '--attest', '--key', key, '--no-store'],
    { cwd: root, env },
  );
  assert.equal(r.code, 0, show(r));
  const s = jsonOf(r);
  const hex = layout.manifestDigest.slice('sha256:'.length);
  assert.equal(s.subject.kind, 'image');
  assert.equal(s.subject.digest.sha256, hex);
  assert.equal(s.attestation.subject.digest.sha256, hex);
  assert.deepEqual(
    s.accounting.map((a: { file: string }) => a.file),
    ['app/package-lock.json'],
  );
  const doc = JSON.parse(await readFile(join(root, 'image.cdx.json'), 'utf8'));
  assert.equal(schemaErrors(cyclonedxValidator(), doc), undefined);
  assert.equal(doc.metadata.component.type, 'container');
  assert.deepEqual(doc.metadata.component.hashes, [{ alg: 'SHA-256', content: hex }]);
});

test('vouch sbom diff: identical across formats (0), different (1), bad input (2)', async (t) => {
  const { dir, env } = await npmProject(t);
  assert.equal((await vouch(['sbom', '.', '-o', 'a.cdx.json'], { cwd: dir, env })).code, 0);
  assert.equal(
    (await vouch(['sbom', '.', '--format', 'spdx-json', '-o', 'a.spdx.json'], { cwd: dir, env }))
      .code,
    0,
  );
  const same = await vouch(['sbom', 'diff', 'a.cdx.json', 'a.spdx.json'], { cwd: dir, env });
  assert.equal(same.code, 0, show(same));
  assert.match(same.stdout, /^0 added, 0 removed, 0 changed, \d+ unchanged\n$/);

  // Edit the lockfile: bump one package, drop one, add one.
  const lock = JSON.parse(await readFile(join(dir, 'package-lock.json'), 'utf8'));
  const names = Object.keys(lock.packages).filter(
    (k) => k.startsWith('node_modules/') && !k.slice(13).includes('node_modules/'),
  );
  const bumped = names[0] as string;
  const dropped = names[1] as string;
  lock.packages[bumped].version = '999.0.0';
  delete lock.packages[dropped];
  lock.packages['node_modules/brand-new-pkg'] = { version: '1.2.3', license: 'MIT' };
  // Same version, fetched from elsewhere: a change of origin is a change.
  const moved = names[2] as string;
  const movedName = moved.slice('node_modules/'.length);
  const movedVersion = lock.packages[moved].version;
  lock.packages[moved].resolved =
    `https://npm.mirror.example/${movedName}/-/${movedName.split('/').at(-1)}-${movedVersion}.tgz`;
  await mkdir(join(dir, 'b'));
  await writeFile(join(dir, 'b', 'package-lock.json'), JSON.stringify(lock));
  assert.equal((await vouch(['sbom', 'b', '-o', 'b.cdx.json'], { cwd: dir, env })).code, 0);
  const d = await vouch(['sbom', 'diff', 'a.cdx.json', 'b.cdx.json'], { cwd: dir, env });
  assert.equal(d.code, 1, show(d));
  assert.match(d.stdout, /^\+ pkg:npm\/brand-new-pkg@1\.2\.3 {2}\(MIT\)$/m);
  assert.match(d.stdout, / -> 999\.0\.0/);
  assert.match(d.stdout, /^- pkg:npm\//m);
  assert.match(
    d.stdout,
    new RegExp(
      `^~ \\S+${movedName.split('/').at(-1)}@\\S+ {2}sources \\S+ -> \\S*npm\\.mirror\\.example`,
      'm',
    ),
    d.stdout,
  );
  const j = await vouch(['sbom', 'diff', 'a.cdx.json', 'b.cdx.json', '--json'], { cwd: dir, env });
  assert.equal(j.code, 1);
  const jd = jsonOf(j);
  assert.equal(jd.identical, false);
  assert.deepEqual(
    jd.added.map((c: { purl: string }) => c.purl),
    ['pkg:npm/brand-new-pkg@1.2.3'],
  );
  assert.ok(jd.changed.some((c: { to: { version: string } }) => c.to.version === '999.0.0'));

  await writeFile(join(dir, 'not-sbom.json'), '{"hello": 1}');
  await writeFile(join(dir, 'broken.json'), '{"bomFormat":');
  for (const bad of ['not-sbom.json', 'broken.json', 'missing.json']) {
    const r = await vouch(['sbom', 'diff', 'a.cdx.json', bad], { cwd: dir, env });
    assert.equal(r.code, 2, `${bad}: ${show(r)}`);
    assert.match(r.stderr, new RegExp(bad.replace('.', '\\.')));
  }
});
