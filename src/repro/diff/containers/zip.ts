import { readFile, stat } from 'node:fs/promises';
import { VouchError } from '../../../core/errors.ts';
import { ZipArchive } from '../../../sbom/readers/jar-zip.ts';
import type { Container, MemberType, Node } from './container.ts';

/** zip, jar, war, whl, apk…: read whole into memory (bounded), central directory order. */
export const zipContainer: Container = {
  format: 'zip',
  detect: (node) =>
    !node.isDirectory &&
    !node.codec &&
    node.head.length >= 4 &&
    node.head.readUInt16LE(0) === 0x4b50 &&
    (node.head.readUInt16LE(2) === 0x0403 || node.head.readUInt16LE(2) === 0x0605),
  async *members(node: Node, ctx) {
    const { size } = await stat(node.file);
    if (size > ctx.budget.decompressed) {
      throw new VouchError('ARCHIVE_TOO_LARGE', `zip of ${size} bytes passes the size limit`, {
        file: node.name,
      });
    }
    const data = await readFile(node.file);
    const budget = { remaining: ctx.budget.decompressed };
    const zip = new ZipArchive(data, node.name, {
      maxEntries: ctx.limits.maxEntries,
      budget,
      maxRatio: ctx.limits.maxRatio,
    });
    let index = 0;
    for (const e of zip.entries) {
      const isDir = e.name.endsWith('/');
      const unixMode = ((e.externalAttributes ?? 0) >>> 16) & 0xffff;
      const type: MemberType = isDir
        ? 'directory'
        : (unixMode & 0o170000) === 0o120000
          ? 'symlink'
          : 'file';
      const path = e.name
        .split('/')
        .filter((p) => p !== '' && p !== '.')
        .join('/');
      yield {
        meta: {
          path,
          type,
          size: isDir ? 0 : e.size,
          index: index++,
          ...(unixMode ? { mode: unixMode & 0o7777 } : {}),
          ...(e.dosDateTime !== undefined ? { mtime: dosToEpoch(e.dosDateTime) } : {}),
          // Always set: extra fields on one side only (zip vs zip -X) are a difference too.
          extra: e.extra ? e.extra.toString('hex') : '',
        },
        body: async function* () {
          if (isDir) return;
          const before = budget.remaining;
          const out = zip.read(e);
          ctx.budget.decompressed -= before - budget.remaining;
          yield out;
        },
      };
    }
  },
};

/** MS-DOS date/time (local time by convention; read as UTC here, consistently on both sides). */
export function dosToEpoch(v: number): number {
  const time = v & 0xffff;
  const date = v >>> 16;
  return (
    Date.UTC(
      1980 + (date >>> 9),
      ((date >>> 5) & 0xf) - 1,
      date & 0x1f,
      time >>> 11,
      (time >>> 5) & 0x3f,
      (time & 0x1f) * 2,
    ) / 1000
  );
}
