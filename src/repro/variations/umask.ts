import type { Variation } from './variation.ts';

export const umask: Variation = {
  name: 'umask',
  what: 'umask (022 vs 002)',
  hint: 'set umask 022 in the build, or fix modes when archiving (tar --mode=go-w)',
  unavailable: () => undefined,
  control(s) {
    s.umask = 0o022;
  },
  vary(s) {
    s.umask = 0o002;
  },
};
