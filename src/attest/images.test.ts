import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { isVouchError } from '../core/errors.ts';
import { imageDigestFileFromSpec, imageSubjectFromReference } from './image-digest.ts';
import { validateProvenance } from './predicate.ts';
import { type RunOptions, runAndAttest } from './run.ts';
import { nodeScript, sha256, tempDir } from './testing.ts';

const D1 = sha256('image one');
const D2 = sha256('image two');

async function workdir(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const work = join(dir, 'work');
  await mkdir(work);
  await writeFile(join(work, 'src.txt'), 'source\n');
  return { dir, work };
}

/** A "build" that writes files: each [path, content] pair, in order. */
function writes(...files: Array<[string, string]>): string[] {
  return nodeScript(
    `const fs=require('fs');for (const [p,c] of ${JSON.stringify(files)}) fs.writeFileSync(p,c)`,
  );
}

function run(work: string, argv: string[], extra: Partial<RunOptions> = {}) {
  return runAndAttest({
    argv,
    workdir: work,
    env: { PATH: process.env.PATH },
    stdio: 'pipe',
    ...extra,
  });
}

test('an image given by digest is the only subject of a build that writes no file', async (t) => {
  const { work } = await workdir(t);
  const images = [await imageSubjectFromReference(`oci://127.0.0.1:5000/team/app@sha256:${D1}`)];
  const r = await run(work, ['true'], { attestOptions: { images } });
  assert.ok(r.statement, r.noProvenanceReason);
  assert.deepEqual(r.statement.subject, [
    { name: '127.0.0.1:5000/team/app', digest: { sha256: D1 } },
  ]);
  const pred = validateProvenance(r.statement.predicate, 'test');
  assert.deepEqual(pred.buildDefinition.externalParameters.images, [
    `127.0.0.1:5000/team/app@sha256:${D1}`,
  ]);
});

test('a digest file the command writes: an image subject beside file products, not a product itself', async (t) => {
  const { work } = await workdir(t);
  const iid = await imageDigestFileFromSpec('iid=oci://r.example/team/app:1.0');
  const imageDigestFiles = [iid, await imageDigestFileFromSpec('other.digest')];
  const r = await run(
    work,
    writes(['out.bin', 'binary'], ['iid', `sha256:${D1}\n`], ['other.digest', `sha256:${D2}`]),
    { attestOptions: { imageDigestFiles } },
  );
  assert.ok(r.statement, r.noProvenanceReason);
  // Statement subjects are sorted by name, whatever produced them.
  assert.deepEqual(r.statement.subject, [
    { name: 'other.digest', digest: { sha256: D2 } },
    { name: 'out.bin', digest: { sha256: sha256('binary') } },
    { name: 'r.example/team/app', digest: { sha256: D1 } },
  ]);
  const pred = validateProvenance(r.statement.predicate, 'test');
  assert.deepEqual(pred.buildDefinition.externalParameters.imageDigestFiles, [
    'r.example/team/app',
    'other.digest',
  ]);

  // With --products globs, the globs decide the files, and the image is added.
  const g = await run(work, writes(['out.bin', 'again'], ['iid', `sha256:${D2}`]), {
    attestOptions: { products: ['*.bin'], imageDigestFiles: [iid] },
  });
  assert.deepEqual(g.statement?.subject, [
    { name: 'out.bin', digest: { sha256: sha256('again') } },
    { name: 'r.example/team/app', digest: { sha256: D2 } },
  ]);
});

test('a digest file outside the working directory, named by its absolute path', async (t) => {
  const { dir, work } = await workdir(t);
  const abs = join(dir, 'runner-temp', 'digest');
  await mkdir(join(dir, 'runner-temp'));
  const r = await run(work, writes([abs, `sha256:${D1}\n`]), {
    attestOptions: { imageDigestFiles: [await imageDigestFileFromSpec(abs)] },
  });
  assert.deepEqual(r.statement?.subject, [{ name: 'digest', digest: { sha256: D1 } }]);
  // The command line holds the path (the user wrote it there); vouch adds none.
  const pred = validateProvenance(r.statement?.predicate, 'test');
  assert.deepEqual(pred.buildDefinition.externalParameters.imageDigestFiles, ['digest']);
});

test('a stale digest file is refused; the same digest rewritten by the command is accepted', async (t) => {
  const { work } = await workdir(t);
  await writeFile(join(work, 'iid'), `sha256:${D1}\n`);
  const imageDigestFiles = [await imageDigestFileFromSpec('iid=oci://r.example/app')];
  await assert.rejects(run(work, ['true'], { attestOptions: { imageDigestFiles } }), (e) => {
    assert.ok(isVouchError(e), String(e));
    assert.equal(e.code, 'IMAGE_DIGEST_FILE_STALE');
    assert.equal(e.file, 'iid');
    return true;
  });
  const r = await run(work, writes(['iid', `sha256:${D1}\n`]), {
    attestOptions: { imageDigestFiles },
  });
  assert.deepEqual(r.statement?.subject, [{ name: 'r.example/app', digest: { sha256: D1 } }]);
});

test('junk, a tag, or no digest file after a successful build: errors naming the file', async (t) => {
  const { work } = await workdir(t);
  const imageDigestFiles = [await imageDigestFileFromSpec('iid')];
  const rejects = (argv: string[], code: string, why: RegExp) =>
    assert.rejects(run(work, argv, { attestOptions: { imageDigestFiles } }), (e) => {
      assert.ok(isVouchError(e), String(e));
      assert.equal(e.code, code);
      assert.equal(e.file, 'iid');
      assert.match(e.message, why);
      return true;
    });
  await rejects(writes(['iid', 'junk\n']), 'DIGEST_MALFORMED', /expected sha256/);
  await rejects(writes(['iid', 'r.example/app:1.0\n']), 'DIGEST_MALFORMED', /holds a tag/);
  await rejects(['sh', '-c', 'rm -f iid'], 'FILE_NOT_FOUND', /did not write/);
});

test('a failed build: no image read without --attest-failure; a missing digest file is skipped with it', async (t) => {
  const { work } = await workdir(t);
  const imageDigestFiles = [await imageDigestFileFromSpec('iid')];
  // Junk that would be an error is never read: the build failed.
  const failed = await run(work, ['sh', '-c', 'echo junk > iid; exit 3'], {
    attestOptions: { imageDigestFiles },
  });
  assert.equal(failed.exitCode, 3);
  assert.equal(failed.statement, undefined);

  const attested = await run(work, ['sh', '-c', 'rm -f iid; echo log > build.log; exit 4'], {
    attestOptions: { imageDigestFiles },
    attestFailure: true,
  });
  assert.equal(attested.exitCode, 4);
  assert.deepEqual(attested.statement?.subject, [
    { name: 'build.log', digest: { sha256: sha256('log\n') } },
  ]);
});

test('a buildx metadata file: its containerimage.digest, named after its first image.name unless NAME is given', async (t) => {
  const { work } = await workdir(t);
  // Hand-written in the shape of `docker buildx build --push --metadata-file`.
  const meta = JSON.stringify({
    'buildx.build.ref': 'builder/builder0/abc',
    'containerimage.config.digest': `sha256:${D2}`,
    'containerimage.descriptor': {
      mediaType: 'application/vnd.oci.image.index.v1+json',
      digest: `sha256:${D1}`,
      size: 856,
    },
    'containerimage.digest': `sha256:${D1}`,
    'image.name': 'ghcr.io/acme/app:1.0,ghcr.io/acme/app:latest',
  });
  const unnamed = [await imageDigestFileFromSpec('meta.json')];
  const r = await run(work, writes(['meta.json', meta]), {
    attestOptions: { imageDigestFiles: unnamed },
  });
  assert.ok(r.statement, r.noProvenanceReason);
  // The image digest, never the config digest; and meta.json is no product.
  assert.deepEqual(r.statement.subject, [{ name: 'ghcr.io/acme/app', digest: { sha256: D1 } }]);

  const named = [await imageDigestFileFromSpec('meta.json=oci://r.example/team/app')];
  const n = await run(work, writes(['meta.json', meta]), {
    attestOptions: { imageDigestFiles: named },
  });
  assert.deepEqual(n.statement?.subject, [{ name: 'r.example/team/app', digest: { sha256: D1 } }]);

  const { 'containerimage.digest': _, ...configOnly } = JSON.parse(meta);
  await assert.rejects(
    run(work, writes(['meta.json', JSON.stringify(configOnly)]), {
      attestOptions: { imageDigestFiles: unnamed },
    }),
    (e) => {
      assert.ok(isVouchError(e), String(e));
      assert.equal(e.code, 'DIGEST_MALFORMED');
      assert.equal(e.file, 'meta.json');
      return true;
    },
  );
});
