import { basename } from 'node:path';
import { PREDICATE_TYPES } from '../../core/predicates.ts';
import { makeStatement, type Statement, type Subject } from '../../core/statement.ts';
import { open, type ScanReport, suppressed } from './report.ts';

export const VULNS_PREDICATE_TYPE = PREDICATE_TYPES.vuln;

/**
 * The in-toto vulns predicate v0.1
 * (https://github.com/in-toto/attestation/blob/main/spec/predicates/vulns.md):
 * scanner (uri, version, db, result[]) and metadata (scan times). Every
 * finding is a result, open ones first; vouch's annotations name the package,
 * version, fixed versions and aliases, and a finding suppressed by VEX carries
 * a `suppressed` annotation with the justification (docs/predicates/vulns.md).
 */
export function vulnsPredicate(r: ScanReport): Record<string, unknown> {
  const result = [...open(r), ...suppressed(r)].map((f) => {
    const annotations: Record<string, unknown>[] = [
      { package: f.component.purl ?? f.component.ref },
      { version: f.version },
      { fixed: f.fixed },
    ];
    if (f.aliases.length > 0) annotations.push({ aliases: f.aliases });
    if (f.suppressed) annotations.push({ suppressed: f.suppressed });
    return {
      id: f.id,
      severity: [
        { method: 'vouch', score: f.severity },
        ...f.ratings
          .filter((x) => x.score !== undefined)
          .map((x) => ({ method: x.source, score: String(x.score) })),
      ],
      annotations,
    };
  });
  return {
    invocation: {
      parameters: [r.target.name, ...r.vex.map((v) => `--vex=${v}`)],
      uri: '',
      event_id: '',
      produced_by: `${r.scanner.name} ${r.scanner.version}`,
    },
    scanner: {
      uri: r.scanner.uri,
      version: r.scanner.version,
      db: {
        uri: r.db.sources.map(sourceUri).join(' '),
        version: `${r.db.records} records`,
        lastUpdate: r.db.updatedAt ?? '',
      },
      result,
    },
    metadata: { scanStartedOn: r.time, scanFinishedOn: r.time },
  };
}

export function vulnsStatement(r: ScanReport, subject: Subject): Statement {
  return makeStatement([subject], VULNS_PREDICATE_TYPE, vulnsPredicate(r));
}

/**
 * A database source as signed evidence names it: export URLs as they are, a
 * local import by its file name only — never the importing machine's path.
 */
function sourceUri(source: string): string {
  if (/^https?:\/\//i.test(source)) return source;
  return `file:${basename(source)}`;
}
