import { normalizeLocale } from '../machine.ts';
import type { Machine, Variation } from './variation.ts';

/** Experiment locales, by preference: a decimal comma, other month names, other collation. */
const LOCALES = ['fr_CH.UTF-8', 'de_DE.UTF-8'];

/** The experiment locales installed here: an uninstalled one silently falls back to C. */
function installed(m: Machine): string[] {
  return LOCALES.filter((l) => m.locales.has(normalizeLocale(l)));
}

export const locale: Variation = {
  name: 'locale',
  what: 'locale (LANG, LC_ALL, LANGUAGE)',
  hint: 'set LC_ALL=C.UTF-8 for the build',
  unavailable: (m) =>
    installed(m).length === 0
      ? `neither ${LOCALES.join(' nor ')} is installed (locale -a; Debian locales-all, or locale-gen)`
      : undefined,
  control(s) {
    s.env.LANG = 'C.UTF-8';
    s.env.LC_ALL = 'C.UTF-8';
    delete s.env.LANGUAGE;
  },
  vary(s, n, m) {
    const ls = installed(m);
    const l = ls[(n - 1) % ls.length] as string;
    s.env.LANG = l;
    s.env.LC_ALL = l;
    s.env.LANGUAGE = `${l.slice(0, 5)}:${l.slice(0, 2)}`;
  },
};
