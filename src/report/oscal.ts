import { createHash } from 'node:crypto';
import type {
  ComplianceReport,
  EvidenceCell,
  ReleaseComplianceReport,
  TaskResult,
  TaskStatus,
} from './model.ts';
import { memberLabel } from './release.ts';
import type { ReportRenderer } from './renderer.ts';
import { signersText, timeText } from './text.ts';

export const OSCAL_VERSION = '1.1.2';
const NS = 'https://vouch.dev/ns/oscal';
const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** RFC 4122 URL namespace: vouch's UUIDs are name-based (v5), so the same report gives the same ids. */
const URL_NAMESPACE = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';

/** An RFC 4122 version 5 (SHA-1, name-based) UUID. */
export function uuidV5(name: string, namespace = URL_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const h = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  h[6] = ((h[6] as number) & 0x0f) | 0x50;
  h[8] = ((h[8] as number) & 0x3f) | 0x80;
  const x = h.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** A relative path or URI as an OSCAL uri-reference: every character outside RFC 3986 percent-encoded. */
function uriReference(source: string): string {
  return source
    .split('/')
    .map((seg) => encodeURIComponent(seg).replace(/%3A/gi, ':'))
    .join('/');
}

/**
 * OSCAL 1.1 assessment-results: one result; one finding per task (target
 * `objective-id` = the task id, status satisfied / not-satisfied; a task not
 * applicable to this artifact kind is satisfied with reason `other` and
 * implementation-status `not-applicable`, as OSCAL has no third state);
 * observations for every verified bundle used and for every missing rule,
 * each verified bundle also a back-matter resource with its SHA-256. There is
 * no separate assessment plan: `import-ap` points at the profile's resource.
 */
export function oscalAssessmentResults(r: ComplianceReport): unknown {
  const seed = `vouch:${r.profile.digest}:${r.subject.digest}:${r.evaluatedAt}`;
  const id = (what: string) => uuidV5(`${seed}:${what}`);
  const profileId = id('resource:profile');

  const bundles = new Map<string, EvidenceCell[]>();
  for (const t of r.tasks)
    for (const ev of t.evidence)
      bundles.set(ev.bundleDigest, [...(bundles.get(ev.bundleDigest) ?? []), ev]);
  const digests = [...bundles.keys()].sort();

  const resources: unknown[] = [
    profileResource(profileId, r),
    ...digests.map((d) => {
      const first = (bundles.get(d) as EvidenceCell[])[0] as EvidenceCell;
      return {
        uuid: id(`resource:${d}`),
        title: `Sigstore bundle ${first.source}`,
        description: `${first.predicateType} about ${r.subject.digest}, verified: signed by ${signersText(first)}, ${timeText(first)}.`,
        rlinks: [
          {
            href: uriReference(first.source),
            'media-type': BUNDLE_MEDIA_TYPE,
            hashes: [{ algorithm: 'SHA-256', value: d.replace(/^sha256:/, '') }],
          },
        ],
      };
    }),
  ];

  const observations: Array<Record<string, unknown>> = digests.map((d) => {
    const uses = bundles.get(d) as EvidenceCell[];
    const first = uses[0] as EvidenceCell;
    return {
      uuid: id(`observation:${d}`),
      title: `Verified ${first.predicateType} evidence`,
      description: `Bundle ${first.source} (${d}) verified against the trusted signers: signed by ${signersText(first)}, ${timeText(first)}. Used by rule(s) ${[...new Set(uses.map((u) => u.rule))].sort().join(', ')}.`,
      methods: ['TEST'],
      types: ['control-objective'],
      'relevant-evidence': [
        { href: `#${id(`resource:${d}`)}`, description: `Sigstore bundle ${first.source}` },
      ],
      collected: first.time ?? r.evaluatedAt,
    };
  });
  const missingObservation = (t: TaskResult, rule: string) => `observation:missing:${t.id}:${rule}`;
  for (const t of r.tasks) {
    for (const m of t.missing) {
      observations.push({
        uuid: id(missingObservation(t, m.rule)),
        title: `${t.id}: ${m.rule} not met`,
        description: `${m.summary}. ${m.reasons.join(' ')}`,
        methods: ['TEST'],
        types: ['finding'],
        collected: r.evaluatedAt,
      });
    }
  }

  const findings = r.tasks.map((t) => {
    const related = [
      ...[...new Set(t.evidence.map((ev) => ev.bundleDigest))].map((d) => id(`observation:${d}`)),
      ...t.missing.map((m) => id(missingObservation(t, m.rule))),
    ];
    const target = objectiveTarget(
      t,
      `Not applicable to ${r.artifactKind} artifacts: ${t.notApplicableReason}`,
    );
    return {
      uuid: id(`finding:${t.id}`),
      title: `${t.id}: ${t.status}`,
      description: `${t.text} Shown by: ${t.expects}`,
      target,
      ...(related.length > 0
        ? { 'related-observations': related.map((u) => ({ 'observation-uuid': u })) }
        : {}),
    };
  });

  const applicable = r.summary.total - r.summary.notApplicable;
  return {
    'assessment-results': {
      uuid: id('assessment-results'),
      metadata: {
        title: `${r.framework.name} ${r.framework.version} assessment of ${r.subject.name ?? r.subject.digest}`,
        'last-modified': r.evaluatedAt,
        version: r.evaluatedAt,
        'oscal-version': OSCAL_VERSION,
        props: [
          { name: 'subject-digest', ns: NS, value: r.subject.digest },
          { name: 'artifact-kind', ns: NS, value: r.artifactKind },
        ],
      },
      'import-ap': {
        href: `#${profileId}`,
        remarks: 'Placeholder: the assessment plan is the vouch profile in back-matter.',
      },
      results: [
        {
          uuid: id('result'),
          title: `${r.profile.name} for ${r.subject.digest}`,
          description: `${r.ok ? 'Compliant' : 'Not compliant'}: ${r.summary.satisfied} of ${applicable} applicable task(s) satisfied, ${r.summary.notApplicable} not applicable. Only verified evidence was counted.`,
          start: r.evaluatedAt,
          end: r.evaluatedAt,
          'reviewed-controls': {
            'control-selections': [
              { 'include-controls': r.tasks.map((t) => ({ 'control-id': t.id })) },
            ],
          },
          ...(observations.length > 0 ? { observations } : {}),
          findings,
        },
      ],
      'back-matter': { resources },
    },
  };
}

/**
 * A finding's target: the task as an OSCAL objective with its status. OSCAL has
 * no "not applicable" objective state, so such a task is satisfied for reason
 * `other` with why in the remarks, and its implementation-status says
 * not-applicable. `notSatisfiedRemarks` explain a not-satisfied task, where given.
 */
function objectiveTarget(
  t: { id: string; text: string; status: TaskStatus },
  notApplicableRemarks: string,
  notSatisfiedRemarks?: string,
): Record<string, unknown> {
  const target: Record<string, unknown> = {
    type: 'objective-id',
    'target-id': t.id,
    description: t.text,
    status:
      t.status === 'not-applicable'
        ? { state: 'satisfied', reason: 'other', remarks: notApplicableRemarks }
        : t.status === 'satisfied'
          ? { state: 'satisfied', reason: 'pass' }
          : {
              state: 'not-satisfied',
              reason: 'fail',
              ...(notSatisfiedRemarks !== undefined ? { remarks: notSatisfiedRemarks } : {}),
            },
  };
  if (t.status === 'not-applicable') target['implementation-status'] = { state: 'not-applicable' };
  return target;
}

/** The profile as the back-matter resource `import-ap` points at. */
function profileResource(
  uuid: string,
  r: Pick<ComplianceReport, 'profile' | 'trust'>,
): Record<string, unknown> {
  return {
    uuid,
    title: `vouch profile ${r.profile.name}`,
    description: `${r.profile.title}. Evaluated as a vouch policy with trust from ${r.trust.source} (${r.trust.digest}). No separate OSCAL assessment plan exists: this profile is the plan.`,
    props: [{ name: 'profile-digest', ns: NS, value: r.profile.digest }],
    rlinks: [
      {
        href: uriReference(r.profile.source),
        hashes: [{ algorithm: 'SHA-256', value: r.profile.digest.replace(/^sha256:/, '') }],
      },
    ],
  };
}

/**
 * A release as OSCAL 1.1 assessment-results: one result; each artifact an
 * inventory item in the result's local definitions; one observation per task
 * and artifact, whose subject is that artifact's inventory item, saying its
 * status with the verified bundles (back-matter resources with their
 * SHA-256) or every missing reason; one finding per task with the release's
 * status, linking every artifact's observation for the task.
 */
export function oscalReleaseAssessmentResults(r: ReleaseComplianceReport): unknown {
  const digests = r.artifacts.map((a) => a.subject.digest);
  const seed = `vouch:release:${r.profile.digest}:${digests.join(',')}:${r.evaluatedAt}`;
  const id = (what: string) => uuidV5(`${seed}:${what}`);
  const profileId = id('resource:profile');
  const rel = [r.release.name, r.release.version].filter(Boolean).join(' ');
  const label = rel ? `release ${rel}` : `a release of ${r.artifacts.length} artifacts`;

  const bundles = new Map<string, { cell: EvidenceCell; subjects: Set<string> }>();
  for (const a of r.artifacts)
    for (const t of a.tasks)
      for (const ev of t.evidence) {
        const entry = bundles.get(ev.bundleDigest) ?? { cell: ev, subjects: new Set<string>() };
        entry.subjects.add(a.subject.digest);
        bundles.set(ev.bundleDigest, entry);
      }
  const bundleDigests = [...bundles.keys()].sort();
  const resources: unknown[] = [
    profileResource(profileId, r),
    ...bundleDigests.map((d) => {
      const { cell, subjects } = bundles.get(d) as { cell: EvidenceCell; subjects: Set<string> };
      return {
        uuid: id(`resource:${d}`),
        title: `Sigstore bundle ${cell.source}`,
        description: `${cell.predicateType} about ${[...subjects].sort().join(', ')}, verified: signed by ${signersText(cell)}, ${timeText(cell)}.`,
        rlinks: [
          {
            href: uriReference(cell.source),
            'media-type': BUNDLE_MEDIA_TYPE,
            hashes: [{ algorithm: 'SHA-256', value: d.replace(/^sha256:/, '') }],
          },
        ],
      };
    }),
  ];

  const item = (digest: string) => id(`inventory-item:${digest}`);
  const inventory = r.artifacts.map((a) => ({
    uuid: item(a.subject.digest),
    description: `Artifact ${a.subject.name ?? a.subject.digest} (${a.subject.digest}), kind ${a.artifactKind}.`,
    props: [
      { name: 'subject-digest', ns: NS, value: a.subject.digest },
      { name: 'artifact-kind', ns: NS, value: a.artifactKind },
    ],
  }));

  const observation = (digest: string, task: string) => id(`observation:${digest}:${task}`);
  const observations: Array<Record<string, unknown>> = [];
  for (const t of r.tasks)
    for (const a of r.artifacts) {
      const at = a.tasks.find((x) => x.id === t.id) as TaskResult;
      const used = [...new Set(at.evidence.map((ev) => ev.bundleDigest))].sort();
      let description: string;
      if (at.status === 'not-applicable')
        description = `Not applicable to ${a.artifactKind} artifacts: ${at.notApplicableReason}.`;
      else if (at.status === 'satisfied')
        description = `Satisfied by verified evidence: ${at.evidence.map((ev) => `${ev.rule}: ${ev.source} (${ev.bundleDigest}), signed by ${signersText(ev)}, ${timeText(ev)}`).join('; ')}.`;
      else
        description = `Not satisfied: ${at.missing.map((m) => `${m.rule} (${m.summary}): ${m.reasons.join(' ')}`).join('; ')}`;
      observations.push({
        uuid: observation(a.subject.digest, t.id),
        title: `${t.id} for ${memberLabel(a.subject)}: ${at.status}`,
        description,
        methods: ['TEST'],
        types: [at.status === 'not-satisfied' ? 'finding' : 'control-objective'],
        subjects: [{ 'subject-uuid': item(a.subject.digest), type: 'inventory-item' }],
        ...(used.length > 0
          ? {
              'relevant-evidence': used.map((d) => ({
                href: `#${id(`resource:${d}`)}`,
                description: `Sigstore bundle ${(bundles.get(d) as { cell: EvidenceCell }).cell.source}`,
              })),
            }
          : {}),
        collected: r.evaluatedAt,
      });
    }

  const findings = r.tasks.map((t) => {
    const target = objectiveTarget(
      t,
      `Not applicable to any artifact of the release: ${t.notApplicableReason}`,
      t.lacking.map((l) => `${memberLabel(l)} lacks ${l.rules.join(', ')}`).join('; '),
    );
    return {
      uuid: id(`finding:${t.id}`),
      title: `${t.id}: ${t.status}`,
      description: `${t.text} Shown by: ${t.expects} For the release: ${t.artifacts.map((a) => `${memberLabel(a)} ${a.status}`).join(', ')}.`,
      target,
      'related-observations': r.artifacts.map((a) => ({
        'observation-uuid': observation(a.subject.digest, t.id),
      })),
    };
  });

  const applicable = r.summary.total - r.summary.notApplicable;
  const releaseProps = [
    ...(r.release.name ? [{ name: 'release-name', ns: NS, value: r.release.name }] : []),
    ...(r.release.version ? [{ name: 'release-version', ns: NS, value: r.release.version }] : []),
  ];
  return {
    'assessment-results': {
      uuid: id('assessment-results'),
      metadata: {
        title: `${r.framework.name} ${r.framework.version} assessment of ${label}`,
        'last-modified': r.evaluatedAt,
        version: r.evaluatedAt,
        'oscal-version': OSCAL_VERSION,
        props: [
          ...releaseProps,
          ...digests.map((d) => ({ name: 'subject-digest', ns: NS, value: d })),
        ],
      },
      'import-ap': {
        href: `#${profileId}`,
        remarks: 'Placeholder: the assessment plan is the vouch profile in back-matter.',
      },
      results: [
        {
          uuid: id('result'),
          title: `${r.profile.name} for ${label}`,
          description: `${r.ok ? 'Compliant' : 'Not compliant'}: ${r.summary.satisfied} of ${applicable} applicable task(s) satisfied for every artifact, ${r.summary.notApplicable} not applicable. Only verified evidence was counted.`,
          start: r.evaluatedAt,
          end: r.evaluatedAt,
          'local-definitions': { 'inventory-items': inventory },
          'reviewed-controls': {
            'control-selections': [
              { 'include-controls': r.tasks.map((t) => ({ 'control-id': t.id })) },
            ],
          },
          observations,
          findings,
        },
      ],
      'back-matter': { resources },
    },
  };
}

export const oscalRenderer: ReportRenderer = {
  format: 'oscal',
  mediaType: 'application/json',
  render: (r) => `${JSON.stringify(oscalAssessmentResults(r), null, 2)}\n`,
  renderRelease: (r) => `${JSON.stringify(oscalReleaseAssessmentResults(r), null, 2)}\n`,
};
