import { posix } from 'node:path';
import { VouchError } from '../../core/errors.ts';
import { ResultBuilder } from '../builder.ts';
import type { Hash, ReaderResult } from '../model.ts';
import type { Reader, SourceFile } from '../reader.ts';
import { PYPI_NAME, pypiHash, pypiName } from './python-name.ts';

/**
 * pip requirements files. Only pinned requirements (`==` / `===` one exact
 * version) are packages: a range names many versions, not the one installed,
 * so unpinned and URL/path requirements are skipped with the reason. `-c`
 * constraint files add no packages but may pin one that is unpinned here.
 */
export const requirementsReader: Reader = {
  name: 'requirements',
  matches: (path) => /(^|\/)requirements[^/]*\.txt$/.test(path),
  read,
};

/** Global options: they change how pip resolves, not which packages are listed. */
const GLOBAL_OPTIONS = new Set([
  '-i',
  '--index-url',
  '--extra-index-url',
  '--no-index',
  '-f',
  '--find-links',
  '--no-binary',
  '--only-binary',
  '--prefer-binary',
  '--pre',
  '--trusted-host',
  '--require-hashes',
  '--use-feature',
]);

const MAX_INCLUDES = 256;

interface Line {
  /** Path of the file, relative to the directory of the file being read. */
  file: string;
  line: number;
  text: string;
}

interface Pinned {
  name: string;
  version: string;
  hashes: Hash[];
  markers?: string;
  extras?: string;
}

async function read(file: SourceFile): Promise<ReaderResult> {
  const b = new ResultBuilder(file.path, 'requirements', 'requirements.txt');
  const constraints = new Map<string, string>();
  const requirements: Array<{ at: Line; req: ParsedRequirement }> = [];
  let includes = 0;

  // Depth-first over -r includes; -c files only contribute pins.
  const visit = async (
    rel: string,
    bytes: Buffer,
    chain: string[],
    constraint: boolean,
  ): Promise<void> => {
    for (const at of logicalLines(bytes.toString('utf8'), rel)) {
      const opt = /^(-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+)(\S+)$/.exec(at.text);
      if (opt) {
        const target = posix.normalize(posix.join(posix.dirname(rel), opt[2] as string));
        const isConstraint = opt[1] === '-c' || opt[1] === '--constraint';
        const entry = `${at.file}:${at.line}: ${at.text}`;
        if (chain.includes(target)) {
          if (!constraint && !isConstraint) {
            b.declare();
            b.skip(entry, `include cycle: ${[...chain, target].join(' -> ')}`);
          }
          continue;
        }
        if (++includes > MAX_INCLUDES) {
          throw new VouchError('LOCKFILE_MALFORMED', `more than ${MAX_INCLUDES} -r/-c includes`, {
            file: file.path,
            field: `${at.file} line ${at.line}`,
          });
        }
        const inner = await file.sibling(target);
        if (!inner) {
          if (!constraint && !isConstraint) {
            b.declare();
            b.skip(entry, `included file ${target} not found beside ${file.path}`);
          }
          continue;
        }
        await visit(target, inner, [...chain, target], constraint || isConstraint);
        continue;
      }
      const req = parseRequirement(at, file.path);
      if (req === undefined) continue;
      if (constraint) {
        if (req.kind === 'pinned') constraints.set(pypiName(req.pin.name), req.pin.version);
        continue;
      }
      requirements.push({ at, req });
    }
  };
  const base = posix.basename(file.path);
  await visit(base, await file.bytes(), [base], false);

  for (const { at, req } of requirements) {
    b.declare();
    const entry = `${at.file}:${at.line}: ${at.text}`;
    if (req.kind === 'skip') {
      b.skip(entry, req.reason);
      continue;
    }
    let pin = req.kind === 'pinned' ? req.pin : undefined;
    if (req.kind === 'unpinned') {
      const v = constraints.get(pypiName(req.pin.name));
      if (v === undefined) {
        b.skip(entry, req.reason);
        continue;
      }
      pin = { ...req.pin, version: v };
    }
    if (!pin) continue;
    const properties: Record<string, string> = {};
    if (pin.markers) properties['python:markers'] = pin.markers;
    if (pin.extras) properties['python:extras'] = pin.extras;
    if (req.kind === 'unpinned') properties['python:pinnedBy'] = 'constraints file';
    b.add({
      ecosystem: 'pypi',
      name: pypiName(pin.name),
      version: pin.version,
      hashes: pin.hashes,
      properties,
    });
  }
  return b.build();
}

/** Joins `\` continuations and drops comments; keeps the first physical line's number. */
function* logicalLines(text: string, rel: string): Generator<Line> {
  const lines = text.split(/\r?\n/);
  let buf = '';
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    let l = lines[i] as string;
    if (buf === '') start = i + 1;
    // A comment starts at `#` at line start or after whitespace (pip's COMMENT_RE).
    const comment = /(^|\s)#/.exec(l);
    if (comment) l = l.slice(0, comment.index);
    if (/\\$/.test(l) && !comment) {
      buf += `${l.slice(0, -1)} `;
      continue;
    }
    buf += l;
    const t = buf.trim().replace(/\s+/g, ' ');
    buf = '';
    if (t !== '') yield { file: rel, line: start, text: t };
  }
  const t = buf.trim();
  if (t !== '') yield { file: rel, line: start, text: t };
}

type ParsedRequirement =
  | { kind: 'pinned'; pin: Pinned }
  | { kind: 'unpinned'; pin: Pinned; reason: string }
  | { kind: 'skip'; reason: string };

/** @throws VouchError LOCKFILE_UNSUPPORTED for an option pip has but this reader does not know. */
function parseRequirement(at: Line, top: string): ParsedRequirement | undefined {
  let text = at.text;
  if (text.startsWith('-')) {
    const name = (/^(--?[A-Za-z-]+)/.exec(text)?.[1] ?? text) as string;
    if (name === '-e' || name === '--editable') {
      return {
        kind: 'skip',
        reason: 'editable requirement (local or VCS checkout): no package version',
      };
    }
    if (GLOBAL_OPTIONS.has(name)) return undefined;
    throw new VouchError('LOCKFILE_UNSUPPORTED', `unknown requirements option ${name}`, {
      file: top,
      field: `${at.file} line ${at.line}`,
    });
  }
  // Per-requirement options: --hash (kept), --global-option/--config-settings (ignored).
  const hashes: Hash[] = [];
  text = text.replace(/\s--hash(?:=|\s+)(\S+)/g, (_, h: string) => {
    const hash = pypiHash(h);
    if (hash) hashes.push(hash);
    return '';
  });
  text = text
    .replace(/\s--(?:global-option|install-option|config-settings)(?:=|\s+)\S+/g, '')
    .trim();
  hashes.sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));

  if (
    /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ||
    /^(\.|\/|~)/.test(text) ||
    (!/\s/.test(text) && /\.(whl|zip|tar\.gz)$/.test(text))
  ) {
    return { kind: 'skip', reason: 'URL or path requirement: no package version' };
  }
  const semi = text.indexOf(';');
  const markers = semi >= 0 ? text.slice(semi + 1).trim() : undefined;
  const head = (semi >= 0 ? text.slice(0, semi) : text).trim();
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$/.exec(head);
  if (!m || !PYPI_NAME.test(m[1] as string)) {
    return { kind: 'skip', reason: 'not a PEP 508 requirement' };
  }
  const name = m[1] as string;
  const spec = (m[3] as string)
    .trim()
    .replace(/^\((.*)\)$/, '$1')
    .trim();
  const base: Pinned = { name, version: '', hashes };
  if (markers) base.markers = markers;
  if (m[2]) base.extras = (m[2] as string).slice(1, -1).replace(/\s+/g, '');
  if (spec.startsWith('@'))
    return { kind: 'skip', reason: 'URL requirement (name @ url): no package version' };
  const pinned = /^(===|==)\s*([^\s,;]+)$/.exec(spec);
  if (pinned && !(pinned[1] === '==' && (pinned[2] as string).endsWith('.*'))) {
    return { kind: 'pinned', pin: { ...base, version: pinned[2] as string } };
  }
  return {
    kind: 'unpinned',
    pin: base,
    reason:
      spec === '' ? 'unpinned: no version given' : `unpinned: ${spec} is a range, not a version`,
  };
}
