import type {
  ComplianceReport,
  EvidenceCell,
  ReleaseComplianceReport,
  ReleaseTaskResult,
  TaskResult,
} from './model.ts';
import { memberLabel } from './release.ts';
import type { ReportRenderer } from './renderer.ts';
import { STATUS_LABEL, signersText, timeText } from './text.ts';

const MARK: Record<TaskResult['status'], string> = {
  satisfied: '✅',
  'not-satisfied': '❌',
  'not-applicable': '➖',
};

/**
 * Text from evidence is untrusted: Markdown viewers render inline HTML and
 * links, so `<`, `>` and `&` become entities and Markdown's own characters
 * are backslash-escaped; a newline would end a table row, so it is a space.
 */
export function mdText(s: string): string {
  return s
    .replace(/[\r\n]+/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`);
}

function evidenceLine(e: EvidenceCell): string {
  return `${mdText(e.rule)}: ${mdText(e.source)}, signed by ${mdText(signersText(e))}, ${mdText(timeText(e))}, bundle ${mdText(e.bundleDigest)}${e.archived ? '' : ' (not in the evidence store)'}`;
}

/** The matrix cell: short; the task's section below has every detail. */
function cell(t: TaskResult): string {
  if (t.status === 'not-applicable') return mdText(t.notApplicableReason ?? '');
  const parts = [
    ...t.evidence.map(
      (e) =>
        `${mdText(e.rule)}: by ${mdText(e.signers.map((s) => s.name).join(', ') || 'nobody')}, ${mdText(e.time ?? 'no time recorded')}, bundle ${mdText(e.bundleDigest.slice(0, 19))}…`,
    ),
    ...t.missing.map(
      (m) =>
        `missing ${mdText(m.rule)}: ${mdText(m.reasons[m.reasons.length - 1] ?? m.summary)}${m.reasons.length > 1 ? ` (+${m.reasons.length - 1} more)` : ''}`,
    ),
  ];
  return parts.join('<br>');
}

/**
 * One artifact's report from the table under the title on; `depth` is the
 * title's heading level (sections are one deeper, tasks two).
 */
function artifactBody(r: ComplianceReport, depth: number, out: string[]): void {
  const h = (n: number) => '#'.repeat(depth + n);
  const applicable = r.summary.total - r.summary.notApplicable;
  out.push('| | |');
  out.push('|---|---|');
  out.push(
    `| Subject | ${mdText(r.subject.digest)}${r.subject.name ? ` (${mdText(r.subject.name)})` : ''} |`,
  );
  out.push(`| Artifact kind | ${mdText(r.artifactKind)} |`);
  out.push(
    `| Profile | ${mdText(r.profile.name)}: ${mdText(r.profile.title)} (${mdText(r.profile.digest)}) |`,
  );
  out.push(
    `| Trust | ${mdText(r.trust.source)} (${mdText(r.trust.digest)}); signers seen: ${mdText(r.trust.signers.join(', ') || 'none')} |`,
  );
  out.push(`| Evaluated at | ${mdText(r.evaluatedAt)} |`);
  out.push(
    `| Result | **${r.ok ? 'COMPLIANT' : 'NOT COMPLIANT'}**: ${r.summary.satisfied} of ${applicable} applicable task(s) satisfied, ${r.summary.notApplicable} not applicable |`,
  );
  out.push('');
  out.push('Only verified evidence counts: every bundle was checked (signature, trusted');
  out.push('signer valid at its signing time, subject digest) before any rule read it.');
  out.push('');
  out.push('| Task | Status | Evidence, or what is missing |');
  out.push('|---|---|---|');
  for (const t of r.tasks)
    out.push(`| ${mdText(t.id)} | ${MARK[t.status]} ${STATUS_LABEL[t.status]} | ${cell(t)} |`);
  out.push('');
  out.push(`${h(1)} Tasks`);
  for (const t of r.tasks) {
    out.push('');
    out.push(`${h(2)} ${mdText(t.id)}: ${STATUS_LABEL[t.status]}`);
    out.push('');
    out.push(`${mdText(t.text)}`);
    out.push('');
    out.push(
      `Evidence that shows it: ${mdText(t.expects)} Rules: ${t.rules.map(mdText).join(', ')}.`,
    );
    if (t.notApplicableReason)
      out.push(
        '',
        `Not applicable to ${mdText(r.artifactKind)} artifacts: ${mdText(t.notApplicableReason)}.`,
      );
    if (t.evidence.length > 0) {
      out.push('', 'Verified evidence:', '');
      for (const e of t.evidence) out.push(`- ${evidenceLine(e)}`);
    }
    if (t.missing.length > 0) {
      out.push('', 'Missing:', '');
      for (const m of t.missing) {
        out.push(`- ${mdText(m.rule)} (${mdText(m.summary)})`);
        for (const reason of m.reasons) out.push(`  - ${mdText(reason)}`);
      }
    }
  }
  out.push('');
  out.push(`${h(1)} Evidence not counted`);
  out.push('');
  if (r.dropped.length === 0) out.push('None: every bundle found verified.');
  for (const d of r.dropped) {
    out.push(`- ${mdText(d.source)} (${mdText(d.bundleDigest)})`);
    for (const reason of d.reasons) out.push(`  - ${mdText(reason)}`);
  }
}

/** The release matrix's last column: which artifacts lack what, or why not applicable. */
function releaseCell(t: ReleaseTaskResult): string {
  if (t.status === 'not-applicable') return mdText(t.notApplicableReason ?? '');
  return t.lacking
    .map((l) => `${mdText(memberLabel(l))} lacks ${l.rules.map(mdText).join(', ')}`)
    .join('<br>');
}

export const markdownRenderer: ReportRenderer = {
  format: 'markdown',
  mediaType: 'text/markdown',
  render(r: ComplianceReport): string {
    const out: string[] = [];
    out.push(`# ${mdText(r.framework.name)} ${mdText(r.framework.version)}: compliance report`);
    out.push('');
    artifactBody(r, 1, out);
    return `${out.join('\n')}\n`;
  },
  renderRelease(r: ReleaseComplianceReport): string {
    const out: string[] = [];
    const applicable = r.summary.total - r.summary.notApplicable;
    const rel = [r.release.name, r.release.version].filter(Boolean).join(' ');
    out.push(
      `# ${mdText(r.framework.name)} ${mdText(r.framework.version)}: release compliance report`,
    );
    out.push('');
    out.push('| | |');
    out.push('|---|---|');
    out.push(`| Release | ${rel ? mdText(rel) : 'unnamed (artifacts given as arguments)'} |`);
    if (r.release.manifest)
      out.push(
        `| Manifest | ${mdText(r.release.manifest.source)} (${mdText(r.release.manifest.digest)}) |`,
      );
    out.push(
      `| Artifacts | ${r.artifacts.map((a, i) => `${i + 1}. ${mdText(a.subject.digest)}${a.subject.name ? ` (${mdText(a.subject.name)})` : ''}, ${mdText(a.artifactKind)}`).join('<br>')} |`,
    );
    out.push(
      `| Profile | ${mdText(r.profile.name)}: ${mdText(r.profile.title)} (${mdText(r.profile.digest)}) |`,
    );
    out.push(
      `| Trust | ${mdText(r.trust.source)} (${mdText(r.trust.digest)}); signers seen: ${mdText(r.trust.signers.join(', ') || 'none')} |`,
    );
    out.push(`| Evaluated at | ${mdText(r.evaluatedAt)} |`);
    out.push(
      `| Result | **${r.ok ? 'COMPLIANT' : 'NOT COMPLIANT'}**: ${r.summary.satisfied} of ${applicable} applicable task(s) satisfied for every artifact, ${r.summary.notApplicable} not applicable |`,
    );
    out.push('');
    out.push('A task is satisfied for the release only when it is satisfied for every');
    out.push('artifact it applies to; not applicable only when it applies to none.');
    out.push('');
    out.push(
      `| Task | Release | ${r.artifacts.map((_, i) => `${i + 1}`).join(' | ')} | Artifacts that lack it |`,
    );
    out.push(`|---|---|${r.artifacts.map(() => '---|').join('')}---|`);
    for (const t of r.tasks)
      out.push(
        `| ${mdText(t.id)} | ${MARK[t.status]} ${STATUS_LABEL[t.status]} | ${t.artifacts.map((a) => MARK[a.status]).join(' | ')} | ${releaseCell(t)} |`,
      );
    r.artifacts.forEach((a, i) => {
      out.push('');
      out.push(`## Artifact ${i + 1}: ${mdText(a.subject.name ?? a.subject.digest)}`);
      out.push('');
      artifactBody(a, 2, out);
    });
    return `${out.join('\n')}\n`;
  },
};
