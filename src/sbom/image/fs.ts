import { VouchError } from '../../core/errors.ts';
import type { TarEntry } from '../tar.ts';

/**
 * The merged filesystem of an image's layers, in memory: a tree of
 * directories whose files point at (layer, entry) and, for files readers want,
 * hold the bytes captured while the layer was verified. Nothing is written
 * to disk.
 */
export type FsNode = DirNode | FileNode | SymlinkNode | OtherNode;

export interface DirNode {
  kind: 'dir';
  children: Map<string, FsNode>;
}

export interface FileNode {
  kind: 'file';
  layer: number;
  /** Ordinal of the tar entry holding the bytes, in that layer. */
  entry: number;
  size: number;
  /** The bytes, when captured during the verified pass over the layer. */
  data?: Buffer;
  /** A content test (ImageOptions.content) passed on this file during the layer pass. */
  byContent?: true;
}

export interface SymlinkNode {
  kind: 'symlink';
  target: string;
}

export interface OtherNode {
  kind: 'other';
}

/** Linux's limit on symlinks followed in one lookup (MAXSYMLINKS / ELOOP). */
const MAX_SYMLINK_HOPS = 40;

export interface LayerChange {
  entry: TarEntry;
  data?: Buffer;
  byContent?: boolean;
}

export class ImageFs {
  readonly root: DirNode = { kind: 'dir', children: new Map() };
  #entries = 0;
  readonly #maxEntries: number;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  /**
   * Applies one layer. OCI whiteouts apply to the layers below only, so they
   * go first: `.wh.<name>` removes `<name>`, `.wh..wh..opq` empties its
   * directory; then the layer's own entries are added in archive order.
   *
   * @throws VouchError IMAGE_MALFORMED (hard link to nothing) | ARCHIVE_UNSAFE (symlink loop) | ARCHIVE_TOO_LARGE
   */
  apply(layer: number, changes: readonly LayerChange[], where: string): void {
    const adds: LayerChange[] = [];
    for (const c of changes) {
      const slash = c.entry.path.lastIndexOf('/');
      const dir = slash < 0 ? '' : c.entry.path.slice(0, slash);
      const base = c.entry.path.slice(slash + 1);
      if (base === '.wh..wh..opq') {
        const node = this.#walkNoFollow(dir);
        if (node?.kind === 'dir') node.children.clear();
      } else if (base.startsWith('.wh..wh.')) {
        // aufs metadata (.wh..wh.plnk, .wh..wh.aufs): not part of the filesystem.
      } else if (base.startsWith('.wh.')) {
        const parent = this.#walkNoFollow(dir);
        if (parent?.kind === 'dir') parent.children.delete(base.slice(4));
      } else {
        adds.push(c);
      }
    }
    for (const { entry, data, byContent } of adds) {
      if (entry.path === '') continue; // the root directory itself
      if (++this.#entries > this.#maxEntries) {
        throw new VouchError(
          'ARCHIVE_TOO_LARGE',
          `image has more than ${this.#maxEntries} entries`,
          {
            file: where,
          },
        );
      }
      let node: FsNode;
      switch (entry.type) {
        case 'directory':
          node = { kind: 'dir', children: new Map() };
          break;
        case 'file':
          node = { kind: 'file', layer, entry: entry.index, size: entry.size };
          if (data) node.data = data;
          if (byContent) node.byContent = true;
          break;
        case 'symlink':
          node = { kind: 'symlink', target: entry.linkname };
          break;
        case 'hardlink': {
          const target = this.#walkNoFollow(entry.linkname);
          if (!target || target.kind === 'dir') {
            throw new VouchError(
              'IMAGE_MALFORMED',
              `hard link ${entry.path} points at ${JSON.stringify(entry.linkname)}, which is not a file in this or a lower layer`,
              { file: where },
            );
          }
          node = { ...target };
          break;
        }
        default:
          node = { kind: 'other' };
      }
      this.#insert(entry.path, node, where);
    }
  }

  #insert(path: string, node: FsNode, where: string): void {
    const parts = path.split('/');
    const name = parts.pop() as string;
    let dir = this.root;
    let walked = '';
    for (const p of parts) {
      walked = walked ? `${walked}/${p}` : p;
      let child = dir.children.get(p);
      if (child?.kind === 'symlink') {
        // As containerd does: a path under a symlinked directory lands in
        // the directory the link resolves to, within the image root.
        const resolved = this.lookup(walked, true, where);
        if (resolved?.node.kind === 'dir') {
          dir = resolved.node;
          continue;
        }
        child = undefined;
      }
      if (child?.kind !== 'dir') {
        child = { kind: 'dir', children: new Map() };
        dir.children.set(p, child);
      }
      dir = child;
    }
    const existing = dir.children.get(name);
    // A directory entry over an existing directory keeps what is inside it.
    if (node.kind === 'dir' && existing?.kind === 'dir') return;
    dir.children.set(name, node);
  }

  /** The node at a literal path, following no symlinks. */
  #walkNoFollow(path: string): FsNode | undefined {
    let node: FsNode = this.root;
    if (path === '') return node;
    for (const p of path.split('/')) {
      if (node.kind !== 'dir') return undefined;
      const next: FsNode | undefined = node.children.get(p);
      if (!next) return undefined;
      node = next;
    }
    return node;
  }

  /**
   * Resolves a path as the kernel would inside a chroot at the image root:
   * absolute symlink targets start at the image root, `..` at the root stays
   * at the root, so no lookup can leave the image. More than 40 symlinks in
   * one lookup is a loop.
   *
   * @returns the node and its real path, or undefined when nothing is there
   * @throws VouchError ARCHIVE_UNSAFE on a symlink loop
   */
  lookup(
    path: string,
    followLast = true,
    where = 'image',
  ): { node: FsNode; path: string } | undefined {
    const stack: Array<{ name: string; node: DirNode }> = [];
    let dir: DirNode = this.root;
    const pending = path.split('/').reverse();
    let hops = 0;
    while (pending.length > 0) {
      const p = pending.pop() as string;
      if (p === '' || p === '.') continue;
      if (p === '..') {
        stack.pop();
        dir = stack.length > 0 ? (stack[stack.length - 1] as { node: DirNode }).node : this.root;
        continue;
      }
      const child = dir.children.get(p);
      if (!child) return undefined;
      const last = pending.every((x) => x === '' || x === '.');
      if (child.kind === 'symlink' && (!last || followLast)) {
        if (++hops > MAX_SYMLINK_HOPS) {
          throw new VouchError(
            'ARCHIVE_UNSAFE',
            `too many levels of symbolic links resolving ${JSON.stringify(path)} (a symlink loop)`,
            { file: where },
          );
        }
        if (child.target.startsWith('/')) {
          stack.length = 0;
          dir = this.root;
        }
        for (const t of child.target.split('/').reverse()) pending.push(t);
        continue;
      }
      if (last) {
        return { node: child, path: [...stack.map((s) => s.name), p].join('/') };
      }
      if (child.kind !== 'dir') return undefined;
      stack.push({ name: p, node: child });
      dir = child;
    }
    return { node: dir, path: stack.map((s) => s.name).join('/') };
  }

  /** Every regular file (hard links included, symlinks not followed), sorted by path. */
  *files(): Generator<{ path: string; node: FileNode }> {
    const walk = function* (
      dir: DirNode,
      prefix: string,
    ): Generator<{ path: string; node: FileNode }> {
      for (const name of [...dir.children.keys()].sort()) {
        const node = dir.children.get(name) as FsNode;
        const path = prefix ? `${prefix}/${name}` : name;
        if (node.kind === 'dir') yield* walk(node, path);
        else if (node.kind === 'file') yield { path, node };
      }
    };
    yield* walk(this.root, '');
  }
}
