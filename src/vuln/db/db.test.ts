import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isVouchError } from '../../core/errors.ts';
import {
  exportHandler,
  type Handler,
  makeZip,
  OSV_VECTORS,
  oracleRecords,
  recordsZip,
  serve,
  truncatedHandler,
} from '../fixtures/testkit.ts';
import { DB_FILE, importExports, updateDatabase, VulnDatabase } from './index.ts';
import { LOCK_FILE } from './lock.ts';

const now = new Date('2026-11-25T12:00:00Z');

async function temp(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-vulndb-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isVouchError(e)) return e.code;
    throw e;
  }
  return 'OK';
}

const crates = oracleRecords('crates.io', 60);
const distinct = (rs: Record<string, unknown>[]) => new Set(rs.map((r) => r.id)).size;

test('import: a zip built from real records, indexed by ecosystem and normalised name', async (t) => {
  const dir = await temp(t);
  const zip = join(dir, 'all.zip');
  await writeFile(zip, recordsZip(crates));
  const report = await importExports(join(dir, 'db'), [zip], { now, cwd: dir });
  assert.equal(report.sources[0]?.records, distinct(crates));
  assert.equal(report.sources[0]?.skipped.length, 0);
  const db = await VulnDatabase.open(join(dir, 'db'));
  t.after(() => db.close());
  const st = db.status();
  assert.equal(st.records, distinct(crates));
  assert.deepEqual(
    st.ecosystems.map((e) => e.ecosystem),
    ['crates.io'],
  );
  // Every record is found under each package it names, crates.io folding - and _.
  const first = crates[0] as { id: string; affected: Array<{ package: { name: string } }> };
  const name = first.affected[0]?.package.name as string;
  const hits = db.lookup('crates.io', name.toUpperCase().replaceAll('-', '_'));
  assert.ok(
    hits.some((h) => h.id === first.id),
    `${first.id} under ${name}`,
  );
  assert.deepEqual(db.lookup('crates.io', 'no-such-crate-at-all'), []);
});

test('import: the PyPI YAML records directory and the Go JSON records, with name normalisation', async (t) => {
  const dir = await temp(t);
  const report = await importExports(
    join(dir, 'db'),
    [`${OSV_VECTORS}/pypa`, `${OSV_VECTORS}/golang`],
    {
      now,
      cwd: dir,
    },
  );
  const yamlFiles = (await readdir(`${OSV_VECTORS}/pypa`)).filter((f) =>
    f.endsWith('.yaml'),
  ).length;
  const jsonFiles = (await readdir(`${OSV_VECTORS}/golang`)).filter((f) =>
    f.endsWith('.json'),
  ).length;
  assert.equal(report.sources[0]?.records, yamlFiles);
  assert.equal(report.sources[1]?.records, jsonFiles);
  const db = await VulnDatabase.open(join(dir, 'db'));
  t.after(() => db.close());
  // PEP 503: Apache_Airflow and apache-airflow are one project.
  assert.ok(db.lookup('PyPI', 'Apache_Airflow').length > 0);
  assert.deepEqual(
    db.lookup('PyPI', 'Apache_Airflow').map((r) => r.id),
    db.lookup('PyPI', 'apache-airflow').map((r) => r.id),
  );
});

test('import: the named path may be a link (followed); links inside a record tree are not', async (t) => {
  const dir = await temp(t);
  await mkdir(join(dir, 'recs'));
  const golang = (await readdir(`${OSV_VECTORS}/golang`)).filter((f) => f.endsWith('.json'));
  for (const f of golang.slice(0, 3)) {
    await writeFile(join(dir, 'recs', f), await readFile(join(`${OSV_VECTORS}/golang`, f)));
  }
  // A link below the named directory, to records outside it: never read.
  await symlink(`${OSV_VECTORS}/pypa`, join(dir, 'recs', 'outside'));
  await symlink('recs', join(dir, 'link'));
  const report = await importExports(join(dir, 'db'), [join(dir, 'link')], { now, cwd: dir });
  assert.equal(report.sources[0]?.records, 3);
  // Neither a file nor a directory: a clear error, not a crash.
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  await assert.rejects(importExports(join(dir, 'db'), [join(dir, 'fifo')], { now, cwd: dir }), {
    code: 'FILE_READ',
  });
});

test('import: malformed records are skipped and counted, never silently; the rest is imported', async (t) => {
  const dir = await temp(t);
  const good = crates.slice(0, 5).map((r) => JSON.stringify(r));
  const lines = [
    ...good,
    '{"id": "BROKEN-1", "modified": ',
    '{"modified":"2024-01-01T00:00:00Z"}',
    '[1,2',
  ];
  await writeFile(join(dir, 'mixed.jsonl'), `${lines.join('\n')}\n`);
  const report = await importExports(join(dir, 'db'), [join(dir, 'mixed.jsonl')], {
    now,
    cwd: dir,
  });
  const s = report.sources[0];
  assert.equal(s?.records, distinct(crates.slice(0, 5)));
  assert.equal(s?.skipped.length, 3);
  assert.deepEqual(
    s?.skipped.map((k) => k.source.replace(dir, '')),
    ['/mixed.jsonl:6', '/mixed.jsonl:7', '/mixed.jsonl:8'],
  );
  assert.match(s?.skipped[1]?.reason ?? '', /OSV_MALFORMED/);
});

test('import: an export that is mostly malformed or empty is refused and the old database kept', async (t) => {
  const dir = await temp(t);
  const db = join(dir, 'db');
  await writeFile(join(dir, 'ok.jsonl'), crates.map((r) => JSON.stringify(r)).join('\n'));
  await importExports(db, [join(dir, 'ok.jsonl')], { now, cwd: dir });
  const before = await readFile(join(db, DB_FILE));
  await writeFile(join(dir, 'bad.jsonl'), `${JSON.stringify(crates[0])}\n{"x":1}\n{"y":2}\n`);
  assert.equal(
    await code(importExports(db, [join(dir, 'bad.jsonl')], { now, cwd: dir })),
    'VULN_DB_UPDATE_FAILED',
  );
  await writeFile(join(dir, 'empty.jsonl'), '\n');
  assert.equal(
    await code(importExports(db, [join(dir, 'empty.jsonl')], { now, cwd: dir })),
    'VULN_DB_UPDATE_FAILED',
  );
  assert.deepEqual(await readFile(join(db, DB_FILE)), before);
  assert.deepEqual(
    (await readdir(db)).filter((f) => f !== DB_FILE && f !== LOCK_FILE),
    [],
    'no temp file left behind',
  );
});

test('import: hostile zips are refused whole (CRC, truncation, traversal, bomb, lying size)', async (t) => {
  const dir = await temp(t);
  const db = join(dir, 'db');
  const good = recordsZip(crates.slice(0, 3));
  const cases: Array<[string, Buffer, string]> = [
    [
      'crc',
      makeZip([{ name: 'a.json', data: JSON.stringify(crates[0]), crc: 0x12345678 }]),
      'VULN_DB_CORRUPT',
    ],
    ['truncated', good.subarray(0, good.length - 30), 'VULN_DB_CORRUPT'],
    [
      'cut in the middle',
      Buffer.concat([good.subarray(0, 40), good.subarray(good.length - 22)]),
      'VULN_DB_CORRUPT',
    ],
    [
      'traversal',
      makeZip([{ name: '../../etc/x.json', data: JSON.stringify(crates[0]) }]),
      'PATH_ESCAPE',
    ],
    ['absolute', makeZip([{ name: '/x.json', data: JSON.stringify(crates[0]) }]), 'PATH_ESCAPE'],
    [
      'bomb',
      makeZip([{ name: 'bomb.json', data: Buffer.alloc(20 * 1024 * 1024, 0x20) }]),
      'VULN_DB_CORRUPT',
    ],
    [
      'lying size',
      makeZip([{ name: 'a.json', data: JSON.stringify(crates[0]), size: 5 }]),
      'VULN_DB_CORRUPT',
    ],
  ];
  for (const [name, bytes, expected] of cases) {
    await writeFile(join(dir, `${name}.zip`), bytes);
    assert.equal(
      await code(importExports(db, [join(dir, `${name}.zip`)], { now, cwd: dir })),
      expected,
      name,
    );
  }
  assert.equal(await stat(join(db, DB_FILE)).catch(() => null), null, 'nothing was written');
});

test('import: re-importing a source replaces it (records gone from the export go)', async (t) => {
  const dir = await temp(t);
  const db = join(dir, 'db');
  const zip = join(dir, 'all.zip');
  await writeFile(zip, recordsZip(crates.slice(0, 30)));
  await importExports(db, [zip], { now, cwd: dir });
  await writeFile(zip, recordsZip(crates.slice(0, 20)));
  await importExports(db, [zip], { now, cwd: dir });
  const h = await VulnDatabase.open(db);
  t.after(() => h.close());
  assert.equal(h.status().records, distinct(crates.slice(0, 20)));
});

test('open: a missing, foreign or newer database is refused with a clear code', async (t) => {
  const dir = await temp(t);
  assert.equal(await code(VulnDatabase.open(join(dir, 'none'))), 'VULN_DB_MISSING');
  await mkdir(join(dir, 'junk'));
  await writeFile(join(dir, 'junk', DB_FILE), 'not sqlite at all, just text');
  assert.equal(await code(VulnDatabase.open(join(dir, 'junk'))), 'VULN_DB_CORRUPT');
  assert.equal(
    await code(importExports(join(dir, 'junk'), [`${OSV_VECTORS}/golang`], { now, cwd: dir })),
    'VULN_DB_CORRUPT',
  );
});

test('update: conditional requests, 304 keeps the database; 500, truncated and broken exports keep the old one', async (t) => {
  const dir = await temp(t);
  const db = join(dir, 'db');
  const routes = new Map<string, Handler>();
  const srv = await serve(t, routes);
  const v1 = recordsZip(crates.slice(0, 40));
  routes.set('/crates.io/all.zip', exportHandler(v1, '"v1"'));
  const url = srv.url('/crates.io/all.zip');

  const first = await updateDatabase(db, { now, sources: [url] });
  assert.equal(first.changed, true);
  assert.equal(first.sources[0]?.records, distinct(crates.slice(0, 40)));
  const bytes1 = await readFile(join(db, DB_FILE));

  // Same ETag: 304, nothing rewritten; the request carried If-None-Match.
  const second = await updateDatabase(db, { now, sources: [] });
  assert.equal(second.changed, false);
  assert.equal(second.sources[0]?.status, 'not-modified');
  assert.equal(srv.requests.at(-1)?.headers['if-none-match'], '"v1"');
  assert.equal(srv.requests.at(-1)?.headers['if-modified-since'], 'Wed, 25 Nov 2026 10:00:00 GMT');
  assert.deepEqual(await readFile(join(db, DB_FILE)), bytes1);

  const failures: Array<[string, Handler]> = [
    ['500', (_q, s) => s.writeHead(500).end('boom')],
    ['truncated', truncatedHandler(recordsZip(crates))],
    ['not a zip', exportHandler(Buffer.from('<html>maintenance</html>'), '"h"')],
    [
      'corrupt zip',
      exportHandler(
        Buffer.concat([v1.subarray(0, 100), Buffer.alloc(50), v1.subarray(150)]),
        '"c"',
      ),
    ],
    ['shrunk', exportHandler(recordsZip(crates.slice(0, 5)), '"s"')],
  ];
  for (const [name, h] of failures) {
    routes.set('/crates.io/all.zip', h);
    const c = await code(updateDatabase(db, { now, sources: [url] }));
    assert.ok(c === 'VULN_DB_UPDATE_FAILED' || c === 'VULN_DB_CORRUPT', `${name}: ${c}`);
    assert.deepEqual(await readFile(join(db, DB_FILE)), bytes1, `${name}: old database kept`);
  }

  // A real new version is taken.
  routes.set('/crates.io/all.zip', exportHandler(recordsZip(crates.slice(0, 50)), '"v2"'));
  const third = await updateDatabase(db, { now, sources: [url] });
  assert.equal(third.changed, true);
  const h = await VulnDatabase.open(db);
  t.after(() => h.close());
  assert.equal(h.status().records, distinct(crates.slice(0, 50)));
  assert.equal(h.sources()[0]?.etag, '"v2"');
  assert.deepEqual(
    (await readdir(db)).filter((f) => f !== DB_FILE && f !== LOCK_FILE),
    [],
    'no temp file left behind',
  );
});
