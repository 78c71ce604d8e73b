import type {
  ComplianceReport,
  EvidenceCell,
  MissingCell,
  ReleaseComplianceReport,
  ReleaseTaskResult,
  TaskResult,
} from './model.ts';
import { memberLabel } from './release.ts';
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

function row(t: TaskResult, kind: string, idPrefix = ''): string {
  let detail: string;
  if (t.status === 'not-applicable')
    detail = `Not applicable to ${e(kind)} artifacts: ${e(t.notApplicableReason ?? '')}`;
  else
    detail = [
      t.evidence.length ? `<ul>${t.evidence.map(evidenceItem).join('')}</ul>` : '',
      t.missing.length ? `Missing:<ul>${t.missing.map(missingItem).join('')}</ul>` : '',
    ].join('');
  return `<tr class="${e(t.status)}" id="${e(idPrefix + t.id)}"><td><b>${e(t.id)}</b></td><td>${e(STATUS_LABEL[t.status])}</td><td><div class="text">${e(t.text)}</div><div>Shown by: ${e(t.expects)}</div></td><td>${detail}</td></tr>`;
}

function droppedList(r: ComplianceReport): string {
  return r.dropped.length
    ? `<ul>${r.dropped.map((d) => `<li><code>${e(d.source)}</code> (<code>${e(d.bundleDigest)}</code>)<ul>${d.reasons.map((x) => `<li>${e(x)}</li>`).join('')}</ul></li>`).join('')}</ul>`
    : '<p>None: every bundle found verified.</p>';
}

function page(title: string, body: string): string {
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
${body}
</body>
</html>
`;
}

/** One artifact's summary table, matrix and dropped evidence; `h` is the level of its sub-headings. */
function artifactBody(r: ComplianceReport, h: number, idPrefix: string): string {
  const applicable = r.summary.total - r.summary.notApplicable;
  return `<table>
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
${r.tasks.map((t) => row(t, r.artifactKind, idPrefix)).join('\n')}
</tbody>
</table>
<h${h}>Evidence not counted</h${h}>
${droppedList(r)}`;
}

function releaseRow(t: ReleaseTaskResult): string {
  const detail =
    t.status === 'not-applicable'
      ? `Not applicable: ${e(t.notApplicableReason ?? '')}`
      : t.lacking.length
        ? `<ul>${t.lacking.map((l) => `<li>${e(memberLabel(l))} lacks ${l.rules.map((x) => `<b>${e(x)}</b>`).join(', ')}</li>`).join('')}</ul>`
        : '';
  const cells = t.artifacts
    .map(
      (a, i) =>
        `<td class="${e(a.status)}"><a href="#a${i + 1}-${e(t.id)}">${e(STATUS_LABEL[a.status])}</a></td>`,
    )
    .join('');
  return `<tr class="${e(t.status)}" id="${e(t.id)}"><td><b>${e(t.id)}</b></td><td>${e(STATUS_LABEL[t.status])}</td>${cells}<td>${detail}</td></tr>`;
}

/** One self-contained page: inline CSS, no scripts, no external assets. */
export const htmlRenderer: ReportRenderer = {
  format: 'html',
  mediaType: 'text/html',
  render(r: ComplianceReport): string {
    const title = `${r.framework.name} ${r.framework.version}: ${r.subject.name ?? r.subject.digest}`;
    return page(
      title,
      `<h1>${e(r.framework.name)} ${e(r.framework.version)}: compliance report</h1>
${artifactBody(r, 2, '')}`,
    );
  },
  renderRelease(r: ReleaseComplianceReport): string {
    const applicable = r.summary.total - r.summary.notApplicable;
    const rel = [r.release.name, r.release.version].filter(Boolean).join(' ');
    const title = `${r.framework.name} ${r.framework.version}: release ${rel || `of ${r.artifacts.length} artifacts`}`;
    const members = r.artifacts
      .map(
        (a, i) =>
          `<li><a href="#a${i + 1}">${e(a.subject.name ?? a.subject.digest)}</a>: <code>${e(a.subject.digest)}</code>, ${e(a.artifactKind)}</li>`,
      )
      .join('');
    const sections = r.artifacts
      .map(
        (a, i) =>
          `<h2 id="a${i + 1}">Artifact ${i + 1}: ${e(a.subject.name ?? a.subject.digest)}</h2>\n${artifactBody(a, 3, `a${i + 1}-`)}`,
      )
      .join('\n');
    return page(
      title,
      `<h1>${e(r.framework.name)} ${e(r.framework.version)}: release compliance report</h1>
<table>
<tr><th>Release</th><td>${rel ? e(rel) : 'unnamed (artifacts given as arguments)'}</td></tr>
${r.release.manifest ? `<tr><th>Manifest</th><td>${e(r.release.manifest.source)} <code>${e(r.release.manifest.digest)}</code></td></tr>\n` : ''}<tr><th>Artifacts</th><td><ol>${members}</ol></td></tr>
<tr><th>Profile</th><td>${e(r.profile.name)}: ${e(r.profile.title)} <code>${e(r.profile.digest)}</code></td></tr>
<tr><th>Trust</th><td>${e(r.trust.source)} <code>${e(r.trust.digest)}</code>; signers seen: ${e(r.trust.signers.join(', ') || 'none')}</td></tr>
<tr><th>Evaluated at</th><td>${e(r.evaluatedAt)}</td></tr>
<tr><th>Result</th><td><span class="${r.ok ? 'ok' : 'fail'}">${r.ok ? 'COMPLIANT' : 'NOT COMPLIANT'}</span>: ${r.summary.satisfied} of ${applicable} applicable task(s) satisfied for every artifact, ${r.summary.notApplicable} not applicable</td></tr>
</table>
<p>A task is satisfied for the release only when it is satisfied for every artifact it applies to; not applicable only when it applies to none.</p>
<table>
<thead><tr><th>Task</th><th>Release</th>${r.artifacts.map((_, i) => `<th><a href="#a${i + 1}">${i + 1}</a></th>`).join('')}<th>Artifacts that lack it</th></tr></thead>
<tbody>
${r.tasks.map(releaseRow).join('\n')}
</tbody>
</table>
${sections}`,
    );
  },
};
