import type { RuleInfo, ScanResult } from '../engine/index.ts';
import type { Severity } from '../finding.ts';
import type { ReportedFinding, SuppressedFinding } from '../suppress/index.ts';
import { packageVersion } from './version.ts';

export const SARIF_SCHEMA =
  'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
};

/** GitHub code scanning's `security-severity` (CVSS-like 0–10) per severity. */
const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  info: '0.0',
};

/**
 * A relative path as a SARIF URI reference: each segment percent-encoded, so
 * `#` and `?` stay part of the name (encodeURI leaves them, and `c#/a.env`
 * would read as `c` with a fragment).
 */
function fileUri(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/** The base every artifact URI is relative to (SARIF §3.4.4, §3.14.14). */
const SRCROOT = '%SRCROOT%';

/**
 * A file's location: relative to the repository root when the scan ran in a
 * git work tree (where GitHub code scanning and other consumers resolve
 * relative URIs), else to the scanned directory; stdin has no file.
 */
function artifactLocation(file: string, repoPath: string | undefined): Record<string, unknown> {
  if (file === '-') return { uri: 'stdin' };
  const path = repoPath ? `${repoPath}/${file}` : file;
  return { uri: fileUri(path), uriBaseId: SRCROOT };
}

/**
 * What %SRCROOT% stands for. No `uri`: an absolute `file:` URI would put this
 * machine's path in the log and make it differ from machine to machine; the
 * SARIF spec allows leaving it out (the consumer supplies the root — GitHub
 * code scanning uses the checkout), and says what it is in `description`.
 */
function originalUriBaseIds(scan: ScanResult): Record<string, unknown> {
  const text =
    scan.repoPath !== undefined
      ? 'The root of the git work tree that was scanned (the repository root).'
      : scan.target.kind === 'directory'
        ? 'The scanned directory (not in a git work tree).'
        : "The scan's working directory, or the scanned file's directory when outside it (not in a git work tree).";
  return { [SRCROOT]: { description: { text } } };
}

function rule(r: RuleInfo): Record<string, unknown> {
  const help =
    r.references && r.references.length > 0
      ? `${r.description}\n\nReferences: ${r.references.join(', ')}`
      : r.description;
  return {
    id: r.id,
    name: r.id.replace(/[/-](.)/g, (_m, c: string) => c.toUpperCase()),
    shortDescription: { text: r.title },
    fullDescription: { text: r.description },
    help: { text: help, markdown: `**${r.title}**\n\n${help}` },
    defaultConfiguration: { level: LEVEL[r.severity] },
    properties: {
      tags: ['security', r.category],
      'security-severity': SECURITY_SEVERITY[r.severity],
    },
  };
}

function result(
  f: ReportedFinding | SuppressedFinding,
  index: Map<string, number>,
  repoPath: string | undefined,
): Record<string, unknown> {
  const region: Record<string, unknown> = { startLine: f.line };
  if (f.column !== undefined) region.startColumn = f.column;
  if (f.endLine !== undefined) region.endLine = f.endLine;
  if (f.snippet !== undefined) region.snippet = { text: f.snippet };
  const out: Record<string, unknown> = {
    ruleId: f.ruleId,
    level: LEVEL[f.severity],
    message: { text: f.fix ? `${f.message}. Fix: ${f.fix}` : f.message },
    locations: [
      {
        physicalLocation: {
          artifactLocation: artifactLocation(f.file, repoPath),
          region,
        },
      },
    ],
    partialFingerprints: { 'vouch/v1': f.fingerprint },
    properties: { severity: f.severity, category: f.category },
  };
  const i = index.get(f.ruleId);
  if (i !== undefined) out.ruleIndex = i;
  if ('suppression' in f) {
    out.suppressions = [
      {
        kind: f.suppression.kind === 'inline' ? 'inSource' : 'external',
        status: 'accepted',
        justification: f.suppression.justification,
      },
    ];
  }
  return out;
}

/**
 * SARIF 2.1.0 (what GitHub code scanning uploads): every rule that ran in
 * tool.driver.rules with its help text, every finding (suppressed ones with
 * their suppression and justification) as a result with a physical location,
 * and files that could not be parsed as tool notifications.
 */
export function toSarif(scan: ScanResult): Record<string, unknown> {
  const index = new Map(scan.rules.map((r, i) => [r.id, i]));
  const all = [...scan.findings, ...scan.suppressed];
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'vouch',
            version: packageVersion(),
            informationUri: 'https://vouch.dev/docs/cli/scan',
            rules: scan.rules.map(rule),
          },
        },
        invocations: [
          {
            executionSuccessful: true,
            toolExecutionNotifications: scan.parseErrors.map((e) => ({
              level: 'error',
              message: { text: `${e.parser}: ${e.message}` },
              locations: [
                {
                  physicalLocation: {
                    artifactLocation: artifactLocation(e.file, scan.repoPath),
                    ...(e.line !== undefined ? { region: { startLine: e.line } } : {}),
                  },
                },
              ],
            })),
          },
        ],
        ...(scan.target.kind === 'stdin' ? {} : { originalUriBaseIds: originalUriBaseIds(scan) }),
        results: all.map((f) => result(f, index, scan.repoPath)),
        columnKind: 'utf16CodeUnits',
      },
    ],
  };
}

export function renderSarif(scan: ScanResult): string {
  return `${JSON.stringify(toSarif(scan), null, 2)}\n`;
}
