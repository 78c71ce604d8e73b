import { join } from 'node:path';
import type { Variation } from './variation.ts';

export const home: Variation = {
  name: 'home',
  what: 'HOME directory',
  hint: 'do not read or embed $HOME (caches, config) in the output',
  unavailable: () => undefined,
  control() {},
  vary(s, n) {
    s.home = join(s.root, `home-varied-${n}`);
  },
};
