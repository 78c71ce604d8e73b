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
  MAX_METADATA_FILE_BYTES,
  parseBuildxMetadata,
  parseImageDigest,
  parseImageDigestContent,
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
    named: true,
  });
  assert.deepEqual(await imageDigestFileFromSpec('iid=oci://r.example/team/app:1.0'), {
    path: 'iid',
    name: 'r.example/team/app',
    named: true,
  });
  assert.deepEqual(await imageDigestFileFromSpec('iid=my app'), {
    path: 'iid',
    name: 'my app',
    named: true,
  });
  assert.deepEqual(await imageDigestFileFromSpec('iid=a=b'), {
    path: 'iid',
    name: 'a=b',
    named: true,
  });
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

// Hand-written for these tests in the shape `docker buildx build --push
// --metadata-file meta.json -t …` writes (buildx 0.1x, docker-container
// driver, default min provenance): keys sorted, provenance inlined. Not
// copied from a real build; the digests are made up.
const INDEX = `${'1f'.repeat(31)}a9`;
const CONFIG = `${'c'.repeat(63)}0`;
function buildxMetadata(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'buildx.build.provenance': {
      buildType: 'https://mobyproject.org/buildkit@v1',
      materials: [
        {
          uri: 'pkg:docker/docker/dockerfile@1?platform=linux%2Famd64',
          digest: { sha256: 'e'.repeat(64) },
        },
      ],
      invocation: {
        configSource: { entryPoint: 'Dockerfile' },
        parameters: { frontend: 'dockerfile.v0', args: { 'label:org.example': 'x' } },
        environment: { platform: 'linux/amd64' },
      },
    },
    'buildx.build.ref': 'builder/builder0/q5m8yl3c2kd1n0rhw4x7tj6bp',
    'containerimage.config.digest': `sha256:${CONFIG}`,
    'containerimage.descriptor': {
      mediaType: 'application/vnd.oci.image.index.v1+json',
      digest: `sha256:${INDEX}`,
      size: 856,
    },
    'containerimage.digest': `sha256:${INDEX}`,
    'image.name': 'ghcr.io/acme/app:1.4.2,ghcr.io/acme/app:latest,docker.io/acme/app:1.4.2',
    ...over,
  };
}
const meta = (over: Record<string, unknown> = {}) => JSON.stringify(buildxMetadata(over), null, 2);

test('buildx --metadata-file JSON: containerimage.digest, named after the first image.name', async () => {
  assert.deepEqual(await parseImageDigestContent(`${meta()}\n`, 'meta.json'), {
    sha256: INDEX,
    name: 'ghcr.io/acme/app',
  });
  // The plain digest form still goes the plain way.
  assert.deepEqual(await parseImageDigestContent(`sha256:${HEX}\n`, 'iid'), { sha256: HEX });
  // A single-platform manifest descriptor, a registry with a port, no image.name.
  assert.deepEqual(
    await parseBuildxMetadata(
      meta({
        'containerimage.descriptor': {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: `sha256:${HEX}`,
          size: 1024,
        },
        'containerimage.digest': `sha256:${HEX}`,
        'image.name': '127.0.0.1:5000/team/app:ci ,127.0.0.1:5000/team/app:x',
      }),
      'meta.json',
    ),
    { sha256: HEX, name: '127.0.0.1:5000/team/app' },
  );
  const { 'image.name': _, 'containerimage.descriptor': __, ...bare } = buildxMetadata();
  assert.deepEqual(await parseBuildxMetadata(JSON.stringify(bare), 'meta.json'), {
    sha256: INDEX,
  });
});

test('buildx metadata: hostile or ambiguous documents are DIGEST_MALFORMED naming the file', async () => {
  const { 'containerimage.digest': _, ...configOnly } = buildxMetadata();
  const bad: Array<[string, RegExp]> = [
    // The config digest is never taken for the image digest.
    [JSON.stringify(configOnly), /only "containerimage\.config\.digest"/],
    [JSON.stringify({ 'buildx.build.ref': 'x' }), /no "containerimage\.digest"/],
    // Two digests disagreeing: which image was built is not clear.
    [
      meta({ 'containerimage.descriptor': { digest: `sha256:${HEX}`, mediaType: 'x', size: 1 } }),
      /disagree/,
    ],
    [
      meta({ 'containerimage.descriptor': { mediaType: 'x' } }),
      /descriptor"\.digest is not a string/,
    ],
    [meta({ 'containerimage.descriptor': [] }), /descriptor" is not an object/],
    [meta({ 'containerimage.digest': `sha256:${INDEX.toUpperCase()}` }), /not sha256:<64 lower/],
    [meta({ 'containerimage.digest': `sha512:${'a'.repeat(128)}` }), /not sha256:<64 lower/],
    [meta({ 'containerimage.digest': 42 }), /containerimage\.digest" is not a string/],
    [meta({ 'containerimage.digest': [`sha256:${INDEX}`] }), /is not a string/],
    [meta({ 'image.name': ['ghcr.io/acme/app:1'] }), /"image\.name" is not a string/],
    [meta({ 'image.name': 'app:latest' }), /not HOST\/REPO\[:TAG\]/],
    [meta({ 'image.name': 'acme/app:latest' }), /not HOST\/REPO\[:TAG\]/],
    [meta({ 'image.name': '' }), /not HOST\/REPO\[:TAG\]/],
    [meta({ 'image.name': 'ghcr.io/Acme/app:1' }), /repository component/],
    [meta({ 'image.name': `ghcr.io/acme/app@sha256:${INDEX}` }), /carries a digest/],
    // Only an object is taken for buildx metadata; anything else is a bad digest file.
    ['[]', /expected sha256:<64 lower-case hex>/],
    [`{"containerimage.digest": "sha256:${INDEX}"} sha256:${HEX}`, /not valid JSON/],
    ['{"containerimage.digest": "sha256:', /not valid JSON/],
    [`${'{"a":'.repeat(40)}1${'}'.repeat(40)}`, /nested deeper than 32/],
  ];
  for (const [text, why] of bad) {
    const accepted = await parseImageDigestContent(text, 'out/meta.json').catch(() => undefined);
    assert.equal(accepted, undefined, `accepted: ${text.slice(-400)}`);
    await assert.rejects(parseImageDigestContent(text, 'out/meta.json'), (e) => {
      assert.ok(isVouchError(e), String(e));
      assert.equal(e.code, 'DIGEST_MALFORMED', `${text.slice(0, 80)}: ${e.message}`);
      assert.equal(e.file, 'out/meta.json');
      assert.match(e.message, why);
      return true;
    });
  }
});

test('reading a buildx metadata file: up to 1 MiB of UTF-8 JSON; a digest file stays at 1 KiB', async (t) => {
  const dir = await tempDir(t);
  const at = (name: string) => join(dir, name);
  // A few KiB, as with provenance inlined: over the digest cap, well under the JSON one.
  const big = meta({ 'buildx.build.provenance': { note: 'p'.repeat(8000) } });
  assert.ok(big.length > MAX_DIGEST_FILE_BYTES);
  await writeFile(at('meta.json'), big);
  const read = await readImageDigestFile(at('meta.json'), 'meta.json');
  assert.equal(read.sha256, INDEX);
  assert.equal(read.name, 'ghcr.io/acme/app');

  const rejects = async (name: string, why: RegExp) =>
    assert.rejects(readImageDigestFile(at(name), name), (e) => {
      assert.ok(isVouchError(e), String(e));
      assert.equal(e.code, 'DIGEST_MALFORMED');
      assert.equal(e.file, name);
      assert.match(e.message, why);
      return true;
    });
  await writeFile(at('huge.json'), meta({ pad: 'x'.repeat(MAX_METADATA_FILE_BYTES) }));
  await rejects('huge.json', /more than 1048576/);
  await writeFile(at('latin1.json'), Buffer.from(`{"x":"\xe9"}`, 'latin1'));
  await rejects('latin1.json', /not UTF-8/);
  await writeFile(at('iid'), `sha256:${HEX}\n${' '.repeat(MAX_DIGEST_FILE_BYTES)}`);
  await rejects('iid', /more than 1024/);
});
