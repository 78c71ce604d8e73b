import { isVouchError } from '../../core/errors.ts';
import { parseStanzas } from './dpkg.ts';

/**
 * Licences of a Debian package from its machine-readable copyright file
 * (DEP-5, https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/),
 * `usr/share/doc/<package>/copyright`.
 *
 * Only a file whose first paragraph has that `Format:` is read; any other
 * copyright file (free text, as many packages still have) gives no licence —
 * a licence is never guessed from prose. The licences are the distinct
 * `License:` first lines of the header and `Files:` paragraphs (standalone
 * `License:` paragraphs only hold the texts of names used there). Each is
 * written as an SPDX expression when every short name in it is in
 * SPDX_BY_DEP5 (and every `with … exception` in SPDX_EXCEPTIONS); otherwise
 * the DEP-5 text is kept as it is, which the writers carry as a licence name.
 */
export interface CopyrightLicenses {
  licenses: string[];
  /** Why a copyright file that exists gave no licences (too large, not text, malformed). */
  problem?: string;
}

/** Largest copyright file read (real ones reach ~2 MB: firmware, boost, texlive). */
export const MAX_COPYRIGHT_BYTES = 8 * 1024 * 1024;

const FORMAT =
  /^(https?:\/\/www\.debian\.org\/doc\/packaging-manuals\/copyright-format\/1\.0\/?|https?:\/\/dep\.debian\.net\/deps\/dep5\/?)$/;

/** Fields whose repetition makes the file ambiguous; others (Comment…) may repeat, first kept. */
const KEY_FIELDS = new Set(['format', 'files', 'license']);

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * @param bytes the copyright file
 * @param name its path, for messages
 */
export function copyrightLicenses(bytes: Buffer, name: string): CopyrightLicenses {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return { licenses: [], problem: 'copyright file is not UTF-8 text' };
  }
  if (text.includes('\0')) return { licenses: [], problem: 'copyright file is not text' };
  // Cheap test before parsing: free-form files are the common non-DEP-5 case.
  // The Format field belongs to the first paragraph.
  const header = text.slice(0, 64 * 1024).split(/\r?\n[ \t]*\r?\n/, 1)[0] ?? '';
  const first = /^Format:[ \t]*(\S*)[ \t]*\r?$/im.exec(header);
  if (!first || !FORMAT.test(first[1] as string)) return { licenses: [] };
  let stanzas: ReturnType<typeof parseStanzas>;
  try {
    stanzas = parseStanzas(text, name, (f) => !KEY_FIELDS.has(f));
  } catch (e) {
    if (!isVouchError(e)) throw e;
    return { licenses: [], problem: `malformed DEP-5 copyright file: ${e.message}` };
  }
  const head = stanzas[0];
  if (!head || !FORMAT.test(head.fields.get('format') ?? '')) {
    return {
      licenses: [],
      problem: 'malformed DEP-5 copyright file: Format is not in the first paragraph',
    };
  }
  const out = new Set<string>();
  for (const [i, s] of stanzas.entries()) {
    if (i > 0 && !s.fields.has('files')) continue;
    const value = s.fields.get('license')?.split('\n')[0]?.trim();
    if (value) out.add(spdxFromDep5(value) ?? value);
  }
  return { licenses: [...out].sort() };
}

/**
 * DEP-5 short names (the spec's list and the spellings common in Debian's
 * archive) → SPDX ids. Versioned families (GPL, LGPL, AGPL, GFDL, Apache,
 * MPL…) are handled by VERSIONED below. Deliberately absent: names with no
 * single SPDX meaning (`public-domain`, `permissive`, unversioned `GPL`,
 * `BSD`, `Artistic`), which stay as written.
 */
export const SPDX_BY_DEP5: Readonly<Record<string, string>> = {
  expat: 'MIT',
  mit: 'MIT',
  isc: 'ISC',
  zlib: 'Zlib',
  x11: 'X11',
  curl: 'curl',
  'bsd-2-clause': 'BSD-2-Clause',
  'bsd-3-clause': 'BSD-3-Clause',
  'bsd-4-clause': 'BSD-4-Clause',
  'bsl-1.0': 'BSL-1.0',
  cc0: 'CC0-1.0',
  'cc0-1.0': 'CC0-1.0',
  'openldap-2.8': 'OLDAP-2.8',
  fsfap: 'FSFAP',
  fsful: 'FSFUL',
  fsfullr: 'FSFULLR',
  libpng: 'Libpng',
  'libpng-2.0': 'libpng-2.0',
  'artistic-2.0': 'Artistic-2.0',
  'python-2.0': 'Python-2.0',
  'zope-2.1': 'ZPL-2.1',
  'cddl-1.0': 'CDDL-1.0',
  'epl-1.0': 'EPL-1.0',
  'epl-2.0': 'EPL-2.0',
  'unicode-dfs-2016': 'Unicode-DFS-2016',
  w3c: 'W3C',
  'ofl-1.1': 'OFL-1.1',
  'sil-ofl-1.1': 'OFL-1.1',
  ftl: 'FTL',
  openssl: 'OpenSSL',
};

/** `<family>-<version>[+]`; `GPLv2+` and `GPL-2.0+` spellings too. */
const VERSIONED =
  /^(agpl|gpl|lgpl|gfdl|gfdl-niv|apache|mpl|cc-by|cc-by-sa)-?v?(\d+(?:\.\d+)?)(\+)?$/;

function spdxName(name: string): string | undefined {
  const lower = name.toLowerCase();
  const plain = SPDX_BY_DEP5[lower];
  if (plain) return plain;
  const m = VERSIONED.exec(lower);
  if (!m) return undefined;
  const family = m[1] as string;
  const v = (m[2] as string).includes('.') ? (m[2] as string) : `${m[2]}.0`;
  const later = m[3] === '+';
  switch (family) {
    case 'gpl':
    case 'lgpl':
    case 'agpl': {
      const known: Record<string, readonly string[]> = {
        gpl: ['1.0', '2.0', '3.0'],
        lgpl: ['2.0', '2.1', '3.0'],
        agpl: ['1.0', '3.0'],
      };
      if (!known[family]?.includes(v)) return undefined;
      return `${family.toUpperCase()}-${v}-${later ? 'or-later' : 'only'}`;
    }
    case 'gfdl':
    case 'gfdl-niv':
      if (!['1.1', '1.2', '1.3'].includes(v)) return undefined;
      return `GFDL-${v}${family === 'gfdl-niv' ? '-no-invariants' : ''}-${later ? 'or-later' : 'only'}`;
    case 'apache':
      return later || !['1.0', '1.1', '2.0'].includes(v) ? undefined : `Apache-${v}`;
    case 'mpl':
      return later || !['1.0', '1.1', '2.0'].includes(v) ? undefined : `MPL-${v}`;
    case 'cc-by':
    case 'cc-by-sa':
      return later || !['3.0', '4.0'].includes(v)
        ? undefined
        : `${family === 'cc-by' ? 'CC-BY' : 'CC-BY-SA'}-${v}`;
  }
  return undefined;
}

/** `with <name> exception` → SPDX exception id; Autoconf's depends on the GPL version. */
const SPDX_EXCEPTIONS: Readonly<Record<string, (licence: string) => string | undefined>> = {
  autoconf: (l) =>
    l.startsWith('GPL-2.0')
      ? 'Autoconf-exception-2.0'
      : l.startsWith('GPL-3.0')
        ? 'Autoconf-exception-3.0'
        : undefined,
  bison: () => 'Bison-exception-2.2',
  classpath: () => 'Classpath-exception-2.0',
  'gcc-3.1': () => 'GCC-exception-3.1',
  'linux-syscall-note': () => 'Linux-syscall-note',
  libtool: () => 'Libtool-exception',
  font: () => 'Font-exception-2.0',
};

/**
 * A DEP-5 license expression as SPDX, or undefined when any part has no
 * SPDX id. DEP-5: `and` binds tighter than `or` (as in SPDX); a comma before
 * `and`/`or` lowers that operator's precedence below both, so comma groups
 * are parenthesised.
 */
export function spdxFromDep5(value: string): string | undefined {
  const groups = value.split(/,\s*(?=(?:and|or)\s)/i);
  const parts: string[] = [];
  for (const [i, group] of groups.entries()) {
    let g = group.trim();
    let op = '';
    if (i > 0) {
      const m = /^(and|or)\s+/i.exec(g);
      if (!m) return undefined;
      op = (m[1] as string).toUpperCase();
      g = g.slice(m[0].length);
    }
    const simple = spdxSimple(g);
    if (simple === undefined) return undefined;
    parts.push(op, groups.length > 1 && /\s(AND|OR)\s/.test(simple) ? `(${simple})` : simple);
  }
  return parts.filter((p) => p !== '').join(' ');
}

/** `A or B and C with X exception`, no commas. */
function spdxSimple(text: string): string | undefined {
  const tokens = text.trim().split(/\s+/);
  const out: string[] = [];
  let i = 0;
  while (i < tokens.length) {
    const name = tokens[i++] as string;
    let id = spdxName(name);
    if (id === undefined) return undefined;
    if (tokens[i]?.toLowerCase() === 'with') {
      const end = tokens.findIndex((t, k) => k > i && t.toLowerCase() === 'exception');
      if (end < 0) return undefined;
      const exception =
        SPDX_EXCEPTIONS[
          tokens
            .slice(i + 1, end)
            .join('-')
            .toLowerCase()
        ]?.(id);
      if (!exception) return undefined;
      id = `${id} WITH ${exception}`;
      i = end + 1;
    }
    out.push(id);
    if (i >= tokens.length) break;
    const op = tokens[i++]?.toLowerCase();
    if ((op !== 'and' && op !== 'or') || i >= tokens.length) return undefined;
    out.push(op.toUpperCase());
  }
  return out.length > 0 ? out.join(' ') : undefined;
}
