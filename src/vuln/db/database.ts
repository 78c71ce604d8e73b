import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { syncDir } from '../../core/atomic.ts';
import { errorMessage, isVouchError, VouchError } from '../../core/errors.ts';
import { normalizeName } from '../versions/index.ts';
import { TEMP_PREFIX } from './lock.ts';
import type { ImportedRecord, SkippedRecord } from './records.ts';

/** The database file inside a `--db` directory. */
export const DB_FILE = 'osv.sqlite';
export const DB_FORMAT = 'vouch-osv-db';
export const DB_SCHEMA_VERSION = '1';

/**
 * Layout (schema 1). Records are stored as their original JSON; the index
 * is (base ecosystem, normalised name) → record, so a lookup is one indexed
 * query whatever the database's size.
 *
 * A record may come from several sources (one GHSA is in the npm and the
 * Maven export): it is stored once per source, and readers keep the most
 * recently modified copy of an id. Each source is replaced as a whole on
 * import, so records withdrawn from an export disappear with the next one.
 */
const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sources (
  url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, imported_at TEXT NOT NULL,
  records INTEGER NOT NULL, skipped INTEGER NOT NULL, sha256 TEXT
);
CREATE TABLE records (
  rid INTEGER PRIMARY KEY, id TEXT NOT NULL, source TEXT NOT NULL, modified TEXT NOT NULL,
  json TEXT NOT NULL, UNIQUE (source, id)
);
CREATE TABLE affected (ecosystem TEXT NOT NULL, name TEXT NOT NULL, full_ecosystem TEXT NOT NULL, rid INTEGER NOT NULL);
CREATE INDEX affected_key ON affected (ecosystem, name);
CREATE INDEX affected_rid ON affected (rid);
CREATE TABLE aliases (rid INTEGER NOT NULL, alias TEXT NOT NULL);
CREATE INDEX aliases_rid ON aliases (rid);
CREATE INDEX records_id ON records (id);
`;

export interface SourceInfo {
  url: string;
  etag: string | null;
  lastModified: string | null;
  importedAt: string;
  records: number;
  skipped: number;
  sha256: string | null;
}

export interface DbStatus {
  path: string;
  /** Distinct record ids. */
  records: number;
  /** Distinct record ids per base ecosystem (a record in two ecosystems counts in both). */
  ecosystems: Array<{ ecosystem: string; records: number }>;
  sources: SourceInfo[];
  /** Most recent import, RFC 3339, or null for an empty database. */
  updatedAt: string | null;
}

/** A stored record row as lookups return it. */
export interface StoredRecord {
  id: string;
  modified: string;
  json: string;
}

/** The base ecosystem of an OSV ecosystem string: `Debian:12` → `Debian`. */
export function baseEcosystem(ecosystem: string): string {
  const i = ecosystem.indexOf(':');
  return i === -1 ? ecosystem : ecosystem.slice(0, i);
}

/** The index key of a package name (the version-scheme owner's normalisation, else as is). */
export function indexName(ecosystem: string, name: string): string {
  try {
    return normalizeName(ecosystem, name);
  } catch {
    return name;
  }
}

/**
 * A read-only handle on a database file. Opening checks the format and
 * schema version, so a foreign or newer file is refused, not misread.
 */
export class VulnDatabase {
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #lookup: StatementSync;

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.#db = db;
    this.#lookup = db.prepare(
      `SELECT DISTINCT r.rid AS rid, r.id AS id, r.modified AS modified, r.json AS json
       FROM affected a JOIN records r ON r.rid = a.rid WHERE a.ecosystem = ? AND a.name = ?
       ORDER BY r.id, r.modified DESC, r.rid`,
    );
  }

  /**
   * @throws VouchError VULN_DB_MISSING | VULN_DB_CORRUPT
   */
  static async open(dir: string): Promise<VulnDatabase> {
    const path = join(dir, DB_FILE);
    try {
      await stat(path);
    } catch {
      throw new VouchError(
        'VULN_DB_MISSING',
        'no vulnerability database here: create one with `vouch db import <export>` or `vouch db update`',
        { file: path },
      );
    }
    return VulnDatabase.openFile(path);
  }

  /** @throws VouchError VULN_DB_CORRUPT */
  static openFile(path: string): VulnDatabase {
    let db: DatabaseSync | undefined;
    try {
      db = new DatabaseSync(path, { readOnly: true });
      checkFormat(db, path);
      return new VulnDatabase(path, db);
    } catch (e) {
      db?.close();
      if (isVouchError(e)) throw e;
      throw new VouchError('VULN_DB_CORRUPT', `not a readable database: ${errorMessage(e)}`, {
        file: path,
        cause: e,
      });
    }
  }

  /**
   * Records that name the package (base ecosystem, name normalised here),
   * one per id: the most recently modified copy.
   */
  lookup(ecosystem: string, name: string): StoredRecord[] {
    const eco = baseEcosystem(ecosystem);
    const rows = this.#lookup.all(eco, indexName(eco, name)) as unknown as StoredRecord[];
    const out: StoredRecord[] = [];
    for (const r of rows) {
      const last = out[out.length - 1];
      if (last && last.id === r.id) continue;
      out.push({ id: r.id, modified: r.modified, json: r.json });
    }
    return out;
  }

  /** Every (ecosystem, name) key of the index; for baselines and tests. */
  *allRecords(): Generator<StoredRecord> {
    const it = this.#db
      .prepare('SELECT id, modified, json FROM records ORDER BY id, modified DESC')
      .iterate();
    let last = '';
    for (const row of it as Iterable<StoredRecord>) {
      if (row.id === last) continue;
      last = row.id;
      yield { id: row.id, modified: row.modified, json: row.json };
    }
  }

  sources(): SourceInfo[] {
    return (
      this.#db.prepare('SELECT * FROM sources ORDER BY url').all() as Record<string, unknown>[]
    ).map(sourceInfo);
  }

  status(): DbStatus {
    const total = this.#db.prepare('SELECT COUNT(DISTINCT id) AS n FROM records').get() as {
      n: number;
    };
    const eco = this.#db
      .prepare(
        `SELECT a.ecosystem AS ecosystem, COUNT(DISTINCT r.id) AS n FROM affected a
         JOIN records r ON r.rid = a.rid GROUP BY a.ecosystem ORDER BY a.ecosystem`,
      )
      .all() as Array<{ ecosystem: string; n: number }>;
    const sources = this.sources();
    const updatedAt = sources.reduce<string | null>(
      (m, s) => (m === null || s.importedAt > m ? s.importedAt : m),
      null,
    );
    return {
      path: this.path,
      records: Number(total.n),
      ecosystems: eco.map((e) => ({ ecosystem: e.ecosystem, records: Number(e.n) })),
      sources,
      updatedAt,
    };
  }

  close(): void {
    this.#db.close();
  }
}

function sourceInfo(r: Record<string, unknown>): SourceInfo {
  return {
    url: String(r.url),
    etag: (r.etag as string | null) ?? null,
    lastModified: (r.last_modified as string | null) ?? null,
    importedAt: String(r.imported_at),
    records: Number(r.records),
    skipped: Number(r.skipped),
    sha256: (r.sha256 as string | null) ?? null,
  };
}

function checkFormat(db: DatabaseSync, path: string): void {
  let rows: Array<{ key: string; value: string }>;
  try {
    rows = db.prepare('SELECT key, value FROM meta').all() as typeof rows;
  } catch (e) {
    throw new VouchError('VULN_DB_CORRUPT', `not a vouch OSV database: ${errorMessage(e)}`, {
      file: path,
      cause: e,
    });
  }
  const meta = new Map(rows.map((r) => [r.key, r.value]));
  if (meta.get('format') !== DB_FORMAT) {
    throw new VouchError('VULN_DB_CORRUPT', 'not a vouch OSV database (no format marker)', {
      file: path,
    });
  }
  if (meta.get('schema') !== DB_SCHEMA_VERSION) {
    throw new VouchError(
      'VULN_DB_CORRUPT',
      `database schema ${JSON.stringify(meta.get('schema'))}; this vouch reads ${DB_SCHEMA_VERSION} (re-import)`,
      { file: path },
    );
  }
}

/** What one source contributes to a rebuild. */
export interface SourceBatch {
  url: string;
  records: ImportedRecord[];
  skipped: SkippedRecord[];
  etag?: string | null;
  lastModified?: string | null;
  sha256?: string | null;
}

/**
 * Writes a new database beside the old one and swaps it in atomically:
 * copy the old file (when there is one) to a temp name, replace the given
 * sources inside one transaction, fsync, rename over the old file, fsync the
 * directory. Any failure removes the temp file and leaves the old database
 * exactly as it was; readers with the old file open keep reading it.
 * The caller holds the directory's writer lock (`withWriteLock`): without
 * it, two writers would each copy the same old file and the second rename
 * would drop the first one's sources.
 *
 * @throws VouchError VULN_DB_CORRUPT (the old file is not ours) | FILE_WRITE
 */
export async function replaceSources(
  dir: string,
  batches: readonly SourceBatch[],
  importedAt: string,
): Promise<void> {
  const path = join(dir, DB_FILE);
  const tmp = join(dir, `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
  let db: DatabaseSync | undefined;
  try {
    await mkdir(dir, { recursive: true });
    const exists = await stat(path).then(
      () => true,
      () => false,
    );
    if (exists) {
      VulnDatabase.openFile(path).close();
      await copyFile(path, tmp);
    }
    db = new DatabaseSync(tmp);
    db.exec('PRAGMA journal_mode = DELETE; PRAGMA synchronous = FULL;');
    if (!exists) {
      db.exec(SCHEMA);
      const meta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
      meta.run('format', DB_FORMAT);
      meta.run('schema', DB_SCHEMA_VERSION);
    }
    db.exec('BEGIN');
    const delAffected = db.prepare(
      'DELETE FROM affected WHERE rid IN (SELECT rid FROM records WHERE source = ?)',
    );
    const delAliases = db.prepare(
      'DELETE FROM aliases WHERE rid IN (SELECT rid FROM records WHERE source = ?)',
    );
    const delRecords = db.prepare('DELETE FROM records WHERE source = ?');
    const delSource = db.prepare('DELETE FROM sources WHERE url = ?');
    const insRecord = db.prepare(
      'INSERT OR REPLACE INTO records (id, source, modified, json) VALUES (?, ?, ?, ?) RETURNING rid',
    );
    const insAffected = db.prepare(
      'INSERT INTO affected (ecosystem, name, full_ecosystem, rid) VALUES (?, ?, ?, ?)',
    );
    const insAlias = db.prepare('INSERT INTO aliases (rid, alias) VALUES (?, ?)');
    const insSource = db.prepare(
      `INSERT INTO sources (url, etag, last_modified, imported_at, records, skipped, sha256)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const b of batches) {
      delAffected.run(b.url);
      delAliases.run(b.url);
      delRecords.run(b.url);
      delSource.run(b.url);
      const seen = new Map<string, string>();
      let count = 0;
      for (const r of b.records) {
        // An export holding one id twice: keep the most recently modified copy.
        const prev = seen.get(r.id);
        if (prev !== undefined && prev >= r.modified) continue;
        if (prev !== undefined) {
          db.prepare(
            'DELETE FROM affected WHERE rid IN (SELECT rid FROM records WHERE source = ? AND id = ?)',
          ).run(b.url, r.id);
          db.prepare(
            'DELETE FROM aliases WHERE rid IN (SELECT rid FROM records WHERE source = ? AND id = ?)',
          ).run(b.url, r.id);
        } else count++;
        seen.set(r.id, r.modified);
        const { rid } = insRecord.get(r.id, b.url, r.modified, r.json) as { rid: number };
        const keys = new Set<string>();
        for (const a of Array.isArray(r.value.affected) ? r.value.affected : []) {
          const pkg = (a as { package?: { ecosystem?: unknown; name?: unknown } })?.package;
          if (typeof pkg?.ecosystem !== 'string' || typeof pkg.name !== 'string') continue;
          const eco = baseEcosystem(pkg.ecosystem);
          const key = `${eco}\0${indexName(eco, pkg.name)}\0${pkg.ecosystem}`;
          if (keys.has(key)) continue;
          keys.add(key);
          insAffected.run(eco, indexName(eco, pkg.name), pkg.ecosystem, rid);
        }
        const aliases = new Set<string>();
        const list = r.value.aliases;
        if (Array.isArray(list)) for (const x of list) if (typeof x === 'string') aliases.add(x);
        for (const alias of [...aliases].sort()) insAlias.run(rid, alias);
      }
      insSource.run(
        b.url,
        b.etag ?? null,
        b.lastModified ?? null,
        importedAt,
        count,
        b.skipped.length,
        b.sha256 ?? null,
      );
    }
    db.exec('COMMIT');
    db.close();
    db = undefined;
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    await syncDir(dir);
  } catch (e) {
    try {
      db?.close();
    } catch {
      // already failing; the temp file goes below
    }
    await rm(tmp, { force: true }).catch(() => {});
    await rm(`${tmp}-journal`, { force: true }).catch(() => {});
    if (isVouchError(e)) throw e;
    throw new VouchError('FILE_WRITE', `cannot write the database: ${errorMessage(e)}`, {
      file: path,
      cause: e,
    });
  }
}
