import { defineScheme, type VersionScheme } from './scheme.ts';
import { checkCommon, compareDigits, compareStrings } from './util.ts';

/**
 * Alpine apk versions: `N(.N)*[letter](_suffix[N])*[~hash][-rN]`, suffixes
 * ordered `alpha` < `beta` < `pre` < `rc` < none < `cvs` < `svn` < `git` <
 * `hg` < `p`; after the first component a number with a leading zero
 * compares as a string (apk's "fractional" rule). A version apk would call
 * invalid still parses (apk's `version -t` accepts them), and two invalid
 * versions compare as strings, as osv-scalibr's fixtures expect.
 */
interface AlpineVersion {
  original: string;
  invalid: boolean;
  components: { text: string; index: number }[];
  letter: string;
  suffixes: { weight: number; number: string }[];
  build: string;
  remainder: string;
}

const SUFFIX_WEIGHT: Record<string, number> = {
  alpha: 0,
  beta: 1,
  pre: 2,
  rc: 3,
  cvs: 5,
  svn: 6,
  git: 7,
  hg: 8,
  p: 9,
};
const NO_SUFFIX = 4;

function parse(version: string): AlpineVersion {
  checkCommon('Alpine', version);
  const v: AlpineVersion = {
    original: version,
    invalid: false,
    components: [],
    letter: '',
    suffixes: [],
    build: '0',
    remainder: '',
  };
  let s = version;
  const nums = /^((\d+)\.?)*/.exec(s)?.[0] ?? '';
  if (nums !== '') {
    const parts = nums.split('.');
    for (let i = 0; i < parts.length; i++) {
      const d = parts[i] as string;
      if (d === '') break;
      v.components.push({ text: d, index: i });
    }
    s = s.slice(nums.length);
  }
  if (/^[a-z]/.test(s)) {
    v.letter = s[0] as string;
    s = s.slice(1);
  }
  for (const m of s.matchAll(/_(alpha|beta|pre|rc|cvs|svn|git|hg|p)(\d*)/g)) {
    v.suffixes.push({
      weight: SUFFIX_WEIGHT[m[1] as string] as number,
      number: m[2] === '' ? '0' : (m[2] as string),
    });
    if (s.startsWith(m[0])) s = s.slice(m[0].length);
  }
  const hash = /^~[0-9a-f]+/.exec(s);
  if (hash) s = s.slice(hash[0].length);
  if (s !== '') {
    const b = /^-r(\d*)/.exec(s);
    if (!b) v.invalid = true;
    else {
      v.build = b[1] === '' ? '0' : (b[1] as string);
      s = s.slice(b[0].length);
    }
  }
  v.remainder = s;
  return v;
}

function compareComponent(
  a: { text: string; index: number },
  b: { text: string; index: number },
): number {
  if (a.index !== 0 && b.index !== 0 && (a.text[0] === '0' || b.text[0] === '0'))
    return compareStrings(a.text, b.text);
  return compareDigits(a.text, b.text);
}

function compareAlpine(v: AlpineVersion, w: AlpineVersion): number {
  if (v.invalid && w.invalid) return compareStrings(v.original, w.original);
  const n = Math.max(v.components.length, w.components.length);
  const zero = { text: '0', index: 0 };
  for (let i = 0; i < n; i++) {
    const d = compareComponent(v.components[i] ?? zero, w.components[i] ?? zero);
    if (d !== 0) return d;
  }
  if (v.letter !== w.letter) {
    if (v.letter === '') return -1;
    if (w.letter === '') return 1;
    return compareStrings(v.letter, w.letter);
  }
  const m = Math.max(v.suffixes.length, w.suffixes.length);
  const none = { weight: NO_SUFFIX, number: '0' };
  for (let i = 0; i < m; i++) {
    const x = v.suffixes[i] ?? none;
    const y = w.suffixes[i] ?? none;
    if (x.weight !== y.weight) return x.weight < y.weight ? -1 : 1;
    const d = compareDigits(x.number, y.number);
    if (d !== 0) return d;
  }
  const d = compareDigits(v.build, w.build);
  if (d !== 0) return d;
  if (v.remainder === '' && w.remainder !== '') return 1;
  if (v.remainder !== '' && w.remainder === '') return -1;
  return 0;
}

export const alpine: VersionScheme<AlpineVersion> = defineScheme('alpine', parse, compareAlpine);
