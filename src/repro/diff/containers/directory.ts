import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { compareCodePoints } from '../../../core/digest.ts';
import { rawStream } from '../source.ts';
import type { Container, Member, MemberType, Node } from './container.ts';

/**
 * A directory (an OCI image layout, an unpacked tree): members in sorted
 * order, mode and type compared, never mtimes (a copy always has new ones).
 * Symbolic links are compared by their target text, never followed.
 */
export const directoryContainer: Container = {
  format: 'directory',
  detect: (node) => node.isDirectory,
  async *members(node: Node, ctx) {
    let index = 0;
    for await (const m of walk(node.file, '')) {
      if (index >= ctx.limits.maxEntries) break;
      m.meta.index = index++;
      yield m;
    }
  },
};

async function* walk(root: string, rel: string): AsyncGenerator<Member> {
  const names = (await readdir(join(root, rel))).sort(compareCodePoints);
  for (const name of names) {
    const path = rel ? `${rel}/${name}` : name;
    const abs = join(root, path);
    const st = await lstat(abs);
    const type: MemberType = st.isDirectory()
      ? 'directory'
      : st.isFile()
        ? 'file'
        : st.isSymbolicLink()
          ? 'symlink'
          : 'other';
    yield {
      meta: {
        path,
        type,
        size: type === 'file' ? st.size : 0,
        index: 0,
        mode: st.mode & 0o7777,
        ...(type === 'symlink' ? { linkname: await readlink(abs) } : {}),
      },
      body: () => (type === 'file' ? rawStream(abs) : (async function* () {})()),
    };
    if (type === 'directory') yield* walk(root, path);
  }
}
