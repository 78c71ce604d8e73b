import { VouchError } from '../../core/errors.ts';
import { ResultBuilder } from '../builder.ts';
import type { ReaderResult } from '../model.ts';
import type { Reader, SourceFile } from '../reader.ts';
import { goPurlParts, isLocalPath } from './go-mod.ts';

/**
 * Build information the Go linker embeds in every module-mode binary
 * (`go version -m`): the `.go.buildinfo` section of ELF, `__go_buildinfo` of
 * Mach-O, the start of `.data` in PE. Only the Go 1.18+ inline format (flag
 * bit 2: varint-prefixed strings) is read; the older pointer format is
 * reported as unsupported rather than guessed at.
 *
 * A binary's name says nothing about its language, so `matches` takes files
 * in `bin`/`sbin`/`libexec` directories and `.exe` files, and a file without
 * Go build info gives an empty result (declared 0) whose format says so.
 */
export const goBinaryReader: Reader = {
  name: 'go-binary',
  matches: (path) => /(^|\/)(s?bin|libexec)\/[^/]+$/.test(path) || /\.exe$/i.test(path),
  read,
};

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
/** Max modinfo size we accept (real ones are a few KB to ~100 KB). */
const MAX_STRING = 4 * 1024 * 1024;

export interface GoBuildInfo {
  goVersion: string;
  /** Raw modinfo text (`path`, `mod`, `dep`, `=>`, `build` lines), sentinels removed. */
  modinfo: string;
}

/** Byte ranges worth searching for the build info header, per executable format. */
function candidateRanges(d: Buffer): Array<[number, number]> {
  const clamp = (o: number, n: number): [number, number] => [
    Math.min(o, d.length),
    Math.min(o + n, d.length),
  ];
  if (d.length >= 64 && d.readUInt32BE(0) === 0x7f454c46) {
    const is64 = d[4] === 2;
    const le = d[5] !== 2;
    const u16 = (o: number) => (le ? d.readUInt16LE(o) : d.readUInt16BE(o));
    const u32 = (o: number) => (le ? d.readUInt32LE(o) : d.readUInt32BE(o));
    const u64 = (o: number) => Number(le ? d.readBigUInt64LE(o) : d.readBigUInt64BE(o));
    const shoff = is64 ? u64(0x28) : u32(0x20);
    const shentsize = u16(is64 ? 0x3a : 0x2e);
    const shnum = u16(is64 ? 0x3c : 0x30);
    const shstrndx = u16(is64 ? 0x3e : 0x32);
    const sec = (i: number) => {
      const o = shoff + i * shentsize;
      if (o + shentsize > d.length) return undefined;
      return is64
        ? { name: u32(o), offset: u64(o + 24), size: u64(o + 32) }
        : { name: u32(o), offset: u32(o + 16), size: u32(o + 20) };
    };
    const strtab = shnum > 0 && shstrndx < shnum ? sec(shstrndx) : undefined;
    for (let i = 0; strtab && i < Math.min(shnum, 4096); i++) {
      const s = sec(i);
      if (!s) break;
      const nameAt = strtab.offset + s.name;
      if (nameAt >= d.length) continue;
      const end = d.indexOf(0, nameAt);
      if (d.toString('latin1', nameAt, end < 0 ? d.length : end) === '.go.buildinfo')
        return [clamp(s.offset, s.size)];
    }
  } else if (d.length >= 32 && [0xfeedfacf, 0xfeedface].includes(d.readUInt32LE(0))) {
    const is64 = d.readUInt32LE(0) === 0xfeedfacf;
    const ncmds = d.readUInt32LE(16);
    let o = is64 ? 32 : 28;
    for (let c = 0; c < Math.min(ncmds, 4096) && o + 8 <= d.length; c++) {
      const cmd = d.readUInt32LE(o);
      const size = d.readUInt32LE(o + 4);
      if (size < 8) break;
      if ((is64 && cmd === 0x19) || (!is64 && cmd === 0x1)) {
        const nsects = d.readUInt32LE(o + (is64 ? 64 : 48));
        let so = o + (is64 ? 72 : 56);
        for (let s = 0; s < Math.min(nsects, 256) && so + 68 <= d.length; s++) {
          const name = d.toString('latin1', so, so + 16).replace(/\0.*$/s, '');
          if (name === '__go_buildinfo') {
            const sz = is64 ? Number(d.readBigUInt64LE(so + 40)) : d.readUInt32LE(so + 36);
            const off = d.readUInt32LE(so + (is64 ? 48 : 40));
            return [clamp(off, sz)];
          }
          so += is64 ? 80 : 68;
        }
      }
      o += size;
    }
  } else if (d.length >= 0x40 && d.toString('latin1', 0, 2) === 'MZ') {
    const pe = d.readUInt32LE(0x3c);
    if (pe + 24 <= d.length && d.readUInt32BE(pe) === 0x50450000) {
      const nsec = d.readUInt16LE(pe + 6);
      const opt = d.readUInt16LE(pe + 20);
      for (
        let i = 0, o = pe + 24 + opt;
        i < Math.min(nsec, 96) && o + 40 <= d.length;
        i++, o += 40
      ) {
        if (d.toString('latin1', o, o + 8).replace(/\0.*$/s, '') === '.data')
          return [clamp(d.readUInt32LE(o + 20), d.readUInt32LE(o + 16))];
      }
    }
  }
  // No section table to go by (stripped headers, unknown format): search the whole file.
  return [[0, d.length]];
}

/**
 * Finds and decodes the build info. Undefined when the file has none (not Go,
 * or built without module support).
 *
 * @throws VouchError LOCKFILE_UNSUPPORTED (pre-1.18 pointer format) | LOCKFILE_MALFORMED
 */
export function readGoBuildInfo(d: Buffer, file: string): GoBuildInfo | undefined {
  for (const [start, end] of candidateRanges(d)) {
    for (let p = d.indexOf(MAGIC, start); p >= 0 && p + 32 <= end; p = d.indexOf(MAGIC, p + 1)) {
      // The header is 16-byte aligned within its section.
      if ((p - start) % 16 !== 0 && start !== 0) continue;
      const ptrSize = d[p + 14];
      const flags = d[p + 15] as number;
      if (ptrSize !== 4 && ptrSize !== 8) continue;
      if ((flags & 2) === 0) {
        throw new VouchError(
          'LOCKFILE_UNSUPPORTED',
          'Go build info in the pre-1.18 pointer format (binary built with Go < 1.18)',
          { file, field: `offset ${p}` },
        );
      }
      let q = p + 32;
      const str = (): string => {
        const [len, n] = uvarint(d, q, file);
        q += n;
        if (len > MAX_STRING || q + len > d.length) {
          throw new VouchError('LOCKFILE_MALFORMED', 'Go build info string runs past the file', {
            file,
            field: `offset ${q}`,
          });
        }
        const s = d.toString('utf8', q, q + len);
        q += len;
        return s;
      };
      const goVersion = str();
      let modinfo = str();
      // Sentinels: 16 bytes each side, the closing one preceded by a newline.
      modinfo =
        modinfo.length >= 33 && modinfo[modinfo.length - 17] === '\n' ? modinfo.slice(16, -16) : '';
      return { goVersion, modinfo };
    }
  }
  return undefined;
}

function uvarint(d: Buffer, at: number, file: string): [number, number] {
  let x = 0;
  let shift = 0;
  for (let i = 0; i < 5; i++) {
    const c = d[at + i];
    if (c === undefined) break;
    x += (c & 0x7f) * 2 ** shift;
    if (c < 0x80) return [x, i + 1];
    shift += 7;
  }
  throw new VouchError('LOCKFILE_MALFORMED', 'bad varint in Go build info', {
    file,
    field: `offset ${at}`,
  });
}

async function read(file: SourceFile): Promise<ReaderResult> {
  const info = readGoBuildInfo(await file.bytes(), file.path);
  if (!info)
    return new ResultBuilder(file.path, 'go-binary', 'not a Go binary (no build info)').build();
  const b = new ResultBuilder(file.path, 'go-binary', `Go build info (${info.goVersion})`);
  let main: string | undefined;
  // `=>` lines replace the module on the line before them.
  const lines = info.modinfo.split('\n').filter((l) => l !== '');
  for (let i = 0; i < lines.length; i++) {
    const f = (lines[i] as string).split('\t');
    const kind = f[0];
    if (kind === 'path' || kind === 'build') continue;
    if (kind !== 'mod' && kind !== 'dep') {
      if (kind === '=>') continue;
      throw new VouchError('LOCKFILE_UNSUPPORTED', `unknown build info line ${kind}`, {
        file: file.path,
        field: `modinfo line ${i + 1}`,
      });
    }
    b.declare();
    const [, path, version = '', sum] = f;
    if (!path) {
      throw new VouchError('LOCKFILE_MALFORMED', `${kind} line without a module path`, {
        file: file.path,
        field: `modinfo line ${i + 1}`,
      });
    }
    const next = lines[i + 1]?.split('\t');
    const rep = next?.[0] === '=>' ? next : undefined;
    const properties: Record<string, string> = {};
    let ref: string;
    const clean = (v: string) => (v === '(devel)' ? '' : v);
    if (version === '(devel)') properties['go:version'] = '(devel)';
    if (rep && isLocalPath(rep[1] ?? '')) {
      properties['go:replacedBy'] = rep[1] as string;
      ref = b.add({
        ecosystem: 'golang',
        ...goPurlParts(path),
        version: '',
        source: { kind: 'file', url: rep[1] as string },
        properties,
      });
    } else if (rep) {
      properties['go:replaces'] = `${path}@${version}`;
      if (rep[3]) properties['go:h1'] = rep[3];
      ref = b.add({
        ecosystem: 'golang',
        ...goPurlParts(rep[1] as string),
        version: clean(rep[2] ?? ''),
        properties,
      });
    } else {
      if (sum) properties['go:h1'] = sum;
      ref = b.add({
        ecosystem: 'golang',
        ...goPurlParts(path),
        version: clean(version),
        properties,
      });
    }
    if (kind === 'mod') {
      main = ref;
      b.root(ref);
    } else if (main) b.depend(main, ref);
  }
  return b.build();
}
