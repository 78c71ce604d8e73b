import type { Difference, DiffResult } from './types.ts';

const GROUP_OVER = 20;

/** Human text: differences grouped per class, each with its hint once; long runs summarised. */
export function renderText(r: DiffResult): string {
  if (r.identical) return `identical: ${r.a} and ${r.b}\n`;
  const lines = [`${r.differences.length} difference(s) between ${r.a} and ${r.b}`];
  const byClass = new Map<string, Difference[]>();
  for (const d of r.differences) byClass.set(d.class, [...(byClass.get(d.class) ?? []), d]);
  for (const [cls, list] of [...byClass].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
    lines.push('', `[${cls}] ${list.length} — fix: ${list[0]?.hint ?? ''}`);
    const shown = list.length > GROUP_OVER ? list.slice(0, GROUP_OVER) : list;
    for (const d of shown) {
      const what = d.field ? `${d.kind} ${d.field}: ${d.a} → ${d.b}` : d.kind;
      lines.push(`  ${d.path}: ${what}`);
      if (d.detail)
        lines.push(
          ...d.detail
            .split('\n')
            .slice(0, 40)
            .map((l) => `      ${l}`),
        );
    }
    if (list.length > shown.length)
      lines.push(`  … and ${list.length - shown.length} more (see --json)`);
  }
  return `${lines.join('\n')}\n`;
}

/** A self-contained HTML page (no scripts, everything escaped). */
export function renderHtml(r: DiffResult): string {
  const rows = r.differences
    .map(
      (d) =>
        `<tr><td><code>${esc(d.path)}</code></td><td>${esc(d.kind)}${d.field ? ` <code>${esc(d.field)}</code>` : ''}</td><td class="c-${esc(d.class)}">${esc(d.class)}</td><td>${esc(d.hint)}</td><td>${
          d.field
            ? `<del>${esc(d.a ?? '')}</del><br><ins>${esc(d.b ?? '')}</ins>`
            : d.detail
              ? `<pre>${diffLines(d.detail)}</pre>`
              : ''
        }</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>vouch repro diff</title>
<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px;vertical-align:top}pre{margin:0}.m{background:#fdd}.p{background:#dfd}</style>
</head><body>
<h1>${r.identical ? 'Identical' : `${r.differences.length} difference(s)`}</h1>
<p><code>${esc(r.a)}</code> vs <code>${esc(r.b)}</code></p>
<table><tr><th>member</th><th>what</th><th>class</th><th>fix</th><th>detail</th></tr>
${rows}
</table></body></html>
`;
}

function diffLines(detail: string): string {
  return detail
    .split('\n')
    .map((l) =>
      l.startsWith('-')
        ? `<span class="m">${esc(l)}</span>`
        : l.startsWith('+')
          ? `<span class="p">${esc(l)}</span>`
          : esc(l),
    )
    .join('\n');
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
