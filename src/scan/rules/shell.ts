/**
 * Just enough shell reading for rules over `RUN` lines and CI scripts: split a
 * script into simple commands and pipelines, and tokenise a command. Not a
 * shell parser — quotes are honoured when splitting, expansions are not run.
 */

/** Pipelines of a script: split on newlines, `;`, `&&`, `||` outside quotes; each is its `|` stages. */
export function pipelines(script: string): string[][] {
  const out: string[][] = [];
  let stages: string[] = [];
  let cur = '';
  let quote: '"' | "'" | '' = '';
  const flushStage = () => {
    stages.push(cur.trim());
    cur = '';
  };
  const flushPipeline = () => {
    flushStage();
    const s = stages.filter((x) => x !== '');
    if (s.length > 0) out.push(s);
    stages = [];
  };
  for (let i = 0; i < script.length; i++) {
    const c = script[i] as string;
    if (quote) {
      if (c === quote) quote = '';
      else if (c === '\\' && quote === '"') {
        cur += c + (script[i + 1] ?? '');
        i++;
        continue;
      }
      cur += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      cur += c;
    } else if (c === '\\' && script[i + 1] === '\n') {
      i++;
      cur += ' ';
    } else if (c === '#' && (cur === '' || /\s$/.test(cur))) {
      while (i < script.length && script[i] !== '\n') i++;
      flushPipeline();
    } else if (c === '\n' || c === ';') flushPipeline();
    else if ((c === '&' || c === '|') && script[i + 1] === c) {
      i++;
      flushPipeline();
    } else if (c === '|') flushStage();
    else cur += c;
  }
  flushPipeline();
  return out;
}

/** Simple commands of a script (every stage of every pipeline). */
export function commands(script: string): string[] {
  return pipelines(script).flat();
}

/** Words of one command, quotes removed. */
export function words(command: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const m of command.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3] ?? '');
  return out;
}

/** Drops leading `sudo`, `env A=b`, `VAR=x` assignments and `exec`/`command`. */
export function stripPrefix(w: string[]): string[] {
  let i = 0;
  while (i < w.length) {
    const x = w[i] as string;
    if (/^(?:sudo|exec|command|env|time|then|do|else|\{|\(|!)$/.test(x)) i++;
    else if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(x)) i++;
    else if (x.startsWith('-') && i > 0 && w[i - 1] === 'sudo') i++;
    else break;
  }
  return w.slice(i);
}

const SHELLS =
  /^(?:\S*\/)?(?:sh|bash|zsh|ash|dash|ksh|fish|python[0-9.]*|perl|ruby|node|php|iex|invoke-expression|pwsh(?:\.exe)?|powershell(?:\.exe)?)$/i;
const FETCHERS = /^(?:\S*\/)?(?:curl|wget|iwr|invoke-webrequest|irm|invoke-restmethod|fetch)$/i;
/** A PowerShell download inside a command: the cmdlets, their aliases, and WebClient's Download* methods. */
const PS_FETCH =
  /(?:^|[\s(;$])(?:iwr|irm|invoke-webrequest|invoke-restmethod|curl|wget)(?=[\s)]|$)|\.download(?:string|data)\s*\(/i;
/** Words that run their argument as a script: `iex …`, `Invoke-Expression …`, `[scriptblock]::Create(…)`. */
const PS_EXEC = /^(?:iex|invoke-expression)$/i;
/** `-c` of sh/bash, `-Command` (and its prefixes) of pwsh/powershell. */
const COMMAND_FLAG = /^-(?:c|co|com|comm|comma|comman|command)$/i;

/**
 * Whether the script downloads something and runs it unchecked: `curl … | sh`,
 * `wget -O- … | sudo bash`, `sh -c "$(curl …)"`, `bash <(curl …)`, and the
 * PowerShell forms `iwr … | iex`, `irm … | Invoke-Expression`,
 * `iex ((New-Object Net.WebClient).DownloadString('…'))`,
 * `Invoke-Expression (Invoke-WebRequest …).Content`,
 * `& ([scriptblock]::Create((irm …)))`; also inside `bash -c "…"` and
 * `powershell -Command "…"`. The shell the script runs in does not matter.
 */
export function fetchesIntoShell(script: string, depth = 0): string | undefined {
  for (const p of pipelines(script)) {
    const cmds = p.map((s) => stripPrefix(words(s)));
    const fetchAt = cmds.findIndex(
      (w, i) => FETCHERS.test(w[0] ?? '') || /\.download(?:string|data)\s*\(/i.test(p[i] ?? ''),
    );
    if (fetchAt >= 0) {
      for (const w of cmds.slice(fetchAt + 1)) {
        if (SHELLS.test(w[0] ?? '')) return p.join(' | ');
      }
    }
    for (const [i, s] of p.entries()) {
      const w = cmds[i] ?? [];
      if (SHELLS.test(w[0] ?? '') && /(?:\$\(|`|<\()\s*(?:curl|wget)\b/.test(s)) return s;
      if ((PS_EXEC.test(w[0] ?? '') || /\[scriptblock\]::create\s*\(/i.test(s)) && PS_FETCH.test(s))
        return s;
      // `bash -c "curl … | sh"`, `powershell -Command "iwr … | iex"`: the quoted script.
      const c = w.findIndex((x) => COMMAND_FLAG.test(x));
      if (depth < 4 && c > 0 && SHELLS.test(w[0] ?? '') && c + 1 < w.length) {
        const inner = fetchesIntoShell(w.slice(c + 1).join(' '), depth + 1);
        if (inner) return s;
      }
    }
  }
  return undefined;
}
