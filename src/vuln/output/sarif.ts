import { createHash } from 'node:crypto';
import type { Finding, Severity } from '../match.ts';
import type { OutputFormat, ScanReport } from './report.ts';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  none: 'note',
  unknown: 'warning',
};

/** GitHub's `security-severity` when no CVSS score was computed. */
const DEFAULT_SCORE: Record<Severity, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '2.0',
  none: '0.0',
  unknown: '5.0',
};

/**
 * SARIF 2.1.0 as GitHub code scanning takes it: one rule per vulnerability
 * id (help, `security-severity`), one result per (id, component) at the file
 * the component came from (else the scanned SBOM), a stable
 * `partialFingerprints`, and suppressed findings kept as results with an
 * external, accepted `suppressions[]` entry carrying the VEX justification.
 */
export const sarifOutput: OutputFormat = {
  name: 'sarif',
  render(r) {
    return `${JSON.stringify(sarifOf(r), null, 2)}\n`;
  },
};

export function sarifOf(r: ScanReport): Record<string, unknown> {
  const rules: Record<string, unknown>[] = [];
  const index = new Map<string, number>();
  for (const f of r.result.findings) {
    if (index.has(f.id)) continue;
    index.set(f.id, rules.length);
    rules.push(ruleOf(f));
  }
  const results = r.result.findings.map((f) => resultOf(f, r, index.get(f.id) as number));
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: r.scanner.name,
            version: r.scanner.version,
            informationUri: r.scanner.uri,
            rules,
          },
        },
        results,
      },
    ],
  };
}

function ruleOf(f: Finding): Record<string, unknown> {
  const url = `https://osv.dev/vulnerability/${encodeURIComponent(f.records[0] ?? f.id)}`;
  const score = f.ratings.find((x) => x.score !== undefined)?.score;
  const text = f.summary || f.id;
  return {
    id: f.id,
    name: f.id.replace(/[^A-Za-z0-9]/g, ''),
    shortDescription: { text: `${f.id}: ${text}`.slice(0, 1000) },
    fullDescription: {
      text: `${text}${f.aliases.length ? ` (aliases: ${f.aliases.join(', ')})` : ''}`,
    },
    helpUri: url,
    help: {
      text: `${text}\nFixed in: ${f.fixed.join(', ') || 'no fix known'}\n${url}`,
      markdown: `**${f.id}** ${text}\n\nFixed in: ${f.fixed.join(', ') || 'no fix known'}\n\n[${url}](${url})`,
    },
    defaultConfiguration: { level: LEVEL[f.severity] },
    properties: {
      'security-severity': score !== undefined ? score.toFixed(1) : DEFAULT_SCORE[f.severity],
      tags: ['security', 'vulnerability', f.severity],
    },
  };
}

function resultOf(f: Finding, r: ScanReport, ruleIndex: number): Record<string, unknown> {
  const uri = (f.component.location ?? r.target.name).replace(/\\/g, '/');
  const fixed = f.fixed.length > 0 ? `; fixed in ${f.fixed.join(', ')}` : '; no fix known';
  const result: Record<string, unknown> = {
    ruleId: f.id,
    ruleIndex,
    level: LEVEL[f.severity],
    message: {
      text: `${f.package}@${f.version} (${f.component.purl ?? f.component.ref}) is affected by ${f.id} (${f.severity})${fixed}`,
    },
    locations: [
      {
        physicalLocation: { artifactLocation: { uri }, region: { startLine: 1 } },
        logicalLocations: [{ name: f.component.purl ?? f.component.ref, kind: 'package' }],
      },
    ],
    partialFingerprints: {
      'vouchFinding/v1': createHash('sha256')
        .update(`${f.id}\0${f.component.purl ?? f.component.ref}`)
        .digest('hex'),
    },
  };
  if (f.suppressed) {
    const s = f.suppressed;
    result.suppressions = [
      {
        kind: 'external',
        status: 'accepted',
        justification:
          [s.status, s.justification, s.detail].filter((x) => x !== '').join(': ') +
          ` (VEX: ${s.source})`,
      },
    ];
  }
  return result;
}
