import { readFile, stat } from 'node:fs/promises';
import { deflateRawSync, crc32 as zlibCrc32 } from 'node:zlib';
import { compareCodePoints } from '../core/digest.ts';
import { VouchError } from '../core/errors.ts';
import { ZipArchive } from '../sbom/readers/jar-zip.ts';
import { readTar, type TarEntry } from '../sbom/tar.ts';
import { looksLikeTar } from './diff/containers/tar.ts';
import { detectCodec, parseGzipHeader } from './diff/source.ts';
import { AR_MAGIC, type ArMember, arHeader, parseAr } from './normalize-ar.ts';
import { compress, decompress, type NormalizeCodec } from './normalize-codecs.ts';

/** What normalizing changed, counted per kind, for the report. */
export interface NormalizeReport {
  format: NormalizeFormat;
  members: number;
  changes: { what: string; count: number }[];
  changed: boolean;
}

export type NormalizeFormat =
  | 'tar'
  | 'tar+gzip'
  | 'tar+zstd'
  | 'tar+xz'
  | 'zip'
  | 'gzip'
  | 'ar'
  | 'deb';

export interface NormalizeOptions {
  /** Seconds since the epoch for every timestamp (default SOURCE_DATE_EPOCH, else 0). */
  mtime: number;
  /**
   * Largest input read into memory, and the most bytes decompressed in total
   * (outer and nested layers together). Default 1 GiB.
   */
  maxBytes?: number;
}

export const DEFAULT_NORMALIZE_MAX_BYTES = 1024 * 1024 * 1024;

interface Ctx {
  mtime: number;
  /** Decompressed bytes still allowed. */
  budget: { left: number; max: number };
  note: (what: string, n?: number) => void;
}

/**
 * strip-nondeterminism for archives: fixed timestamps, members sorted by
 * path, ownership 0:0 without names, gzip headers without name and time;
 * ar archives get fixed header fields, and a .deb its members in dpkg's
 * order with the control and data tars normalized inside their own
 * compression (gzip, xz, zstd or none). Works in memory, bounded by
 * `maxBytes`. Returns the new bytes; writing them (atomically) is the
 * caller's job.
 *
 * @throws VouchError ARCHIVE_MALFORMED | ARCHIVE_UNSAFE | ARCHIVE_TOO_LARGE | REPRO_TOOL_MISSING | FILE_*
 */
export async function normalizeArchive(
  file: string,
  o: NormalizeOptions,
): Promise<{ data: Buffer; report: NormalizeReport }> {
  const max = o.maxBytes ?? DEFAULT_NORMALIZE_MAX_BYTES;
  let input: Buffer;
  try {
    // Refuse before reading: the size bound is about memory.
    if ((await stat(file)).size > max)
      throw new VouchError('ARCHIVE_TOO_LARGE', `larger than ${max} bytes`, { file });
    input = await readFile(file);
  } catch (e) {
    if (e instanceof VouchError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new VouchError('FILE_NOT_FOUND', 'no such file', { file });
    throw new VouchError('FILE_READ', `cannot read: ${(e as Error).message}`, { file, cause: e });
  }
  if (input.length > max)
    throw new VouchError('ARCHIVE_TOO_LARGE', `larger than ${max} bytes`, { file });
  const counts = new Map<string, number>();
  const ctx: Ctx = {
    mtime: o.mtime,
    budget: { left: max, max },
    note: (what, n = 1) => counts.set(what, (counts.get(what) ?? 0) + n),
  };
  const { data, format, members } = await normalizeBytes(input, file, ctx);
  const changes = [...counts]
    .map(([what, count]) => ({ what, count }))
    .sort((a, b) => compareCodePoints(a.what, b.what));
  return { data, report: { format, members, changes, changed: !data.equals(input) } };
}

interface Normalized {
  data: Buffer;
  format: NormalizeFormat;
  members: number;
}

/** `tarsOnly`: a .deb's inner members, which must be (compressed) tars — never another ar, so nesting stops there. */
async function normalizeBytes(
  input: Buffer,
  file: string,
  ctx: Ctx,
  tarsOnly = false,
): Promise<Normalized> {
  const codec = detectCodec(input);
  if (tarsOnly && !codec && !looksLikeTar(input))
    throw new VouchError('ARCHIVE_MALFORMED', 'not a tar', { file });
  if (codec === 'gzip') {
    const h = parseGzipHeader(input, file);
    const inner = await inflate('gzip', input, file, ctx);
    if (h.mtime !== 0) ctx.note('gzip header time cleared');
    if (h.name) ctx.note('gzip header name removed');
    if (h.comment) ctx.note('gzip header comment removed');
    if (looksLikeTar(inner)) {
      const t = await normalizeTar(inner, file, ctx);
      return { format: 'tar+gzip', members: t.members, data: await compress('gzip', t.data, file) };
    }
    // Keep the compressed stream; rewrite only the header.
    const header = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, input[8] as number, 3]);
    return { format: 'gzip', members: 1, data: Buffer.concat([header, input.subarray(h.length)]) };
  }
  if (codec === 'zstd' || codec === 'xz') {
    const inner = await inflate(codec, input, file, ctx);
    if (!looksLikeTar(inner)) {
      throw new VouchError(
        'ARCHIVE_MALFORMED',
        `${codec}-compressed data that is not a tar: normalize rewrites tar.${codec === 'xz' ? 'xz' : 'zst'}, not other ${codec} streams`,
        { file },
      );
    }
    const t = await normalizeTar(inner, file, ctx);
    return {
      format: `tar+${codec}`,
      members: t.members,
      data: await compress(codec, t.data, file),
    };
  }
  if (codec) {
    throw new VouchError(
      'ARCHIVE_MALFORMED',
      `${codec}-compressed input: normalize reads tar (plain, gzip, xz, zstd), zip, ar/deb and gzip`,
      { file },
    );
  }
  if (input.toString('latin1', 0, 8) === AR_MAGIC) return normalizeAr(input, file, ctx);
  if (input.length >= 4 && input.readUInt32LE(0) === 0x04034b50) {
    const z = normalizeZip(input, file, ctx.mtime, ctx.note);
    return { format: 'zip', members: z.members, data: z.data };
  }
  if (looksLikeTar(input)) {
    const t = await normalizeTar(input, file, ctx);
    return { format: 'tar', members: t.members, data: t.data };
  }
  throw new VouchError(
    'ARCHIVE_MALFORMED',
    'not a tar (plain, gzip, xz or zstd), zip, ar/deb or gzip file',
    { file },
  );
}

/** Decompresses against the shared budget. */
async function inflate(codec: NormalizeCodec, input: Buffer, file: string, ctx: Ctx) {
  const out = await decompress(codec, input, file, ctx.budget.left);
  ctx.budget.left -= out.length;
  return out;
}

/** dpkg reads debian-binary first, then control.tar.*, then data.tar.*; it ignores what follows. */
function debRank(name: string): number {
  if (name === 'debian-binary') return 0;
  if (name.startsWith('control.tar')) return 1;
  if (name.startsWith('data.tar')) return 2;
  return 3;
}

const DEB_TARS: Record<string, NormalizeFormat> = {
  '': 'tar',
  '.gz': 'tar+gzip',
  '.xz': 'tar+xz',
  '.zst': 'tar+zstd',
};

async function normalizeAr(input: Buffer, file: string, ctx: Ctx): Promise<Normalized> {
  const members = parseAr(input, file);
  const m = String(Math.max(0, Math.floor(ctx.mtime)));
  const noteFields = (a: ArMember, mode: number) => {
    if (a.mtime !== undefined && a.mtime !== Number(m)) ctx.note('ar member times set');
    if ((a.uid ?? 0) !== 0 || (a.gid ?? 0) !== 0) ctx.note('ar owner set to 0:0');
    if (!a.special && a.mode !== mode) ctx.note('ar member modes set');
  };
  if (members[0]?.name !== 'debian-binary') {
    // A plain ar (a static library): order and names are kept, so a symbol
    // table's member offsets stay right; only the header fields are fixed.
    const parts: Buffer[] = [Buffer.from(AR_MAGIC, 'latin1')];
    for (const a of members) {
      noteFields(a, 0o644);
      const h = Buffer.from(a.header);
      const put = (at: number, width: number, v: string | undefined) => {
        if (v !== undefined) h.write(v.padEnd(width, ' '), at, width, 'latin1');
      };
      put(16, 12, a.mtime === undefined ? undefined : m);
      put(28, 6, a.uid === undefined ? undefined : '0');
      put(34, 6, a.gid === undefined ? undefined : '0');
      if (!a.special) put(40, 8, '644');
      parts.push(h, a.data);
      if (a.data.length % 2) parts.push(Buffer.from('\n'));
    }
    return { format: 'ar', members: members.length, data: Buffer.concat(parts) };
  }
  const deb = members.map((a, i) => ({ a, i }));
  for (const { a } of deb) {
    if (a.special || a.header.toString('latin1', 0, 3) === '#1/') {
      throw new VouchError(
        'ARCHIVE_MALFORMED',
        `.deb member ${JSON.stringify(a.name)}: dpkg reads only short member names, no symbol or name tables`,
        { file },
      );
    }
  }
  const control = deb.filter(({ a }) => debRank(a.name) === 1);
  const data = deb.filter(({ a }) => debRank(a.name) === 2);
  if (control.length !== 1 || data.length !== 1) {
    throw new VouchError(
      'ARCHIVE_MALFORMED',
      `a .deb needs exactly one control.tar.* and one data.tar.* member (found ${control.length} and ${data.length})`,
      { file },
    );
  }
  deb.sort(
    (x, y) => debRank(x.a.name) - debRank(y.a.name) || compareCodePoints(x.a.name, y.a.name),
  );
  const moved = deb.filter((x, i) => x.i !== i).length;
  if (moved) ctx.note('deb members put in dpkg order', moved);
  const parts: Buffer[] = [Buffer.from(AR_MAGIC, 'latin1')];
  for (const { a } of deb) {
    noteFields(a, 0o100644);
    let body = a.data;
    const rank = debRank(a.name);
    if (rank === 1 || rank === 2) {
      const ext = a.name.slice(rank === 1 ? 'control.tar'.length : 'data.tar'.length);
      const want = DEB_TARS[ext];
      const inner = `${file}/${a.name}`;
      if (!want) {
        throw new VouchError(
          'ARCHIVE_MALFORMED',
          `${a.name}: normalize rewrites .deb tars that are plain, .gz, .xz or .zst`,
          { file },
        );
      }
      const prefix = `${a.name}: `;
      const n = await normalizeBytes(
        body,
        inner,
        {
          ...ctx,
          note: (what, k) => ctx.note(prefix + what, k),
        },
        true,
      );
      if (n.format !== want)
        throw new VouchError('ARCHIVE_MALFORMED', `is a ${n.format}, not a ${want}`, {
          file: inner,
        });
      body = n.data;
    }
    parts.push(arHeader(a.name, m, '0', '0', '100644', String(body.length), file), body);
    if (body.length % 2) parts.push(Buffer.from('\n'));
  }
  return { format: 'deb', members: deb.length, data: Buffer.concat(parts) };
}

async function normalizeTar(input: Buffer, file: string, ctx: Ctx) {
  const { mtime, note } = ctx;
  const entries: { e: TarEntry & { type: keyof typeof TYPEFLAG }; body: Buffer }[] = [];
  for await (const item of readTar(
    (async function* () {
      yield input;
    })(),
    { name: file },
  )) {
    const e = item.entry;
    if (e.type === 'other') {
      // A device node or FIFO has no body to keep: writing it as a file would change what it is.
      throw new VouchError(
        'ARCHIVE_MALFORMED',
        `member ${JSON.stringify(e.path)} is a device or FIFO: normalize rewrites files, directories and links only`,
        { file },
      );
    }
    // A sparse member is written out in full, as a regular file: its
    // expansion is charged to the decompression budget, not bounded by the
    // archive's own size.
    const limit = e.sparse ? ctx.budget.left : input.length;
    const body = e.type === 'file' ? await item.read(limit) : Buffer.alloc(0);
    if (e.sparse) {
      ctx.budget.left -= body.length;
      note('sparse members written out in full');
    }
    entries.push({ e: { ...e, type: e.type }, body });
  }
  // `tar -C dir .` and dpkg-deb write a `./` root and `./`-prefixed names; keep that style.
  const dot = entries.some(({ e }) => e.path === '' && e.type === 'directory') ? './' : '';
  const sorted = [...entries].sort((a, b) => compareCodePoints(a.e.path, b.e.path));
  const moved = sorted.filter((x, i) => x !== entries[i]).length;
  if (moved) note('members reordered by path', moved);
  const parts: Buffer[] = [];
  let written = 0;
  for (const { e, body } of sorted) {
    if (e.path === '' && !(dot && e.type === 'directory' && written === 0)) continue;
    if (e.mtime !== mtime) note('member times set');
    if (e.uid !== 0 || e.gid !== 0) note('owner set to 0:0');
    if (e.uname || e.gname) note('owner names removed');
    parts.push(...tarMember(e, body, mtime, dot));
    written++;
  }
  parts.push(Buffer.alloc(1024));
  return { data: Buffer.concat(parts), members: written };
}

const TYPEFLAG = { file: '0', hardlink: '1', symlink: '2', directory: '5' } as const;

function tarMember(
  e: TarEntry & { type: keyof typeof TYPEFLAG },
  body: Buffer,
  mtime: number,
  dot: '' | './',
): Buffer[] {
  const path = e.path === '' ? '.' : `${dot}${e.path}`;
  const name = e.type === 'directory' ? `${path}/` : path;
  const linkname = e.type === 'hardlink' ? `${dot}${e.linkname}` : e.linkname;
  const out: Buffer[] = [];
  const pax: string[] = [];
  if (Buffer.byteLength(name) > 100) pax.push(paxRecord('path', name));
  if (Buffer.byteLength(linkname) > 100) pax.push(paxRecord('linkpath', linkname));
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
      e.type === 'symlink' || e.type === 'hardlink' ? linkname : '',
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
