import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import type { SourceFile } from '../reader.ts';
import { apkReader } from './apk.ts';

const FIXTURE = new URL('./fixtures/apk/multiple-1.installed', import.meta.url);

function source(text: string | Buffer, distro = { id: 'alpine', versionId: '3.19.0' }): SourceFile {
  return {
    path: 'lib/apk/db/installed',
    bytes: async () => (typeof text === 'string' ? Buffer.from(text) : text),
    sibling: async () => undefined,
    context: { distro },
  };
}

describe('apk reader', () => {
  test('a real installed db (syft test data from an Alpine image)', async () => {
    const r = await apkReader.read(source(await readFile(FIXTURE)));
    const a = r.accounting;
    assert.equal(a.declared, 4);
    assert.equal(a.declared, a.emitted + a.merged + a.skipped.length);
    assert.deepEqual(
      r.components.map((c) => c.purl),
      [
        'pkg:apk/alpine/bash@5.2.21-r0?arch=x86_64&distro=alpine-3.19.0',
        'pkg:apk/alpine/busybox-binsh@1.36.1-r15?arch=x86_64&distro=alpine-3.19.0',
        'pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=x86_64&distro=alpine-3.19.0',
        'pkg:apk/alpine/readline@8.2.1-r2?arch=x86_64&distro=alpine-3.19.0',
      ],
    );
    const bash = r.components.find((c) => c.name === 'bash');
    assert.deepEqual(bash?.licenses, ['GPL-3.0-or-later']);
    assert.equal(bash?.properties?.['apk:origin'], 'bash');
    // bash needs /bin/sh (provided by busybox-binsh), musl's so: and readline's so:.
    assert.deepEqual(
      r.dependencies.find((d) => d.ref === bash?.ref)?.dependsOn.map((x) => x.split('@')[0]),
      ['pkg:apk/alpine/busybox-binsh', 'pkg:apk/alpine/musl', 'pkg:apk/alpine/readline'],
    );
    // busybox itself is not in this database: no edge invented.
    assert.equal(
      r.dependencies.find((d) => d.ref.includes('busybox-binsh')),
      undefined,
    );
  });

  test('checksums, origins, conflicts and missing fields', async () => {
    const r = await apkReader.read(
      source(
        'C:Q1p78yvTLG094tHE1+dToJGbmYzQE=\nP:a\nV:1-r0\nA:x86_64\no:a-src\nD:!b c>=1\n\nP:c\nV:2-r0\n\nP:nover\nA:x86_64\n\nV:3\n',
        { id: 'wolfi' } as { id: string; versionId: string },
      ),
    );
    assert.equal(r.accounting.declared, 4);
    assert.deepEqual(
      r.accounting.skipped.map((s) => s.reason),
      ['block has no V: (version)', 'block has no P: (package name)'],
    );
    const a = r.components.find((c) => c.name === 'a');
    assert.equal(a?.purl, 'pkg:apk/wolfi/a@1-r0?arch=x86_64');
    assert.equal(a?.properties?.['apk:checksum'], 'Q1p78yvTLG094tHE1+dToJGbmYzQE=');
    assert.deepEqual(r.dependencies, [{ ref: a?.ref, dependsOn: ['pkg:apk/wolfi/c@2-r0'] }]);
  });

  test('malformed and truncated', async () => {
    await assert.rejects(apkReader.read(source('P:a\nthis is not apk\n')), {
      code: 'LOCKFILE_MALFORMED',
      message: /line 2: not a "K:value" line/,
    });
    await assert.rejects(apkReader.read(source('P:a\nV:1\nA')), {
      code: 'LOCKFILE_MALFORMED',
      message: /line 3: file ends in the middle of a line \(truncated\?\)/,
    });
  });
});
