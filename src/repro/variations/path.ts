import { join } from 'node:path';
import type { Variation } from './variation.ts';

export const path: Variation = {
  name: 'path',
  what: 'build directory (another absolute path per run)',
  hint: 'do not embed the build directory: relative paths, -ffile-prefix-map=$PWD=., no absolute source maps',
  unavailable: () => undefined,
  control() {},
  vary(s, n) {
    s.buildDir = join(s.root, `build-varied-${n}`, 'deeper', `${s.sourceName}-${n}`);
  },
};
