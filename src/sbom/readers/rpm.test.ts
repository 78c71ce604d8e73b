import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { SourceFile } from '../reader.ts';
import { rpmReader } from './rpm.ts';
import { RpmHeader, rpmFileHeader, TAG } from './rpm-header.ts';

const HAVE_RPM = ['rpm', 'rpmbuild'].every(
  (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0,
);
const SKIP = HAVE_RPM ? false : 'rpm and rpmbuild are not installed (apt-get install rpm)';

/** Tiny noarch packages built by the real rpmbuild: names, epochs, licences and requires of every kind. */
const SPECS: Record<string, string> = {
  base: `Name: vouch-base\nVersion: 1.0\nRelease: 1.fc40\nSummary: t\nLicense: GPL-2.0-or-later\nBuildArch: noarch\nProvides: vouch-virtual\n%description\nt\n%install\nmkdir -p %{buildroot}/usr/bin\necho '#!/bin/sh' > %{buildroot}/usr/bin/vouch-tool\n%files\n/usr/bin/vouch-tool\n`,
  app: `Name: vouch-app\nVersion: 1.2.3\nRelease: 4.fc40\nEpoch: 2\nSummary: t\nLicense: MIT AND Apache-2.0\nBuildArch: noarch\nRequires: vouch-virtual >= 1.0, /usr/bin/vouch-tool, not-installed-anywhere\n%description\nt\n%files\n`,
  lone: `Name: vouch-lone\nVersion: 0.1\nRelease: 1\nSummary: t\nLicense: BSD-3-Clause\nBuildArch: noarch\n%description\nt\n%files\n`,
};

function source(bytes: Buffer, path = 'var/lib/rpm/rpmdb.sqlite'): SourceFile {
  return {
    path,
    bytes: async () => bytes,
    sibling: async () => undefined,
    context: { distro: { id: 'fedora', versionId: '40' } },
  };
}

describe('rpm reader', { skip: SKIP }, () => {
  let dir: string;
  let rpms: string[];
  let db: string;
  before(async () => {
    dir = await realpath(await mkdtemp(join(tmpdir(), 'vouch-rpm-')));
    const top = join(dir, 'top');
    await mkdir(join(top, 'SPECS'), { recursive: true });
    for (const [name, spec] of Object.entries(SPECS)) {
      const file = join(top, 'SPECS', `${name}.spec`);
      await writeFile(file, spec);
      execFileSync('rpmbuild', ['--define', `_topdir ${top}`, '-bb', file], { stdio: 'ignore' });
    }
    const out = join(top, 'RPMS', 'noarch');
    rpms = (await readdir(out)).map((f) => join(out, f)).sort();
    db = join(dir, 'db');
    await mkdir(db);
    execFileSync('rpm', ['--initdb', '--dbpath', db]);
    execFileSync('rpm', ['-i', '--justdb', '--nodeps', '--dbpath', db, ...rpms], {
      stdio: 'ignore',
    });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('the SQLite rpmdb made by rpm 4.18: same set as rpm -qa', async () => {
    const r = await rpmReader.read(source(await readFile(join(db, 'rpmdb.sqlite'))));
    const a = r.accounting;
    assert.equal(a.format, 'rpmdb sqlite');
    assert.equal(a.declared, a.emitted + a.merged + a.skipped.length);
    const qa = execFileSync(
      'rpm',
      ['-qa', '--dbpath', db, '--qf', '%{NAME} %{VERSION}-%{RELEASE} %{EPOCHNUM} %{LICENSE}\\n'],
      { encoding: 'utf8' },
    )
      .split('\n')
      .filter(Boolean)
      .sort();
    const got = r.components
      .map(
        (c) =>
          `${c.name} ${c.version} ${c.purl.match(/epoch=(\d+)/)?.[1] ?? '0'} ${c.licenses.join()}`,
      )
      .sort();
    assert.deepEqual(got, qa);
    assert.deepEqual(
      r.components.map((c) => c.purl),
      [
        'pkg:rpm/fedora/vouch-app@1.2.3-4.fc40?arch=noarch&distro=fedora-40&epoch=2',
        'pkg:rpm/fedora/vouch-base@1.0-1.fc40?arch=noarch&distro=fedora-40',
        'pkg:rpm/fedora/vouch-lone@0.1-1?arch=noarch&distro=fedora-40',
      ],
    );
    assert.equal(
      r.components.find((c) => c.name === 'vouch-app')?.properties?.['rpm:sourcerpm'],
      'vouch-app-1.2.3-4.fc40.src.rpm',
    );
    // Requires by virtual name and by file both lead to vouch-base; rpmlib() and the missing one lead nowhere.
    assert.deepEqual(r.dependencies, [
      {
        ref: 'pkg:rpm/fedora/vouch-app@1.2.3-4.fc40?arch=noarch&distro=fedora-40&epoch=2',
        dependsOn: ['pkg:rpm/fedora/vouch-base@1.0-1.fc40?arch=noarch&distro=fedora-40'],
      },
    ]);
  });

  test('header parser on the real .rpm files', async () => {
    const app = rpmFileHeader(await readFile(rpms[0] as string), 'app.rpm');
    assert.equal(app.string(TAG.NAME), 'vouch-app');
    assert.equal(app.int32(TAG.EPOCH), 2);
    assert.ok(app.strings(TAG.REQUIRENAME).includes('/usr/bin/vouch-tool'));
    const base = rpmFileHeader(await readFile(rpms[1] as string), 'base.rpm');
    assert.deepEqual(base.files(), ['/usr/bin/vouch-tool']);
  });

  test('truncated and corrupt headers are refused, bounds-checked', async () => {
    const { DatabaseSync } = await import('node:sqlite');
    const copy = join(dir, 'copy.sqlite');
    await writeFile(copy, await readFile(join(db, 'rpmdb.sqlite')));
    const sql = new DatabaseSync(copy);
    const row = sql.prepare('SELECT blob FROM Packages LIMIT 1').get() as { blob: Uint8Array };
    const header = Buffer.from(row.blob);
    new RpmHeader(header, 'ok');
    assert.throws(() => new RpmHeader(header.subarray(0, header.length - 1), 'cut'), {
      code: 'LOCKFILE_MALFORMED',
      message: /truncated/,
    });
    const badOffset = Buffer.from(header);
    badOffset.writeInt32BE(0x7fffffff, 8 + 16 + 8); // second index entry's offset
    assert.throws(() => new RpmHeader(badOffset, 'off'), { message: /outside data/ });
    const hugeCount = Buffer.from(header);
    hugeCount.writeUInt32BE(0xffffffff, 0);
    assert.throws(() => new RpmHeader(hugeCount, 'il'), { message: /index count/ });
    // A corrupt row is accounted for as skipped; the others still read.
    sql
      .prepare('UPDATE Packages SET blob = ? WHERE hnum = (SELECT MIN(hnum) FROM Packages)')
      .run(header.subarray(0, 40));
    sql.close();
    const r = await rpmReader.read(source(await readFile(copy)));
    assert.equal(r.accounting.declared, 3);
    assert.equal(r.accounting.emitted, 2);
    assert.match(r.accounting.skipped[0]?.reason ?? '', /truncated/);
  });

  test('other databases and non-databases', async () => {
    assert.ok(rpmReader.matches('usr/lib/sysimage/rpm/rpmdb.sqlite'));
    await assert.rejects(rpmReader.read(source(Buffer.alloc(8192), 'var/lib/rpm/Packages')), {
      code: 'LOCKFILE_UNSUPPORTED',
      message: /Berkeley DB/,
    });
    await assert.rejects(rpmReader.read(source(Buffer.from('not sqlite at all'.repeat(100)))), {
      code: 'LOCKFILE_MALFORMED',
    });
  });
});
