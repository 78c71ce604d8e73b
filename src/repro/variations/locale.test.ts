// The locale variation only varies what is installed: glibc silently falls
// back to C for a locale that is not, which would make the experiment the
// same as the control while the report said the locale had been varied.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { normalizeLocale, probeMachine } from '../machine.ts';
import type { BuildSetup, Machine } from './index.ts';
import { locale } from './locale.ts';

const fake = (locales: string[]): Machine => ({
  root: false,
  has: () => false,
  fuseWorks: false,
  unshareWorks: false,
  locales: new Set(locales),
});

const setup = (): BuildSetup => ({
  root: '/r',
  sourceName: 's',
  env: {},
  buildDir: '/r/b',
  home: '/r/h',
  umask: 0o022,
  wrappers: [],
});

test('locale names are compared in glibc normal form', () => {
  assert.equal(normalizeLocale('fr_CH.UTF-8'), 'fr_CH.utf8');
  assert.equal(normalizeLocale('fr_CH.utf8'), 'fr_CH.utf8');
  assert.equal(normalizeLocale('sr_RS.UTF-8@latin'), 'sr_RS.utf8@latin');
  assert.equal(normalizeLocale('C'), 'C');
});

test('locale: not available when no experiment locale is installed, as `locale -a` says on this machine', async () => {
  const m = await probeMachine();
  const listed = spawnSync('locale', ['-a'], { encoding: 'utf8' }).stdout.split('\n');
  const here = listed.some((l) => /^(fr_CH|de_DE)\.utf-?8$/i.test(l));
  const why = locale.unavailable(m);
  if (here) assert.equal(why, undefined);
  else assert.match(String(why), /fr_CH\.UTF-8 nor de_DE\.UTF-8 is installed/);
  assert.match(String(locale.unavailable(fake(['C', 'C.utf8', 'POSIX']))), /locales-all/);
});

test('locale: experiments use the installed locales only', () => {
  const m = fake(['C.utf8', 'de_DE.utf8']);
  assert.equal(locale.unavailable(m), undefined);
  for (const n of [1, 2, 3]) {
    const s = setup();
    locale.vary(s, n, m);
    assert.equal(s.env.LC_ALL, 'de_DE.UTF-8', `run ${n}`);
    assert.equal(s.env.LANGUAGE, 'de_DE:de');
  }
  const both = fake(['fr_CH.utf8', 'de_DE.utf8']);
  const [one, two] = [setup(), setup()];
  locale.vary(one, 1, both);
  locale.vary(two, 2, both);
  assert.deepEqual([one.env.LANG, two.env.LANG], ['fr_CH.UTF-8', 'de_DE.UTF-8']);
});
