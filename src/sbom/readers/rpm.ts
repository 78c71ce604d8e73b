import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorMessage, VouchError } from '../../core/errors.ts';
import { ResultBuilder } from '../builder.ts';
import type { ReaderResult } from '../model.ts';
import type { Reader, SourceFile } from '../reader.ts';
import { bdbKeyUint32, readBdbHash } from './rpm-bdb.ts';
import { RpmHeader, TAG } from './rpm-header.ts';
import { readNdb } from './rpm-ndb.ts';

/**
 * The rpm database, in each of the three forms rpm has kept it:
 *
 * - SQLite, `rpmdb.sqlite` (rpm ≥ 4.16: Fedora 33+, RHEL/Rocky/Alma 9,
 *   Amazon Linux 2023, openSUSE Tumbleweed): table `Packages(hnum, blob)`;
 * - Berkeley DB hash, `Packages` (CentOS/RHEL 7 and 8, Amazon Linux 2, older
 *   SUSE): key the header number, value the header (rpm-bdb.ts);
 * - ndb, `Packages.db` (SLES 15 SP3+, openSUSE Leap 15.3+) (rpm-ndb.ts).
 *
 * All three hold one RPM header per package; the same code maps headers to
 * components. The database lives in `var/lib/rpm/` or (Fedora 36+, SUSE,
 * where `var/lib/rpm` is a symlink) `usr/lib/sysimage/rpm/`.
 */
export const rpmReader: Reader = {
  name: 'rpm',
  matches(path) {
    return DB_RE.test(path);
  },
  async read(file) {
    const kind = DB_RE.exec(file.path)?.[2];
    switch (kind) {
      case 'rpmdb.sqlite':
        return headersToResult(file, 'rpmdb sqlite', await sqliteBlobs(file));
      case 'Packages':
        return headersToResult(file, 'rpmdb bdb', bdbBlobs(await file.bytes(), file.path));
      case 'Packages.db':
        return headersToResult(file, 'rpmdb ndb', ndbBlobs(await file.bytes(), file.path));
      default:
        throw new VouchError('LOCKFILE_UNSUPPORTED', 'not an rpm database name', {
          file: file.path,
        });
    }
  },
};

const DB_RE =
  /(^|\/)(?:var\/lib\/rpm|usr\/lib\/sysimage\/rpm)\/(rpmdb\.sqlite|Packages|Packages\.db)$/;

/** One stored header and the number the database knows it by (hnum, key or pkgidx). */
interface StoredHeader {
  hnum: number;
  blob: Uint8Array;
}

async function sqliteBlobs(file: SourceFile): Promise<StoredHeader[]> {
  return withDatabaseCopy(file, (db) => {
    const rows = db.prepare('SELECT hnum, blob FROM Packages ORDER BY hnum').all();
    return rows.map((r) => ({ hnum: Number(r.hnum), blob: r.blob as Uint8Array }));
  });
}

function bdbBlobs(buf: Buffer, path: string): StoredHeader[] {
  const out: StoredHeader[] = [];
  for (const { key, value } of readBdbHash(buf, path)) {
    const hnum = bdbKeyUint32(buf, key);
    if (hnum === undefined) {
      throw new VouchError(
        'LOCKFILE_MALFORMED',
        `Berkeley DB key of ${key.length} bytes (${key.subarray(0, 16).toString('hex')}) is not an rpm header number`,
        { file: path },
      );
    }
    // Key 0 is rpm's counter of the next header number, not a package.
    if (hnum === 0) continue;
    out.push({ hnum, blob: value });
  }
  return out.sort((a, b) => a.hnum - b.hnum);
}

function ndbBlobs(buf: Buffer, path: string): StoredHeader[] {
  return readNdb(buf, path)
    .map(({ pkgidx, blob }) => ({ hnum: pkgidx, blob }))
    .sort((a, b) => a.hnum - b.hnum);
}

function headersToResult(file: SourceFile, format: string, blobs: StoredHeader[]): ReaderResult {
  const b = new ResultBuilder(file.path, 'rpm', format);
  const distro = file.context?.distro;
  interface Pkg {
    ref: string;
    header: RpmHeader;
  }
  const present: Pkg[] = [];
  const provides = new Map<string, string>();
  const owners = new Map<string, string>();
  for (const { hnum, blob } of blobs) {
    b.declare();
    let h: RpmHeader;
    try {
      h = new RpmHeader(blob, `${file.path} (hnum ${hnum})`);
    } catch (e) {
      // One broken row is that row's problem, reported, not the whole database's.
      b.skip(`hnum ${hnum}`, errorMessage(e));
      continue;
    }
    const name = h.string(TAG.NAME);
    const version = h.string(TAG.VERSION);
    const release = h.string(TAG.RELEASE);
    const entry = `${name ?? '?'} (hnum ${hnum})`;
    if (!name || !version) {
      b.skip(entry, 'header has no NAME or VERSION');
      continue;
    }
    if (name === 'gpg-pubkey') {
      b.skip(entry, 'an imported signing key (gpg-pubkey), not a package');
      continue;
    }
    const arch = h.string(TAG.ARCH);
    const epoch = h.int32(TAG.EPOCH);
    const qualifiers: Record<string, string> = {};
    if (arch) qualifiers.arch = arch;
    if (epoch !== undefined && epoch !== 0) qualifiers.epoch = String(epoch);
    if (distro?.versionId) qualifiers.distro = `${distro.id}-${distro.versionId}`;
    const properties: Record<string, string> = {};
    const sourceRpm = h.string(TAG.SOURCERPM);
    if (sourceRpm) properties['rpm:sourcerpm'] = sourceRpm;
    const vendor = h.string(TAG.VENDOR);
    if (vendor) properties['rpm:vendor'] = vendor;
    const modularity = h.has(TAG.MODULARITYLABEL) ? h.string(TAG.MODULARITYLABEL) : undefined;
    if (modularity) properties['rpm:modularitylabel'] = modularity;
    const license = h.string(TAG.LICENSE);
    const ref = b.add({
      ecosystem: 'rpm',
      namespace: distro?.id,
      name,
      version: release ? `${version}-${release}` : version,
      licenses: license ? [license] : [],
      qualifiers,
      properties,
    });
    present.push({ ref, header: h });
    for (const p of [name, ...h.strings(TAG.PROVIDENAME)])
      if (!provides.has(p)) provides.set(p, ref);
    for (const f of h.files()) if (!owners.has(f)) owners.set(f, ref);
  }
  for (const { ref, header } of present) {
    const names = header.strings(TAG.REQUIRENAME);
    const flags = header.int32s(TAG.REQUIREFLAGS);
    names.forEach((req, i) => {
      // rpmlib(...) and config(...) are features of rpm itself, not packages.
      if (((flags[i] ?? 0) & RPMSENSE_RPMLIB) !== 0 || req.startsWith('rpmlib(')) return;
      const target = provides.get(req) ?? (req.startsWith('/') ? owners.get(req) : undefined);
      if (target) b.depend(ref, target);
    });
  }
  return b.build();
}

const RPMSENSE_RPMLIB = 1 << 24;

/**
 * SQLite needs a file to open; the scanned tree is never written to (nor
 * opened by SQLite, which would create -shm files beside it), so the
 * database and its write-ahead log are copied to a private temp directory.
 */
async function withDatabaseCopy<T>(
  file: SourceFile,
  use: (db: import('node:sqlite').DatabaseSync) => T,
): Promise<T> {
  const { DatabaseSync } = await import('node:sqlite');
  const dir = await mkdtemp(join(tmpdir(), 'vouch-rpmdb-'));
  try {
    const path = join(dir, 'rpmdb.sqlite');
    await writeFile(path, await file.bytes(), { mode: 0o600 });
    const wal = await file.sibling('rpmdb.sqlite-wal');
    if (wal && wal.length > 0) await writeFile(`${path}-wal`, wal, { mode: 0o600 });
    let db: import('node:sqlite').DatabaseSync;
    try {
      db = new DatabaseSync(path, { readOnly: true });
    } catch (e) {
      throw new VouchError('LOCKFILE_MALFORMED', `not a SQLite database: ${errorMessage(e)}`, {
        file: file.path,
        cause: e,
      });
    }
    try {
      return use(db);
    } catch (e) {
      if (e instanceof VouchError) throw e;
      throw new VouchError('LOCKFILE_MALFORMED', `not an rpm database: ${errorMessage(e)}`, {
        file: file.path,
        cause: e,
      });
    } finally {
      db.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
