import { VouchError } from '../core/errors.ts';

/** Unix ar: GNU/System V (`//` long names, `/` symbol table) and BSD (`#1/N`) members. */
export const AR_MAGIC = '!<arch>\n';

export interface ArMember {
  /** The resolved member name (no trailing `/`); for special members, the raw name field. */
  name: string;
  /** Symbol tables and the long-name table: kept as they are, never renamed. */
  special: boolean;
  /** The 60-byte header as read. */
  header: Buffer;
  /** Everything after the header up to `size` (for BSD names, the name bytes too). */
  data: Buffer;
  mtime: number | undefined;
  uid: number | undefined;
  gid: number | undefined;
  mode: number | undefined;
}

const SPECIAL = new Set(['/', '//', '/SYM64/', '__.SYMDEF', '__.SYMDEF SORTED']);

/**
 * Reads a whole ar archive held in memory. Every header is checked (its
 * terminator, numeric fields, a size that stays inside the file); member
 * names must be plain file names — anything with `/`, `..`, a NUL or
 * nothing at all is refused, as is a long-name reference that points nowhere.
 *
 * @throws VouchError ARCHIVE_MALFORMED | ARCHIVE_UNSAFE | ARCHIVE_TOO_LARGE
 */
export function parseAr(input: Buffer, file: string, maxMembers = 100_000): ArMember[] {
  const bad = (message: string) => new VouchError('ARCHIVE_MALFORMED', message, { file });
  if (input.toString('latin1', 0, 8) !== AR_MAGIC) throw bad('not an ar archive');
  const out: ArMember[] = [];
  let longNames: Buffer | undefined;
  let pos = 8;
  for (;;) {
    // A lone newline pads the end after an odd-sized last member.
    if (pos >= input.length || (pos === input.length - 1 && input[pos] === 0x0a)) break;
    if (input.length - pos < 60)
      throw bad(`truncated member header at byte ${pos} (${input.length - pos} of 60 bytes)`);
    const header = input.subarray(pos, pos + 60);
    if (header.toString('latin1', 58, 60) !== '`\n')
      throw bad(`bad member header at byte ${pos} (no terminator)`);
    const field = (a: number, b: number) => header.toString('latin1', a, b).replace(/ +$/, '');
    const num = (a: number, b: number, what: string, octal = false) => {
      const t = field(a, b);
      if (t === '') return undefined;
      if (!(octal ? /^[0-7]+$/ : /^\d+$/).test(t))
        throw bad(`bad ${what} ${JSON.stringify(t)} in the member header at byte ${pos}`);
      return Number.parseInt(t, octal ? 8 : 10);
    };
    const rawName = field(0, 16);
    const size = num(48, 58, 'size');
    if (size === undefined) throw bad(`no size in the member header at byte ${pos}`);
    const start = pos + 60;
    if (size > input.length - start) {
      throw bad(
        `member ${JSON.stringify(rawName)} at byte ${pos} says ${size} bytes, past the end of the file (${input.length - start} left)`,
      );
    }
    if (out.length >= maxMembers)
      throw new VouchError('ARCHIVE_TOO_LARGE', `more than ${maxMembers} members`, { file });
    const data = input.subarray(start, start + size);
    const special = SPECIAL.has(rawName);
    let name = rawName;
    if (rawName === '//') longNames = data;
    else if (!special) {
      if (/^\/\d+$/.test(rawName)) {
        const off = Number(rawName.slice(1));
        if (!longNames || off >= longNames.length)
          throw bad(`member name ${rawName} points outside the long-name table`);
        const end = longNames.indexOf('/\n', off);
        name = longNames.toString('utf8', off, end < 0 ? longNames.length : end);
      } else if (/^#1\/\d+$/.test(rawName)) {
        const len = Number(rawName.slice(3));
        if (len > size || len > 4096) throw bad(`BSD member name of ${len} bytes does not fit`);
        name = data.toString('utf8', 0, len).replace(/\0+$/, '');
      } else if (rawName.endsWith('/')) name = rawName.slice(0, -1);
      if (name === '' || name === '.' || name === '..' || /[/\0]/.test(name)) {
        throw new VouchError(
          'ARCHIVE_UNSAFE',
          `member name ${JSON.stringify(name)} is not a plain file name`,
          { file },
        );
      }
    }
    out.push({
      name,
      special,
      header,
      data,
      mtime: num(16, 28, 'mtime'),
      uid: num(28, 34, 'uid'),
      gid: num(34, 40, 'gid'),
      mode: num(40, 48, 'mode', true),
    });
    pos = start + size + (size % 2);
  }
  return out;
}

/** One 60-byte ar header; fields that do not fit are refused rather than cut. */
export function arHeader(
  name: string,
  mtime: string,
  uid: string,
  gid: string,
  mode: string,
  size: string,
  file: string,
): Buffer {
  const cols: [string, number][] = [
    [name, 16],
    [mtime, 12],
    [uid, 6],
    [gid, 6],
    [mode, 8],
    [size, 10],
  ];
  let s = '';
  for (const [v, w] of cols) {
    if (Buffer.byteLength(v, 'latin1') > w || /[^\x20-\x7e]/.test(v))
      throw new VouchError(
        'ARCHIVE_MALFORMED',
        `ar header field ${JSON.stringify(v)} does not fit`,
        {
          file,
        },
      );
    s += v.padEnd(w, ' ');
  }
  return Buffer.from(`${s}\`\n`, 'latin1');
}
