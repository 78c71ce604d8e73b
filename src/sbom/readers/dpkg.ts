import { isVouchError, VouchError } from '../../core/errors.ts';
import { purlOf, ResultBuilder } from '../builder.ts';
import type { ReaderResult } from '../model.ts';
import type { Distro, Reader, SourceFile } from '../reader.ts';
import { copyrightLicenses, MAX_COPYRIGHT_BYTES } from './dpkg-copyright.ts';

/**
 * Debian's package database: `var/lib/dpkg/status` (RFC 822 stanzas, one per
 * package dpkg knows), and distroless images' `var/lib/dpkg/status.d/<name>`
 * (one file per package, same stanza format, no dpkg binary in the image).
 *
 * A stanza is a component when its package's files are on disk: `Status`'s
 * third word is `installed`, or a state that leaves the files in place
 * (`unpacked`, `half-configured`, `triggers-*`), kept as a property so
 * nothing unpacked but unconfigured goes missing from a vulnerability scan.
 * `config-files`, `half-installed` and `not-installed` stanzas are counted and
 * skipped with the state as the reason.
 *
 * Licences come from each package's machine-readable (DEP-5) copyright file,
 * `usr/share/doc/<package>/copyright` in the same tree (see
 * dpkg-copyright.ts); a package whose copyright file is free text, or absent,
 * gets none.
 */
export const dpkgReader: Reader = {
  name: 'dpkg',
  matches(path) {
    return isStatusFile(path) || isStatusDFile(path);
  },
  async read(file) {
    return readDpkg(file);
  },
  companions: (path) => COPYRIGHT_RE.test(path),
};

const COPYRIGHT_RE = /(^|\/)usr\/share\/doc\/[^/]+\/copyright$/;

const STATUS_RE = /(^|\/)var\/lib\/dpkg\/status$/;
const STATUS_D_RE = /(^|\/)var\/lib\/dpkg\/status\.d\/([^/]+)$/;

function isStatusFile(path: string): boolean {
  return STATUS_RE.test(path);
}

function isStatusDFile(path: string): boolean {
  const m = STATUS_D_RE.exec(path);
  // status.d also holds `<name>.md5sums` file lists, which are not stanzas.
  return m !== null && !(m[2] as string).endsWith('.md5sums') && !(m[2] as string).startsWith('.');
}

/** Package states whose files are (at least partly configured and) on disk. */
const PRESENT = new Set([
  'installed',
  'unpacked',
  'half-configured',
  'triggers-awaited',
  'triggers-pending',
]);
const ABSENT = new Set(['not-installed', 'config-files', 'half-installed']);

export interface Stanza {
  /** 1-based line of the stanza's first field. */
  line: number;
  fields: Map<string, string>;
}

/**
 * Parses RFC 822-style control stanzas as dpkg writes them. Field names are
 * case-insensitive (stored lower-case); continuation lines are joined with
 * `\n`.
 *
 * @param allowRepeated field names (lower-case) that may repeat in a stanza, the first
 *   value kept (copyright files in the archive repeat `Comment`; dpkg's own files never do)
 * @throws VouchError LOCKFILE_MALFORMED on a line that is neither a field nor a continuation,
 *   or a repeated field
 */
export function parseStanzas(
  text: string,
  file: string,
  allowRepeated?: (field: string) => boolean,
): Stanza[] {
  const out: Stanza[] = [];
  let current: Stanza | undefined;
  let last: string | undefined;
  let ignoreContinuation = false;
  const lines = text.split('\n');
  // A file that ends without a newline was cut short if its last line is a fragment.
  const endsClean = text.length === 0 || text.endsWith('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') {
      current = undefined;
      last = undefined;
      ignoreContinuation = false;
      continue;
    }
    if (line[0] === ' ' || line[0] === '\t') {
      if (ignoreContinuation) continue;
      if (!current || last === undefined) {
        throw new VouchError('LOCKFILE_MALFORMED', 'continuation line outside a field', {
          file,
          field: `line ${i + 1}`,
        });
      }
      current.fields.set(last, `${current.fields.get(last)}\n${line.trim()}`);
      continue;
    }
    if (line[0] === '#') continue;
    const colon = line.indexOf(':');
    if (colon <= 0 || /\s/.test(line.slice(0, colon))) {
      const truncated = !endsClean && i === lines.length - 1;
      throw new VouchError(
        'LOCKFILE_MALFORMED',
        truncated
          ? `file ends in the middle of a field (truncated?): ${JSON.stringify(line.slice(0, 60))}`
          : `not a "Field: value" line: ${JSON.stringify(line.slice(0, 60))}`,
        { file, field: `line ${i + 1}` },
      );
    }
    if (!current) {
      current = { line: i + 1, fields: new Map() };
      out.push(current);
    }
    last = line.slice(0, colon).toLowerCase();
    if (current.fields.has(last) && allowRepeated?.(last)) {
      last = undefined; // its continuation lines belong to the repeat, dropped with it
      ignoreContinuation = true;
      continue;
    }
    ignoreContinuation = false;
    if (current.fields.has(last)) {
      throw new VouchError('LOCKFILE_MALFORMED', `field ${line.slice(0, colon)} repeated`, {
        file,
        field: `line ${i + 1}`,
      });
    }
    current.fields.set(last, line.slice(colon + 1).trim());
  }
  return out;
}

interface Pkg {
  name: string;
  arch: string;
  version: string;
  ref: string;
  stanza: Stanza;
}

async function readDpkg(file: SourceFile): Promise<ReaderResult> {
  const statusD = isStatusDFile(file.path);
  const b = new ResultBuilder(file.path, 'dpkg', statusD ? 'dpkg status.d' : 'dpkg status');
  const stanzas = parseStanzas((await file.bytes()).toString('utf8'), file.path);
  const distro = file.context?.distro;
  // The tree's root as seen from this file: status files may sit below a scanned directory.
  const prefix = file.path.replace(/var\/lib\/dpkg\/(status|status\.d\/[^/]+)$/, '');
  const licenses = new Map<string, { licenses: string[]; problem?: string }>();

  const present: Pkg[] = [];
  for (const s of stanzas) {
    b.declare();
    const name = s.fields.get('package');
    const entry = `${name ?? '?'} (line ${s.line})`;
    if (!name) {
      b.skip(entry, 'stanza has no Package field');
      continue;
    }
    // status.d stanzas carry no Status field: the file exists because the package is installed.
    const status = s.fields.get('status') ?? (statusD ? 'install ok installed' : undefined);
    if (status === undefined) {
      b.skip(entry, 'stanza has no Status field');
      continue;
    }
    const state = status.split(/\s+/)[2];
    if (state === undefined || (!PRESENT.has(state) && !ABSENT.has(state))) {
      b.skip(entry, `unrecognised Status "${status}"`);
      continue;
    }
    if (ABSENT.has(state)) {
      b.skip(entry, `not installed (Status: ${status})`);
      continue;
    }
    const version = s.fields.get('version');
    if (!version) {
      b.skip(entry, 'installed stanza has no Version field');
      continue;
    }
    const arch = s.fields.get('architecture') ?? '';
    const c = component(name, version, arch, s, distro, state);
    let lic = licenses.get(name);
    if (!lic) {
      lic = await packageLicenses(file, `${prefix}usr/share/doc/${name}/copyright`);
      licenses.set(name, lic);
    }
    if (lic.problem) c.properties['dpkg:copyright'] = lic.problem;
    const ref = b.add({ ...c, licenses: lic.licenses });
    present.push({ name, arch, version, ref, stanza: s });
  }

  const resolver = new Resolver(present);
  const siblingCache = new Map<string, Pkg[]>();
  for (const p of present) {
    for (const field of ['pre-depends', 'depends']) {
      const value = p.stanza.fields.get(field);
      if (!value) continue;
      for (const group of parseDepends(value)) {
        let target = firstResolved(resolver, group, p.arch);
        if (!target && statusD)
          target = await resolveSibling(file, group, p.arch, siblingCache, distro);
        if (target) b.depend(p.ref, target);
      }
    }
  }
  return b.build();
}

/** The licences a package's copyright file states, or why it could not say. */
async function packageLicenses(
  file: SourceFile,
  path: string,
): Promise<{ licenses: string[]; problem?: string }> {
  if (!file.treeFile) return { licenses: [] };
  let bytes: Buffer | undefined;
  try {
    bytes = await file.treeFile(path, MAX_COPYRIGHT_BYTES);
  } catch (e) {
    if (!isVouchError(e)) throw e;
    return { licenses: [], problem: `copyright file not read: ${e.message}` };
  }
  return bytes ? copyrightLicenses(bytes, path) : { licenses: [] };
}

function component(
  name: string,
  version: string,
  arch: string,
  s: Stanza,
  distro: Distro | undefined,
  state: string,
) {
  const qualifiers: Record<string, string> = {};
  if (arch) qualifiers.arch = arch;
  if (distro?.versionId) qualifiers.distro = `${distro.id}-${distro.versionId}`;
  const properties: Record<string, string> = {};
  const source = parseSource(s.fields.get('source'));
  if (source) {
    properties['deb:source'] = source.name;
    properties['deb:source-version'] = source.version ?? version;
    // As Syft writes it; OSV's Debian and Ubuntu advisories name the source package.
    qualifiers.upstream = source.version ? `${source.name}@${source.version}` : source.name;
  }
  if (state !== 'installed') properties['dpkg:status'] = state;
  return {
    ecosystem: 'deb' as const,
    namespace: distro?.id ?? 'debian',
    name,
    version,
    qualifiers,
    properties,
  };
}

/** `Source: glibc (2.36-9+deb12u4)` or `Source: zlib`. */
function parseSource(v: string | undefined): { name: string; version?: string } | undefined {
  if (!v) return undefined;
  const m = /^(\S+)(?:\s*\(([^)]+)\))?$/.exec(v.trim());
  if (!m) return undefined;
  return m[2]
    ? { name: m[1] as string, version: (m[2] as string).trim() }
    : { name: m[1] as string };
}

interface Alternative {
  name: string;
  /** `:any`, `:native` or an architecture name. */
  arch?: string;
}

/** `a (>= 1) | b:any, c [amd64] <!nocheck>` → [[a, b], [c]]. */
export function parseDepends(value: string): Alternative[][] {
  const out: Alternative[][] = [];
  for (const group of value.split(',')) {
    const alts: Alternative[] = [];
    for (const alt of group.split('|')) {
      const m = /^\s*([a-z0-9][a-z0-9+.-]*)(?::([a-z0-9-]+))?/i.exec(alt);
      if (!m) continue;
      alts.push(m[2] ? { name: m[1] as string, arch: m[2] as string } : { name: m[1] as string });
    }
    if (alts.length > 0) out.push(alts);
  }
  return out;
}

class Resolver {
  readonly #byName = new Map<string, Pkg[]>();
  readonly #byProvides = new Map<string, Pkg[]>();

  constructor(pkgs: readonly Pkg[]) {
    for (const p of pkgs) {
      push(this.#byName, p.name, p);
      for (const group of parseDepends(p.stanza.fields.get('provides') ?? ''))
        for (const alt of group) push(this.#byProvides, alt.name, p);
    }
  }

  resolve(alt: Alternative, fromArch: string): Pkg | undefined {
    return (
      pick(this.#byName.get(alt.name), alt, fromArch) ??
      pick(this.#byProvides.get(alt.name), alt, fromArch)
    );
  }
}

function firstResolved(r: Resolver, group: Alternative[], fromArch: string): string | undefined {
  // `a | b`: the edge goes to whichever alternative is installed, first one first.
  for (const alt of group) {
    const p = r.resolve(alt, fromArch);
    if (p) return p.ref;
  }
  return undefined;
}

/** dpkg's rule, simplified: same architecture, then `all`, then whatever is installed. */
function pick(cands: Pkg[] | undefined, alt: Alternative, fromArch: string): Pkg | undefined {
  if (!cands || cands.length === 0) return undefined;
  const want = alt.arch && alt.arch !== 'any' && alt.arch !== 'native' ? alt.arch : fromArch;
  return cands.find((c) => c.arch === want) ?? cands.find((c) => c.arch === 'all') ?? cands[0];
}

/** In status.d each package is its own file, named after the package: look there. */
async function resolveSibling(
  file: SourceFile,
  group: Alternative[],
  fromArch: string,
  cache: Map<string, Pkg[]>,
  distro: Distro | undefined,
): Promise<string | undefined> {
  for (const alt of group) {
    let pkgs = cache.get(alt.name);
    if (!pkgs) {
      pkgs = [];
      if (/^[a-z0-9][a-z0-9+.-]*$/.test(alt.name)) {
        const bytes = await file.sibling(alt.name);
        if (bytes) {
          let stanzas: Stanza[] = [];
          try {
            stanzas = parseStanzas(bytes.toString('utf8'), alt.name);
          } catch {
            // That file is reported by its own read; here it only fails to give an edge.
          }
          for (const s of stanzas) {
            const name = s.fields.get('package');
            const version = s.fields.get('version');
            const state = (s.fields.get('status') ?? 'install ok installed').split(/\s+/)[2];
            if (!name || !version || !state || !PRESENT.has(state)) continue;
            const arch = s.fields.get('architecture') ?? '';
            const ref = purlOf(component(name, version, arch, s, distro, state));
            pkgs.push({ name, arch, version, ref, stanza: s });
          }
        }
      }
      cache.set(alt.name, pkgs);
    }
    const p = pick(
      pkgs.filter((x) => x.name === alt.name),
      alt,
      fromArch,
    );
    if (p) return p.ref;
  }
  return undefined;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}
