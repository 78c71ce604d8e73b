import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { errorMessage, isVouchError, VouchError } from '../../core/errors.ts';
import { replaceSources, type SourceBatch, type SourceInfo, VulnDatabase } from './database.ts';
import { type LockOptions, withWriteLock } from './lock.ts';
import {
  type ImportedRecord,
  importRecord,
  type RawRecord,
  recordsOfBytes,
  recordsOfPath,
  type SkippedRecord,
} from './records.ts';

/** The public OSV exports bucket: `<base>/<ecosystem>/all.zip`. */
export const OSV_EXPORT_BASE = 'https://osv-vulnerabilities.storage.googleapis.com';

/** Ecosystems `vouch db update` fetches when the database names no source yet. */
export const DEFAULT_ECOSYSTEMS: readonly string[] = [
  'npm',
  'PyPI',
  'Go',
  'crates.io',
  'Maven',
  'NuGet',
  'RubyGems',
  'Packagist',
  'Hex',
  'Pub',
];

/** Largest export downloaded (bytes). */
export const MAX_DOWNLOAD_BYTES = 2 * 1024 * 1024 * 1024 - 1;

export function exportUrl(ecosystem: string, base = OSV_EXPORT_BASE): string {
  return `${base.replace(/\/+$/, '')}/${encodeURIComponent(ecosystem)}/all.zip`;
}

/** The per-user default database directory: `$XDG_CACHE_HOME/vouch/osv` (else `~/.cache/vouch/osv`). */
export function defaultDbDir(env: NodeJS.ProcessEnv): string {
  const cache = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(cache, 'vouch', 'osv');
}

export function isUrl(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

/** What happened to one source in an import or update. */
export interface SourceOutcome {
  url: string;
  status: 'imported' | 'not-modified';
  records: number;
  skipped: SkippedRecord[];
}

export interface ImportReport {
  db: string;
  sources: SourceOutcome[];
  /** True when the database file was replaced. */
  changed: boolean;
}

export interface FetchOptions {
  /** Per-request timeout, ms. */
  timeoutMs?: number;
  maxBytes?: number;
}

interface Download {
  status: 200 | 304;
  body: Buffer;
  etag: string | null;
  lastModified: string | null;
}

/**
 * GET with optional conditional headers; the body is read with a size cap
 * and checked against Content-Length, so a truncated transfer is an error,
 * never a smaller database.
 *
 * @throws VouchError VULN_DB_UPDATE_FAILED
 */
export async function download(
  url: string,
  conditional: { etag?: string | null; lastModified?: string | null } = {},
  options: FetchOptions = {},
): Promise<Download> {
  const fail = (message: string, cause?: unknown): never => {
    throw new VouchError('VULN_DB_UPDATE_FAILED', message, { file: url, cause });
  };
  const headers: Record<string, string> = { 'user-agent': 'vouch (OSV database update)' };
  if (conditional.etag) headers['if-none-match'] = conditional.etag;
  if (conditional.lastModified) headers['if-modified-since'] = conditional.lastModified;
  const maxBytes = options.maxBytes ?? MAX_DOWNLOAD_BYTES;
  let res: Response;
  try {
    res = await fetch(url, {
      headers,
      redirect: 'follow',
      signal: AbortSignal.timeout(options.timeoutMs ?? 10 * 60 * 1000),
    });
  } catch (e) {
    return fail(`cannot fetch: ${errorMessage(e)}`, e);
  }
  const etag = res.headers.get('etag');
  const lastModified = res.headers.get('last-modified');
  if (res.status === 304) {
    await res.body?.cancel();
    return { status: 304, body: Buffer.alloc(0), etag, lastModified };
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    return fail(`HTTP ${res.status} ${res.statusText}`);
  }
  const declared = res.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes) {
    await res.body?.cancel();
    return fail(`export of ${declared} bytes is larger than the limit of ${maxBytes}`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body ?? []) {
      total += chunk.length;
      if (total > maxBytes) {
        await res.body?.cancel().catch(() => {});
        return fail(`export is larger than the limit of ${maxBytes} bytes`);
      }
      chunks.push(Buffer.from(chunk));
    }
  } catch (e) {
    if (isVouchError(e)) throw e;
    return fail(`transfer broke off after ${total} bytes: ${errorMessage(e)}`, e);
  }
  if (declared !== null && Number(declared) !== total) {
    return fail(`truncated transfer: ${total} of ${declared} bytes`);
  }
  return { status: 200, body: Buffer.concat(chunks), etag, lastModified };
}

/**
 * The content checks every source passes before it may replace what the
 * database holds: at least one valid record, no more malformed records than
 * valid ones, and (when the source was imported before) not fewer than half
 * the records it had. Anything else looks like a broken or hostile export.
 *
 * @throws VouchError VULN_DB_UPDATE_FAILED
 */
export function verifyBatch(batch: SourceBatch, previous: SourceInfo | undefined): void {
  const fail = (message: string): never => {
    throw new VouchError('VULN_DB_UPDATE_FAILED', message, { file: batch.url });
  };
  const n = batch.records.length;
  const bad = batch.skipped.length;
  if (n === 0) {
    fail(
      `no valid OSV record (${bad} malformed${bad ? `, first: ${batch.skipped[0]?.source}: ${batch.skipped[0]?.reason}` : ''})`,
    );
  }
  if (bad > n) fail(`${bad} of ${n + bad} records are malformed: refusing the export`);
  if (previous && previous.records >= 20 && n < previous.records / 2) {
    fail(`holds ${n} records, fewer than half the ${previous.records} imported before: refusing`);
  }
}

function batchOf(raws: Iterable<RawRecord>, skipped: SkippedRecord[]): ImportedRecord[] {
  const records: ImportedRecord[] = [];
  for (const raw of raws) {
    const r = importRecord(raw, skipped);
    if (r) records.push(r);
  }
  return records;
}

async function batchOfPath(path: string): Promise<SourceBatch> {
  const skipped: SkippedRecord[] = [];
  const records: ImportedRecord[] = [];
  for await (const raw of recordsOfPath(path, skipped)) {
    const r = importRecord(raw, skipped);
    if (r) records.push(r);
  }
  return { url: path, records, skipped };
}

function batchOfDownload(url: string, d: Download): SourceBatch {
  const skipped: SkippedRecord[] = [];
  const name = basename(new URL(url).pathname) || url;
  const records = batchOf(recordsOfBytes(d.body, name, skipped), skipped);
  // Name records by URL in reports, not by the bare file name.
  for (const s of skipped)
    if (s.source.startsWith(name)) s.source = `${url}${s.source.slice(name.length)}`;
  return {
    url,
    records,
    skipped,
    etag: d.etag,
    lastModified: d.lastModified,
    sha256: createHash('sha256').update(d.body).digest('hex'),
  };
}

async function previousSources(dir: string): Promise<Map<string, SourceInfo>> {
  let db: VulnDatabase | undefined;
  try {
    db = await VulnDatabase.open(dir);
    return new Map(db.sources().map((s) => [s.url, s]));
  } catch (e) {
    if (isVouchError(e) && e.code === 'VULN_DB_MISSING') return new Map();
    throw e;
  } finally {
    db?.close();
  }
}

/**
 * Imports exports (local files, directories or URLs) into the database at
 * `dir`, each replacing what the same source gave before. All sources are
 * read and verified before the database is touched; then one atomic swap,
 * under the directory's writer lock: concurrent imports take turns, each
 * applied on top of the database the one before it left (none is lost).
 *
 * @throws VouchError FILE_* | VULN_DB_CORRUPT | VULN_DB_UPDATE_FAILED | VULN_DB_BUSY | PATH_ESCAPE | FILE_WRITE
 */
export async function importExports(
  dir: string,
  inputs: readonly string[],
  options: { now: Date; cwd: string; fetch?: FetchOptions; lock?: LockOptions },
): Promise<ImportReport> {
  // Refuse a foreign or newer database file before reading any export.
  await previousSources(dir);
  const batches: SourceBatch[] = [];
  for (const input of inputs) {
    const batch = isUrl(input)
      ? batchOfDownload(input, await download(input, {}, options.fetch))
      : await batchOfPath(resolve(options.cwd, input));
    verifyBatch(batch, undefined);
    batches.push(batch);
  }
  await withWriteLock(
    dir,
    () => replaceSources(dir, batches, options.now.toISOString()),
    options.lock,
  );
  return {
    db: dir,
    changed: true,
    sources: batches.map((b) => ({
      url: b.url,
      status: 'imported',
      records: new Set(b.records.map((r) => r.id)).size,
      skipped: b.skipped,
    })),
  };
}

/**
 * Refreshes the database from URLs: the given sources, else the URL sources
 * it already has, else the public OSV exports of {@link DEFAULT_ECOSYSTEMS}.
 * Each request is conditional (If-None-Match / If-Modified-Since from the
 * last import); a 304 keeps that source as it is. Every changed source is
 * verified ({@link verifyBatch}) before one atomic swap; any failure leaves
 * the old database untouched. The whole update holds the directory's writer
 * lock, so the conditional requests and the shrink check are made against
 * the database that the swap replaces.
 *
 * @throws VouchError VULN_DB_UPDATE_FAILED | VULN_DB_CORRUPT | VULN_DB_BUSY | FILE_WRITE
 */
export async function updateDatabase(
  dir: string,
  options: {
    now: Date;
    sources?: readonly string[];
    fetch?: FetchOptions;
    lock?: LockOptions;
  },
): Promise<ImportReport> {
  // Refuse a foreign or newer database file before creating anything beside it.
  await previousSources(dir);
  return withWriteLock(dir, () => updateLocked(dir, options), options.lock);
}

async function updateLocked(
  dir: string,
  options: { now: Date; sources?: readonly string[]; fetch?: FetchOptions },
): Promise<ImportReport> {
  const previous = await previousSources(dir);
  let urls = options.sources?.length ? [...options.sources] : [];
  if (urls.length === 0) urls = [...previous.keys()].filter(isUrl);
  if (urls.length === 0) urls = DEFAULT_ECOSYSTEMS.map((e) => exportUrl(e));
  for (const u of urls) {
    if (!isUrl(u)) {
      throw new VouchError(
        'USAGE',
        `update sources are http(s) URLs; use vouch db import for files`,
        {
          file: u,
        },
      );
    }
  }
  const outcomes: SourceOutcome[] = [];
  const batches: SourceBatch[] = [];
  for (const url of urls) {
    const prev = previous.get(url);
    const d = await download(
      url,
      { etag: prev?.etag, lastModified: prev?.lastModified },
      options.fetch,
    );
    if (d.status === 304) {
      if (!prev) {
        throw new VouchError('VULN_DB_UPDATE_FAILED', 'HTTP 304 for a source never imported', {
          file: url,
        });
      }
      outcomes.push({ url, status: 'not-modified', records: prev.records, skipped: [] });
      continue;
    }
    const batch = batchOfDownload(url, d);
    verifyBatch(batch, prev);
    batches.push(batch);
    outcomes.push({
      url,
      status: 'imported',
      records: new Set(batch.records.map((r) => r.id)).size,
      skipped: batch.skipped,
    });
  }
  if (batches.length > 0) await replaceSources(dir, batches, options.now.toISOString());
  return { db: dir, sources: outcomes, changed: batches.length > 0 };
}
