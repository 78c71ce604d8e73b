import type { Variation } from './variation.ts';

export const order: Variation = {
  name: 'order',
  what: 'file system order (disorderfs, reversed directory entries)',
  hint: 'sort directory listings and inputs (find | sort, tar --sort=name, sorted globs)',
  unavailable: (m) =>
    !m.has('disorderfs')
      ? 'disorderfs is not installed (Debian package disorderfs)'
      : m.fuseWorks
        ? undefined
        : 'disorderfs is installed but FUSE mounts do not work here',
  control() {},
  vary(s) {
    s.disorder = true;
  },
};
