// One side of the vuln-match benchmark, in its own process so peak RSS is its
// own: matches the components of a JSON file against a vouch OSV database and
// prints {"ms", "rssBytes", "pairs"} (pairs = (component, record) matches, the
// figure both sides must agree on).
//
//   node bench/vuln-match-one.ts index|naive DB_DIR COMPONENTS.json
//
// index: matchComponents (the indexed lookup vouch vulns uses).
// naive: the baseline — every record read and parsed, then every component
//        compared with every affected entry of every record (a linear scan),
//        with the same version semantics (affectedVersions).
import { readFileSync } from 'node:fs';
import { VulnDatabase } from '../src/vuln/db/index.ts';
import { matchComponents, packageKeyOf, type ScanComponent } from '../src/vuln/match.ts';
import { type OsvAffected, parseOsvRecord } from '../src/vuln/osv.ts';
import { affectedVersions, isWithdrawn } from '../src/vuln/range.ts';
import { baseEcosystem, normalizeName } from '../src/vuln/versions/index.ts';

const [mode, dbDir, file] = process.argv.slice(2) as [string, string, string];
const components = JSON.parse(readFileSync(file, 'utf8')) as ScanComponent[];
const now = new Date();
const start = process.hrtime.bigint();
const db = await VulnDatabase.open(dbDir);
let pairs = 0;
if (mode === 'index') {
  const r = matchComponents(db, components, { now });
  for (const f of r.findings) pairs += f.records.length;
} else {
  // Even a naive scanner normalises each record's names once, not per component.
  const entries: Array<{ id: string; eco: string; name: string; affected: OsvAffected }> = [];
  for (const row of db.allRecords()) {
    const rec = parseOsvRecord(JSON.parse(row.json), row.id);
    if (isWithdrawn(rec, now)) continue;
    for (const a of rec.affected) {
      if (!a.package) continue;
      entries.push({
        id: rec.id,
        eco: baseEcosystem(a.package.ecosystem),
        name: normalizeName(a.package.ecosystem, a.package.name),
        affected: a,
      });
    }
  }
  for (const c of components) {
    const key = packageKeyOf(c);
    if (!key.ok) continue;
    const eco = baseEcosystem(key.ecosystem);
    const hits = new Set<string>();
    for (const e of entries) {
      if (e.eco !== eco || e.name !== key.name || hits.has(e.id)) continue;
      try {
        if (affectedVersions(e.affected, key.version).affected) hits.add(e.id);
      } catch {
        // a version the scheme cannot read: not a match, as in matchComponents
      }
    }
    pairs += hits.size;
  }
}
db.close();
const ms = Number(process.hrtime.bigint() - start) / 1e6;
process.stdout.write(
  `${JSON.stringify({ ms, rssBytes: process.resourceUsage().maxRSS * 1024, pairs })}\n`,
);
