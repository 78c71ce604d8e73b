import type { Variation } from './variation.ts';

export const locale: Variation = {
  name: 'locale',
  what: 'locale (LANG, LC_ALL, LANGUAGE)',
  hint: 'set LC_ALL=C.UTF-8 for the build',
  unavailable: () => undefined,
  control(s) {
    s.env.LANG = 'C.UTF-8';
    s.env.LC_ALL = 'C.UTF-8';
    delete s.env.LANGUAGE;
  },
  vary(s, n) {
    const l = n % 2 === 1 ? 'fr_CH.UTF-8' : 'de_DE.UTF-8';
    s.env.LANG = l;
    s.env.LC_ALL = l;
    s.env.LANGUAGE = `${l.slice(0, 5)}:${l.slice(0, 2)}`;
  },
};
