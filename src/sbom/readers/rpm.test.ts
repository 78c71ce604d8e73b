import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isolatedEnv, jsonOf, show, vouch } from '../../../test/cli/helpers.ts';
import { writeLayout } from '../image/testing.ts';
import type { ReaderResult } from '../model.ts';
import type { SourceFile } from '../reader.ts';
import { rpmReader } from './rpm.ts';
import { readBdbHash } from './rpm-bdb.ts';
import { RpmHeader, rpmFileHeader, TAG } from './rpm-header.ts';
import { adler32, readNdb } from './rpm-ndb.ts';
import {
  bdbFile,
  buildRpms,
  DB_LOAD,
  HAVE_RPM,
  type Header,
  installSqlite,
  ndbFile,
  rpmQa,
  sqliteHeaders,
  zlibAdler32,
} from './rpm-testkit.ts';

const SKIP = HAVE_RPM ? false : 'rpm and rpmbuild are not installed (apt-get install rpm)';
const SKIP_BDB =
  SKIP || (DB_LOAD ? false : 'db_load is not installed (apt-get install db5.3-util)');

/** Tiny noarch packages built by the real rpmbuild: names, epochs, licences and requires of every kind. */
const SPECS: Record<string, string> = {
  base: `Name: vouch-base\nVersion: 1.0\nRelease: 1.fc40\nSummary: t\nLicense: GPL-2.0-or-later\nBuildArch: noarch\nProvides: vouch-virtual\n%description\nt\n%install\nmkdir -p %{buildroot}/usr/bin\necho '#!/bin/sh' > %{buildroot}/usr/bin/vouch-tool\n%files\n/usr/bin/vouch-tool\n`,
  app: `Name: vouch-app\nVersion: 1.2.3\nRelease: 4.fc40\nEpoch: 2\nSummary: t\nLicense: MIT AND Apache-2.0\nBuildArch: noarch\nRequires: vouch-virtual >= 1.0, /usr/bin/vouch-tool, not-installed-anywhere\n%description\nt\n%files\n`,
  lone: `Name: vouch-lone\nVersion: 0.1\nRelease: 1\nSummary: t\nLicense: BSD-3-Clause\nBuildArch: noarch\n%description\nt\n%files\n`,
};

/**
 * One rpmbuild run making 40 subpackages (epochs and licences varying), so
 * the Berkeley DB files have many buckets, chained bucket pages and overflow
 * chains, and the ndb file many slots.
 */
const MANY = 40;
const MANY_SPEC = [
  'Name: vouch-many\nVersion: 3.0\nRelease: 7.el7\nSummary: t\nLicense: ISC\nBuildArch: noarch\n%description\nt\n',
  ...Array.from({ length: MANY }, (_, i) => {
    const n = String(i).padStart(2, '0');
    const epoch = i % 3 === 0 ? `Epoch: ${i}\n` : '';
    return `%package -n vouch-many-${n}\nSummary: s\nLicense: ${i % 2 ? 'MIT' : 'GPL-3.0-only'}\n${epoch}%description -n vouch-many-${n}\ns\n%files -n vouch-many-${n}\n`;
  }),
].join('');

function source(
  bytes: Buffer,
  path = 'var/lib/rpm/rpmdb.sqlite',
  distro = 'fedora-40',
): SourceFile {
  const [id, versionId] = distro.split('-') as [string, string];
  return {
    path,
    bytes: async () => bytes,
    sibling: async () => undefined,
    context: { distro: { id, versionId } },
  };
}

/** Asserts that reading `buf` as the database at `path` fails with `code`, naming `path`, its message matching. */
function refusedAt(path: string) {
  return async (buf: Buffer, message: RegExp, code = 'LOCKFILE_MALFORMED') => {
    await assert.rejects(rpmReader.read(source(buf, path)), (e: Error & { file?: string }) => {
      assert.equal((e as { code?: string }).code, code, e.message);
      assert.equal(e.file, path);
      assert.match(e.message, message);
      return true;
    });
  };
}

/** What two databases must agree on: every component's purl and licences, and the graph. */
function summary(r: ReaderResult) {
  return {
    components: r.components.map((c) => `${c.purl} ${c.licenses.join()}`).sort(),
    dependencies: r.dependencies,
    declared: r.accounting.declared,
    skipped: r.accounting.skipped,
  };
}

describe('rpm reader', { skip: SKIP }, () => {
  let dir: string;
  let rpms: string[];
  let db: string;
  before(async () => {
    dir = await realpath(await mkdtemp(join(tmpdir(), 'vouch-rpm-')));
    rpms = await buildRpms(join(dir, 'top'), SPECS);
    db = join(dir, 'db');
    await installSqlite(db, rpms);
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

  test('database names and non-databases', async () => {
    assert.ok(rpmReader.matches('usr/lib/sysimage/rpm/rpmdb.sqlite'));
    assert.ok(rpmReader.matches('var/lib/rpm/Packages'));
    assert.ok(rpmReader.matches('usr/lib/sysimage/rpm/Packages.db'));
    assert.ok(!rpmReader.matches('var/lib/rpm/Packages.bak'));
    await assert.rejects(rpmReader.read(source(Buffer.from('not sqlite at all'.repeat(100)))), {
      code: 'LOCKFILE_MALFORMED',
    });
    // An empty file and zeros are no Berkeley DB or ndb: errors naming the file, never an empty SBOM.
    for (const [path, bytes] of [
      ['var/lib/rpm/Packages', Buffer.alloc(8192)],
      ['var/lib/rpm/Packages', Buffer.alloc(0)],
      ['usr/lib/sysimage/rpm/Packages.db', Buffer.alloc(8192)],
    ] as const) {
      await assert.rejects(rpmReader.read(source(bytes, path)), (e: Error & { file?: string }) => {
        assert.equal((e as { code?: string }).code, 'LOCKFILE_MALFORMED');
        assert.equal(e.file, path);
        return true;
      });
    }
  });
});

describe('rpm reader: Berkeley DB and ndb forms of the same installed set', {
  skip: SKIP_BDB,
}, () => {
  let dir: string;
  let db: string;
  let headers: Header[];
  let sqlite: ReaderResult;
  const BDB = {
    'little-endian, 4096-byte pages': { dir: 'bdb-le', options: {} },
    'little-endian, 512-byte pages, 4 per bucket': {
      dir: 'bdb-le-small',
      options: { pageSize: 512, fillFactor: 4 },
    },
    'big-endian, 512-byte pages, full buckets': {
      dir: 'bdb-be',
      options: { bigEndian: true, pageSize: 512, fillFactor: 100 },
    },
  } as const;

  before(async () => {
    dir = await realpath(await mkdtemp(join(tmpdir(), 'vouch-rpm-db-')));
    const rpms = await buildRpms(join(dir, 'top'), { ...SPECS, many: MANY_SPEC });
    assert.equal(rpms.length, 3 + MANY);
    db = join(dir, 'sqlite');
    await installSqlite(db, rpms);
    headers = await sqliteHeaders(join(db, 'rpmdb.sqlite'));
    sqlite = await rpmReader.read(source(await readFile(join(db, 'rpmdb.sqlite'))));
    for (const { dir: d, options } of Object.values(BDB))
      await bdbFile(join(dir, d), headers, options);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('the SQLite set is what rpm -qa lists', () => {
    assert.equal(sqlite.components.length, 3 + MANY);
    const qa = rpmQa(db);
    assert.equal(qa.length, 3 + MANY);
    const got = sqlite.components
      .map((c) => {
        const epoch = c.purl.match(/epoch=(\d+)/)?.[1] ?? '0';
        const arch = c.purl.match(/arch=([^&]+)/)?.[1];
        return `${c.name} ${c.version} ${epoch} ${arch} ${c.licenses.join()}`;
      })
      .sort();
    assert.deepEqual(got, qa);
  });

  for (const [label, { dir: d }] of Object.entries(BDB)) {
    test(`Berkeley DB ${label}: rpm's own bdb_ro backend and vouch read the same set`, async () => {
      const path = join(dir, d, 'Packages');
      // The oracle: rpm reads the file db_load made as the rpmdb it is.
      assert.deepEqual(rpmQa(join(dir, d), 'bdb_ro'), rpmQa(db));
      const r = await rpmReader.read(source(await readFile(path), 'var/lib/rpm/Packages'));
      assert.equal(r.accounting.format, 'rpmdb bdb');
      assert.deepEqual(summary(r), summary(sqlite));
      // Every header byte for byte, under its own header number (key 0, rpm's counter, left out).
      const bytes = await readFile(path);
      const records = readBdbHash(bytes, path);
      assert.equal(records.length, headers.length + 1);
    });
  }

  test('the fixtures exercise what they claim: many buckets, overflow chains, both byte orders', async () => {
    const pages = async (d: string) => {
      const buf = await readFile(join(dir, d, 'Packages'));
      const le = buf.readUInt32LE(12) === 0x061561;
      const u32 = (at: number) => (le ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
      const size = u32(20);
      const kinds = { le, maxBucket: u32(72), overflowChains: 0 };
      for (let p = 1; p * size < buf.length; p++) {
        const type = buf[p * size + 25];
        const next = u32(p * size + 16);
        if (type === 7 && next !== 0) kinds.overflowChains++;
      }
      return kinds;
    };
    const le = await pages('bdb-le');
    assert.equal(le.le, true);
    const small = await pages('bdb-le-small');
    assert.ok(small.maxBucket >= 8, `buckets: ${small.maxBucket + 1}`);
    assert.ok(small.overflowChains > 0);
    const be = await pages('bdb-be');
    assert.equal(be.le, false);
    assert.ok(be.maxBucket >= 1);
    assert.ok(be.overflowChains > 0);
  });

  test('ndb Packages.db: the same set, in the SUSE place', async () => {
    const bytes = ndbFile(headers, 5);
    const r = await rpmReader.read(source(bytes, 'usr/lib/sysimage/rpm/Packages.db', 'sles-15.5'));
    assert.equal(r.accounting.format, 'rpmdb ndb');
    const rebased = summary(sqlite);
    const got = summary(r);
    const sles = (x: string) => x.replace(/\/fedora\//, '/sles/').replace('fedora-40', 'sles-15.5');
    assert.deepEqual(got.components, rebased.components.map(sles));
    assert.equal(got.declared, rebased.declared);
    assert.equal(got.dependencies.length, rebased.dependencies.length);
    const blobs = readNdb(bytes, 'Packages.db');
    assert.deepEqual(
      blobs.map((b) => [b.pkgidx, b.blob.toString('hex')]),
      headers.map((h) => [h.hnum, h.blob.toString('hex')]),
    );
  });

  test("adler32 agrees with zlib's", () => {
    for (const len of [0, 1, 5551, 5552, 5553, 70000]) {
      const data = Buffer.alloc(len, 0xff);
      assert.equal(adler32(data), zlibAdler32(data), `length ${len}`);
    }
    const mixed = Buffer.from(headers.map((h) => h.blob.toString('hex')).join(''), 'hex');
    assert.equal(adler32(mixed), zlibAdler32(mixed));
  });

  describe('hostile Berkeley DB files: errors naming the file and page, never a hang', () => {
    const PATH = 'var/lib/rpm/Packages';
    let good: Buffer;
    let pageSize: number;
    before(async () => {
      good = await readFile(join(dir, 'bdb-le', 'Packages'));
      pageSize = good.readUInt32LE(20);
    });
    /** Page numbers of every page of one type (7 overflow, 13 hash). */
    const pagesOf = (buf: Buffer, type: number) => {
      const out: number[] = [];
      for (let p = 1; (p + 1) * pageSize <= buf.length; p++)
        if (buf[p * pageSize + 25] === type) out.push(p);
      return out;
    };
    const refused = refusedAt(PATH);

    test('truncated meta page', async () => {
      await refused(good.subarray(0, 300), /meta page.*shorter than one page/);
      await refused(good.subarray(0, 1024), /meta page.*truncated/);
    });

    test('wrong magic, wrong page type, another access method', async () => {
      const magic = Buffer.from(good);
      magic.writeUInt32LE(0x12345678, 12);
      await refused(magic, /magic 12345678 is not Berkeley DB hash/);
      const btree = Buffer.from(good);
      btree.writeUInt32LE(0x053162, 12);
      await refused(btree, /btree/, 'LOCKFILE_UNSUPPORTED');
      const type = Buffer.from(good);
      type[25] = 9;
      await refused(type, /not a hash meta page/);
      const enc = Buffer.from(good);
      enc[24] = 1;
      await refused(enc, /encrypted/, 'LOCKFILE_UNSUPPORTED');
    });

    test('file cut short: the page past the end is named', async () => {
      await refused(good.subarray(0, good.length - 1), /page \d+: is past the end of the file/);
    });

    test('page numbers past the end of the file', async () => {
      const [hash] = pagesOf(good, 13);
      assert.ok(hash);
      // The first off-page value on the bucket page points far away.
      const buf = Buffer.from(good);
      const entries = buf.readUInt16LE(hash * pageSize + 20);
      for (let i = 1; i < entries; i += 2) {
        const at = hash * pageSize + buf.readUInt16LE(hash * pageSize + 26 + i * 2);
        if (buf[at] === 3) {
          buf.writeUInt32LE(99999, at + 4);
          break;
        }
      }
      await refused(
        buf,
        new RegExp(`page ${hash}: points to page 99999, outside pages 1\\.\\.\\d+`),
      );
      const meta = Buffer.from(good);
      meta.writeUInt32LE(1000, 32);
      await refused(meta, /last page 1000 does not fit/);
    });

    test('an overflow chain that loops, and one that ends short', async () => {
      const buf = Buffer.from(good);
      const [first] = pagesOf(buf, 7);
      assert.ok(first);
      buf.writeUInt32LE(first, first * pageSize + 16);
      await refused(buf, new RegExp(`page ${first}: overflow chain from page \\d+ loops back`));
      const short = Buffer.from(good);
      short.writeUInt16LE(10, first * pageSize + 22);
      await refused(short, /overflow chain holds \d+ of the \d+ bytes declared/);
    });

    test('two values sharing one overflow chain', async () => {
      const [hash] = pagesOf(good, 13);
      const base = (hash as number) * pageSize;
      const buf = Buffer.from(good);
      const off: number[] = [];
      for (let i = 1; i < buf.readUInt16LE(base + 20); i += 2) {
        const at = base + buf.readUInt16LE(base + 26 + i * 2);
        if (buf[at] === 3) off.push(at);
      }
      assert.ok(off.length >= 2);
      const [a, b] = off as [number, number];
      buf.writeUInt32LE(buf.readUInt32LE(a + 4), b + 4);
      buf.writeUInt32LE(buf.readUInt32LE(a + 8), b + 8);
      await refused(
        buf,
        /overflow page already holds another value \(first reached from page \d+\)/,
      );
    });

    test('bucket chains that loop or run into another bucket, in the big-endian file', async () => {
      const buf = await readFile(join(dir, 'bdb-be', 'Packages'));
      const size = buf.readUInt32BE(20);
      const hash: number[] = [];
      for (let p = 1; (p + 1) * size <= buf.length; p++)
        if (buf[p * size + 25] === 13) hash.push(p);
      assert.ok(hash.length >= 2);
      const [a, b] = hash as [number, number];
      const loop = Buffer.from(buf);
      loop.writeUInt32BE(a, a * size + 16);
      await refused(loop, new RegExp(`page ${a}: reached twice`));
      const into = Buffer.from(buf);
      into.writeUInt32BE(b, a * size + 16);
      await refused(into, new RegExp(`page ${b}: reached twice`));
      const overflow = Buffer.from(buf);
      const over = hash.length + 1; // a page that is not a hash page
      overflow.writeUInt32BE(over, a * size + 16);
      await refused(overflow, new RegExp(`page ${over}: has page type \\d+, expected 13 or 2`));
    });

    test('item offsets outside the page, odd item counts', async () => {
      const [hash] = pagesOf(good, 13);
      const buf = Buffer.from(good);
      buf.writeUInt16LE(pageSize + 100, (hash as number) * pageSize + 26);
      await refused(buf, /item 0 at \d+\.\.\d+ lies outside/);
      const odd = Buffer.from(good);
      odd.writeUInt16LE(
        odd.readUInt16LE((hash as number) * pageSize + 20) + 1,
        (hash as number) * pageSize + 20,
      );
      await refused(odd, /not key\/value pairs/);
    });
  });

  describe('hostile ndb files', () => {
    const PATH = 'usr/lib/sysimage/rpm/Packages.db';
    let good: Buffer;
    before(() => {
      good = ndbFile(headers);
    });
    const refused = refusedAt(PATH);
    const firstBlob = () => good.readUInt32LE(32 + 8) * 16;

    test('header: short, wrong magic, unknown version, slot pages past the end', async () => {
      await refused(good.subarray(0, 20), /shorter than its 32-byte header/);
      const magic = Buffer.from(good);
      magic.write('XpmP', 0, 'latin1');
      await refused(magic, /magic 58706d50 is not 'RpmP'/);
      const version = Buffer.from(good);
      version.writeUInt32LE(1, 4);
      await refused(version, /version 1/, 'LOCKFILE_UNSUPPORTED');
      const pages = Buffer.from(good);
      pages.writeUInt32LE(0xffffffff, 12);
      await refused(pages, /slot pages do not fit/);
    });

    test('slots: wrong magic, blob past the end (truncated), blob over the slot pages', async () => {
      const slot = Buffer.from(good);
      slot.write('Slob', 48, 'latin1');
      await refused(slot, /slot 3: magic .* is not 'Slot'/);
      await refused(
        good.subarray(0, good.length - 16),
        /runs past the end of the file \(truncated\)/,
      );
      const over = Buffer.from(good);
      over.writeUInt32LE(1, 32 + 8);
      await refused(over, /overlaps the slot pages/);
    });

    test('slots whose blobs overlap', async () => {
      const buf = Buffer.from(good);
      // Slot 3's blob starts inside slot 2's.
      buf.writeUInt32LE(buf.readUInt32LE(32 + 8) + 1, 48 + 8);
      await refused(buf, /slot 3 \(package \d+\): blob overlaps the blob of slot 2/);
    });

    test('blobs: wrong head magic, another package, bad checksum, bad tail', async () => {
      const head = Buffer.from(good);
      head.write('BlbX', firstBlob(), 'latin1');
      await refused(head, /blob magic .* is not 'BlbS'/);
      const owner = Buffer.from(good);
      owner.writeUInt32LE(77, firstBlob() + 4);
      await refused(owner, /blob belongs to package 77/);
      const sum = Buffer.from(good);
      sum.writeUInt8(sum.readUInt8(firstBlob() + 100) ^ 1, firstBlob() + 100);
      await refused(sum, /blob checksum [0-9a-f]+ ≠ computed/);
      const len = Buffer.from(good);
      len.writeUInt32LE(len.readUInt32LE(firstBlob() + 12) + 64, firstBlob() + 12);
      await refused(len, /does not match its \d+ blocks/);
    });
  });
});

describe('vouch sbom on a rootfs with an older rpm database', { skip: SKIP_BDB }, () => {
  test('CentOS 7 (var/lib/rpm/Packages) and SLES 15 (Packages.db) images: the packages with their purls', async (t) => {
    const root = await realpath(await mkdtemp(join(tmpdir(), 'vouch-rpm-cli-')));
    t.after(() => rm(root, { recursive: true, force: true }));
    const rpms = await buildRpms(join(root, 'top'), SPECS);
    await installSqlite(join(root, 'db'), rpms);
    const headers = await sqliteHeaders(join(root, 'db', 'rpmdb.sqlite'));
    const centos = async (tree: string) => {
      await bdbFile(join(tree, 'var', 'lib', 'rpm'), headers);
      await rm(join(tree, 'var', 'lib', 'rpm', 'Packages.dump'));
      await mkdir(join(tree, 'etc'));
      await writeFile(
        join(tree, 'etc', 'os-release'),
        'NAME="CentOS Linux"\nID="centos"\nVERSION_ID="7"\n',
      );
    };
    const sles = async (tree: string) => {
      await mkdir(join(tree, 'usr', 'lib', 'sysimage', 'rpm'), { recursive: true });
      await writeFile(join(tree, 'usr', 'lib', 'sysimage', 'rpm', 'Packages.db'), ndbFile(headers));
      await mkdir(join(tree, 'etc'));
      await writeFile(
        join(tree, 'etc', 'os-release'),
        'NAME="SLES"\nID="sles"\nVERSION_ID="15.5"\n',
      );
    };
    await mkdir(join(root, '.home'));
    const env = isolatedEnv(root, { SOURCE_DATE_EPOCH: '1700000000' });
    for (const [build, distro, file] of [
      [centos, 'centos-7', 'var/lib/rpm/Packages: rpm rpmdb bdb'],
      [sles, 'sles-15.5', 'usr/lib/sysimage/rpm/Packages.db: rpm rpmdb ndb'],
    ] as const) {
      const id = distro.split('-')[0];
      const image = join(root, `${id}-image`);
      await writeLayout(image, 'latest', [{ build, compression: 'gzip' }]);
      const r = await vouch(['sbom', image], { cwd: root, env });
      assert.equal(r.code, 0, show(r));
      assert.match(r.stderr, new RegExp(`${file}: declared 3, emitted 3, merged 0, skipped 0`));
      const doc = jsonOf(r);
      assert.deepEqual(doc.components.map((c: { purl: string }) => c.purl).sort(), [
        `pkg:rpm/${id}/vouch-app@1.2.3-4.fc40?arch=noarch&distro=${distro}&epoch=2`,
        `pkg:rpm/${id}/vouch-base@1.0-1.fc40?arch=noarch&distro=${distro}`,
        `pkg:rpm/${id}/vouch-lone@0.1-1?arch=noarch&distro=${distro}`,
      ]);
      const app = doc.components.find((c: { name: string }) => c.name === 'vouch-app');
      assert.deepEqual(app.licenses, [{ expression: 'MIT AND Apache-2.0' }]);
      // The same tree as a plain directory lists the same packages.
      const tree = join(root, `${id}-tree`);
      await mkdir(tree);
      await build(tree);
      const d = await vouch(['sbom', '.'], { cwd: tree, env });
      assert.equal(d.code, 0, show(d));
      assert.deepEqual(
        jsonOf(d)
          .components.map((c: { name: string; version: string }) => `${c.name}@${c.version}`)
          .sort(),
        ['vouch-app@1.2.3-4.fc40', 'vouch-base@1.0-1.fc40', 'vouch-lone@0.1-1'],
      );
    }
  });
});
