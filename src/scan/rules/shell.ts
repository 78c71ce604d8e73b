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
  /^(?:\S*\/)?(?:sh|bash|zsh|ash|dash|ksh|fish|python[0-9.]*|perl|ruby|node|php|iex|pwsh|powershell)$/;
const FETCHERS = /^(?:\S*\/)?(?:curl|wget|iwr|invoke-webrequest|irm|invoke-restmethod|fetch)$/i;

/**
 * Whether the script downloads something and runs it unchecked: `curl … | sh`,
 * `wget -O- … | sudo bash`, `sh -c "$(curl …)"`, `bash <(curl …)`.
 */
export function fetchesIntoShell(script: string): string | undefined {
  for (const p of pipelines(script)) {
    const cmds = p.map((s) => stripPrefix(words(s)));
    const fetchAt = cmds.findIndex((w) => FETCHERS.test(w[0] ?? ''));
    if (fetchAt >= 0) {
      for (const w of cmds.slice(fetchAt + 1)) {
        if (SHELLS.test(w[0] ?? '')) return p.join(' | ');
      }
    }
    for (const s of p) {
      const w = stripPrefix(words(s));
      if (SHELLS.test(w[0] ?? '') && /(?:\$\(|`|<\()\s*(?:curl|wget)\b/.test(s)) return s;
    }
  }
  return undefined;
}
