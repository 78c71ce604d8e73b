/**
 * A Dockerfile/Containerfile reader. No npm Dockerfile parser is maintained
 * (dockerfile-ast's last release is July 2025), so this follows the BuildKit
 * grammar directly: parser directives (`# escape=`), comments, line
 * continuations (comments and blank lines inside them), heredocs
 * (`<<EOF`, `<<-EOF`, quoted delimiters, several per line), JSON (exec) and
 * shell forms, `--flag=value` options, and ARG/ENV expansion of `FROM` images.
 * `ONBUILD <instruction>` is read as its inner instruction with `onbuild` set,
 * at the ONBUILD line, so content rules (curl | sh, ADD of a URL, secrets,
 * package installs) see it; it runs in the images built FROM this one, so
 * rules about this image itself (USER, HEALTHCHECK, stages) leave it out.
 */
import { VouchError } from '../../../core/errors.ts';

export interface Heredoc {
  name: string;
  body: string;
}

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, … */
  keyword: string;
  /** Options before the arguments: `--from=build` → { from: 'build' }. */
  flags: Record<string, string>;
  /** Arguments after the flags, continuations joined with a space. */
  args: string;
  /** Exec form (`["a","b"]`), when the arguments are a JSON string array. */
  json: string[] | undefined;
  heredocs: Heredoc[];
  /** 1-based first and last line. */
  line: number;
  endLine: number;
  /** Index of the stage it belongs to; -1 before the first FROM. */
  stage: number;
  /**
   * Written as `ONBUILD <keyword> …`: a trigger stored in the image and run at
   * the start of every build that uses it as its base, not in this build.
   */
  onbuild: boolean;
}

export interface Stage {
  index: number;
  /** `AS name`, lower-cased (stage names are case-insensitive). */
  name: string | undefined;
  /** The image as written. */
  image: string;
  /** The image with global ARG defaults expanded; undefined when unresolvable. */
  resolvedImage: string | undefined;
  from: Instruction;
  instructions: Instruction[];
}

export interface Dockerfile {
  instructions: Instruction[];
  stages: Stage[];
  /** ARGs before the first FROM, with their defaults. */
  globalArgs: Map<string, string | undefined>;
}

const KEYWORDS = new Set([
  'ADD',
  'ARG',
  'CMD',
  'COPY',
  'ENTRYPOINT',
  'ENV',
  'EXPOSE',
  'FROM',
  'HEALTHCHECK',
  'LABEL',
  'MAINTAINER',
  'ONBUILD',
  'RUN',
  'SHELL',
  'STOPSIGNAL',
  'USER',
  'VOLUME',
  'WORKDIR',
]);

const MAX_LINES = 200_000;

/** @throws VouchError SCAN_PARSE_ERROR naming the file and line. */
export function parseDockerfile(text: string, file: string): Dockerfile {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.length > MAX_LINES)
    throw new VouchError('SCAN_PARSE_ERROR', `more than ${MAX_LINES} lines`, { file });
  const fail = (line: number, msg: string): never => {
    throw new VouchError('SCAN_PARSE_ERROR', msg, { file, field: `line ${line}` });
  };
  let escapeChar = '\\';
  let i = 0;
  // Parser directives: only at the very top, before any other line.
  for (; i < lines.length; i++) {
    const m = /^\s*#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$/.exec(lines[i] as string);
    if (!m) break;
    if ((m[1] as string).toLowerCase() === 'escape') {
      if (m[2] !== '\\' && m[2] !== '`') fail(i + 1, `invalid escape directive ${m[2]}`);
      escapeChar = m[2] as string;
    }
  }
  i = 0;
  const out: Instruction[] = [];
  const contRe = new RegExp(`${escapeChar === '\\' ? '\\\\' : '`'}\\s*$`);
  while (i < lines.length) {
    const raw = lines[i] as string;
    const t = raw.trim();
    if (t === '' || t.startsWith('#')) {
      i++;
      continue;
    }
    const start = i + 1;
    let logical = '';
    let cur = raw;
    // Join continuation lines; comment and empty lines inside are dropped.
    for (;;) {
      if (contRe.test(cur)) {
        logical += `${cur.replace(contRe, '')} `;
        i++;
        while (i < lines.length && /^\s*(#.*)?$/.test(lines[i] as string)) i++;
        if (i >= lines.length) break;
        cur = lines[i] as string;
      } else {
        logical += cur;
        i++;
        break;
      }
    }
    let end = Math.min(i, lines.length);
    const m = /^\s*([A-Za-z]+)(?:\s+|$)(.*)$/s.exec(logical);
    if (!m) fail(start, `not an instruction: ${logical.trim().slice(0, 60)}`);
    let keyword = (m?.[1] ?? '').toUpperCase();
    if (!KEYWORDS.has(keyword)) fail(start, `unknown instruction ${m?.[1]}`);
    let rest = (m?.[2] ?? '').trim();
    const onbuild = keyword === 'ONBUILD';
    if (onbuild) {
      const inner = /^([A-Za-z]+)(?:\s+|$)(.*)$/s.exec(rest);
      if (!inner) fail(start, 'ONBUILD without an instruction');
      keyword = (inner?.[1] ?? '').toUpperCase();
      if (!KEYWORDS.has(keyword)) fail(start, `unknown instruction ONBUILD ${inner?.[1]}`);
      // Docker refuses these triggers.
      if (keyword === 'ONBUILD' || keyword === 'FROM' || keyword === 'MAINTAINER')
        fail(start, `ONBUILD ${keyword} is not allowed`);
      rest = (inner?.[2] ?? '').trim();
    }
    const flags: Record<string, string> = {};
    for (;;) {
      const f = /^--([A-Za-z][A-Za-z0-9-]*)(?:=("[^"]*"|\S*))?(?:\s+|$)/.exec(rest);
      if (!f) break;
      const name = (f[1] as string).toLowerCase();
      const v = (f[2] ?? 'true').replace(/^"(.*)"$/, '$1');
      flags[name] = name in flags ? `${flags[name]},${v}` : v;
      rest = rest.slice(f[0].length);
    }
    // Heredocs (RUN/COPY/ADD): bodies follow the instruction line.
    const heredocs: Heredoc[] = [];
    if (keyword === 'RUN' || keyword === 'COPY' || keyword === 'ADD') {
      for (const h of rest.matchAll(/<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g)) {
        const strip = h[1] === '-';
        const name = h[3] as string;
        const body: string[] = [];
        let closed = false;
        while (i < lines.length) {
          const l = lines[i] as string;
          i++;
          if ((strip ? l.replace(/^\t+/, '') : l) === name) {
            closed = true;
            break;
          }
          body.push(strip ? l.replace(/^\t+/, '') : l);
        }
        if (!closed) fail(start, `heredoc <<${name} is not terminated`);
        heredocs.push({ name, body: body.join('\n') });
        end = i;
      }
    }
    let json: string[] | undefined;
    if (rest.startsWith('[')) {
      try {
        const v: unknown = JSON.parse(rest);
        if (Array.isArray(v) && v.every((x) => typeof x === 'string')) json = v;
      } catch {
        // Docker runs a malformed JSON array as shell form.
      }
    }
    out.push({
      keyword,
      flags,
      args: rest,
      json,
      heredocs,
      line: start,
      endLine: end,
      stage: -1,
      onbuild,
    });
  }
  // Stages.
  const stages: Stage[] = [];
  const globalArgs = new Map<string, string | undefined>();
  for (const ins of out) {
    if (ins.keyword === 'FROM') {
      const w = ins.args.split(/\s+/).filter(Boolean);
      const image = w[0] ?? '';
      if (image === '') fail(ins.line, 'FROM without an image');
      const name = w[1]?.toLowerCase() === 'as' ? w[2]?.toLowerCase() : undefined;
      stages.push({
        index: stages.length,
        name,
        image,
        resolvedImage: expand(image, globalArgs),
        from: ins,
        instructions: [],
      });
    } else if (stages.length === 0) {
      if (ins.keyword !== 'ARG' || ins.onbuild)
        fail(ins.line, `${label(ins)} before the first FROM`);
      for (const [k, v] of argPairs(ins.args)) globalArgs.set(k, v);
    }
    ins.stage = stages.length - 1;
    stages[stages.length - 1]?.instructions.push(ins);
  }
  if (stages.length === 0) fail(1, 'no FROM instruction');
  return { instructions: out, stages, globalArgs };
}

/** `ARG a=1 b` → [['a','1'], ['b', undefined]]. */
export function argPairs(args: string): [string, string | undefined][] {
  const out: [string, string | undefined][] = [];
  for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)(?:=("(?:[^"\\]|\\.)*"|'[^']*'|\S*))?/g)) {
    const v = m[2];
    out.push([m[1] as string, v === undefined ? undefined : unquote(v)]);
  }
  return out;
}

/**
 * `ENV a=1 b="x y"` or the legacy `ENV a 1 2` → pairs with their values.
 */
export function envPairs(args: string): [string, string][] {
  const legacy = /^([A-Za-z_][A-Za-z0-9_.-]*)\s+(.*)$/s.exec(args);
  if (legacy && !(legacy[1] as string).includes('=') && !/^\S+=/.test(args))
    return [[legacy[1] as string, (legacy[2] as string).trim()]];
  const out: [string, string][] = [];
  for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_.-]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g))
    out.push([m[1] as string, unquote(m[2] as string)]);
  return out;
}

function unquote(v: string): string {
  if (v.length >= 2 && ((v[0] === '"' && v.endsWith('"')) || (v[0] === "'" && v.endsWith("'"))))
    return v.slice(1, -1);
  return v;
}

/** Expands $A, ${A}, ${A:-d}, ${A:+x}; undefined when a variable has no value. */
export function expand(s: string, vars: Map<string, string | undefined>): string | undefined {
  let unresolved = false;
  const r = s.replace(
    /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?([-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (
      _m,
      a: string | undefined,
      op: string | undefined,
      alt: string | undefined,
      b: string | undefined,
    ) => {
      const v = vars.get((a ?? b) as string);
      if (op === '-') return v || (alt ?? '');
      if (op === '+') return v ? (alt ?? '') : '';
      if (v === undefined) unresolved = true;
      return v ?? '';
    },
  );
  return unresolved ? undefined : r;
}

/** `RUN`, or `ONBUILD RUN` for a trigger: how messages name an instruction. */
export function label(ins: Instruction): string {
  return ins.onbuild ? `ONBUILD ${ins.keyword}` : ins.keyword;
}

/**
 * The shell text an instruction runs: shell form, exec form joined (the
 * script argument alone for `["sh", "-c", "…"]` or
 * `["powershell", "-Command", "…"]`), heredoc bodies.
 */
export function runScript(ins: Instruction): string {
  const j = ins.json;
  const shellC =
    j !== undefined &&
    j.length >= 3 &&
    /^(?:\S*[/\\])?(?:sh|bash|ash|dash|zsh|cmd|pwsh|powershell)(?:\.exe)?$/i.test(j[0] ?? '') &&
    /^(?:-c|\/c|-command)$/i.test(j[1] ?? '');
  const parts = [j ? (shellC ? j.slice(2).join(' ') : j.join(' ')) : ins.args];
  for (const h of ins.heredocs) parts.push(h.body);
  return parts.join('\n');
}
