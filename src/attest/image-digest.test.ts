import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { isVouchError } from '../core/errors.ts';
import {
  imageDigestFileFromSpec,
  imageSubjectFromReference,
  MAX_DIGEST_FILE_BYTES,
  parseImageDigest,
  readImageDigestFile,
} from './image-digest.ts';
import { tempDir } from './testing.ts';

const HEX = `${'a'.repeat(62)}0f`;

function fails(fn: () => unknown, code: string, message: RegExp, file?: string): void {
  assert.throws(fn, (e) => {
    assert.ok(isVouchError(e), String(e));
    assert.equal(e.code, code);
    assert.match(e.message, message);
    if (file !== undefined) assert.equal(e.file, file);
    return true;
  });
}

async function rejects(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (e) => {
    assert.ok(isVouchError(e), String(e));
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  });
}

test('digest file text: sha256:HEX with ASCII white space around it, nothing else', () => {
  for (const ok of [`sha256:${HEX}`, `sha256:${HEX}\n`, `  \t\r\nsha256:${HEX}\r\n\n `]) {
    assert.equal(parseImageDigest(ok, 'iid'), HEX);
  }
  const bad: Array<[string, RegExp]> = [
    ['', /empty/],
    [' \n', /empty/],
    ['junk\n', /expected sha256:<64 lower-case hex>.*"junk"/],
    [`sha256:${HEX.toUpperCase()}\n`, /lower-case/],
    [`sha256:${HEX.slice(1)}\n`, /expected sha256/],
    [`sha256:${HEX}0\n`, /expected sha256/],
    [`sha512:${'a'.repeat(128)}\n`, /expected sha256/],
    [`${HEX}\n`, /expected sha256/],
    [`sha256:${HEX}\nsha256:${HEX}\n`, /expected sha256/],
    [`sha256:${HEX} trailing\n`, /expected sha256/],
    [`\uFEFFsha256:${HEX}\n`, /expected sha256/], // a BOM is not white space here
    [`sha256:${HEX}\u00a0`, /expected sha256/], // nor a no-break space
    ['registry.example.com/app:1.0\n', /holds a tag "registry\.example\.com\/app:1\.0"/],
    ['127.0.0.1:5000/team/app:latest', /holds a tag/],
    [`registry.example.com/app@sha256:${HEX}\n`, /image reference .* not a bare digest/],
  ];
  for (const [text, why] of bad) {
    fails(() => parseImageDigest(text, 'out/iid'), 'DIGEST_MALFORMED', why, 'out/iid');
  }
});

test('--image: a digest reference becomes HOST/REPO; tags and junk are refused', async () => {
  assert.deepEqual(
    await imageSubjectFromReference(`oci://Registry.Example.com:5000/team/app@sha256:${HEX}`),
    {
      name: 'registry.example.com:5000/team/app',
      digest: { sha256: HEX },
    },
  );
  // Tag and digest: the tag is dropped from the name (the digest is what is named).
  assert.deepEqual(await imageSubjectFromReference(`oci://r.example/app:1.0@sha256:${HEX}`), {
    name: 'r.example/app',
    digest: { sha256: HEX },
  });
  await rejects(imageSubjectFromReference('oci://r.example/app:1.0'), 'USAGE', /names a tag/);
  await rejects(imageSubjectFromReference('oci://r.example/app'), 'USAGE', /names no digest/);
  await rejects(
    imageSubjectFromReference(`r.example/app@sha256:${HEX}`),
    'OCI_REFERENCE_MALFORMED',
    /missing oci:\/\//,
  );
  await rejects(
    imageSubjectFromReference(`oci://r.example/App@sha256:${HEX}`),
    'OCI_REFERENCE_MALFORMED',
    /repository component/,
  );
  await rejects(
    imageSubjectFromReference(`oci://r.example/app@sha256:${HEX.toUpperCase()}`),
    'OCI_REFERENCE_MALFORMED',
    /invalid digest/,
  );
});

test('--image-digest-file FILE[=NAME]: names', async () => {
  assert.deepEqual(await imageDigestFileFromSpec('iid'), { path: 'iid', name: 'iid' });
  assert.deepEqual(await imageDigestFileFromSpec('./out//iid.txt'), {
    path: './out//iid.txt',
    name: 'out/iid.txt',
  });
  // Absolute: the subject is the base name, the machine's layout stays private.
  assert.deepEqual(await imageDigestFileFromSpec('/runner/tmp/x/digest'), {
    path: '/runner/tmp/x/digest',
    name: 'digest',
  });
  assert.deepEqual(await imageDigestFileFromSpec('iid=oci://127.0.0.1:5000/team/app'), {
    path: 'iid',
    name: '127.0.0.1:5000/team/app',
  });
  assert.deepEqual(await imageDigestFileFromSpec('iid=oci://r.example/team/app:1.0'), {
    path: 'iid',
    name: 'r.example/team/app',
  });
  assert.deepEqual(await imageDigestFileFromSpec('iid=my app'), { path: 'iid', name: 'my app' });
  assert.deepEqual(await imageDigestFileFromSpec('iid=a=b'), { path: 'iid', name: 'a=b' });
  await rejects(imageDigestFileFromSpec(''), 'USAGE', /missing the file/);
  await rejects(imageDigestFileFromSpec('=oci://r.example/app'), 'USAGE', /missing the file/);
  await rejects(imageDigestFileFromSpec('iid='), 'USAGE', /name after =/);
  await rejects(imageDigestFileFromSpec('iid=a\nb'), 'USAGE', /name after =/);
  await rejects(imageDigestFileFromSpec(`iid=${'x'.repeat(1025)}`), 'USAGE', /name after =/);
  await rejects(
    imageDigestFileFromSpec(`iid=oci://r.example/app@sha256:${HEX}`),
    'USAGE',
    /must not carry a digest/,
  );
  await rejects(
    imageDigestFileFromSpec('iid=oci://r.example/UP'),
    'OCI_REFERENCE_MALFORMED',
    /repository component/,
  );
});

test('reading a digest file: regular files only, bounded, never blocks on a FIFO', async (t) => {
  const dir = await tempDir(t);
  const at = (name: string) => join(dir, name);
  await writeFile(at('iid'), `sha256:${HEX}\n`);
  const read = await readImageDigestFile(at('iid'), 'iid');
  assert.equal(read.sha256, HEX);
  assert.match(read.stamp, /^\d+:\d+:72:\d+:\d+$/);

  await symlink('iid', at('link'));
  assert.equal((await readImageDigestFile(at('link'), 'link')).sha256, HEX);

  const rejects = async (name: string, code: string, why: RegExp) =>
    assert.rejects(readImageDigestFile(at(name), name), (e) => {
      assert.ok(isVouchError(e), String(e));
      assert.equal(e.code, code);
      assert.equal(e.file, name);
      assert.match(e.message, why);
      return true;
    });
  await rejects('missing', 'FILE_NOT_FOUND', /did not write/);
  await mkdir(at('dir'));
  await rejects('dir', 'FILE_READ', /not a regular file/);
  execFileSync('mkfifo', [at('fifo')]);
  await rejects('fifo', 'FILE_READ', /not a regular file/);
  await writeFile(at('huge'), `sha256:${HEX}\n${' '.repeat(MAX_DIGEST_FILE_BYTES)}`);
  await rejects('huge', 'DIGEST_MALFORMED', /more than 1024/);
  await writeFile(at('binary'), Buffer.from([0xff, 0xfe, 0x00, 0x73]));
  await rejects('binary', 'DIGEST_MALFORMED', /expected sha256/);
  await rejects('../escape/none', 'FILE_NOT_FOUND', /did not write/);
});
