import { lstat, readdir, readFile } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { errorMessage, isVouchError, VouchError } from '../../core/errors.ts';
import { parseJson } from '../../core/json.ts';
import { statPath } from '../../core/stat.ts';
import { parseOsvRecord } from '../osv.ts';
import { DEFAULT_ZIP_LIMITS, readZipEntry, type ZipLimits, zipEntries } from './zip.ts';

/** One OSV record as read from an export: where it came from and its parsed JSON. */
export interface RawRecord {
  /** `file`, `file:line` or `zip!/entry`, for messages. */
  source: string;
  value: unknown;
}

/** A record that could not be used, and why: reported with a count, never dropped silently. */
export interface SkippedRecord {
  source: string;
  reason: string;
}

/** A record ready for the index: its id, the compact JSON stored, and the parsed model. */
export interface ImportedRecord {
  id: string;
  modified: string;
  json: string;
  value: Record<string, unknown>;
}

export interface RecordBatch {
  records: ImportedRecord[];
  skipped: SkippedRecord[];
}

/** Largest single record file or JSONL line accepted. */
const MAX_RECORD_BYTES = 16 * 1024 * 1024;
/** Largest JSONL or JSON-array file read whole. */
const MAX_FILE_BYTES = 2 * 1024 * 1024 * 1024 - 1;
/** Directory walk limits: records and depth. */
const MAX_FILES = 2_000_000;
const MAX_DEPTH = 16;

export type ExportKind = 'zip' | 'jsonl' | 'json' | 'yaml';

/** What an export's bytes are, from magic bytes first, then the name. */
export function kindOf(bytes: Buffer, name: string): ExportKind {
  if (bytes.length >= 4 && bytes.readUInt32LE(0) === 0x04034b50) return 'zip';
  if (bytes.length >= 4 && bytes.readUInt32LE(0) === 0x06054b50) return 'zip';
  const ext = extname(name.replace(/[?#].*$/, '')).toLowerCase();
  if (ext === '.zip') return 'zip';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  const text = bytes.subarray(0, 4096).toString('utf8').trimStart();
  if (text.startsWith('[')) return 'json';
  // One object per line, or one pretty-printed object: try JSONL when the first line is whole.
  const first = text.split('\n', 1)[0] ?? '';
  if (first.startsWith('{') && first.trimEnd().endsWith('}')) return 'jsonl';
  return 'json';
}

/**
 * The raw records of an export held in memory (a download, or a file read
 * whole): a zip of JSON records, JSONL, a JSON record or array, a YAML record.
 * Per-record problems become {@link SkippedRecord}s; a broken container (bad
 * zip, unreadable file) throws.
 *
 * @throws VouchError VULN_DB_CORRUPT | PATH_ESCAPE
 */
export function* recordsOfBytes(
  bytes: Buffer,
  name: string,
  skipped: SkippedRecord[],
  limits: ZipLimits = DEFAULT_ZIP_LIMITS,
): Generator<RawRecord> {
  const kind = kindOf(bytes, name);
  if (kind === 'zip') {
    const entries = zipEntries(bytes, name, limits);
    let total = 0;
    for (const e of entries) {
      if (e.name.endsWith('/')) continue;
      const ext = extname(e.name).toLowerCase();
      if (ext !== '.json' && ext !== '.yaml' && ext !== '.yml') continue;
      total += e.size;
      if (total > limits.maxTotalBytes) {
        throw new VouchError('VULN_DB_CORRUPT', 'inflated size passes the limit', { file: name });
      }
      const data = readZipEntry(bytes, e, name, limits);
      yield* recordsOfText(
        data.toString('utf8'),
        `${name}!/${e.name}`,
        ext === '.json' ? 'json' : 'yaml',
        skipped,
      );
    }
    return;
  }
  yield* recordsOfText(bytes.toString('utf8'), name, kind, skipped);
}

function* recordsOfText(
  text: string,
  source: string,
  kind: Exclude<ExportKind, 'zip'>,
  skipped: SkippedRecord[],
): Generator<RawRecord> {
  if (kind === 'jsonl') {
    let line = 0;
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      line++;
      const body = text.slice(start, end).trim();
      start = end + 1;
      if (body === '') continue;
      const where = `${source}:${line}`;
      try {
        yield { source: where, value: parseJson(body, where, { maxBytes: MAX_RECORD_BYTES }) };
      } catch (e) {
        skipped.push({ source: where, reason: reasonOf(e) });
      }
    }
    return;
  }
  let value: unknown;
  try {
    if (kind === 'yaml') {
      if (text.length > MAX_RECORD_BYTES) throw new Error('YAML record larger than 16 MiB');
      value = parseYaml(text, { maxAliasCount: 100 });
    } else {
      value = parseJson(text, source, { maxBytes: MAX_FILE_BYTES });
    }
  } catch (e) {
    skipped.push({ source, reason: reasonOf(e) });
    return;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) yield { source: `${source}[${i}]`, value: value[i] };
  } else yield { source, value };
}

/**
 * The raw records under a local path: a file (zip, JSONL, JSON, YAML) or a
 * directory of `.json`/`.yaml` records (walked in name order; symlinks below the
 * named path are not followed, so a record tree cannot point outside itself).
 *
 * @throws VouchError FILE_NOT_FOUND | FILE_READ | VULN_DB_CORRUPT | PATH_ESCAPE
 */
export async function* recordsOfPath(
  path: string,
  skipped: SkippedRecord[],
  limits: ZipLimits = DEFAULT_ZIP_LIMITS,
): AsyncGenerator<RawRecord> {
  // The path the user named may be a link (followed, as `vouch sbom` does);
  // links below it are not.
  const st = await statPath(path);
  if (!st.isDirectory() && !st.isFile()) {
    throw new VouchError('FILE_READ', 'not a file or directory', { file: path });
  }
  if (!st.isDirectory()) {
    if (st.size > MAX_FILE_BYTES) {
      throw new VouchError('VULN_DB_CORRUPT', 'export larger than 2 GiB', { file: path });
    }
    yield* recordsOfBytes(await readFile(path), path, skipped, limits);
    return;
  }
  let files = 0;
  const walk = async function* (dir: string, depth: number): AsyncGenerator<RawRecord> {
    if (depth > MAX_DEPTH) {
      skipped.push({ source: dir, reason: `nested deeper than ${MAX_DEPTH} directories` });
      return;
    }
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const d of entries) {
      const p = join(dir, d.name);
      if (d.name.startsWith('.')) continue;
      if (d.isDirectory()) {
        yield* walk(p, depth + 1);
        continue;
      }
      if (!d.isFile()) continue;
      const ext = extname(d.name).toLowerCase();
      if (ext !== '.json' && ext !== '.yaml' && ext !== '.yml') continue;
      if (++files > MAX_FILES) {
        throw new VouchError('VULN_DB_CORRUPT', `more than ${MAX_FILES} record files`, {
          file: path,
        });
      }
      const rel = relative(path, p);
      const size = (await lstat(p)).size;
      if (size > MAX_RECORD_BYTES) {
        skipped.push({ source: rel, reason: 'record file larger than 16 MiB' });
        continue;
      }
      const text = await readFile(p, 'utf8');
      yield* recordsOfText(text, rel, ext === '.json' ? 'json' : 'yaml', skipped);
    }
  };
  yield* walk(path, 0);
}

/**
 * Validates one raw record with the OSV parser; a bad one is skipped with its
 * reason. The stored JSON is the original object, compact.
 */
export function importRecord(raw: RawRecord, skipped: SkippedRecord[]): ImportedRecord | undefined {
  try {
    const rec = parseOsvRecord(raw.value, raw.source) as unknown as {
      id: string;
      modified: string;
    };
    return {
      id: rec.id,
      modified: rec.modified,
      json: JSON.stringify(raw.value),
      value: raw.value as Record<string, unknown>,
    };
  } catch (e) {
    skipped.push({ source: raw.source, reason: reasonOf(e) });
    return undefined;
  }
}

function reasonOf(e: unknown): string {
  if (isVouchError(e)) return `${e.code}: ${e.message}`;
  return errorMessage(e);
}
