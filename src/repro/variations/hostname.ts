import type { Variation } from './variation.ts';

/** A private UTS namespace per run (`unshare --uts`, root only) with its own host name. */
export const hostname: Variation = {
  name: 'hostname',
  what: 'host name (unshare --uts)',
  hint: 'do not embed the host name',
  unavailable: (m) =>
    !m.root
      ? 'needs root for unshare --uts'
      : m.unshareWorks
        ? undefined
        : 'unshare --uts does not work here',
  control(s) {
    s.wrappers.unshift(utsWrapper('vouch-control'));
    s.env.HOSTNAME = 'vouch-control';
  },
  vary(s, n) {
    s.wrappers.unshift(utsWrapper(`vouch-experiment-${n}`));
    s.env.HOSTNAME = `vouch-experiment-${n}`;
  },
};

/** The build's argv follows as "$@": passed through, never re-parsed by the shell. */
function utsWrapper(name: string): string[] {
  return [
    'unshare',
    '--uts',
    '--',
    'sh',
    '-c',
    'hostname "$1" && shift && exec "$@"',
    'vouch-uts',
    name,
  ];
}
