import type { ComplianceReport, EvidenceCell, MissingCell, TaskResult } from './model.ts';
import type { ReportRenderer } from './renderer.ts';
import { STATUS_LABEL, signersText, timeText } from './text.ts';

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const e = escapeHtml;

// No scripts, no external fetches: the CSP forbids both even if escaping failed somewhere.
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem; color: #1b1f24; }
h1 { font-size: 1.4rem; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
th, td { border: 1px solid #d0d7de; padding: .4rem .6rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
code { font-size: 12px; word-break: break-all; }
.satisfied { background: #dafbe1; }
.not-satisfied { background: #ffebe9; }
.not-applicable { background: #eaeef2; }
.ok { color: #1a7f37; font-weight: bold; }
.fail { color: #cf222e; font-weight: bold; }
ul { margin: .2rem 0; padding-left: 1.2rem; }
.text { color: #57606a; }
`;

function evidenceItem(x: EvidenceCell): string {
  return `<li><b>${e(x.rule)}</b>: <code>${e(x.source)}</code> signed by ${e(signersText(x))}, ${e(timeText(x))}, bundle <code>${e(x.bundleDigest)}</code>${x.archived ? '' : ' <i>(not in the evidence store)</i>'}</li>`;
}

function missingItem(m: MissingCell): string {
  return `<li><b>${e(m.rule)}</b> <span class="text">(${e(m.summary)})</span><ul>${m.reasons.map((r) => `<li>${e(r)}</li>`).join('')}</ul></li>`;
}

function row(t: TaskResult, kind: string): string {
  let detail: string;
  if (t.status === 'not-applicable')
    detail = `Not applicable to ${e(kind)} artifacts: ${e(t.notApplicableReason ?? '')}`;
  else
    detail = [
      t.evidence.length ? `<ul>${t.evidence.map(evidenceItem).join('')}</ul>` : '',
      t.missing.length ? `Missing:<ul>${t.missing.map(missingItem).join('')}</ul>` : '',
    ].join('');
  return `<tr class="${e(t.status)}" id="${e(t.id)}"><td><b>${e(t.id)}</b></td><td>${e(STATUS_LABEL[t.status])}</td><td><div class="text">${e(t.text)}</div><div>Shown by: ${e(t.expects)}</div></td><td>${detail}</td></tr>`;
}

/** One self-contained page: inline CSS, no scripts, no external assets. */
export const htmlRenderer: ReportRenderer = {
  format: 'html',
  mediaType: 'text/html',
  render(r: ComplianceReport): string {
    const applicable = r.summary.total - r.summary.notApplicable;
    const title = `${r.framework.name} ${r.framework.version}: ${r.subject.name ?? r.subject.digest}`;
    const dropped = r.dropped.length
      ? `<ul>${r.dropped.map((d) => `<li><code>${e(d.source)}</code> (<code>${e(d.bundleDigest)}</code>)<ul>${d.reasons.map((x) => `<li>${e(x)}</li>`).join('')}</ul></li>`).join('')}</ul>`
      : '<p>None: every bundle found verified.</p>';
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${e(CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${e(r.framework.name)} ${e(r.framework.version)}: compliance report</h1>
<table>
<tr><th>Subject</th><td><code>${e(r.subject.digest)}</code>${r.subject.name ? ` (${e(r.subject.name)})` : ''}</td></tr>
<tr><th>Artifact kind</th><td>${e(r.artifactKind)}</td></tr>
<tr><th>Profile</th><td>${e(r.profile.name)}: ${e(r.profile.title)} <code>${e(r.profile.digest)}</code></td></tr>
<tr><th>Trust</th><td>${e(r.trust.source)} <code>${e(r.trust.digest)}</code>; signers seen: ${e(r.trust.signers.join(', ') || 'none')}</td></tr>
<tr><th>Evaluated at</th><td>${e(r.evaluatedAt)}</td></tr>
<tr><th>Result</th><td><span class="${r.ok ? 'ok' : 'fail'}">${r.ok ? 'COMPLIANT' : 'NOT COMPLIANT'}</span>: ${r.summary.satisfied} of ${applicable} applicable task(s) satisfied, ${r.summary.notApplicable} not applicable</td></tr>
</table>
<p>Only verified evidence counts: every bundle was checked (signature, trusted signer valid at its signing time, subject digest) before any rule read it.</p>
<table>
<thead><tr><th>Task</th><th>Status</th><th>Task text</th><th>Evidence, or what is missing</th></tr></thead>
<tbody>
${r.tasks.map((t) => row(t, r.artifactKind)).join('\n')}
</tbody>
</table>
<h2>Evidence not counted</h2>
${dropped}
</body>
</html>
`;
  },
};
