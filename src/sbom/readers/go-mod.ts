import { VouchError } from '../../core/errors.ts';
import { ResultBuilder } from '../builder.ts';
import type { ReaderResult } from '../model.ts';
import type { Reader, SourceFile } from '../reader.ts';

/**
 * go.mod with the go.sum beside it.
 *
 * Which module versions are packages of the build:
 * - every `require` of go.mod (direct and `// indirect`) is required: since
 *   go 1.17 (module graph pruning) go.mod lists every module that provides a
 *   package to the main module's build and tests;
 * - a module@version that go.sum holds a code (`h1:` zip) checksum for but
 *   go.mod does not require: with go >= 1.17 its code was downloaded (to rule
 *   out ambiguous imports, or for tests of dependencies) but is not in the
 *   build, so it is emitted as `optional`; with go < 1.17 go.mod lists only
 *   some indirect modules, so it is required;
 * - a module@version with only a `/go.mod` checksum: its go.mod was read for
 *   minimal version selection but its code is not in the build (an older
 *   version that lost selection, or a module providing no package): declared
 *   and skipped with that reason, so the count stays visible.
 * `replace` rewrites a required module to its replacement (module or local
 * directory); `exclude`d versions are skipped. go.sum `h1:` values are
 * hashes of a file list, not of one artifact, so they are kept as the
 * `go:h1` property rather than as a component hash.
 */
export const goModReader: Reader = {
  name: 'go-mod',
  matches: (path) => /(^|\/)go\.mod$/.test(path),
  read,
};

interface Require {
  path: string;
  version: string;
  indirect: boolean;
  line: number;
}

interface Replace {
  from: string;
  fromVersion?: string;
  to: string;
  toVersion?: string;
}

const DIRECTIVES = new Set([
  'module',
  'go',
  'toolchain',
  'godebug',
  'require',
  'replace',
  'exclude',
  'retract',
  'tool',
  'ignore',
]);

export interface GoMod {
  module: string;
  go?: string;
  requires: Require[];
  replaces: Replace[];
  excludes: Set<string>;
}

/** @throws VouchError LOCKFILE_MALFORMED | LOCKFILE_UNSUPPORTED */
export function parseGoMod(text: string, file: string): GoMod {
  const mod: GoMod = { module: '', requires: [], replaces: [], excludes: new Set() };
  let block: string | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string;
    const comment = raw.indexOf('//');
    const note = comment >= 0 ? raw.slice(comment + 2).trim() : '';
    const tokens = tokenize(comment >= 0 ? raw.slice(0, comment) : raw, file, i + 1);
    if (tokens.length === 0) continue;
    const fail = (msg: string): never => {
      throw new VouchError('LOCKFILE_MALFORMED', msg, { file, field: `line ${i + 1}` });
    };
    let verb: string;
    let args: string[];
    if (block !== undefined) {
      if (tokens[0] === ')' && tokens.length === 1) {
        block = undefined;
        continue;
      }
      verb = block;
      args = tokens;
    } else {
      verb = tokens[0] as string;
      args = tokens.slice(1);
      if (!DIRECTIVES.has(verb)) {
        throw new VouchError('LOCKFILE_UNSUPPORTED', `unknown go.mod directive ${verb}`, {
          file,
          field: `line ${i + 1}`,
        });
      }
      if (args.length === 1 && args[0] === '(') {
        block = verb;
        continue;
      }
    }
    switch (verb) {
      case 'module':
        mod.module = args[0] ?? fail('module without a path');
        checkGoModule(mod.module, '', fail);
        break;
      case 'go':
        mod.go = args[0] ?? fail('go without a version');
        break;
      case 'require':
        if (args.length !== 2) fail('require needs a module path and a version');
        checkGoModule(args[0] as string, args[1] as string, fail);
        mod.requires.push({
          path: args[0] as string,
          version: args[1] as string,
          indirect: /^indirect\b/.test(note),
          line: i + 1,
        });
        break;
      case 'exclude':
        if (args.length !== 2) fail('exclude needs a module path and a version');
        mod.excludes.add(`${args[0]}@${args[1]}`);
        break;
      case 'replace': {
        const arrow = args.indexOf('=>');
        if (arrow < 1 || arrow > 2 || args.length - arrow - 1 < 1 || args.length - arrow - 1 > 2)
          fail('replace needs `old [version] => new [version]`');
        const r: Replace = { from: args[0] as string, to: args[arrow + 1] as string };
        if (arrow === 2) r.fromVersion = args[1] as string;
        if (args.length - arrow - 1 === 2) r.toVersion = args[arrow + 2] as string;
        if (!isLocalPath(r.to)) checkGoModule(r.to, r.toVersion ?? '', fail);
        mod.replaces.push(r);
        break;
      }
      default:
        break; // toolchain, godebug, retract, tool, ignore: no packages
    }
  }
  if (block !== undefined) {
    throw new VouchError('LOCKFILE_MALFORMED', `unterminated ${block} ( block`, { file });
  }
  if (!mod.module) throw new VouchError('LOCKFILE_MALFORMED', 'no module directive', { file });
  return mod;
}

function tokenize(s: string, file: string, line: number): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|`([^`]*)`|(\S+)/g;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    if (m[1] !== undefined) {
      try {
        out.push(JSON.parse(`"${m[1]}"`) as string);
      } catch (e) {
        throw new VouchError('LOCKFILE_MALFORMED', 'bad quoted string', {
          file,
          field: `line ${line}`,
          cause: e,
        });
      }
    } else out.push((m[2] ?? m[3]) as string);
  }
  return out;
}

/** go.sum: `module version[/go.mod] h1:base64` → per module@version, its code and go.mod sums. */
export function parseGoSum(
  text: string,
  file: string,
): Map<string, { path: string; version: string; zip?: string; mod?: string }> {
  const out = new Map<string, { path: string; version: string; zip?: string; mod?: string }>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const l = (lines[i] as string).trim();
    if (l === '') continue;
    const m = /^(\S+) (\S+?)(\/go\.mod)? (h\d+:[A-Za-z0-9+/=]+)$/.exec(l);
    if (!m) {
      throw new VouchError('LOCKFILE_MALFORMED', 'not a go.sum line', {
        file,
        field: `line ${i + 1}`,
      });
    }
    const key = `${m[1]}@${m[2]}`;
    const e = out.get(key) ?? { path: m[1] as string, version: m[2] as string };
    if (m[3]) e.mod = m[4] as string;
    else e.zip = m[4] as string;
    out.set(key, e);
  }
  return out;
}

/** Go's module version form, `v` + a semantic version: what a golang purl's `v…` version must be. */
const GO_SEMVER =
  /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*)?(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?$/;

/**
 * Refuses (through `fail`) a module path with an empty element, or a
 * `v`-version that is not semver: neither names a module, and neither can
 * be written as a purl.
 */
export function checkGoModule(path: string, version: string, fail: (msg: string) => never): void {
  if (!/^[^/\s]+(?:\/[^/\s]+)*$/.test(path)) fail(`${JSON.stringify(path)} is not a module path`);
  if (version.startsWith('v') && !GO_SEMVER.test(version))
    fail(`version ${JSON.stringify(version)} of ${path} is not a semantic version`);
}

/** Splits a module path into purl namespace and name at the last `/`. */
export function goPurlParts(path: string): { namespace?: string; name: string } {
  const i = path.lastIndexOf('/');
  return i < 0 ? { name: path } : { namespace: path.slice(0, i), name: path.slice(i + 1) };
}

/** True for `./x`, `../x`, `/x` replacement targets (a directory, not a module). */
export function isLocalPath(p: string): boolean {
  return /^(\.\.?(\/|$)|\/|[A-Za-z]:\\)/.test(p);
}

async function read(file: SourceFile): Promise<ReaderResult> {
  const mod = parseGoMod((await file.bytes()).toString('utf8'), file.path);
  const sumBytes = await file.sibling('go.sum');
  const sumFile = file.path.replace(/go\.mod$/, 'go.sum');
  const sums = sumBytes ? parseGoSum(sumBytes.toString('utf8'), sumFile) : new Map();
  const pruned = mod.go !== undefined && goAtLeast(mod.go, 1, 17);
  const b = new ResultBuilder(
    file.path,
    'go-mod',
    `go.mod go ${mod.go ?? '(none)'}${sumBytes ? ' + go.sum' : ''}`,
  );

  b.declare();
  const root = b.add({
    ecosystem: 'golang',
    ...goPurlParts(mod.module),
    version: '',
    source: { kind: 'workspace' },
  });
  b.root(root);

  const replacementOf = (path: string, version: string): Replace | undefined =>
    mod.replaces.find(
      (r) => r.from === path && (r.fromVersion === undefined || r.fromVersion === version),
    );
  const required = new Set<string>();

  for (const r of mod.requires) {
    b.declare();
    const key = `${r.path}@${r.version}`;
    required.add(key);
    if (mod.excludes.has(key)) {
      b.skip(`go.mod line ${r.line}: require ${key}`, 'excluded by an exclude directive');
      continue;
    }
    const properties: Record<string, string> = { 'go:indirect': String(r.indirect) };
    const rep = replacementOf(r.path, r.version);
    let ref: string;
    if (rep && isLocalPath(rep.to)) {
      properties['go:replacedBy'] = rep.to;
      ref = b.add({
        ecosystem: 'golang',
        ...goPurlParts(r.path),
        version: '',
        source: { kind: 'file', url: rep.to },
        properties,
      });
    } else {
      const path = rep ? rep.to : r.path;
      const version = rep?.toVersion ?? r.version;
      if (rep) {
        properties['go:replaces'] = key;
        required.add(`${path}@${version}`);
      }
      const h1 = sums.get(`${path}@${version}`)?.zip;
      if (h1) properties['go:h1'] = h1;
      ref = b.add({ ecosystem: 'golang', ...goPurlParts(path), version, properties });
    }
    if (!r.indirect) b.depend(root, ref);
  }

  for (const [key, s] of [...sums.entries()].sort(([a], [c]) => (a < c ? -1 : a > c ? 1 : 0))) {
    if (required.has(key)) continue;
    b.declare();
    if (mod.excludes.has(key)) {
      b.skip(`go.sum ${key}`, 'excluded by an exclude directive');
      continue;
    }
    if (!s.zip) {
      b.skip(
        `go.sum ${key}/go.mod`,
        'only the go.mod checksum: read for minimal version selection, code not in the build',
      );
      continue;
    }
    checkGoModule(s.path, s.version, (msg) => {
      throw new VouchError('LOCKFILE_MALFORMED', msg, { file: sumFile, field: key });
    });
    const properties: Record<string, string> = { 'go:h1': s.zip, 'go:inGoMod': 'false' };
    const input = {
      ecosystem: 'golang' as const,
      ...goPurlParts(s.path),
      version: s.version,
      scope: pruned ? ('optional' as const) : ('required' as const),
      properties,
    };
    b.add(input);
  }
  return b.build();
}

function goAtLeast(v: string, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(v);
  if (!m) return false;
  const a = Number(m[1]);
  const c = Number(m[2]);
  return a > major || (a === major && c >= minor);
}
