import { createHash } from 'node:crypto';
import type { ComplianceReport, EvidenceCell, TaskResult } from './model.ts';
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
  const profileResource = id('resource:profile');

  const bundles = new Map<string, EvidenceCell[]>();
  for (const t of r.tasks)
    for (const ev of t.evidence)
      bundles.set(ev.bundleDigest, [...(bundles.get(ev.bundleDigest) ?? []), ev]);
  const digests = [...bundles.keys()].sort();

  const resources: unknown[] = [
    {
      uuid: profileResource,
      title: `vouch profile ${r.profile.name}`,
      description: `${r.profile.title}. Evaluated as a vouch policy with trust from ${r.trust.source} (${r.trust.digest}). No separate OSCAL assessment plan exists: this profile is the plan.`,
      props: [{ name: 'profile-digest', ns: NS, value: r.profile.digest }],
      rlinks: [
        {
          href: uriReference(r.profile.source),
          hashes: [{ algorithm: 'SHA-256', value: r.profile.digest.replace(/^sha256:/, '') }],
        },
      ],
    },
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
    const target: Record<string, unknown> = {
      type: 'objective-id',
      'target-id': t.id,
      description: t.text,
      status:
        t.status === 'not-applicable'
          ? {
              state: 'satisfied',
              reason: 'other',
              remarks: `Not applicable to ${r.artifactKind} artifacts: ${t.notApplicableReason}`,
            }
          : { state: t.status, reason: t.status === 'satisfied' ? 'pass' : 'fail' },
    };
    if (t.status === 'not-applicable')
      target['implementation-status'] = { state: 'not-applicable' };
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
        href: `#${profileResource}`,
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

export const oscalRenderer: ReportRenderer = {
  format: 'oscal',
  mediaType: 'application/json',
  render: (r) => `${JSON.stringify(oscalAssessmentResults(r), null, 2)}\n`,
};
