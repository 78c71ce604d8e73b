import type { Variation } from './variation.ts';

export const tz: Variation = {
  name: 'tz',
  what: 'time zone (TZ)',
  hint: 'set TZ=UTC for the build, or format times in UTC',
  unavailable: () => undefined,
  control(s) {
    s.env.TZ = 'GMT+12';
  },
  vary(s, n) {
    s.env.TZ = n % 2 === 1 ? 'GMT-14' : 'GMT-11';
  },
};
