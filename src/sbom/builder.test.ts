import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type ComponentInput, libraryPurl, plainNpmPurl, purlOf } from './builder.ts';
import { READERS } from './readers/index.ts';
import { BENCH_LOCKFILES, SIZES, sourceFromPath } from './readers/js-testkit.ts';

const npm = (name: string, version: string, namespace?: string): ComponentInput => ({
  ecosystem: 'npm',
  name,
  version,
  namespace,
});

describe('purlOf: the direct npm purl is byte-identical to packageurl-js', () => {
  it('plain, scoped, upper-case, build metadata, colons, no version', () => {
    for (const input of [
      npm('lodash', '4.17.21'),
      npm('core', '7.2.2', '@babel'),
      npm('JSONStream', '1.3.5'),
      npm('Core', '1.0.0', '@Scope'),
      npm('x', '1.0.0+build.5'),
      npm('x', '1.0.0-rc.1:a'),
      npm("it's~(ok)!*", '1.0.0'),
      npm('x', ''),
    ]) {
      const direct = plainNpmPurl(input);
      assert.ok(direct, JSON.stringify(input));
      assert.equal(direct, libraryPurl(input));
    }
    assert.equal(plainNpmPurl(npm('core', '7.2.2', '@babel')), 'pkg:npm/%40babel/core@7.2.2');
    assert.equal(plainNpmPurl(npm('JSONStream', '1.3.5')), 'pkg:npm/jsonstream@1.3.5');
  });
  it('leaves anything needing escaping, trimming or qualifiers to packageurl-js', () => {
    for (const input of [
      npm('x', 'github:a/b#c'),
      npm('x y', '1'),
      npm(' x', '1'),
      npm('x', '1 '),
      npm('é', '1'),
      npm('x', '1', 'scope'),
      npm('x', '1', '@a/b'),
      { ...npm('x', '1'), qualifiers: { download_url: 'https://e/x.tgz' } },
      { ...npm('x', '1'), subpath: 'lib' },
      { ecosystem: 'pypi', name: 'Foo_Bar', version: '1' } as ComponentInput,
    ]) {
      assert.equal(plainNpmPurl(input), undefined, JSON.stringify(input));
      assert.equal(purlOf(input), libraryPurl(input));
    }
  });
  const files = ['npm', 'pnpm8', 'pnpm9', 'yarn1', 'berry', 'bun'].flatMap((m) =>
    SIZES.map((s) => ({ m, dir: join(BENCH_LOCKFILES, m, s) })),
  );
  for (const { m, dir } of files) {
    it(`every component of ${m}/${dir.split('/').pop()}`, async () => {
      const name = ['package-lock.json', 'pnpm-lock.yaml', 'yarn.lock', 'bun.lock'].find((n) =>
        existsSync(join(dir, n)),
      ) as string;
      const reader = READERS.find((r) => r.matches(name));
      assert.ok(reader);
      const r = await reader.read(sourceFromPath(join(dir, name)));
      let direct = 0;
      for (const c of r.components) {
        // Qualified purls never take the direct path; the rest must match the library.
        if (c.purl.includes('?')) continue;
        const input = { ecosystem: c.ecosystem, namespace: c.namespace, name: c.name };
        const full = { ...input, version: c.version };
        assert.equal(c.purl, libraryPurl(full), c.purl);
        if (plainNpmPurl(full) !== undefined) direct++;
      }
      assert.ok(direct > r.components.length / 2, `${direct} of ${r.components.length} direct`);
    });
  }
});
