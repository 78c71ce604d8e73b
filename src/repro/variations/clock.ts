import type { Variation } from './variation.ts';

/**
 * The clock through libfaketime. The control is pinned too (every process
 * starts at the same fake instant), so a build that reads the time differs
 * only when this variation is on, and bisecting can blame the clock rather
 * than whichever variation happened to run a second later.
 * SOURCE_DATE_EPOCH, when set, is passed to every run unchanged.
 */
export const clock: Variation = {
  name: 'clock',
  what: 'system time (libfaketime: control at 2024-01-01, experiments 13 months later)',
  hint: 'set SOURCE_DATE_EPOCH and make the build use it instead of the current time',
  unavailable: (m) =>
    m.has('faketime') ? undefined : 'faketime is not installed (Debian package faketime)',
  control(s) {
    s.wrappers.push(['faketime', '-f', '@2024-01-01 00:00:00']);
  },
  vary(s, n) {
    s.wrappers.push(['faketime', '-f', `@2025-02-${String(2 + n).padStart(2, '0')} 04:05:06`]);
  },
};
