import type { Variation } from './variation.ts';

export const env: Variation = {
  name: 'env',
  what: 'environment noise (an extra variable per run)',
  hint: 'do not capture the whole environment in the output',
  unavailable: () => undefined,
  control() {},
  vary(s, n) {
    s.env.VOUCH_REPRO_NOISE = `experiment-${n}`;
    s.env.CAPTURE_ENVIRONMENT = 'i_capture_the_environment';
  },
};
