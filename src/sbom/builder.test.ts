import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isVouchError } from '../core/errors.ts';
import {
  type ComponentInput,
  libraryPurl,
  originsOf,
  plainNpmPurl,
  purlOf,
  ResultBuilder,
} from './builder.ts';
import type { Component } from './model.ts';
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

describe('ResultBuilder: the same package twice in one source', () => {
  it('merges licences, hashes, source and properties deterministically; counts the merge', () => {
    const build = (order: 'ab' | 'ba') => {
      const b = new ResultBuilder('lock', 'test', 'test v1');
      const a: ComponentInput = {
        ...npm('x', '1.0.0'),
        scope: 'dev',
        licenses: ['MIT'],
        hashes: [{ algorithm: 'SHA-512', value: 'aa' }],
        properties: { 'npm:alias': 'y', shared: 'from-a' },
      };
      const c: ComponentInput = {
        ...npm('x', '1.0.0'),
        licenses: ['ISC', 'MIT'],
        hashes: [
          { algorithm: 'SHA-512', value: 'bb' },
          { algorithm: 'SHA-1', value: 'cc' },
        ],
        source: { kind: 'tarball', url: 'https://example.com/x.tgz' },
        properties: { 'npm:bundled': 'true', shared: 'from-c' },
      };
      for (const input of order === 'ab' ? [a, c] : [c, a]) {
        b.declare();
        b.add(input);
      }
      return b.build();
    };
    const r = build('ab');
    assert.equal(r.components.length, 1);
    assert.deepEqual(r.accounting, {
      file: 'lock',
      reader: 'test',
      format: 'test v1',
      declared: 2,
      emitted: 1,
      merged: 1,
      skipped: [],
    });
    const x = r.components[0];
    assert.equal(x?.scope, 'required');
    assert.deepEqual(x?.licenses, ['ISC', 'MIT']);
    // Both SHA-512 digests stay: the entries disagree, and that must stay visible.
    assert.deepEqual(x?.hashes, [
      { algorithm: 'SHA-1', value: 'cc' },
      { algorithm: 'SHA-512', value: 'aa' },
      { algorithm: 'SHA-512', value: 'bb' },
    ]);
    assert.deepEqual(x?.source, { kind: 'tarball', url: 'https://example.com/x.tgz' });
    // The copy that recorded no source came from the public registry: kept beside the tarball.
    assert.deepEqual(x?.otherSources, [{ kind: 'registry' }]);
    assert.deepEqual(x?.properties, { 'npm:alias': 'y', 'npm:bundled': 'true', shared: 'from-a' });
    assert.deepEqual(x?.foundIn, ['lock']);
    // The other order: the same union; only the first value of a shared key differs.
    const y = build('ba').components[0];
    assert.deepEqual(y?.hashes, x?.hashes);
    assert.deepEqual(y?.licenses, x?.licenses);
    assert.deepEqual(y?.properties, { ...x?.properties, shared: 'from-c' });
    assert.deepEqual(y?.source, x?.source);
    assert.deepEqual(y?.otherSources, x?.otherSources);
  });

  it('keeps every distinct origin: the first recorded as source, the rest sorted in otherSources', () => {
    const copies: Array<ComponentInput['source']> = [
      undefined, // the public registry
      { kind: 'registry', url: 'http://registry.npmjs.org' },
      { kind: 'git', url: 'git+ssh://git@github.com/x/x.git#0123456' },
      { kind: 'registry', url: 'https://npm.acme.example' },
      { kind: 'registry', url: 'http://registry.npmjs.org' },
      undefined,
    ];
    const build = (sources: Array<ComponentInput['source']>) => {
      const b = new ResultBuilder('lock', 'test', 'test v1');
      for (const source of sources) {
        b.declare();
        b.add({ ...npm('x', '1.0.0'), ...(source ? { source } : {}) });
      }
      return b.build();
    };
    const r = build(copies);
    assert.equal(r.accounting.merged, 5);
    const x = r.components[0];
    assert.deepEqual(x?.source, { kind: 'registry', url: 'http://registry.npmjs.org' });
    assert.deepEqual(x?.otherSources, [
      { kind: 'git', url: 'git+ssh://git@github.com/x/x.git#0123456' },
      { kind: 'registry' },
      { kind: 'registry', url: 'https://npm.acme.example' },
    ]);
    assert.deepEqual(originsOf(x as Component), [x?.source, ...(x?.otherSources ?? [])]);
    // Any order of the later copies gives the same component.
    const [first, second, ...rest] = copies;
    for (const perm of [[...rest].reverse(), [rest[2], rest[0], rest[3], rest[1]]]) {
      assert.deepEqual(build([first, second, ...perm]).components, r.components);
    }
    // Copies that all agree record no otherSources, with or without a source.
    assert.equal(build([undefined, undefined]).components[0]?.otherSources, undefined);
    const same = build([copies[2], copies[2]]).components[0];
    assert.deepEqual(same?.source, copies[2]);
    assert.equal(same?.otherSources, undefined);
  });
});

it('an entry packageurl-js cannot represent is LOCKFILE_MALFORMED naming the file, not a crash', () => {
  const b = new ResultBuilder('go.mod', 'go', 'go.mod');
  const inputs: ComponentInput[] = [
    { ecosystem: 'golang', namespace: 'github.com', name: '', version: 'v1.0.0' },
    { ecosystem: 'golang', namespace: 'x', name: 'a', version: 'v0.0.0.1' },
  ];
  for (const input of inputs) {
    assert.throws(
      () => b.add(input),
      (e: unknown) =>
        isVouchError(e) &&
        e.code === 'LOCKFILE_MALFORMED' &&
        e.file === 'go.mod' &&
        /cannot form a package URL/.test(e.message),
      JSON.stringify(input),
    );
  }
});
