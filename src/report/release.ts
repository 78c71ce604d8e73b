import { tally } from './matrix.ts';
import {
  type ComplianceReport,
  RELEASE_REPORT_VERSION,
  type ReleaseComplianceReport,
  type ReleaseLack,
  type ReleaseTaskResult,
  type TaskStatus,
} from './model.ts';

export interface BuildReleaseReportOptions {
  /** One report per artifact, in release order, all from one profile, trust and evaluation time. */
  artifacts: readonly ComplianceReport[];
  release?: { name?: string; version?: string; manifest?: { source: string; digest: string } };
}

/**
 * Judges artifacts together: a task is satisfied for the release only when it
 * is satisfied for every artifact it applies to, not applicable only when it
 * applies to none, and not satisfied otherwise, naming each artifact that
 * lacks it and the rules it lacks.
 *
 * @throws Error when there is no artifact, one digest appears twice, or the
 * reports do not share profile, trust, evaluation time and task list (they do
 * not belong to one evaluation).
 */
export function buildReleaseReport(o: BuildReleaseReportOptions): ReleaseComplianceReport {
  const [first] = o.artifacts;
  if (!first) throw new Error('a release has at least one artifact');
  const digests = new Set<string>();
  const taskIds = first.tasks.map((t) => t.id).join(',');
  for (const a of o.artifacts) {
    if (digests.has(a.subject.digest)) throw new Error(`${a.subject.digest} is listed twice`);
    digests.add(a.subject.digest);
    if (
      a.profile.digest !== first.profile.digest ||
      a.trust.digest !== first.trust.digest ||
      a.evaluatedAt !== first.evaluatedAt ||
      a.tasks.map((t) => t.id).join(',') !== taskIds
    )
      throw new Error(`the report about ${a.subject.digest} is not from the same evaluation`);
  }
  const named = (a: ComplianceReport) => ({
    digest: a.subject.digest,
    ...(a.subject.name !== undefined ? { name: a.subject.name } : {}),
  });
  const tasks: ReleaseTaskResult[] = first.tasks.map((t, i) => {
    const cells = o.artifacts.map((a) => ({ report: a, task: a.tasks[i] as (typeof a.tasks)[0] }));
    const statuses = cells.map((c) => c.task.status);
    let status: TaskStatus;
    if (statuses.every((s) => s === 'not-applicable')) status = 'not-applicable';
    else if (statuses.includes('not-satisfied')) status = 'not-satisfied';
    else status = 'satisfied';
    const lacking: ReleaseLack[] = cells
      .filter((c) => c.task.status === 'not-satisfied')
      .map((c) => ({ ...named(c.report), rules: c.task.missing.map((m) => m.rule) }));
    const result: ReleaseTaskResult = {
      id: t.id,
      text: t.text,
      expects: t.expects,
      rules: [...t.rules],
      status,
      artifacts: cells.map((c) => ({ ...named(c.report), status: c.task.status })),
      lacking,
    };
    if (status === 'not-applicable')
      result.notApplicableReason = [
        ...new Set(cells.map((c) => `${c.report.artifactKind}: ${c.task.notApplicableReason}`)),
      ].join('; ');
    return result;
  });
  return {
    reportVersion: RELEASE_REPORT_VERSION,
    release: { ...(o.release ?? {}) },
    framework: { ...first.framework },
    profile: { ...first.profile },
    trust: {
      source: first.trust.source,
      digest: first.trust.digest,
      signers: [...new Set(o.artifacts.flatMap((a) => a.trust.signers))].sort(),
    },
    evaluatedAt: first.evaluatedAt,
    ...tally(tasks),
    tasks,
    artifacts: [...o.artifacts],
  };
}

/** How an artifact is named for people: its name, else its digest. */
export function memberLabel(a: { digest: string; name?: string }): string {
  return a.name ?? a.digest;
}
