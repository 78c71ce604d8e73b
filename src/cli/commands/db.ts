import { resolve } from 'node:path';
import {
  DEFAULT_ECOSYSTEMS,
  defaultDbDir,
  exportUrl,
  type ImportReport,
  importExports,
  OSV_EXPORT_BASE,
  updateDatabase,
  VulnDatabase,
} from '../../vuln/db/index.ts';
import { parse, subcommand, usage } from '../args.ts';
import { displayPath, type Io, printJson } from '../io.ts';
import type { Command } from './command.ts';

const HELP = `Usage: vouch db import <file | directory | URL>... [--db DIR] [--json]
       vouch db update [--source URL]... [--ecosystem E]... [--db DIR] [--json]
       vouch db status [--db DIR] [--json]

Manages the offline OSV vulnerability database that vouch vulns reads.

  import   reads OSV records from an export zip (all.zip), a JSONL file, a
           JSON or YAML record, or a directory of records, and replaces what
           the same source gave before. Malformed records are reported and
           skipped with a count; a bad zip (CRC, truncated), a zip bomb or a
           path-traversing entry refuses the whole export.
  update   fetches URL sources with conditional requests (ETag / Last-Modified;
           304 keeps a source as it is) and verifies them (zip integrity,
           record parse, counts) before swapping the new database in. A failed
           update keeps the old database. Sources: --source URLs, else the URL
           sources the database has, else the public OSV exports of
           ${DEFAULT_ECOSYSTEMS.join(', ')}.
  status   records per ecosystem, sources, age.

Options:
  --db DIR           database directory (default: $XDG_CACHE_HOME/vouch/osv,
                     else ~/.cache/vouch/osv)
  --source URL       update: an export URL (repeatable)
  --ecosystem E      update: a public OSV export by ecosystem name, e.g. PyPI
                     (repeatable; ${OSV_EXPORT_BASE}/E/all.zip)
  --json             machine output on stdout

Every write builds the new database beside the old one and renames it over
(atomic): readers see the old or the new database, never a part. Writers to
one --db take turns: a second import or update waits for the first (up to
30 minutes) and applies its sources on top of the first one's result.

Exit codes: 0 ok, 2 bad input, unreadable export, failed download or failed
verification (the old database is kept).`;

export const dbCommand: Command = {
  name: 'db',
  help: HELP,
  async run(argv, io) {
    const s = subcommand('db', argv, ['import', 'update', 'status']);
    if (s === 'help') {
      io.stdout(`${HELP}\n`);
      return 0;
    }
    const { sub, rest } = s;
    const { values, positionals } = parse(`db ${sub}`, rest, {
      db: { type: 'string' },
      source: { type: 'string', multiple: true },
      ecosystem: { type: 'string', multiple: true },
    });
    if (values.help) {
      io.stdout(`${HELP}\n`);
      return 0;
    }
    const dir = values.db ? resolve(io.cwd, values.db) : defaultDbDir(io.env);
    const now = nowOf(io);
    const lock = {
      onWait: () =>
        io.stderr(
          `vouch db: another vouch process is writing ${displayPath(dir, io.cwd)}; waiting for it to finish\n`,
        ),
    };
    switch (sub) {
      case 'import': {
        if (positionals.length === 0)
          throw usage('db import', 'give at least one export file, directory or URL');
        if (values.source || values.ecosystem)
          throw usage('db import', '--source and --ecosystem are for update');
        const report = await importExports(dir, positionals, { now, cwd: io.cwd, lock });
        return done(report, io, values.json ?? false);
      }
      case 'update': {
        if (positionals.length > 0)
          throw usage('db update', 'takes no arguments (use --source URL)');
        const sources = [
          ...(values.source ?? []),
          ...(values.ecosystem ?? []).map((e) => exportUrl(e)),
        ];
        const report = await updateDatabase(dir, { now, sources, lock });
        return done(report, io, values.json ?? false);
      }
      case 'status': {
        if (positionals.length > 0) throw usage('db status', 'takes no arguments');
        const db = await VulnDatabase.open(dir);
        try {
          const st = db.status();
          const age = st.updatedAt
            ? Math.max(0, Math.round((now.getTime() - Date.parse(st.updatedAt)) / 1000))
            : null;
          if (values.json) {
            printJson(io, { ...st, ageSeconds: age });
            return 0;
          }
          io.stdout(`database: ${displayPath(st.path, io.cwd)}\n`);
          io.stdout(`records: ${st.records}\n`);
          io.stdout(
            `updated: ${st.updatedAt ?? 'never'}${age !== null ? ` (${formatAge(age)} ago)` : ''}\n`,
          );
          for (const e of st.ecosystems) io.stdout(`  ${e.ecosystem}: ${e.records}\n`);
          io.stdout('sources:\n');
          for (const s of st.sources) {
            io.stdout(
              `  ${displayPath(s.url, io.cwd)}: ${s.records} records, ${s.skipped} skipped, imported ${s.importedAt}${s.etag ? `, etag ${s.etag}` : ''}\n`,
            );
          }
          return 0;
        } finally {
          db.close();
        }
      }
    }
  },
};

/** Skipped records shown per source before "… and N more". */
const MAX_SKIPPED_SHOWN = 10;

function done(report: ImportReport, io: Io, json: boolean): number {
  for (const s of report.sources) {
    const where = displayPath(s.url, io.cwd);
    if (s.status === 'not-modified') {
      io.stderr(`vouch db: ${where}: not modified (${s.records} records kept)\n`);
      continue;
    }
    io.stderr(
      `vouch db: ${where}: imported ${s.records} records, skipped ${s.skipped.length} malformed\n`,
    );
    for (const k of s.skipped.slice(0, MAX_SKIPPED_SHOWN)) {
      io.stderr(`vouch db:   skipped ${displayPath(k.source, io.cwd)}: ${k.reason}\n`);
    }
    if (s.skipped.length > MAX_SKIPPED_SHOWN) {
      io.stderr(
        `vouch db:   … and ${s.skipped.length - MAX_SKIPPED_SHOWN} more skipped (all in --json)\n`,
      );
    }
  }
  io.stderr(
    report.changed
      ? `vouch db: wrote ${displayPath(report.db, io.cwd)}\n`
      : 'vouch db: up to date, database unchanged\n',
  );
  if (json) printJson(io, report);
  return 0;
}

function nowOf(io: Io): Date {
  const epoch = io.env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && /^\d+$/.test(epoch)) return new Date(Number(epoch) * 1000);
  return new Date();
}

function formatAge(s: number): string {
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}
