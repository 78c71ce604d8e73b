import { readFile } from 'node:fs/promises';
import { deflateRawSync, gunzipSync, gzipSync, crc32 as zlibCrc32 } from 'node:zlib';
import { compareCodePoints } from '../core/digest.ts';
import { VouchError } from '../core/errors.ts';
import { ZipArchive } from '../sbom/readers/jar-zip.ts';
import { readTar, type TarEntry } from '../sbom/tar.ts';
import { looksLikeTar } from './diff/containers/tar.ts';
import { detectCodec, parseGzipHeader } from './diff/source.ts';

/** What normalizing changed, counted per kind, for the report. */
export interface NormalizeReport {
  format: 'tar' | 'tar+gzip' | 'zip' | 'gzip';
  members: number;
  changes: { what: string; count: number }[];
  changed: boolean;
}

export interface NormalizeOptions {
  /** Seconds since the epoch for every timestamp (default SOURCE_DATE_EPOCH, else 0). */
  mtime: number;
  /** Largest input read into memory. */
  maxBytes?: number;
}

/**
 * strip-nondeterminism for archives: fixed timestamps, members sorted by
 * path, ownership 0:0 without names, gzip headers without name and time.
 * Returns the new bytes; writing them (atomically) is the caller's job.
 *
 * @throws VouchError ARCHIVE_MALFORMED | ARCHIVE_UNSAFE | ARCHIVE_TOO_LARGE | FILE_*
 */
export async function normalizeArchive(
  file: string,
  o: NormalizeOptions,
): Promise<{ data: Buffer; report: NormalizeReport }> {
  const max = o.maxBytes ?? 1024 * 1024 * 1024;
  let input: Buffer;
  try {
    input = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new VouchError('FILE_NOT_FOUND', 'no such file', { file });
    throw new VouchError('FILE_READ', `cannot read: ${(e as Error).message}`, { file, cause: e });
  }
  if (input.length > max)
    throw new VouchError('ARCHIVE_TOO_LARGE', `larger than ${max} bytes`, { file });
  const counts = new Map<string, number>();
  const note = (what: string, n = 1) => counts.set(what, (counts.get(what) ?? 0) + n);
  const codec = detectCodec(input);
  let format: NormalizeReport['format'];
  let data: Buffer;
  let members = 0;
  if (codec === 'gzip') {
    const h = parseGzipHeader(input, file);
    let inner: Buffer;
    try {
      inner = gunzipSync(input, { maxOutputLength: max });
    } catch (e) {
      throw new VouchError('ARCHIVE_MALFORMED', `cannot decompress: ${(e as Error).message}`, {
        file,
        cause: e,
      });
    }
    if (h.mtime !== 0) note('gzip header time cleared');
    if (h.name) note('gzip header name removed');
    if (h.comment) note('gzip header comment removed');
    if (looksLikeTar(inner)) {
      format = 'tar+gzip';
      const t = await normalizeTar(inner, file, o.mtime, note);
      members = t.members;
      data = gzipSync(t.data, { level: 9 });
    } else {
      format = 'gzip';
      // Keep the compressed stream; rewrite only the header.
      const header = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, input[8] as number, 3]);
      data = Buffer.concat([header, input.subarray(h.length)]);
      members = 1;
    }
  } else if (codec) {
    throw new VouchError(
      'ARCHIVE_MALFORMED',
      `${codec}-compressed input: normalize reads tar, tar.gz, zip and gzip`,
      { file },
    );
  } else if (input.length >= 4 && input.readUInt32LE(0) === 0x04034b50) {
    format = 'zip';
    const z = normalizeZip(input, file, o.mtime, note);
    data = z.data;
    members = z.members;
  } else if (looksLikeTar(input)) {
    format = 'tar';
    const t = await normalizeTar(input, file, o.mtime, note);
    data = t.data;
    members = t.members;
  } else {
    throw new VouchError('ARCHIVE_MALFORMED', 'not a tar, tar.gz, zip or gzip file', { file });
  }
  const changes = [...counts]
    .map(([what, count]) => ({ what, count }))
    .sort((a, b) => compareCodePoints(a.what, b.what));
  return { data, report: { format, members, changes, changed: !data.equals(input) } };
}

async function normalizeTar(
  input: Buffer,
  file: string,
  mtime: number,
  note: (w: string, n?: number) => void,
) {
  const entries: { e: TarEntry; body: Buffer }[] = [];
  for await (const item of readTar(
    (async function* () {
      yield input;
    })(),
    { name: file },
  )) {
    const body = item.entry.type === 'file' ? await item.read(input.length) : Buffer.alloc(0);
    entries.push({ e: item.entry, body });
  }
  const sorted = [...entries].sort((a, b) => compareCodePoints(a.e.path, b.e.path));
  const moved = sorted.filter((x, i) => x !== entries[i]).length;
  if (moved) note('members reordered by path', moved);
  const parts: Buffer[] = [];
  for (const { e, body } of sorted) {
    if (e.path === '') continue;
    if (e.mtime !== mtime) note('member times set');
    if (e.uid !== 0 || e.gid !== 0) note('owner set to 0:0');
    if (e.uname || e.gname) note('owner names removed');
    parts.push(...tarMember(e, body, mtime));
  }
  parts.push(Buffer.alloc(1024));
  return { data: Buffer.concat(parts), members: sorted.length };
}

const TYPEFLAG = { file: '0', hardlink: '1', symlink: '2', directory: '5', other: '0' } as const;

function tarMember(e: TarEntry, body: Buffer, mtime: number): Buffer[] {
  const name = e.type === 'directory' ? `${e.path}/` : e.path;
  const out: Buffer[] = [];
  const pax: string[] = [];
  if (Buffer.byteLength(name) > 100) pax.push(paxRecord('path', name));
  if (Buffer.byteLength(e.linkname) > 100) pax.push(paxRecord('linkpath', e.linkname));
  if (body.length > 0o77777777777) pax.push(paxRecord('size', String(body.length)));
  if (pax.length) {
    const data = Buffer.from(pax.join(''), 'utf8');
    out.push(header('././@PaxHeader', 'x', data.length, 0o644, mtime, ''), pad(data));
  }
  out.push(
    header(
      name,
      TYPEFLAG[e.type],
      e.type === 'file' ? body.length : 0,
      e.mode & 0o7777,
      mtime,
      e.type === 'symlink' || e.type === 'hardlink' ? e.linkname : '',
    ),
  );
  if (e.type === 'file') out.push(pad(body));
  return out;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len)
    len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

function header(
  name: string,
  flag: string,
  size: number,
  mode: number,
  mtime: number,
  link: string,
): Buffer {
  const h = Buffer.alloc(512);
  h.write(name.slice(0, 100), 0, 100, 'utf8');
  const octal = (v: number, at: number, len: number) =>
    h.write(
      `${Math.floor(v)
        .toString(8)
        .padStart(len - 1, '0')}\0`,
      at,
      len,
      'latin1',
    );
  octal(mode, 100, 8);
  octal(0, 108, 8);
  octal(0, 116, 8);
  octal(Math.min(size, 0o77777777777), 124, 12);
  octal(Math.max(0, mtime), 136, 12);
  h.write('        ', 148, 8, 'latin1');
  h.write(flag, 156, 1, 'latin1');
  h.write(link.slice(0, 100), 157, 100, 'utf8');
  h.write('ustar\0', 257, 6, 'latin1');
  h.write('00', 263, 2, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return h;
}

function pad(b: Buffer): Buffer {
  const rest = b.length % 512;
  return rest === 0 ? b : Buffer.concat([b, Buffer.alloc(512 - rest)]);
}

function normalizeZip(
  input: Buffer,
  file: string,
  mtime: number,
  note: (w: string, n?: number) => void,
) {
  const zip = new ZipArchive(input, file, {
    maxEntries: 100_000,
    budget: { remaining: 4 * input.length + 1024 * 1024 * 1024 },
    maxRatio: 1000,
  });
  const entries = [...zip.entries];
  const sorted = [...entries].sort((a, b) => compareCodePoints(a.name, b.name));
  const moved = sorted.filter((x, i) => x !== entries[i]).length;
  if (moved) note('members reordered by path', moved);
  const dos = toDos(mtime);
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of sorted) {
    if (e.dosDateTime !== dos) note('member times set');
    if (e.extra && e.extra.length > 0) note('extra fields (timestamps, uid/gid) removed');
    const content = zip.read(e);
    const method = e.method === 0 || content.length === 0 ? 0 : 8;
    const stored = method === 8 ? deflateRawSync(content, { level: 9 }) : content;
    const crc = crc32(content);
    const name = Buffer.from(e.name, 'utf8');
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt16LE(0x800, 6);
    lh.writeUInt16LE(method, 8);
    lh.writeUInt32LE(dos, 10);
    lh.writeUInt32LE(crc, 14);
    lh.writeUInt32LE(stored.length, 18);
    lh.writeUInt32LE(content.length, 22);
    lh.writeUInt16LE(name.length, 26);
    lh.writeUInt16LE(0, 28);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE((3 << 8) | 20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt16LE(0x800, 8);
    ch.writeUInt16LE(method, 10);
    ch.writeUInt32LE(dos, 12);
    ch.writeUInt32LE(crc, 16);
    ch.writeUInt32LE(stored.length, 20);
    ch.writeUInt32LE(content.length, 24);
    ch.writeUInt16LE(name.length, 28);
    const unixMode = ((e.externalAttributes ?? 0) >>> 16) & 0xffff;
    const mode = unixMode || (e.name.endsWith('/') ? 0o40755 : 0o100644);
    ch.writeUInt32LE(((mode << 16) | (e.name.endsWith('/') ? 0x10 : 0)) >>> 0, 38);
    ch.writeUInt32LE(offset, 42);
    locals.push(lh, name, stored);
    central.push(ch, name);
    offset += lh.length + name.length + stored.length;
    if (offset > 0xffffffff)
      throw new VouchError('ARCHIVE_TOO_LARGE', 'normalized zip would need ZIP64', { file });
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(sorted.length, 8);
  end.writeUInt16LE(sorted.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return { data: Buffer.concat([...locals, cd, end]), members: sorted.length };
}

/** DOS date/time of a UTC epoch time; DOS time starts in 1980, earlier times become 1980-01-01. */
function toDos(epoch: number): number {
  const d = new Date(Math.max(epoch, 315532800) * 1000);
  const date = ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate();
  const time =
    (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2);
  return ((date << 16) | time) >>> 0;
}

function crc32(b: Buffer): number {
  return zlibCrc32(b) >>> 0;
}
