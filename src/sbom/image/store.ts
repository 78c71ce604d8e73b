import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { pipeline, Readable } from 'node:stream';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { errorMessage, VouchError } from '../../core/errors.ts';
import { normaliseTarPath, readTar, type TarLimits } from '../tar.ts';

/**
 * Where an image's files live: a directory (OCI image layout, or a `docker
 * save` tree) or a tar archive of one. Paths are relative, `/`-separated,
 * and normalised so none can leave the store.
 */
export interface BlobStore {
  /** The image path as the user gave it, for error messages. */
  readonly name: string;
  has(path: string): Promise<boolean>;
  /** Reads a small member whole; ARCHIVE_TOO_LARGE past `maxBytes`. */
  readAll(path: string, maxBytes: number): Promise<Buffer>;
  /** Streams a member. */
  open(path: string): AsyncIterable<Buffer>;
}

export class DirStore implements BlobStore {
  readonly name: string;
  readonly #root: string;

  constructor(root: string, name: string) {
    this.#root = root;
    this.name = name;
  }

  #abs(path: string): string {
    return join(this.#root, ...normaliseTarPath(path, this.name).split('/'));
  }

  async has(path: string): Promise<boolean> {
    try {
      return (await lstat(this.#abs(path))).isFile();
    } catch {
      return false;
    }
  }

  async readAll(path: string, maxBytes: number): Promise<Buffer> {
    const abs = this.#abs(path);
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(abs, 'r');
    } catch (e) {
      throw missing(this.name, path, e);
    }
    try {
      const { size } = await fh.stat();
      if (size > maxBytes) {
        throw new VouchError('ARCHIVE_TOO_LARGE', `${path} is ${size} bytes, over ${maxBytes}`, {
          file: this.name,
        });
      }
      return await fh.readFile();
    } finally {
      await fh.close();
    }
  }

  async *open(path: string): AsyncIterable<Buffer> {
    const stream = createReadStream(this.#abs(path), { highWaterMark: 256 * 1024 });
    try {
      for await (const chunk of stream) yield chunk as Buffer;
    } catch (e) {
      throw missing(this.name, path, e);
    }
  }
}

interface Member {
  type: 'file' | 'symlink' | 'hardlink' | 'directory' | 'other';
  dataOffset: number;
  size: number;
  linkname: string;
  /** A GNU sparse member: its stored bytes are not its content, so it is re-streamed. */
  sparse: boolean;
}

/**
 * A tar archive of an image (`docker save`, `skopeo copy … docker-archive:`,
 * `oci-archive:`). Members are indexed in one pass; a plain tar is then read
 * at member offsets, a compressed one (`docker save | gzip`) or a sparse
 * member (whose stored bytes leave out its holes) is re-streamed.
 */
export class TarStore implements BlobStore {
  readonly name: string;
  readonly #path: string;
  readonly #members = new Map<string, Member>();
  #compressed = false;

  private constructor(path: string, name: string) {
    this.#path = path;
    this.name = name;
  }

  /** @throws VouchError ARCHIVE_MALFORMED | ARCHIVE_UNSAFE | ARCHIVE_TOO_LARGE | FILE_* */
  static async index(path: string, name: string, limits: Partial<TarLimits>): Promise<TarStore> {
    const store = new TarStore(path, name);
    const source = decompress(fileChunks(path, name), name, (kind) => {
      store.#compressed = kind !== 'plain';
    });
    for await (const { entry } of readTar(source, { name, limits })) {
      store.#members.set(entry.path, {
        type: entry.type,
        dataOffset: entry.dataOffset,
        size: entry.size,
        linkname: entry.linkname,
        sparse: entry.sparse !== undefined,
      });
    }
    return store;
  }

  #resolve(path: string): { path: string; member: Member } | undefined {
    let p = normaliseTarPath(path, this.name);
    for (let hops = 0; hops < 16; hops++) {
      const m = this.#members.get(p);
      if (!m) return undefined;
      if (m.type === 'file') return { path: p, member: m };
      if (m.type === 'hardlink') p = m.linkname;
      else if (m.type === 'symlink') {
        // `docker save` links a layer shared by two images to the first copy.
        const target = posix.normalize(posix.join(posix.dirname(p), m.linkname));
        if (m.linkname.startsWith('/') || target.startsWith('../') || target === '..') {
          throw new VouchError('ARCHIVE_UNSAFE', `member ${p} links outside the archive`, {
            file: this.name,
          });
        }
        p = target;
      } else return undefined;
    }
    throw new VouchError('ARCHIVE_UNSAFE', `too many links resolving member ${path}`, {
      file: this.name,
    });
  }

  async has(path: string): Promise<boolean> {
    return this.#resolve(path) !== undefined;
  }

  async readAll(path: string, maxBytes: number): Promise<Buffer> {
    const r = this.#resolve(path);
    if (!r) throw missing(this.name, path);
    if (r.member.size > maxBytes) {
      throw new VouchError(
        'ARCHIVE_TOO_LARGE',
        `${path} is ${r.member.size} bytes, over ${maxBytes}`,
        {
          file: this.name,
        },
      );
    }
    const parts: Buffer[] = [];
    for await (const c of this.open(path)) parts.push(c);
    return Buffer.concat(parts);
  }

  async *open(path: string): AsyncIterable<Buffer> {
    const r = this.#resolve(path);
    if (!r) throw missing(this.name, path);
    const { member } = r;
    if (member.size === 0) return;
    if (!this.#compressed && !member.sparse) {
      yield* fileChunks(
        this.#path,
        this.name,
        member.dataOffset,
        member.dataOffset + member.size - 1,
      );
      return;
    }
    const source = decompress(fileChunks(this.#path, this.name), this.name);
    for await (const item of readTar(source, { name: this.name })) {
      if (item.entry.path === r.path) {
        yield* item.body();
        return;
      }
    }
    throw missing(this.name, path);
  }
}

async function* fileChunks(
  path: string,
  name: string,
  start?: number,
  end?: number,
): AsyncGenerator<Buffer> {
  const stream = createReadStream(path, { start, end, highWaterMark: 256 * 1024 });
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (e) {
    throw missing(name, '', e);
  } finally {
    stream.destroy();
  }
}

function missing(name: string, path: string, cause?: unknown): VouchError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (cause === undefined || code === 'ENOENT') {
    return new VouchError('IMAGE_MALFORMED', `missing ${path || 'file'}`, { file: name, cause });
  }
  return new VouchError('FILE_READ', `cannot read ${path}: ${errorMessage(cause)}`, {
    file: name,
    cause,
  });
}

export type Compression = 'plain' | 'gzip' | 'zstd';

/**
 * Decompresses by magic number (gzip 1f 8b, zstd 28 b5 2f fd), passing plain
 * data through. The media type is not trusted for this: the digest, checked
 * separately, is what makes the bytes trustworthy.
 */
export async function* decompress(
  source: AsyncIterable<Buffer>,
  name: string,
  onKind?: (kind: Compression) => void,
): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]();
  let head: Buffer = Buffer.alloc(0);
  while (head.length < 4) {
    const r = await it.next();
    if (r.done) break;
    head = head.length === 0 ? r.value : Buffer.concat([head, r.value]);
  }
  const rest = (async function* () {
    if (head.length > 0) yield head;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  })();
  const kind: Compression =
    head[0] === 0x1f && head[1] === 0x8b
      ? 'gzip'
      : head.readUInt32LE(0) === 0xfd2fb528 && head.length >= 4
        ? 'zstd'
        : 'plain';
  onKind?.(kind);
  if (kind === 'plain') {
    yield* rest;
    return;
  }
  const z = kind === 'gzip' ? createGunzip() : createZstdDecompress();
  const input = Readable.from(rest, { objectMode: false });
  let failure: unknown;
  pipeline(input, z, (err) => {
    if (err) failure = err;
  });
  try {
    for await (const chunk of z) yield chunk as Buffer;
  } catch (e) {
    const cause = failure ?? e;
    if (cause instanceof VouchError) throw cause;
    throw new VouchError('ARCHIVE_MALFORMED', `cannot ${kind}-decompress: ${errorMessage(cause)}`, {
      file: name,
      cause,
    });
  }
  if (failure instanceof VouchError) throw failure;
  if (failure) {
    throw new VouchError(
      'ARCHIVE_MALFORMED',
      `cannot ${kind}-decompress: ${errorMessage(failure)}`,
      {
        file: name,
        cause: failure,
      },
    );
  }
}

/**
 * Passes chunks through while hashing and counting them; when the source
 * ends, checks the total against the expected sha256 and size and throws
 * IMAGE_DIGEST_MISMATCH on any difference. `verified.ok` is set only then,
 * so a caller can tell a stream that was checked from one abandoned early.
 */
export function digestChecked(
  source: AsyncIterable<Buffer>,
  expect: { sha256: string; size?: number | undefined },
  what: string,
  name: string,
): AsyncIterable<Buffer> & { ok: boolean; bytes: number } {
  const state = {
    ok: false,
    bytes: 0,
    async *[Symbol.asyncIterator]() {
      const h = createHash('sha256');
      for await (const c of source) {
        h.update(c);
        state.bytes += c.length;
        if (expect.size !== undefined && state.bytes > expect.size) {
          throw new VouchError(
            'IMAGE_DIGEST_MISMATCH',
            `${what} is larger than its descriptor's ${expect.size} bytes`,
            { file: name },
          );
        }
        yield c;
      }
      const got = h.digest('hex');
      if (got !== expect.sha256 || (expect.size !== undefined && state.bytes !== expect.size)) {
        throw new VouchError(
          'IMAGE_DIGEST_MISMATCH',
          `${what} has sha256:${got} (${state.bytes} bytes), expected sha256:${expect.sha256}${expect.size !== undefined ? ` (${expect.size} bytes)` : ''}`,
          { file: name },
        );
      }
      state.ok = true;
    },
  };
  return state;
}
