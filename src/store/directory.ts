import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic.ts';
import { type DigestAlgorithm, parseDigest } from '../core/digest.ts';
import { envelopeFromJson } from '../core/dsse.ts';
import { errorMessage, isVouchError, VouchError } from '../core/errors.ts';
import { isObject, parseJson } from '../core/json.ts';
import { PAYLOAD_TYPE_INTOTO, parseStatement, type Statement } from '../core/statement.ts';
import type { EvidenceEntry, EvidenceStore } from './store.ts';

/** The only on-disk format this code reads and writes. */
export const DIRECTORY_STORE_FORMAT = 'vouch-directory-store';
export const DIRECTORY_STORE_VERSION = 1;

/** Subject digest algorithms the index is keyed by (those `parseDigest` accepts). */
const INDEXED: readonly DigestAlgorithm[] = ['sha256', 'sha512'];
const HEX: Record<DigestAlgorithm, RegExp> = {
  sha256: /^[0-9a-f]{64}$/,
  sha512: /^[0-9a-f]{128}$/,
};
const ID = /^[0-9a-f]{64}$/;
const INDEX_FILE = /^([0-9a-f]{64})\.json$/;
const BUNDLE_MEDIA_TYPE =
  /^application\/vnd\.dev\.sigstore\.bundle(\.v0\.[1-9][0-9]*)?\+json(;.*)?$/;

export interface DirectoryStoreOptions {
  /** Clock for `storedAt`; tests pass a fixed one. */
  now?: () => Date;
}

/** Something found wrong by {@link DirectoryStore.check}; never thrown, always returned. */
export interface StoreProblem {
  kind: 'corrupt' | 'orphan-bundle' | 'temp-file';
  file: string;
  detail: string;
}

/**
 * The embedded evidence store: a directory (by convention `.vouch/`) that
 * several processes may write at once and that a kill never leaves
 * half-written.
 *
 * Layout (format version 1):
 *
 * ```
 * <root>/store.json                                   {"format":"vouch-directory-store","version":1}
 * <root>/bundles/sha256/<id[0..2]>/<id>.sigstore.json  bundle bytes; id = sha256 hex of exactly these bytes
 * <root>/index/<alg>/<subject hex>/<id>.json           EvidenceEntry, one file per (subject digest, bundle)
 * ```
 *
 * Why this shape:
 * - Every file is written with `writeFileAtomic` (temp + fsync + rename), so a
 *   reader sees a whole file or none, and a kill leaves at most a `.*.tmp-*`
 *   file, which every reader ignores.
 * - The bundle is written before any index file names it, so an index entry
 *   never points at a bundle that was not fully written. A kill between the
 *   two leaves an unindexed ("orphan") bundle that `find` and `list` do not
 *   see; putting the same bundle again completes it.
 * - There is no shared index file: each (subject, bundle) pair is its own
 *   file, so concurrent writers need no lock and cannot lose each other's
 *   updates. Identical content gives identical paths, so concurrent puts of
 *   the same bundle are harmless.
 * - Subjects are indexed under both sha256 and sha512 when the Statement
 *   carries them, so `find('sha512:…')` works for subjects that have a sha512
 *   digest. A subject is never found under an algorithm it does not carry.
 *
 * Corruption policy: fail closed. An index entry whose JSON or shape is
 * wrong, whose bundle is missing, or whose bundle bytes no longer hash to its
 * id makes `find`, `list` and `read` throw `STORE_CORRUPT` naming the file,
 * because silently dropping evidence could change a policy decision. Use
 * {@link DirectoryStore.check} to get every problem as a value instead.
 *
 * Stored is not trusted: the store checks that a bundle is a well-formed DSSE
 * in-toto bundle and indexes it by the subjects its Statement claims, but it
 * never verifies a signature. The entry fields (`predicateType`, `subjects`)
 * are an unauthenticated cache for lookup; callers must verify the bundle
 * (sign/verify) and read the Statement from the verified result.
 */
export class DirectoryStore implements EvidenceStore {
  readonly root: string;
  readonly #now: () => Date;
  /** Set once the marker has been seen or written; a store never changes version under us. */
  #marker: 'present' | 'absent' | undefined;

  constructor(root: string, options: DirectoryStoreOptions = {}) {
    this.root = root;
    this.#now = options.now ?? (() => new Date());
  }

  /**
   * Stores a serialized Sigstore bundle and indexes it under every sha256 and
   * sha512 subject digest of its Statement. Idempotent: putting the same bytes
   * again returns the entry stored first (same `storedAt`) and repairs any
   * index file a kill left out.
   *
   * @throws VouchError BUNDLE_MALFORMED (naming the field) | STORE_CORRUPT | FILE_WRITE
   */
  async put(bundle: Uint8Array): Promise<EvidenceEntry> {
    const statement = statementOfBundle(bundle);
    const id = sha256Hex(bundle);
    const keys = indexKeys(statement);
    if (keys.length === 0) {
      throw new VouchError(
        'BUNDLE_MALFORMED',
        'no subject has a sha256 or sha512 digest, so the store could never find this bundle',
        { field: '/dsseEnvelope/payload/subject' },
      );
    }
    await this.#ensureMarker(true);

    const bundlePath = this.#bundlePath(id);
    await writeFileAtomic(bundlePath, bundle);

    const existing = await this.#existingEntry(keys, id);
    const entry: EvidenceEntry = existing ?? {
      id,
      predicateType: statement.predicateType,
      subjects: statement.subject.map((s) => ({ name: s.name, digest: { ...s.digest } })),
      storedAt: this.#now().toISOString(),
    };
    const text = `${JSON.stringify(entry)}\n`;
    for (const { algorithm, hex } of keys) {
      const path = this.#indexPath(algorithm, hex, id);
      try {
        // Exclusive, so a concurrent put of the same bundle keeps the first storedAt.
        await writeFileAtomic(path, text, { exclusive: true });
      } catch (e) {
        if (!isExists(e)) throw e;
      }
    }
    return entry;
  }

  /**
   * Entries whose Statement names this digest, oldest first (then by id).
   * Accepts `sha256:<hex>` and `sha512:<hex>`.
   *
   * @throws VouchError DIGEST_MALFORMED | STORE_CORRUPT | FILE_READ
   */
  async find(digest: string): Promise<EvidenceEntry[]> {
    const { algorithm, hex } = parseDigest(digest);
    if (!(await this.#ensureMarker(false))) return [];
    const dir = join(this.root, 'index', algorithm, hex);
    const entries: EvidenceEntry[] = [];
    for (const id of await listIds(dir)) {
      entries.push(await this.#loadEntry(join(dir, `${id}.json`), id, { algorithm, hex }));
    }
    return sortEntries(entries);
  }

  /**
   * Every indexed bundle once, oldest first. Unindexed bundles (a put killed
   * before its index was written) are not listed.
   *
   * @throws VouchError STORE_CORRUPT | FILE_READ
   */
  async list(): Promise<EvidenceEntry[]> {
    if (!(await this.#ensureMarker(false))) return [];
    const byId = new Map<string, EvidenceEntry>();
    for (const algorithm of INDEXED) {
      for (const hex of await listNames(join(this.root, 'index', algorithm), HEX[algorithm])) {
        const dir = join(this.root, 'index', algorithm, hex);
        for (const id of await listIds(dir)) {
          if (byId.has(id)) continue;
          byId.set(id, await this.#loadEntry(join(dir, `${id}.json`), id, { algorithm, hex }));
        }
      }
    }
    return sortEntries([...byId.values()]);
  }

  /**
   * The bundle bytes stored under `id` (64 lower-case hex; a `sha256:` prefix
   * is accepted), checked against the id before they are returned.
   *
   * @throws VouchError DIGEST_MALFORMED | FILE_NOT_FOUND | STORE_CORRUPT | FILE_READ
   */
  async read(id: string): Promise<Buffer> {
    const hex = parseId(id);
    await this.#ensureMarker(false);
    return this.#readBundle(hex);
  }

  /**
   * Walks the whole store and returns every problem instead of throwing:
   * corrupt index entries or bundles, bundles no index names (left by a killed
   * put; harmless, put them again to index them) and leftover temp files.
   * An unknown store version still throws, since nothing else can be read.
   *
   * @throws VouchError STORE_CORRUPT (unknown version) | FILE_READ
   */
  async check(): Promise<StoreProblem[]> {
    const problems: StoreProblem[] = [];
    if (!(await this.#ensureMarker(false))) return problems;
    const indexed = new Set<string>();
    for (const algorithm of INDEXED) {
      const algDir = join(this.root, 'index', algorithm);
      for (const hex of await listNames(algDir, HEX[algorithm])) {
        const dir = join(algDir, hex);
        for (const name of await listNames(dir)) {
          const file = join(dir, name);
          const id = INDEX_FILE.exec(name)?.[1];
          if (id === undefined) {
            problems.push(strayFile(file));
            continue;
          }
          indexed.add(id);
          try {
            await this.#loadEntry(file, id, { algorithm, hex });
          } catch (e) {
            problems.push({ kind: 'corrupt', file, detail: errorMessage(e) });
          }
        }
      }
    }
    const bundlesDir = join(this.root, 'bundles', 'sha256');
    for (const fan of await listNames(bundlesDir, /^[0-9a-f]{2}$/)) {
      for (const name of await listNames(join(bundlesDir, fan))) {
        const file = join(bundlesDir, fan, name);
        const id = /^([0-9a-f]{64})\.sigstore\.json$/.exec(name)?.[1];
        if (id === undefined) {
          problems.push(strayFile(file));
        } else if (!indexed.has(id)) {
          problems.push({
            kind: 'orphan-bundle',
            file,
            detail: 'no index entry names this bundle',
          });
        }
      }
    }
    return problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  }

  /** Where the bundle with this id lives (whether or not it is stored). */
  bundlePath(id: string): string {
    return this.#bundlePath(id);
  }

  #bundlePath(id: string): string {
    return join(this.root, 'bundles', 'sha256', id.slice(0, 2), `${id}.sigstore.json`);
  }

  #indexPath(algorithm: DigestAlgorithm, hex: string, id: string): string {
    return join(this.root, 'index', algorithm, hex, `${id}.json`);
  }

  /** The entry an earlier put of the same bundle wrote, if any index file has it. */
  async #existingEntry(
    keys: ReadonlyArray<{ algorithm: DigestAlgorithm; hex: string }>,
    id: string,
  ): Promise<EvidenceEntry | undefined> {
    for (const key of keys) {
      const path = this.#indexPath(key.algorithm, key.hex, id);
      try {
        return await this.#loadEntry(path, id, key);
      } catch (e) {
        if (isVouchError(e) && e.code === 'FILE_NOT_FOUND' && e.file === path) continue;
        throw e;
      }
    }
    return undefined;
  }

  /**
   * Reads one index file and checks it against its place in the tree and
   * against the bundle it names.
   */
  async #loadEntry(
    file: string,
    id: string,
    key: { algorithm: DigestAlgorithm; hex: string },
  ): Promise<EvidenceEntry> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw readError(file, e);
    }
    let value: unknown;
    try {
      value = parseJson(text, file);
    } catch (e) {
      throw corrupt(file, `index entry is not valid JSON: ${errorMessage(e)}`, e);
    }
    const entry = entryFromJson(value, file);
    if (entry.id !== id) throw corrupt(file, `index entry names bundle ${entry.id}, not ${id}`);
    if (!entry.subjects.some((s) => s.digest[key.algorithm] === key.hex)) {
      throw corrupt(file, `index entry has no subject with ${key.algorithm}:${key.hex}`);
    }
    try {
      await this.#readBundle(id);
    } catch (e) {
      if (isVouchError(e) && e.code === 'FILE_NOT_FOUND') {
        throw corrupt(file, `index entry names a missing bundle: ${e.file}`, e);
      }
      throw e;
    }
    return entry;
  }

  async #readBundle(id: string): Promise<Buffer> {
    const path = this.#bundlePath(id);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (e) {
      throw readError(path, e);
    }
    const actual = sha256Hex(bytes);
    if (actual !== id) {
      throw corrupt(
        path,
        `bundle bytes hash to sha256:${actual}, not to their id ${id} (changed on disk)`,
      );
    }
    return bytes;
  }

  /**
   * Checks the version marker; with `create`, writes it for a new store.
   * Returns whether a store exists at the root. Fails closed on a version or
   * format it does not know.
   */
  async #ensureMarker(create: boolean): Promise<boolean> {
    if (this.#marker === 'present') return true;
    const path = join(this.root, 'store.json');
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw readError(path, e);
    }
    if (text === undefined) {
      if (!create) {
        // A root with data but no marker is not ours (or was damaged): refuse to guess.
        const names = await listNames(this.root);
        const data = names.find((n) => n === 'index' || n === 'bundles');
        if (data !== undefined) throw corrupt(path, `missing, but ${join(this.root, data)} exists`);
        this.#marker = 'absent';
        return false;
      }
      await mkdir(this.root, { recursive: true });
      const marker = `${JSON.stringify({ format: DIRECTORY_STORE_FORMAT, version: DIRECTORY_STORE_VERSION })}\n`;
      try {
        await writeFileAtomic(path, marker, { exclusive: true });
        this.#marker = 'present';
        return true;
      } catch (e) {
        if (!isExists(e)) throw e;
        // Another process created the store first; read what it wrote.
        return this.#ensureMarker(false);
      }
    }
    let value: unknown;
    try {
      value = parseJson(text, path);
    } catch (e) {
      throw corrupt(path, `store marker is not valid JSON: ${errorMessage(e)}`, e);
    }
    if (!isObject(value) || value.format !== DIRECTORY_STORE_FORMAT) {
      throw corrupt(
        path,
        `not a vouch directory store (expected "format": "${DIRECTORY_STORE_FORMAT}")`,
      );
    }
    if (value.version !== DIRECTORY_STORE_VERSION) {
      throw corrupt(
        path,
        `unknown store version ${JSON.stringify(value.version)}; this vouch reads version ${DIRECTORY_STORE_VERSION} (upgrade vouch)`,
      );
    }
    this.#marker = 'present';
    return true;
  }
}

/**
 * The Statement inside a serialized DSSE bundle, checked field by field. Every
 * failure is BUNDLE_MALFORMED with the JSON pointer of the offending field.
 */
function statementOfBundle(bytes: Uint8Array): Statement {
  const source = 'bundle';
  const bad = (field: string, message: string, cause?: unknown) =>
    new VouchError('BUNDLE_MALFORMED', message, { field, cause });
  let value: unknown;
  try {
    value = parseJson(Buffer.from(bytes).toString('utf8'), source);
  } catch (e) {
    throw bad('/', `not a JSON bundle: ${errorMessage(e)}`, e);
  }
  if (!isObject(value)) throw bad('/', 'bundle is not a JSON object');
  if (typeof value.mediaType !== 'string' || !BUNDLE_MEDIA_TYPE.test(value.mediaType)) {
    throw bad('/mediaType', `not a Sigstore bundle media type: ${JSON.stringify(value.mediaType)}`);
  }
  if (!isObject(value.verificationMaterial)) {
    throw bad('/verificationMaterial', 'missing or not a JSON object');
  }
  if (value.dsseEnvelope === undefined) {
    const why =
      value.messageSignature !== undefined ? ' (message-signature bundles carry no Statement)' : '';
    throw bad('/dsseEnvelope', `missing${why}`);
  }
  let envelope: ReturnType<typeof envelopeFromJson>;
  try {
    envelope = envelopeFromJson(value.dsseEnvelope, source);
  } catch (e) {
    const inner = isVouchError(e) && e.field && e.field !== '/' ? e.field : '';
    throw bad(`/dsseEnvelope${inner}`, errorMessage(e).replace(/^bundle: \S+: /, ''), e);
  }
  if (envelope.payloadType !== PAYLOAD_TYPE_INTOTO) {
    throw bad(
      '/dsseEnvelope/payloadType',
      `expected ${PAYLOAD_TYPE_INTOTO}, got ${JSON.stringify(envelope.payloadType)}`,
    );
  }
  try {
    return parseStatement(envelope.payload, source);
  } catch (e) {
    const inner = isVouchError(e) && e.field && e.field !== '/' ? e.field : '';
    const message = errorMessage(e).replace(/^bundle: \S+: /, '');
    throw bad(`/dsseEnvelope/payload${inner}`, `not an in-toto Statement: ${message}`, e);
  }
}

/** Distinct (algorithm, hex) pairs the Statement's subjects can be found by. */
function indexKeys(statement: Statement): Array<{ algorithm: DigestAlgorithm; hex: string }> {
  const seen = new Set<string>();
  const keys: Array<{ algorithm: DigestAlgorithm; hex: string }> = [];
  for (const s of statement.subject) {
    for (const algorithm of INDEXED) {
      const hex = s.digest[algorithm]?.toLowerCase();
      // statementFromJson already checks hex; re-checked here because it becomes a path.
      if (hex === undefined || !HEX[algorithm].test(hex)) continue;
      const k = `${algorithm}:${hex}`;
      if (seen.has(k)) continue;
      seen.add(k);
      keys.push({ algorithm, hex });
    }
  }
  return keys;
}

function entryFromJson(value: unknown, file: string): EvidenceEntry {
  if (!isObject(value)) throw corrupt(file, 'index entry is not a JSON object');
  const { id, predicateType, subjects, storedAt } = value;
  if (typeof id !== 'string' || !ID.test(id)) throw corrupt(file, '/id: not a sha256 hex id');
  if (typeof predicateType !== 'string') throw corrupt(file, '/predicateType: not a string');
  if (typeof storedAt !== 'string' || Number.isNaN(Date.parse(storedAt))) {
    throw corrupt(file, '/storedAt: not an RFC 3339 time');
  }
  if (!Array.isArray(subjects)) throw corrupt(file, '/subjects: not an array');
  const out: EvidenceEntry['subjects'] = subjects.map((s, i) => {
    if (!isObject(s) || typeof s.name !== 'string' || !isObject(s.digest)) {
      throw corrupt(file, `/subjects/${i}: not a subject`);
    }
    const digest: Record<string, string> = {};
    for (const [alg, hex] of Object.entries(s.digest)) {
      if (typeof hex !== 'string')
        throw corrupt(file, `/subjects/${i}/digest/${alg}: not a string`);
      digest[alg] = hex;
    }
    return { name: s.name, digest };
  });
  return { id, predicateType, subjects: out, storedAt };
}

function parseId(id: string): string {
  const hex = id
    .trim()
    .replace(/^sha256:/, '')
    .toLowerCase();
  if (!ID.test(hex)) {
    throw new VouchError(
      'DIGEST_MALFORMED',
      `not a bundle id: expected 64 hex characters (sha256), got ${JSON.stringify(id.slice(0, 80))}`,
    );
  }
  return hex;
}

/** Bundle ids of the index files in `dir`; temp files and anything else are ignored. */
async function listIds(dir: string): Promise<string[]> {
  const ids: string[] = [];
  for (const name of await listNames(dir)) {
    const id = INDEX_FILE.exec(name)?.[1];
    if (id !== undefined) ids.push(id);
  }
  return ids;
}

/** Sorted names in `dir` (matching `pattern` if given); a missing directory is empty. */
async function listNames(dir: string, pattern?: RegExp): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return [];
    throw readError(dir, e);
  }
  return (pattern ? names.filter((n) => pattern.test(n)) : names).sort();
}

function sortEntries(entries: EvidenceEntry[]): EvidenceEntry[] {
  return entries.sort(
    (a, b) =>
      Date.parse(a.storedAt) - Date.parse(b.storedAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

function strayFile(file: string): StoreProblem {
  return /\.tmp-[^/]*$/.test(file)
    ? { kind: 'temp-file', file, detail: 'left by an interrupted write; safe to delete' }
    : { kind: 'corrupt', file, detail: 'unexpected file in the store' };
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function isExists(e: unknown): boolean {
  return isVouchError(e) && (e.cause as NodeJS.ErrnoException | undefined)?.code === 'EEXIST';
}

function corrupt(file: string, message: string, cause?: unknown): VouchError {
  return new VouchError('STORE_CORRUPT', message, { file, cause });
}

function readError(file: string, e: unknown): VouchError {
  if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
    return new VouchError('FILE_NOT_FOUND', 'no such file', { file });
  }
  return new VouchError('FILE_READ', `cannot read: ${errorMessage(e)}`, { file, cause: e });
}
