import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  cp,
  link,
  mkdir,
  mkdtemp,
  readFile,
  realpath,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dpkgReader } from '../readers/dpkg.ts';
import { openImage } from './index.ts';
import { type BuiltLayout, debianBase, have, run, tempDir, writeLayout } from './testing.ts';

const hasSkopeo = have('skopeo') && have('zstd');
const SKIP = hasSkopeo ? false : 'skopeo and zstd are not installed (apt-get install skopeo zstd)';

/** Packages dpkg itself reports as having files on disk, counted by dpkg-query. */
function dpkgQueryCount(): number {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
  const out = execFileSync('dpkg-query', ['-W', '-f', '${db:Status-Status}\n'], {
    encoding: 'utf8',
  });
  return out
    .split('\n')
    .filter((s) =>
      ['installed', 'unpacked', 'half-configured', 'triggers-awaited', 'triggers-pending'].includes(
        s,
      ),
    ).length;
}

describe('container images', { skip: SKIP }, () => {
  let dir: string;
  let built: BuiltLayout;
  after(() => rm(dir, { recursive: true, force: true }));
  before(async () => {
    dir = await realpath(await mkdtemp(join(tmpdir(), 'vouch-image-')));
    built = await writeLayout(join(dir, 'hand'), 'test', [
      {
        compression: 'gzip',
        build: async (d) => {
          await debianBase(d);
          await writeFile(join(d, 'etc/removed.txt'), 'gone in layer 2\n');
          await mkdir(join(d, 'opt/old'), { recursive: true });
          await writeFile(join(d, 'opt/old/x'), 'hidden by an opaque whiteout\n');
          await writeFile(join(d, 'etc/a'), 'hard\n');
          await link(join(d, 'etc/a'), join(d, 'etc/b'));
        },
      },
      {
        compression: 'zstd',
        build: async (d) => {
          await mkdir(join(d, 'etc'), { recursive: true });
          await writeFile(join(d, 'etc/.wh.removed.txt'), '');
          await mkdir(join(d, 'opt/old'), { recursive: true });
          await writeFile(join(d, 'opt/old/.wh..wh..opq'), '');
          await writeFile(join(d, 'opt/old/y'), 'new\n');
        },
      },
    ]);
    // skopeo reads and rewrites the layout: a malformed one fails here.
    run('skopeo', ['copy', '-q', `oci:${built.dir}:test`, `oci:${join(dir, 'oci')}:test`]);
    run('skopeo', [
      'copy',
      '-q',
      `oci:${built.dir}:test`,
      `oci-archive:${join(dir, 'oci.tar')}:test`,
    ]);
    // docker images cannot carry zstd layers: recompress with gzip first.
    run('skopeo', [
      'copy',
      '-q',
      '--dest-compress',
      '--dest-compress-format',
      'gzip',
      `oci:${built.dir}:test`,
      `oci:${join(dir, 'gzip')}:test`,
    ]);
    run('skopeo', [
      'copy',
      '-q',
      `oci:${join(dir, 'gzip')}:test`,
      `docker-archive:${join(dir, 'docker.tar')}:test:latest`,
    ]);
  });

  for (const kind of ['oci', 'oci.tar', 'docker.tar'] as const) {
    test(`${kind}: merged tree, subject, distro and the dpkg package set`, async () => {
      const img = await openImage(join(dir, kind));
      const paths = img.files().map((f) => f.path);
      assert.ok(paths.includes('var/lib/dpkg/status'));
      assert.ok(!paths.includes('etc/removed.txt'), 'whited-out file is absent');
      assert.equal(await img.readFile('etc/removed.txt'), undefined);
      assert.ok(!paths.includes('opt/old/x'), 'opaque whiteout hides the lower directory');
      assert.equal((await img.readFile('opt/old/y'))?.toString(), 'new\n');
      assert.equal(
        (await img.readFile('etc/b'))?.toString(),
        'hard\n',
        'hard link reads its target',
      );
      // etc/os-release is a relative symlink to ../usr/lib/os-release
      assert.deepEqual(await img.readFile('etc/os-release'), await readFile('/usr/lib/os-release'));
      const osr = (await readFile('/usr/lib/os-release', 'utf8')).match(/^ID=(.*)$/m)?.[1];
      assert.equal(img.distro?.id, osr?.replace(/"/g, ''));
      assert.deepEqual(img.platform, { os: 'linux', architecture: 'amd64' });
      if (kind === 'docker.tar') {
        assert.equal(img.digestOf, 'config');
        assert.equal(img.digest, built.configDigest);
        assert.equal(img.subject.name, 'docker.io/library/test:latest');
      } else {
        assert.equal(img.digestOf, 'manifest');
        const inspected = JSON.parse(
          run('skopeo', [
            'inspect',
            kind === 'oci' ? `oci:${join(dir, kind)}:test` : `oci-archive:${join(dir, kind)}:test`,
          ]),
        ) as { Digest: string };
        assert.equal(img.digest, inspected.Digest);
        assert.equal(img.subject.name, 'test');
      }
      assert.equal(img.subject.digest.sha256, img.digest.slice('sha256:'.length));

      const status = img.files().find((f) => f.path === 'var/lib/dpkg/status');
      assert.ok(status);
      assert.deepEqual(status.context?.distro, img.distro);
      const result = await dpkgReader.read(status);
      assert.equal(result.components.length, dpkgQueryCount());
      assert.equal(
        result.accounting.declared,
        result.accounting.emitted + result.accounting.merged + result.accounting.skipped.length,
      );
      assert.match(result.components[0]?.purl ?? '', /[?&]distro=/);
    });
  }

  test('a tampered layer blob is rejected', async (t) => {
    const copy = join(await tempDir(t), 'oci');
    await cp(built.dir, copy, { recursive: true });
    const blob = join(
      copy,
      'blobs/sha256',
      (built.layerBlobs[1] as string).split('/').pop() as string,
    );
    const bytes = await readFile(blob);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
    await writeFile(blob, bytes);
    await assert.rejects(openImage(copy), (e: Error & { code?: string }) => {
      assert.ok(['IMAGE_DIGEST_MISMATCH', 'ARCHIVE_MALFORMED'].includes(e.code ?? ''), e.message);
      return true;
    });
  });

  test('a tampered manifest is rejected', async (t) => {
    const copy = join(await tempDir(t), 'oci');
    await cp(built.dir, copy, { recursive: true });
    const m = join(copy, 'blobs/sha256', built.manifestDigest.slice(7));
    await writeFile(
      m,
      (await readFile(m, 'utf8')).replace('"schemaVersion":2', '"schemaVersion": 2'),
    );
    await assert.rejects(openImage(copy), { code: 'IMAGE_DIGEST_MISMATCH' });
  });

  test('a layer with ../../etc/passwd is rejected', async (t) => {
    const d = await tempDir(t);
    const evil = await writeLayout(join(d, 'evil'), 'evil', [
      {
        compression: 'gzip',
        // GNU tar keeps `../` in member names only with -P: a real hostile layer.
        members: ['-C', 'a/b', '-P', '../../etc/passwd'],
        build: async (tree) => {
          await mkdir(join(tree, 'a/b'), { recursive: true });
          await mkdir(join(tree, 'etc'), { recursive: true });
          await writeFile(join(tree, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
        },
      },
    ]);
    await assert.rejects(openImage(evil.dir), {
      code: 'ARCHIVE_UNSAFE',
      message: /escapes the archive root: "\.\.\/\.\.\/etc\/passwd"/,
    });
  });

  test('a symlink loop ends in an error, not a hang', async (t) => {
    const d = await tempDir(t);
    const loop = await writeLayout(join(d, 'loop'), 'loop', [
      {
        compression: 'none',
        build: async (tree) => {
          await mkdir(join(tree, 'etc'), { recursive: true });
          await symlink('b', join(tree, 'etc/a'));
          await symlink('a', join(tree, 'etc/b'));
          await symlink('a', join(tree, 'etc/os-release'));
        },
      },
    ]);
    await assert.rejects(openImage(loop.dir), {
      code: 'ARCHIVE_UNSAFE',
      message: /symbolic links/,
    });
  });

  test('absolute and .. symlinks stay inside the image root', async (t) => {
    const d = await tempDir(t);
    const img = await writeLayout(join(d, 'links'), 'links', [
      {
        compression: 'gzip',
        build: async (tree) => {
          await mkdir(join(tree, 'etc'), { recursive: true });
          await mkdir(join(tree, 'usr/lib'), { recursive: true });
          await writeFile(join(tree, 'usr/lib/os-release'), 'ID=alpine\nVERSION_ID=3.20.3\n');
          await writeFile(join(tree, 'etc/passwd'), 'image passwd\n');
          await symlink('../../../../../usr/lib/os-release', join(tree, 'etc/os-release'));
          await symlink('/etc/passwd', join(tree, 'abs'));
        },
      },
    ]);
    const opened = await openImage(img.dir);
    assert.deepEqual(opened.distro, { id: 'alpine', versionId: '3.20.3' });
    assert.equal((await opened.readFile('abs'))?.toString(), 'image passwd\n');
  });

  test('decompression bombs and size limits are bounded', async (t) => {
    const d = await tempDir(t);
    const bomb = await writeLayout(join(d, 'bomb'), 'bomb', [
      {
        compression: 'gzip',
        build: async (tree) => {
          await writeFile(join(tree, 'zeros'), Buffer.alloc(8 * 1024 * 1024));
        },
      },
    ]);
    await assert.rejects(
      openImage(bomb.dir, { limits: { ratioFloorBytes: 1024 * 1024, maxRatio: 50 } }),
      { code: 'ARCHIVE_TOO_LARGE', message: /decompresses more than 50:1/ },
    );
    await assert.rejects(openImage(bomb.dir, { limits: { maxTotalBytes: 1024 * 1024 } }), {
      code: 'ARCHIVE_TOO_LARGE',
      message: /uncompress to more than/,
    });
    await assert.rejects(openImage(bomb.dir, { limits: { maxEntries: 0 } }), {
      code: 'ARCHIVE_TOO_LARGE',
    });
    // Within the limits the same image opens.
    assert.equal((await openImage(bomb.dir)).files().length, 1);
  });

  test('platform selection and bad input', async (t) => {
    await assert.rejects(openImage(join(dir, 'oci'), { platform: 'linux/arm64' }), {
      code: 'IMAGE_PLATFORM_NOT_FOUND',
    });
    await assert.rejects(openImage(join(dir, 'oci'), { ref: 'nope' }), {
      code: 'IMAGE_PLATFORM_NOT_FOUND',
    });
    assert.equal(
      (await openImage(join(dir, 'oci'), { platform: 'linux/amd64' })).digestOf,
      'manifest',
    );
    const empty = await tempDir(t);
    await assert.rejects(openImage(empty), { code: 'IMAGE_MALFORMED' });
    await assert.rejects(openImage(join(empty, 'missing')), { code: 'FILE_NOT_FOUND' });
    const notTar = join(empty, 'x.tar');
    await writeFile(notTar, 'this is not a tar archive'.repeat(40));
    await assert.rejects(openImage(notTar), { code: 'ARCHIVE_MALFORMED' });
  });
});
