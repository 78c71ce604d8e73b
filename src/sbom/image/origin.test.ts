// Reader errors inside an image name the layer of the broken file: the
// scanner adds `in layer N (diff_id)` for every reader, once, in both the
// fail-closed path and the --allow-partial one; directory scans do not.
import assert from 'node:assert/strict';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { vouch } from '../../../test/cli/helpers.ts';
import { isVouchError, type VouchError } from '../../core/errors.ts';
import { totalsOf } from '../merge.ts';
import { dpkgReader } from '../readers/dpkg.ts';
import { npmReader } from '../readers/npm.ts';
import { scanDirectory, scanSources } from '../scan.ts';
import { openImage } from './index.ts';
import { have, run, tempDir, writeLayout } from './testing.ts';

const STATUS = 'Package: base-files\nStatus: install ok installed\nthis line has no field name\n';
const LOCK = '{"name": "app", "lockfileVersion": 3, "packages": {"": {';

async function brokenImage(dir: string) {
  const trees = [join(dir, 'tree0'), join(dir, 'tree1')];
  const layout = await writeLayout(join(dir, 'layout'), 'broken', [
    {
      compression: 'gzip',
      build: async (d) => {
        await mkdir(join(d, 'var/lib/dpkg'), { recursive: true });
        await writeFile(join(d, 'var/lib/dpkg/status'), STATUS);
        await cp(d, trees[0] as string, { recursive: true });
      },
    },
    {
      compression: 'none',
      build: async (d) => {
        await mkdir(join(d, 'app'), { recursive: true });
        await writeFile(join(d, 'app/package-lock.json'), LOCK);
        await cp(d, trees[1] as string, { recursive: true });
      },
    },
  ]);
  return { layout, trees };
}

async function caught(p: Promise<unknown>): Promise<VouchError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  assert.ok(isVouchError(e), `expected a VouchError, got ${e}`);
  return e;
}

test('images: every reader error names its layer; directory scans keep the bare path', async (t) => {
  const dir = await tempDir(t);
  const { layout, trees } = await brokenImage(dir);
  const image = await openImage(layout.dir);
  const [layer0, layer1] = image.layers.map((l) => l.diffId);
  assert.match(layer0 ?? '', /^sha256:[0-9a-f]{64}$/);
  assert.match(layer1 ?? '', /^sha256:[0-9a-f]{64}$/);
  assert.notEqual(layer0, layer1);
  const lockWhere = `app/package-lock.json in layer 1 (${layer1})`;
  const statusWhere = `var/lib/dpkg/status in layer 0 (${layer0})`;

  // The same files as directories: the reader's own messages, no layer.
  const dirLock = await caught(scanDirectory(trees[1] as string));
  assert.equal(dirLock.file, 'app/package-lock.json');
  assert.ok(dirLock.message.startsWith('app/package-lock.json: '), dirLock.message);
  assert.ok(!dirLock.message.includes('layer'), dirLock.message);
  const dirStatus = await caught(scanDirectory(trees[0] as string));
  assert.equal(dirStatus.file, 'var/lib/dpkg/status');
  assert.equal(dirStatus.field, 'line 3');
  assert.ok(!dirStatus.message.includes('layer'), dirStatus.message);

  // Fail closed: the first error in path order, the npm one, with its layer
  // added once and otherwise the very message a directory scan gives.
  const lockErr = await caught(scanSources(image.files(), image.subject));
  assert.equal(lockErr.code, dirLock.code);
  assert.equal(lockErr.file, lockWhere);
  assert.equal(lockErr.message, dirLock.message.replace('app/package-lock.json', lockWhere));
  const statusErr = await caught(
    scanSources(image.files(), image.subject, { readers: [dpkgReader] }),
  );
  assert.equal(statusErr.code, 'LOCKFILE_MALFORMED');
  assert.equal(statusErr.file, statusWhere);
  assert.equal(statusErr.field, 'line 3');
  assert.equal(statusErr.message, dirStatus.message.replace('var/lib/dpkg/status', statusWhere));

  // --allow-partial: both counted as failed, each reason naming its own layer.
  const partial = await scanSources(image.files(), image.subject, {
    allowPartial: true,
    readers: [dpkgReader, npmReader],
  });
  assert.equal(totalsOf(partial).failed, 2);
  const reasons = Object.fromEntries(partial.accounting.map((a) => [a.file, a.incompleteReason]));
  assert.deepEqual(reasons, {
    'app/package-lock.json': `failed: ${lockErr.code}: ${lockErr.message}`,
    'var/lib/dpkg/status': `failed: LOCKFILE_MALFORMED: ${statusErr.message}`,
  });

  // The CLI, as a user runs it: exit 2 naming the layer; --allow-partial warns for both.
  const cwd = join(dir, 'cwd');
  await mkdir(cwd);
  const strict = await vouch(['sbom', layout.dir], { cwd });
  assert.equal(strict.code, 2, strict.stderr);
  assert.equal(strict.stdout, '');
  assert.ok(strict.stderr.includes(lockErr.message), strict.stderr);
  const loose = await vouch(['sbom', layout.dir, '--allow-partial', '--json'], { cwd });
  assert.equal(loose.code, 0, loose.stderr);
  assert.equal(JSON.parse(loose.stdout).totals.failed, 2);
  assert.ok(loose.stderr.includes(lockWhere), loose.stderr);
  assert.ok(loose.stderr.includes(statusWhere), loose.stderr);
});

test('images: an error about another file than the one read keeps that file and names the layer read', async (t) => {
  const dir = await tempDir(t);
  const { layout } = await brokenImage(dir);
  // Over the per-file limit: the image (not the lockfile) is what refuses the read.
  const image = await openImage(layout.dir, { limits: { maxFileBytes: 16 } });
  const layer1 = image.layers[1]?.diffId as string;
  const e = await caught(scanSources(image.files(), image.subject, { readers: [npmReader] }));
  assert.equal(e.code, 'ARCHIVE_TOO_LARGE');
  assert.notEqual(e.file, 'app/package-lock.json');
  assert.ok(e.message.startsWith(`${e.file}: app/package-lock.json is ${LOCK.length} bytes`));
  assert.ok(
    e.message.endsWith(`(reading app/package-lock.json in layer 1 (${layer1}))`),
    e.message,
  );
});

test('docker archive: the layer named is the diff_id skopeo kept', {
  skip: have('skopeo') ? false : 'skopeo is not installed (apt-get install skopeo)',
}, async (t) => {
  const dir = await tempDir(t);
  const { layout } = await brokenImage(dir);
  const archive = join(dir, 'docker.tar');
  run('skopeo', ['copy', '-q', `oci:${layout.dir}:broken`, `docker-archive:${archive}:b:latest`]);
  const image = await openImage(archive);
  assert.equal(image.digestOf, 'config');
  const layer0 = image.layers[0]?.diffId as string;
  const partial = await scanSources(image.files(), image.subject, { allowPartial: true });
  const status = partial.accounting.find((a) => a.file === 'var/lib/dpkg/status');
  assert.ok(
    status?.incompleteReason?.includes(`var/lib/dpkg/status in layer 0 (${layer0}): line 3:`),
    status?.incompleteReason,
  );
  // The diff_id is the layer's uncompressed tar: the same as in the OCI layout.
  const oci = await openImage(layout.dir);
  assert.equal(layer0, oci.layers[0]?.diffId);
});
