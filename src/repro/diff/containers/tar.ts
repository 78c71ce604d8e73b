import { readTar } from '../../../sbom/tar.ts';
import { decoded, rawStream } from '../source.ts';
import type { Container, Member, Node } from './container.ts';

/** A valid ustar/GNU/v7 header checksum in the first block. */
export function looksLikeTar(head: Buffer): boolean {
  if (head.length < 512) return false;
  const field = head
    .toString('latin1', 148, 156)
    .replace(/[\0 ]+$/, '')
    .trim();
  if (!/^[0-7]{1,8}$/.test(field)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : (head[i] as number);
  return sum === Number.parseInt(field, 8);
}

export const tarContainer: Container = {
  format: 'tar',
  detect: (node) => !node.isDirectory && looksLikeTar(node.head),
  async *members(node: Node, ctx) {
    const source = node.codec
      ? decoded(node.file, node.codec, ctx, node.name)
      : rawStream(node.file);
    for await (const item of readTar(source, {
      name: node.name,
      limits: { maxEntries: ctx.limits.maxEntries },
    })) {
      const e = item.entry;
      const member: Member = {
        meta: {
          path: e.path,
          type: e.type,
          size: e.size,
          index: e.index,
          mode: e.mode & 0o7777,
          ...(e.mtime !== undefined ? { mtime: e.mtime } : {}),
          ...(e.uid !== undefined ? { uid: e.uid } : {}),
          ...(e.gid !== undefined ? { gid: e.gid } : {}),
          ...(e.uname !== undefined ? { uname: e.uname } : {}),
          ...(e.gname !== undefined ? { gname: e.gname } : {}),
          ...(e.type === 'symlink' || e.type === 'hardlink' ? { linkname: e.linkname } : {}),
          ...(node.codec ? {} : { offset: e.dataOffset }),
        },
        body: () => item.body(),
      };
      yield member;
    }
  },
};
