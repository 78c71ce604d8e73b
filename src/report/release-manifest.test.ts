import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse as parseYaml } from 'yaml';
import { VouchError } from '../core/errors.ts';
import { parseReleaseManifest, resolveReleasePath } from './index.ts';

const HEX = 'ab'.repeat(32);
const GOOD = `apiVersion: vouch.dev/release/v1
kind: Release
name: app
version: "1.2.0"
artifacts:
  - path: dist/app.tgz
    kind: binary
  - digest: sha256:${HEX}
    name: app-image
    kind: image
`;

const schema = JSON.parse(
  readFileSync(new URL('../../schemas/release-manifest-v1.json', import.meta.url), 'utf8'),
);
const validate = new Ajv2020({ strict: false }).compile(schema);

/** The parser's error, which must be RELEASE_MALFORMED naming the file and the field. */
function refused(text: string, field: string, message: RegExp): void {
  assert.throws(
    () => parseReleaseManifest(text, 'rel.yaml'),
    (e: unknown) => {
      assert.ok(e instanceof VouchError, String(e));
      assert.equal(e.code, 'RELEASE_MALFORMED');
      assert.equal(e.file, 'rel.yaml');
      assert.equal(e.field, field, e.message);
      assert.match(e.message, message);
      assert.equal(e.exitCode, 2);
      return true;
    },
  );
}

describe('release manifest', () => {
  test('a good manifest: paths and digests, names and kinds, in order; the schema agrees', () => {
    const m = parseReleaseManifest(GOOD, 'rel.yaml');
    assert.equal(m.name, 'app');
    assert.equal(m.version, '1.2.0');
    assert.deepEqual(m.artifacts, [
      { by: 'path', path: 'dist/app.tgz', kind: 'binary', field: '/artifacts/0/path' },
      {
        by: 'digest',
        sha256: HEX,
        name: 'app-image',
        kind: 'image',
        field: '/artifacts/1/digest',
      },
    ]);
    assert.ok(validate(parseYaml(GOOD)), JSON.stringify(validate.errors));
    // JSON is YAML.
    const json = JSON.stringify(parseYaml(GOOD));
    assert.deepEqual(parseReleaseManifest(json, 'rel.json').artifacts, m.artifacts);
  });

  test('hostile and malformed manifests are RELEASE_MALFORMED with the field and line', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['artifacts: [', '/', /YAML: .*line/],
      ['- just\n- a list\n', '/', /a release manifest is a mapping/],
      [`${GOOD}extra: 1\n`, '/extra', /unknown field "extra" \(line 11\)/],
      [
        GOOD.replace('    kind: binary', '    kind: binary\n    sha: x'),
        '/artifacts/0/sha',
        /unknown field "sha"/,
      ],
      [
        GOOD.replace('vouch.dev/release/v1', 'vouch.dev/release/v2'),
        '/apiVersion',
        /apiVersion must be/,
      ],
      [GOOD.replace('"1.2.0"', '1.2'), '/version', /quote it/],
      [GOOD.replace('name: app\n', ''), '/name', /name must be/],
      [GOOD.replace(/artifacts:[\s\S]*/, 'artifacts: []\n'), '/artifacts', /non-empty list/],
      [
        GOOD.replace('  - path: dist/app.tgz', `  - path: dist/app.tgz\n    digest: sha256:${HEX}`),
        '/artifacts/0',
        /exactly one of path or digest/,
      ],
      [GOOD.replace(`sha256:${HEX}`, 'sha256:1234'), '/artifacts/1/digest', /sha256:<64 hex>/],
      [GOOD.replace(`sha256:${HEX}`, `sha512:${'ab'.repeat(64)}`), '/artifacts/1/digest', /sha256/],
      [
        GOOD.replace('dist/app.tgz', '/etc/passwd'),
        '/artifacts/0/path',
        /relative to the manifest directory/,
      ],
      [GOOD.replace('name: app\n', 'name: "app\\u0007"\n'), '/name', /printable/],
      [
        `${GOOD}  - path: ./dist/app.tgz\n`,
        '/artifacts/2/path',
        /already listed at \/artifacts\/0\/path/,
      ],
      [`${GOOD}  - digest: sha256:${HEX.toUpperCase()}\n`, '/artifacts/2/digest', /already listed/],
      [GOOD.replace('name: app\n', 'name: app\nname: other\n'), '/', /YAML/],
      // An alias bomb is an error, not a hang.
      [
        `a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c]\n`,
        '/',
        /YAML: .*alias/i,
      ],
    ];
    for (const [text, field, message] of cases) refused(text, field, message);
    // Every problem is listed, not just the first.
    assert.throws(
      () => parseReleaseManifest(`${GOOD}x: 1\ny: 2\n`, 'rel.yaml'),
      /unknown field "x".*\/y: unknown field "y"/,
    );
    // The schema refuses what the parser refuses.
    for (const bad of [
      { ...parseYaml(GOOD), extra: 1 },
      { ...parseYaml(GOOD), artifacts: [{ path: 'a', digest: `sha256:${HEX}` }] },
      { ...parseYaml(GOOD), artifacts: [{ path: '/abs' }] },
      { ...parseYaml(GOOD), artifacts: [{ path: 'a', size: 1 }] },
    ])
      assert.equal(validate(bad), false, JSON.stringify(bad));
  });

  test('deeply nested YAML is refused, not a crash', () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    assert.throws(
      () => parseReleaseManifest(deep, 'rel.yaml'),
      (e: unknown) => {
        assert.ok(e instanceof VouchError, String(e));
        assert.equal(e.code, 'RELEASE_MALFORMED');
        return true;
      },
    );
  });

  test('paths resolve inside the manifest directory only: .., symbolic links out, directories and missing files are refused', async (t) => {
    const root = await mkdtemp(join(tmpdir(), 'vouch-release-'));
    t.after(() => rm(root, { recursive: true, force: true }));
    const dir = join(root, 'rel');
    await mkdir(join(dir, 'dist'), { recursive: true });
    await writeFile(join(dir, 'dist', 'app.tgz'), 'app');
    await writeFile(join(root, 'outside.txt'), 'secret');
    await symlink(join(root, 'outside.txt'), join(dir, 'dist', 'link.tgz'));
    await symlink(join(dir, 'dist', 'app.tgz'), join(dir, 'inside-link.tgz'));
    const manifest = join(dir, 'release.yaml');
    const at = (path: string) =>
      resolveReleasePath(manifest, { path, field: '/artifacts/0/path' }, 'release.yaml');
    assert.equal(await at('dist/app.tgz'), join(dir, 'dist', 'app.tgz'));
    assert.equal(await at('dist/../dist/app.tgz'), join(dir, 'dist', 'app.tgz'));
    assert.equal(await at('inside-link.tgz'), join(dir, 'inside-link.tgz'));
    const code = async (path: string) => {
      try {
        await at(path);
        return 'ok';
      } catch (e) {
        assert.ok(e instanceof VouchError, String(e));
        assert.equal(e.file, 'release.yaml');
        assert.equal(e.field, '/artifacts/0/path');
        return e.code;
      }
    };
    assert.equal(await code('../outside.txt'), 'PATH_ESCAPE');
    assert.equal(await code('dist/../../outside.txt'), 'PATH_ESCAPE');
    assert.equal(await code('dist/link.tgz'), 'PATH_ESCAPE');
    assert.equal(await code('.'), 'PATH_ESCAPE');
    assert.equal(await code('dist/missing.tgz'), 'FILE_NOT_FOUND');
    assert.equal(await code('dist'), 'FILE_READ');
  });
});
