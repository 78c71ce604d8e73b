import { VouchError } from '../../core/errors.ts';
import { ResultBuilder } from '../builder.ts';
import type { Component, Hash, ReaderResult } from '../model.ts';
import type { Reader, SourceFile } from '../reader.ts';

/**
 * Bundler's Gemfile.lock: GEM / GIT / PATH / PLUGIN SOURCE sections whose
 * `specs:` list gems at 4 spaces (`name (version[-platform])`) and their
 * dependencies at 6; CHECKSUMS (Bundler 2.6+) gives SHA-256 per gem and
 * platform. A platform gem (`nokogiri (1.16.0-x86_64-linux)`) is its own
 * component with a `platform` purl qualifier. The lockfile does not record
 * Gemfile groups, so every gem is required; PATH gems at `.` are the roots.
 */
export const gemfileLockReader: Reader = {
  name: 'gemfile-lock',
  matches: (path) => /(^|\/)(Gemfile|gems\.rb)\.lock$|(^|\/)gems\.locked$/.test(path),
  read,
};

const SOURCE_SECTIONS = new Set(['GEM', 'GIT', 'PATH', 'PLUGIN SOURCE']);
const OTHER_SECTIONS = new Set([
  'PLATFORMS',
  'DEPENDENCIES',
  'CHECKSUMS',
  'RUBY VERSION',
  'BUNDLED WITH',
]);
// Bundler's own pattern: version is everything up to the first '-', the rest is the platform.
const NAME_VERSION = /^(\S+?)(?: \(([^-)]*)(?:-(.*))?\))?(!)?$/;

interface Spec {
  name: string;
  version: string;
  platform?: string;
  line: number;
  section: string;
  remote?: string;
  revision?: string;
  deps: string[];
}

async function read(file: SourceFile): Promise<ReaderResult> {
  const lines = (await file.bytes()).toString('utf8').split(/\r?\n/);
  const specs: Spec[] = [];
  const checksums = new Map<string, string>();
  let bundledWith: string | undefined;
  let section: string | undefined;
  let remote: string | undefined;
  let revision: string | undefined;
  let inSpecs = false;
  const fail = (i: number, msg: string): VouchError =>
    new VouchError('LOCKFILE_MALFORMED', msg, { file: file.path, field: `line ${i + 1}` });
  for (let i = 0; i < lines.length; i++) {
    // trimEnd, not replace(/\s+$/): that regex is quadratic on a long run of spaces inside a line.
    const line = (lines[i] as string).trimEnd();
    if (line === '') continue;
    if (!line.startsWith(' ')) {
      if (!SOURCE_SECTIONS.has(line) && !OTHER_SECTIONS.has(line)) {
        if (/^[A-Z][A-Z ]*$/.test(line)) {
          throw new VouchError('LOCKFILE_UNSUPPORTED', `unknown Gemfile.lock section ${line}`, {
            file: file.path,
            field: `line ${i + 1}`,
          });
        }
        throw fail(i, `not a section header: ${line}`);
      }
      section = line;
      remote = undefined;
      revision = undefined;
      inSpecs = false;
      continue;
    }
    if (section === undefined) throw fail(i, 'content before the first section');
    const indent = line.length - line.trimStart().length;
    const body = line.trim();
    if (SOURCE_SECTIONS.has(section as string)) {
      if (indent === 2) {
        inSpecs = body === 'specs:';
        const kv = /^(\w+): (.*)$/.exec(body);
        if (kv?.[1] === 'remote') remote = kv[2];
        if (kv?.[1] === 'revision') revision = kv[2];
        continue;
      }
      if (!inSpecs) continue;
      const m = NAME_VERSION.exec(body);
      if (!m) throw fail(i, `not a gem spec: ${body}`);
      if (indent === 4) {
        if (m[2] === undefined) throw fail(i, `gem spec without a version: ${body}`);
        const s: Spec = {
          name: m[1] as string,
          version: m[2] as string,
          line: i + 1,
          section: section as string,
          deps: [],
        };
        if (m[3]) s.platform = m[3];
        if (remote !== undefined) s.remote = remote;
        if (revision !== undefined) s.revision = revision;
        specs.push(s);
      } else if (indent === 6) {
        const last = specs[specs.length - 1];
        if (!last) throw fail(i, 'dependency before any gem');
        last.deps.push(m[1] as string);
      } else throw fail(i, `unexpected indentation ${indent}`);
    } else if (section === 'CHECKSUMS' && indent === 2) {
      const m = /^(\S+) \(([^)]*)\)(?: (.*))?$/.exec(body);
      if (!m) throw fail(i, `not a checksum line: ${body}`);
      const sha = /(?:^|,)sha256=([0-9a-f]{64})(?:,|$)/.exec(m[3] ?? '');
      if (sha) checksums.set(`${m[1]} ${m[2]}`, sha[1] as string);
    } else if (section === 'BUNDLED WITH') bundledWith = body;
  }
  if (section === undefined) {
    throw new VouchError('LOCKFILE_MALFORMED', 'no sections: not a Gemfile.lock', {
      file: file.path,
    });
  }

  const b = new ResultBuilder(
    file.path,
    'gemfile-lock',
    `Gemfile.lock${bundledWith ? ` (Bundler ${bundledWith})` : ''}`,
  );
  const byName = new Map<string, string[]>();
  const refOf = new Map<Spec, string>();
  for (const s of specs) {
    b.declare();
    const hashes: Hash[] = [];
    const sha = checksums.get(`${s.name} ${s.version}${s.platform ? `-${s.platform}` : ''}`);
    if (sha) hashes.push({ algorithm: 'SHA-256', value: sha });
    const properties: Record<string, string> = {};
    let source: Component['source'];
    if (s.section === 'GIT') {
      source = s.remote ? { kind: 'git', url: s.remote } : { kind: 'git' };
      if (s.revision) properties['vcs:ref'] = s.revision;
    } else if (s.section === 'PATH')
      source = s.remote ? { kind: 'file', url: s.remote } : { kind: 'file' };
    else if (s.remote && !/^https?:\/\/rubygems\.org\/?$/.test(s.remote))
      source = { kind: 'registry', url: s.remote };
    const ref = b.add({
      ecosystem: 'gem',
      name: s.name,
      version: s.version,
      hashes,
      source,
      properties,
      qualifiers: s.platform ? { platform: s.platform } : {},
    });
    refOf.set(s, ref);
    if (s.section === 'PATH' && (s.remote === '.' || s.remote === './')) b.root(ref);
    byName.set(s.name, [...(byName.get(s.name) ?? []), ref]);
  }
  for (const s of specs)
    for (const d of s.deps)
      for (const to of byName.get(d) ?? []) b.depend(refOf.get(s) as string, to);
  return b.build();
}
