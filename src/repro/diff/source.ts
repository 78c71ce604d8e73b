import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { errorMessage, VouchError } from '../../core/errors.ts';
import type { DiffLimits } from './types.ts';

/** Compression layers looked through transparently; their header is compared on its own. */
export type Codec = 'gzip' | 'zstd' | 'xz' | 'bzip2';

/** Shared by one diff: limits, what is left of the budgets, the private temp dir. */
export interface DiffContext {
  limits: DiffLimits;
  budget: { decompressed: number; spill: number };
  /** Private (0700) temp dir: differing members are copied here, under numbered names only. */
  tmp: string;
  next: { n: number };
}

/** The first bytes of a file (fewer when it is shorter). */
export async function readHead(file: string, n: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export function detectCodec(head: Buffer): Codec | undefined {
  if (head.length >= 10 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 8) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (
    head.length >= 6 &&
    head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0]))
  )
    return 'xz';
  if (
    head.length >= 4 &&
    head.toString('latin1', 0, 3) === 'BZh' &&
    /[1-9]/.test(String.fromCharCode(head[3] as number))
  )
    return 'bzip2';
  return undefined;
}

export interface GzipHeader {
  mtime: number;
  name: string;
  comment: string;
  /** Extra flags: 2 = best compression, 4 = fastest. */
  xfl: number;
  os: number;
  /** Header length in bytes (where the deflate stream starts). */
  length: number;
}

/**
 * Parses a gzip member header (RFC 1952).
 *
 * @throws VouchError ARCHIVE_MALFORMED
 */
export function parseGzipHeader(b: Buffer, file: string): GzipHeader {
  const bad = () => new VouchError('ARCHIVE_MALFORMED', 'truncated gzip header', { file });
  if (b.length < 10 || b[0] !== 0x1f || b[1] !== 0x8b) throw bad();
  const flg = b[3] as number;
  let p = 10;
  if (flg & 4) {
    if (p + 2 > b.length) throw bad();
    p += 2 + b.readUInt16LE(p);
  }
  const cstr = (): string => {
    const end = b.indexOf(0, p);
    if (end < 0) throw bad();
    const s = b.toString('latin1', p, end);
    p = end + 1;
    return s;
  };
  const name = flg & 8 ? cstr() : '';
  const comment = flg & 16 ? cstr() : '';
  if (flg & 2) p += 2;
  if (p > b.length) throw bad();
  return {
    mtime: b.readUInt32LE(4),
    name,
    comment,
    xfl: b[8] as number,
    os: b[9] as number,
    length: p,
  };
}

/**
 * The decompressed bytes of `file`, counted against the shared budget and
 * checked for a bomb-like ratio. xz and bzip2 go through the system's `xz`
 * / `bzip2` (no shell); gzip and zstd through node:zlib.
 *
 * @throws VouchError ARCHIVE_TOO_LARGE | ARCHIVE_MALFORMED
 */
export async function* decoded(
  file: string,
  codec: Codec,
  ctx: DiffContext,
  name: string,
): AsyncGenerator<Buffer> {
  const compressed = (await stat(file)).size;
  let out = 0;
  const check = (n: number) => {
    out += n;
    ctx.budget.decompressed -= n;
    if (ctx.budget.decompressed < 0) {
      throw new VouchError(
        'ARCHIVE_TOO_LARGE',
        `decompressing passes the limit of ${ctx.limits.maxDecompressed} bytes in total`,
        { file: name },
      );
    }
    if (out > 1024 * 1024 && out > compressed * ctx.limits.maxRatio) {
      throw new VouchError(
        'ARCHIVE_TOO_LARGE',
        `decompresses to more than ${ctx.limits.maxRatio} times its size: a decompression bomb?`,
        { file: name },
      );
    }
  };
  if (codec === 'gzip' || codec === 'zstd') {
    const input = createReadStream(file, { highWaterMark: 1024 * 1024 });
    const z = codec === 'gzip' ? createGunzip({ chunkSize: 256 * 1024 }) : createZstdDecompress();
    input.on('error', (e) => z.destroy(e));
    input.pipe(z);
    try {
      for await (const chunk of z as AsyncIterable<Buffer>) {
        check(chunk.length);
        yield chunk;
      }
    } catch (e) {
      if (e instanceof VouchError) throw e;
      throw new VouchError(
        'ARCHIVE_MALFORMED',
        `cannot decompress (${codec}): ${errorMessage(e)}`,
        {
          file: name,
          cause: e,
        },
      );
    } finally {
      input.destroy();
      z.destroy();
    }
    return;
  }
  const tool = codec;
  const child = spawn(tool, ['-dc', '--', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
    shell: false,
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString('utf8');
  });
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', (e) =>
      reject(
        new VouchError(
          'ARCHIVE_MALFORMED',
          `cannot decompress ${codec}: ${tool} is not available (${errorMessage(e)})`,
          {
            file: name,
            cause: e,
          },
        ),
      ),
    );
    child.once('close', (code) => resolve(code ?? 1));
  });
  exited.catch(() => {});
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      check(chunk.length);
      yield chunk;
    }
    const code = await exited;
    if (code !== 0) {
      throw new VouchError(
        'ARCHIVE_MALFORMED',
        `cannot decompress (${codec}): ${stderr.trim() || `exit ${code}`}`,
        {
          file: name,
        },
      );
    }
  } finally {
    if (child.exitCode === null) child.kill();
  }
}

/** Raw bytes of a file as a stream. */
export function rawStream(file: string): AsyncIterable<Buffer> {
  return createReadStream(file, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>;
}

/** The first `n` decompressed bytes (fewer at the end of the stream). */
export async function decodedHead(
  file: string,
  codec: Codec,
  ctx: DiffContext,
  name: string,
  n: number,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  let have = 0;
  // A private budget: peeking must not spend the shared one twice.
  const peek: DiffContext = {
    ...ctx,
    budget: { decompressed: ctx.limits.maxDecompressed, spill: 0 },
  };
  const it = decoded(file, codec, peek, name);
  try {
    for await (const c of it) {
      parts.push(c);
      have += c.length;
      if (have >= n) break;
    }
  } finally {
    await it.return(undefined);
  }
  return Buffer.concat(parts).subarray(0, n);
}
