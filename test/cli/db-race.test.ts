// Concurrent writers and a killed writer on one `--db` directory, with real
// child processes importing real OSV data: writers take turns (none is lost),
// readers see a whole database, and SIGKILL mid-import leaves the old one.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { withWriteLock } from '../../src/vuln/db/lock.ts';
import {
  CLI_MAIN,
  isolatedEnv,
  jsonOf,
  show,
  tempDir,
  VECTORS,
  type VouchResult,
  vouch,
} from './helpers.ts';

const GOLANG = `${VECTORS}/osv/golang`;
const PYPA = `${VECTORS}/osv/pypa`;
const RUSTSEC = `${VECTORS}/osv/rustsec`;
/** A larger real export (~17 MB, ~3,900 records): a slow enough write to be killed in. */
const ALMA = `${VECTORS}/osv-oracle/records-AlmaLinux.jsonl`;

/** One component per source: each is found exactly when its source is in the database. */
const SBOM = {
  bomFormat: 'CycloneDX',
  specVersion: '1.6',
  version: 1,
  components: [
    {
      type: 'library',
      'bom-ref': 'go',
      name: 'github.com/docker/distribution',
      version: 'v2.6.0+incompatible',
      purl: 'pkg:golang/github.com/docker/distribution@v2.6.0%2Bincompatible',
    },
    {
      type: 'library',
      'bom-ref': 'py',
      name: 'adyen',
      version: '5.0.0',
      purl: 'pkg:pypi/adyen@5.0.0',
    },
    {
      type: 'library',
      'bom-ref': 'rs',
      name: 'hyper',
      version: '0.9.0',
      purl: 'pkg:cargo/hyper@0.9.0',
    },
  ],
};
const FOUND_BY_SOURCE: Record<string, string> = {
  [GOLANG]: 'GO-2021-0072',
  [PYPA]: 'PYSEC-2023-1',
  [RUSTSEC]: 'RUSTSEC-2017-0002',
};

interface Running {
  child: ChildProcess;
  done: Promise<VouchResult & { signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

/** `vouch <args>` as a child we can watch and kill. */
function start(args: string[], cwd: string, env: NodeJS.ProcessEnv): Running {
  const child = spawn(process.execPath, [CLI_MAIN, ...args], { cwd, env, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  child.stdin.end();
  const done = new Promise<VouchResult & { signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done, stderr: () => stderr };
}

/** A `vouch vulns --json` report is of one whole database: its findings are exactly its sources'. */
function assertWhole(r: VouchResult, allowed: ReadonlyArray<ReadonlySet<string>>): Set<string> {
  assert.equal(r.code, 0, show(r));
  const report = jsonOf(r);
  const sources = new Set<string>(report.db.sources);
  assert.ok(
    allowed.some((a) => a.size === sources.size && [...a].every((s) => sources.has(s))),
    `a reader saw sources ${[...sources].join(', ')}`,
  );
  const ids = new Set(report.findings.map((f: { id: string }) => f.id));
  for (const [source, id] of Object.entries(FOUND_BY_SOURCE)) {
    const aliasHit = report.findings.some(
      (f: { id: string; aliases: string[] }) => f.id === id || f.aliases.includes(id),
    );
    assert.equal(aliasHit, sources.has(source), `${id} found iff ${source} is in: ${[...ids]}`);
  }
  return sources;
}

async function leftovers(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.includes('.tmp-'));
}

test('two concurrent imports into one --db both land (they take turns); readers meanwhile see a whole database', async (t) => {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  await writeFile(join(dir, 'sbom.json'), JSON.stringify(SBOM));
  // A larger old database: every writer copies it, so the two writes overlap.
  const base = await vouch(['db', 'import', GOLANG, ALMA, '--db', 'db', '--json'], {
    cwd: dir,
    env,
  });
  assert.equal(base.code, 0, show(base));
  const before = jsonOf(base).sources;

  // Each also re-imports the large source, so both spend a while writing at the same time.
  const a = start(['db', 'import', PYPA, ALMA, '--db', 'db', '--json'], dir, env);
  const b = start(['db', 'import', RUSTSEC, ALMA, '--db', 'db', '--json'], dir, env);
  const old = new Set([GOLANG, ALMA]);
  const allowed = [
    old,
    new Set([...old, PYPA]),
    new Set([...old, RUSTSEC]),
    new Set([...old, PYPA, RUSTSEC]),
  ];
  let finished = false;
  const both = Promise.all([a.done, b.done]).finally(() => {
    finished = true;
  });
  let reads = 0;
  while (!finished) {
    assertWhole(
      await vouch(['vulns', 'sbom.json', '--db', 'db', '--json'], { cwd: dir, env }),
      allowed,
    );
    reads++;
  }
  const [ra, rb] = await both;
  assert.equal(ra.code, 0, show(ra));
  assert.equal(rb.code, 0, show(rb));
  assert.ok(reads > 0);

  // Neither import was lost: the database has all four sources and each one's records.
  const after = await vouch(['vulns', 'sbom.json', '--db', 'db', '--json'], { cwd: dir, env });
  assertWhole(after, [new Set([...old, PYPA, RUSTSEC])]);
  const st = jsonOf(await vouch(['db', 'status', '--db', 'db', '--json'], { cwd: dir, env }));
  const counts = Object.fromEntries(
    st.sources.map((s: { url: string; records: number }) => [s.url, s.records]),
  );
  assert.deepEqual(counts, {
    [GOLANG]: before[0].records,
    [ALMA]: before[1].records,
    [PYPA]: jsonOf(ra).sources[0].records,
    [RUSTSEC]: jsonOf(rb).sources[0].records,
  });
  assert.deepEqual(
    st.ecosystems.map((e: { ecosystem: string }) => e.ecosystem),
    ['AlmaLinux', 'Go', 'PyPI', 'crates.io'],
  );
  assert.deepEqual(await leftovers(join(dir, 'db')), []);
});

test('an import while another writer holds the lock waits for it, then applies on top', async (t) => {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  await writeFile(join(dir, 'sbom.json'), JSON.stringify(SBOM));
  const base = await vouch(['db', 'import', GOLANG, '--db', 'db'], { cwd: dir, env });
  assert.equal(base.code, 0, show(base));

  let waiter: Running | undefined;
  await withWriteLock(join(dir, 'db'), async () => {
    waiter = start(['db', 'import', PYPA, '--db', 'db'], dir, env);
    while (!/waiting for it to finish/.test(waiter.stderr())) {
      const early: VouchResult | undefined = await Promise.race([
        waiter.done,
        new Promise<undefined>((r) => setTimeout(r, 20, undefined)),
      ]);
      assert.equal(early, undefined, `the import did not wait: ${early && show(early)}`);
    }
    // Still waiting: the database is the old one.
    assertWhole(await vouch(['vulns', 'sbom.json', '--db', 'db', '--json'], { cwd: dir, env }), [
      new Set([GOLANG]),
    ]);
  });
  const r = await (waiter as Running).done;
  assert.equal(r.code, 0, show(r));
  assertWhole(await vouch(['vulns', 'sbom.json', '--db', 'db', '--json'], { cwd: dir, env }), [
    new Set([GOLANG, PYPA]),
  ]);
});

test('kill -9 in the middle of an import leaves the old database usable; the next import cleans up', async (t) => {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir);
  await writeFile(join(dir, 'sbom.json'), JSON.stringify(SBOM));

  // Kill the import once its temp database exists (it is writing). Should it
  // ever finish first, start over with a fresh old database.
  let name = '';
  for (let attempt = 0; attempt < 5 && name === ''; attempt++) {
    const here = `db${attempt}`;
    const base = await vouch(['db', 'import', GOLANG, '--db', here], { cwd: dir, env });
    assert.equal(base.code, 0, show(base));
    const run = start(['db', 'import', ALMA, '--db', here], dir, env);
    let exited = false;
    run.done.then(() => {
      exited = true;
    });
    while (!exited && (await leftovers(join(dir, here))).length === 0)
      await new Promise((r) => setTimeout(r, 2));
    if (!exited) run.child.kill('SIGKILL');
    const r = await run.done;
    if (r.signal === 'SIGKILL') name = here;
    else assert.equal(r.code, 0, show(r));
  }
  assert.notEqual(name, '', 'the import was killed while writing');
  const db = join(dir, name);
  assert.ok((await leftovers(db)).length > 0, 'the killed writer left its temp file');

  // The old database: readable, exactly the old sources.
  assertWhole(await vouch(['vulns', 'sbom.json', '--db', name, '--json'], { cwd: dir, env }), [
    new Set([GOLANG]),
  ]);
  const st = jsonOf(await vouch(['db', 'status', '--db', name, '--json'], { cwd: dir, env }));
  assert.equal(st.records, 300);

  // The dead writer holds no lock: the next import goes through and removes its leftovers.
  const next = await vouch(['db', 'import', RUSTSEC, '--db', name], { cwd: dir, env });
  assert.equal(next.code, 0, show(next));
  assert.doesNotMatch(next.stderr, /waiting/);
  assert.deepEqual(await leftovers(db), []);
  assertWhole(await vouch(['vulns', 'sbom.json', '--db', name, '--json'], { cwd: dir, env }), [
    new Set([GOLANG, RUSTSEC]),
  ]);
});
