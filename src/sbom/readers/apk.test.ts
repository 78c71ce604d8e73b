import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SourceFile } from '../reader.ts';
import { apkReader } from './apk.ts';

/**
 * HAND-WRITTEN installed database, not taken from an image: no Alpine image
 * and no apk-tools are available on the build machine (Debian has no apk-tools
 * package), and a database fetched from a public repository may not be
 * committed. Blocks follow the documented `lib/apk/db/installed` format
 * (https://wiki.alpinelinux.org/wiki/Apk_spec): C: control checksum ("Q1" +
 * base64 SHA-1), P: name, V: version, A: arch, S:/I: sizes, T: description,
 * U: url, L: licence, o: origin, m: maintainer, t: build time, c: commit,
 * D: dependencies, p: provides, then per-file F:/M:/R:/a:/Z: lines; blocks
 * separated by a blank line. Package names, versions and dependency shapes
 * mirror Alpine 3.19 (bash needs /bin/sh, so:libc and so:libreadline;
 * busybox-binsh needs busybox, which is absent here); checksums, sizes and
 * commits are made up.
 */
const INSTALLED = [
  [
    'C:Q1b0RmOoNw9Bmrd2hVlxkV4vV1tzY=',
    'P:musl',
    'V:1.2.4_git20230717-r4',
    'A:x86_64',
    'S:407278',
    'I:667648',
    'T:the musl c library (libc) implementation',
    'U:https://musl.libc.org/',
    'L:MIT',
    'o:musl',
    'm:Timo Teräs <timo.teras@iki.fi>',
    't:1700000000',
    'c:0000000000000000000000000000000000000001',
    'p:so:libc.musl-x86_64.so.1=1',
    'F:lib',
    'R:ld-musl-x86_64.so.1',
    'a:0:0:755',
    'Z:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=',
    'R:libc.musl-x86_64.so.1',
    'a:0:0:777',
    'Z:Q1BBBBBBBBBBBBBBBBBBBBBBBBBBB=',
  ],
  [
    'C:Q1nYyPp8b1lYtx4JzDg0uAq0xYcXc=',
    'P:busybox-binsh',
    'V:1.36.1-r15',
    'A:x86_64',
    'S:1547',
    'I:1',
    'T:busybox ash /bin/sh',
    'U:https://busybox.net/',
    'L:GPL-2.0-only',
    'o:busybox',
    'm:Sören Tempel <soeren+alpine@soeren-tempel.net>',
    't:1700000001',
    'c:0000000000000000000000000000000000000002',
    'D:busybox=1.36.1-r15',
    'p:/bin/sh cmd:sh=1.36.1-r15',
    'F:bin',
    'R:sh',
    'a:0:0:777',
    'Z:Q1CCCCCCCCCCCCCCCCCCCCCCCCCCC=',
  ],
  [
    'C:Q1r3lW0U8t0r8bM0g2b8y3m3U0Hk8=',
    'P:readline',
    'V:8.2.1-r2',
    'A:x86_64',
    'S:121548',
    'I:270336',
    'T:GNU readline library',
    'U:https://tiswww.cwru.edu/php/chet/readline/rltop.html',
    'L:GPL-3.0-or-later',
    'o:readline',
    'm:Natanael Copa <ncopa@alpinelinux.org>',
    't:1700000002',
    'c:0000000000000000000000000000000000000003',
    'D:so:libc.musl-x86_64.so.1 so:libncursesw.so.6',
    'p:so:libreadline.so.8=8.2',
    'F:usr',
    'F:usr/lib',
    'R:libreadline.so.8.2',
    'a:0:0:755',
    'Z:Q1DDDDDDDDDDDDDDDDDDDDDDDDDDD=',
  ],
  [
    'C:Q1kQ3a4pC5y4m7m1v2gq0S5oVQhvc=',
    'P:bash',
    'V:5.2.21-r0',
    'A:x86_64',
    'S:449612',
    'I:1437696',
    'T:The GNU Bourne Again shell',
    'U:https://www.gnu.org/software/bash/bash.html',
    'L:GPL-3.0-or-later',
    'o:bash',
    'm:Natanael Copa <ncopa@alpinelinux.org>',
    't:1700000003',
    'c:0000000000000000000000000000000000000004',
    'D:/bin/sh so:libc.musl-x86_64.so.1 so:libreadline.so.8',
    'p:cmd:bash=5.2.21-r0',
    'F:bin',
    'M:0:0:755',
    'R:bash',
    'a:0:0:755',
    'Z:Q1EEEEEEEEEEEEEEEEEEEEEEEEEEE=',
  ],
]
  .map((block) => `${block.join('\n')}\n`)
  .join('\n');

function source(text: string | Buffer, distro = { id: 'alpine', versionId: '3.19.0' }): SourceFile {
  return {
    path: 'lib/apk/db/installed',
    bytes: async () => (typeof text === 'string' ? Buffer.from(text) : text),
    sibling: async () => undefined,
    context: { distro },
  };
}

describe('apk reader', () => {
  test('a hand-written installed db in the documented format (Alpine 3.19 shapes)', async () => {
    const r = await apkReader.read(source(INSTALLED));
    const a = r.accounting;
    assert.equal(a.declared, 4);
    assert.equal(a.declared, a.emitted + a.merged + a.skipped.length);
    assert.deepEqual(
      r.components.map((c) => c.purl),
      [
        'pkg:apk/alpine/bash@5.2.21-r0?arch=x86_64&distro=alpine-3.19.0',
        // The origin, when it is another package, as Syft writes it (OSV names origins).
        'pkg:apk/alpine/busybox-binsh@1.36.1-r15?arch=x86_64&distro=alpine-3.19.0&upstream=busybox',
        'pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=x86_64&distro=alpine-3.19.0',
        'pkg:apk/alpine/readline@8.2.1-r2?arch=x86_64&distro=alpine-3.19.0',
      ],
    );
    const bash = r.components.find((c) => c.name === 'bash');
    assert.deepEqual(bash?.licenses, ['GPL-3.0-or-later']);
    assert.equal(bash?.properties?.['apk:origin'], 'bash');
    // The first C: of the block, not a per-file Z: checksum.
    assert.equal(bash?.properties?.['apk:checksum'], 'Q1kQ3a4pC5y4m7m1v2gq0S5oVQhvc=');
    assert.equal(bash?.properties?.['apk:commit'], '0000000000000000000000000000000000000004');
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
    assert.equal(a?.purl, 'pkg:apk/wolfi/a@1-r0?arch=x86_64&upstream=a-src');
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
