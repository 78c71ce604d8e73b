// Test support for the rpm readers (not a test file, not shipped): builds real
// rpm databases on this machine in each of rpm's three formats from one
// installed package set, so the readers can be compared against each other
// and against rpm itself.
//
// - SQLite: Debian's `rpm` (4.18) installs real .rpm files, built by the
//   real `rpmbuild`, into a `--dbpath` (its default backend).
// - Berkeley DB: Debian's `db5.3_load` (package db5.3-util) loads the same
//   headers, keyed by header number, into a genuine Berkeley DB hash file,
//   exactly what rpm < 4.16 keeps as `Packages`. rpm's own read-only BDB
//   backend (`--define '_db_backend bdb_ro'`) reads it back, which is the
//   oracle the tests use.
// - ndb: Debian's rpm is built without the ndb backend and no Debian tool
//   writes `Packages.db`, so `ndbFile` writes it here, block for block as
//   rpm's lib/backend/ndb/rpmpkg.c lays it out (header, slot pages, blobs with
//   head, padding and Adler-32 tail). The reader was also checked by hand
//   against a Packages.db from a real SLES 15 image (not committed).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';

export const HAVE_RPM = ['rpm', 'rpmbuild'].every(has);
export const DB_LOAD = ['db5.3_load', 'db_load'].find(has);

function has(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

/** Builds each spec with the real rpmbuild; returns the .rpm paths, sorted. */
export async function buildRpms(top: string, specs: Record<string, string>): Promise<string[]> {
  await mkdir(join(top, 'SPECS'), { recursive: true });
  for (const [name, spec] of Object.entries(specs)) {
    const file = join(top, 'SPECS', `${name}.spec`);
    await writeFile(file, spec);
    execFileSync('rpmbuild', ['--define', `_topdir ${top}`, '-bb', file], { stdio: 'ignore' });
  }
  const out = join(top, 'RPMS', 'noarch');
  return (await readdir(out)).map((f) => join(out, f)).sort();
}

/** Installs the packages (database only) into a fresh SQLite rpmdb at `db`. */
export async function installSqlite(db: string, rpms: readonly string[]): Promise<void> {
  await mkdir(db, { recursive: true });
  execFileSync('rpm', ['--initdb', '--dbpath', db]);
  execFileSync('rpm', ['-i', '--justdb', '--nodeps', '--dbpath', db, ...rpms], {
    stdio: 'ignore',
  });
}

export interface Header {
  hnum: number;
  blob: Buffer;
}

/** The header blobs of a SQLite rpmdb, by header number. */
export async function sqliteHeaders(path: string): Promise<Header[]> {
  const { DatabaseSync } = await import('node:sqlite');
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const rows = db.prepare('SELECT hnum, blob FROM Packages ORDER BY hnum').all();
    return rows.map((r) => ({ hnum: Number(r.hnum), blob: Buffer.from(r.blob as Uint8Array) }));
  } finally {
    db.close();
  }
}

export interface BdbOptions {
  bigEndian?: boolean;
  pageSize?: number;
  /** Berkeley DB's h_ffactor: fewer items per bucket means more buckets. */
  fillFactor?: number;
}

/**
 * Writes `dir/Packages` as rpm < 4.16 would hold these headers: a Berkeley DB
 * hash database, key the header number as a 4-byte integer in the file's
 * byte order, value the header blob, plus rpm's key 0 (the next free header
 * number). Made by the real db_load from its `db_dump` text format.
 */
export async function bdbFile(
  dir: string,
  headers: readonly Header[],
  options: BdbOptions = {},
): Promise<string> {
  if (!DB_LOAD) throw new Error('db_load is not installed (apt-get install db5.3-util)');
  const int = (n: number): string => {
    const b = Buffer.alloc(4);
    if (options.bigEndian) b.writeUInt32BE(n);
    else b.writeUInt32LE(n);
    return b.toString('hex');
  };
  const next = Math.max(0, ...headers.map((h) => h.hnum)) + 1;
  const lines = ['VERSION=3', 'format=bytevalue', 'type=hash', 'HEADER=END', ` ${int(0)}`];
  lines.push(` ${int(next)}`);
  for (const h of headers) lines.push(` ${int(h.hnum)}`, ` ${h.blob.toString('hex')}`);
  lines.push('DATA=END', '');
  await mkdir(dir, { recursive: true });
  const dump = join(dir, 'Packages.dump');
  await writeFile(dump, lines.join('\n'));
  const config: string[] = [];
  if (options.bigEndian) config.push('-c', 'db_lorder=4321');
  if (options.pageSize) config.push('-c', `db_pagesize=${options.pageSize}`);
  if (options.fillFactor) config.push('-c', `h_ffactor=${options.fillFactor}`);
  const out = join(dir, 'Packages');
  execFileSync(DB_LOAD, [...config, '-f', dump, '-t', 'hash', out]);
  return out;
}

/** rpm -qa on a database directory, one `NAME VERSION-RELEASE EPOCHNUM LICENSE` line per package, sorted. */
export function rpmQa(dbpath: string, backend?: 'bdb_ro'): string[] {
  const define = backend ? ['--define', `_db_backend ${backend}`] : [];
  return execFileSync(
    'rpm',
    [
      ...define,
      '-qa',
      '--dbpath',
      dbpath,
      '--qf',
      '%{NAME} %{VERSION}-%{RELEASE} %{EPOCHNUM} %{ARCH} %{LICENSE}\\n',
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  )
    .split('\n')
    .filter(Boolean)
    .sort();
}

const PAGE = 4096;
const BLK = 16;

/** Adler-32 from zlib (a zlib stream ends with the Adler-32 of its input), independent of the reader's. */
export function zlibAdler32(data: Uint8Array): number {
  const z = deflateSync(data, { level: 0 });
  return z.readUInt32BE(z.length - 4);
}

/**
 * A `Packages.db` (rpm's ndb) holding these headers, laid out as rpmpkg.c
 * writes it: header 'RpmP', slot pages (all slots marked 'Slot', unused ones
 * free), then one blob per package in block order. `freeSlots` leaves that
 * many free slots before the used ones, as a database that has had packages
 * erased does.
 */
export function ndbFile(headers: readonly Header[], freeSlots = 0): Buffer {
  const slots = 2 + freeSlots + headers.length;
  const slotPages = Math.ceil(slots / (PAGE / 16));
  const blobs: Buffer[] = [];
  const table = Buffer.alloc(slotPages * PAGE);
  table.write('RpmP', 0, 'latin1');
  table.writeUInt32LE(0, 4); // version
  table.writeUInt32LE(headers.length + 1, 8); // generation
  table.writeUInt32LE(slotPages, 12);
  table.writeUInt32LE(Math.max(0, ...headers.map((h) => h.hnum)) + 1, 16);
  for (let at = 32; at < table.length; at += 16) table.write('Slot', at, 'latin1');
  let blkoff = slotPages * (PAGE / BLK);
  headers.forEach((h, i) => {
    const blkcnt = Math.ceil((16 + h.blob.length + 12) / BLK);
    const blob = Buffer.alloc(blkcnt * BLK);
    blob.write('BlbS', 0, 'latin1');
    blob.writeUInt32LE(h.hnum, 4);
    blob.writeUInt32LE(1700000000, 8); // timestamp
    blob.writeUInt32LE(h.blob.length, 12);
    h.blob.copy(blob, 16);
    const tail = blob.length - 12;
    blob.writeUInt32LE(zlibAdler32(blob.subarray(0, tail)), tail);
    blob.writeUInt32LE(h.blob.length, tail + 4);
    blob.write('BlbE', tail + 8, 'latin1');
    const slot = (2 + freeSlots + i) * 16;
    table.writeUInt32LE(h.hnum, slot + 4);
    table.writeUInt32LE(blkoff, slot + 8);
    table.writeUInt32LE(blkcnt, slot + 12);
    blkoff += blkcnt;
    blobs.push(blob);
  });
  return Buffer.concat([table, ...blobs]);
}
