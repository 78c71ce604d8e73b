import type { Variation } from './variation.ts';

/** As root, the experiment runs as `nobody` (setpriv); otherwise there is no other user to be. */
export const user: Variation = {
  name: 'user',
  what: 'user and group (root vs nobody)',
  hint: 'do not embed the user name or uid; archive with --owner=0 --group=0 --numeric-owner',
  unavailable: (m) =>
    !m.root
      ? 'needs root to run the build as another user'
      : m.has('setpriv')
        ? undefined
        : 'setpriv is not installed (util-linux)',
  control() {},
  vary(s) {
    s.runAs = { uid: 65534, gid: 65534 };
    s.env.USER = 'nobody';
    s.env.LOGNAME = 'nobody';
  },
};
