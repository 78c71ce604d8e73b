import { spawn } from 'node:child_process';
import { constants, gunzipSync, gzipSync, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { errorMessage, VouchError } from '../core/errors.ts';

/** Compression layers `normalize` decodes and writes again. */
export type NormalizeCodec = 'gzip' | 'zstd' | 'xz';

/**
 * Fixed settings, so that the same bytes always compress to the same bytes
 * (for one version of zlib / libzstd / xz). xz runs single-threaded: its
 * multi-threaded mode (the default from xz 5.6) splits the stream into blocks
 * whose layout depends on the thread count. Level 6 is dpkg-deb's default;
 * -9 needs ~674 MiB of memory per compression.
 */
export const XZ_ARGS = ['-6', '--threads=1', '--check=crc64', '--format=xz'] as const;
export const ZSTD_LEVEL = 19;
/** xz refuses streams whose dictionary needs more than this to decode. */
const XZ_DECODE_MEMLIMIT = '256MiB';

/**
 * Decompresses a whole buffer, refusing to produce more than `max` bytes.
 *
 * @throws VouchError ARCHIVE_MALFORMED | ARCHIVE_TOO_LARGE | REPRO_TOOL_MISSING
 */
export async function decompress(
  codec: NormalizeCodec,
  input: Buffer,
  file: string,
  max: number,
): Promise<Buffer> {
  if (codec === 'xz')
    return runXz(['-dc', `--memlimit-decompress=${XZ_DECODE_MEMLIMIT}`], input, file, max);
  try {
    return codec === 'gzip'
      ? gunzipSync(input, { maxOutputLength: max })
      : zstdDecompressSync(input, { maxOutputLength: max });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(file, max);
    throw new VouchError('ARCHIVE_MALFORMED', `cannot decompress (${codec}): ${errorMessage(e)}`, {
      file,
      cause: e,
    });
  }
}

/**
 * Compresses with the fixed settings above.
 *
 * @throws VouchError REPRO_TOOL_MISSING | ARCHIVE_MALFORMED (xz failed)
 */
export async function compress(codec: NormalizeCodec, data: Buffer, file: string): Promise<Buffer> {
  switch (codec) {
    case 'gzip':
      // Node writes mtime 0, no name, OS 3 (Unix).
      return gzipSync(data, { level: 9 });
    case 'zstd':
      return zstdCompressSync(data, {
        params: {
          [constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL,
          [constants.ZSTD_c_checksumFlag]: 1,
          [constants.ZSTD_c_contentSizeFlag]: 1,
          [constants.ZSTD_c_nbWorkers]: 0,
        },
      });
    case 'xz':
      // Compressed output is never much larger than its input.
      return runXz(['-c', ...XZ_ARGS], data, file, data.length + 1024 * 1024);
  }
}

function tooLarge(file: string, max: number): VouchError {
  return new VouchError(
    'ARCHIVE_TOO_LARGE',
    `decompresses to more than ${max} bytes (the limit for normalize, which works in memory)`,
    { file },
  );
}

/** `xz ARGS` with `input` on stdin, no shell; stdout collected up to `max` bytes. */
function runXz(args: string[], input: Buffer, file: string, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('xz', ['-q', ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      shell: false,
      env: { PATH: process.env.PATH ?? '', LC_ALL: 'C' },
    });
    const parts: Buffer[] = [];
    let size = 0;
    let stderr = '';
    let failed: VouchError | undefined;
    const fail = (e: VouchError) => {
      if (failed) return;
      failed = e;
      child.kill();
    };
    child.once('error', (e) => {
      const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
      failed ??= missing
        ? new VouchError(
            'REPRO_TOOL_MISSING',
            'the xz command is not installed (Debian package xz-utils): normalize needs it for xz-compressed archives',
            { file, cause: e },
          )
        : new VouchError('ARCHIVE_MALFORMED', `cannot run xz: ${errorMessage(e)}`, {
            file,
            cause: e,
          });
      reject(failed);
    });
    child.stdout.on('data', (d: Buffer) => {
      if (failed) return;
      size += d.length;
      if (size > max) fail(tooLarge(file, max));
      else parts.push(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString('utf8');
    });
    // xz exits early on bad input (or is killed): a broken pipe is expected then.
    child.stdin.on('error', () => {});
    child.stdin.end(input);
    child.once('close', (code) => {
      if (failed) reject(failed);
      else if (code !== 0)
        reject(
          new VouchError(
            'ARCHIVE_MALFORMED',
            `xz failed: ${stderr.trim().replace(/^xz: \(stdin\): /, '') || `exit ${code}`}`,
            { file },
          ),
        );
      else resolve(Buffer.concat(parts, size));
    });
  });
}
