// Shared setup of the VEX CLI tests (vulns-digest-vex, vulns-rescan-vex; not
// itself a test file): a project with requests 2.19.0, real OSV records
// imported into a db, two generated key pairs, and helpers that sign the SBOM
// and VEX attestations into stores.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKey, isolatedEnv, sha256File, show, tempDir, VECTORS, vouch } from './helpers.ts';

export const RECORDS = `${VECTORS}/osv-oracle/records-PyPI.jsonl`;
/** requests 2.19.0 has this one (fixed in 2.20.0) and others: the VEX names only this one. */
export const CVE = 'CVE-2018-18074';
export const REQUESTS = { '@id': 'pkg:pypi/requests@2.19.0' };

/** An OpenVEX document: CVE is not_affected in these products. */
export function openVex(products: Array<Record<string, unknown>>) {
  return {
    '@context': 'https://openvex.dev/ns/v0.2.0',
    '@id': 'https://example.com/vex/app-1',
    author: 'app security team',
    timestamp: '2026-01-01T00:00:00Z',
    version: 1,
    statements: [
      {
        vulnerability: { name: CVE },
        products,
        status: 'not_affected',
        justification: 'vulnerable_code_not_in_execute_path',
        impact_statement: 'the app never sends proxied requests',
      },
    ],
  };
}

/** A VEX-only CycloneDX BOM (vulnerabilities, no components): CVE not_affected in requests 2.19.0. */
export const CYCLONEDX_VEX = {
  bomFormat: 'CycloneDX',
  specVersion: '1.6',
  version: 1,
  vulnerabilities: [
    {
      id: CVE,
      analysis: {
        state: 'not_affected',
        justification: 'code_not_reachable',
        detail: 'proxies are never used',
      },
      affects: [{ ref: 'pkg:pypi/requests@2.19.0' }],
    },
  ],
};

/** A finding as the JSON reports list it. */
export interface Listed {
  id: string;
  aliases: string[];
  suppressed?: { status: string; justification: string; detail: string; source: string };
}

/** Whether the list names CVE, by id or alias. */
export const named = (list: Listed[]) => list.some((f) => f.id === CVE || f.aliases.includes(CVE));

/** One project, database and key pair per test; each test builds its own stores. */
export async function vexProject(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const env = isolatedEnv(dir, { SOURCE_DATE_EPOCH: '1764000000' });
  await writeFile(join(dir, 'requirements.txt'), 'requests==2.19.0\n');
  await writeFile(join(dir, 'app.bin'), 'the artifact\n');
  await writeFile(join(dir, 'other.bin'), 'another artifact\n');
  const db = await vouch(['db', 'import', RECORDS, '--db', 'db'], { cwd: dir, env });
  assert.equal(db.code, 0, show(db));
  const ci = await generateKey(dir, env, 'ci');
  const stranger = await generateKey(dir, env, 'stranger');
  const digest = `sha256:${await sha256File(join(dir, 'app.bin'))}`;
  const otherDigest = `sha256:${await sha256File(join(dir, 'other.bin'))}`;
  const run = (args: string[]) => vouch(args, { cwd: dir, env });
  const ok = async (args: string[]) => {
    const r = await run(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${show(r)}`);
    return r;
  };
  /** A store holding the SBOM attestation about app.bin, signed by the trusted key. */
  const store = async (name: string) => {
    await ok(['sbom', '.', '--attest', '--subject', 'app.bin', '--key', ci.key, '--store', name]);
    return name;
  };
  let n = 0;
  /** Signs a VEX predicate about a file into a store. */
  const attestVex = async (
    store: string,
    about: string,
    doc: unknown,
    key: string,
    type = 'openvex',
  ) => {
    const file = `vex-${++n}.json`;
    await writeFile(join(dir, file), JSON.stringify(doc));
    await ok([
      'attest',
      about,
      '--predicate-type',
      type,
      '--predicate',
      file,
      '--key',
      key,
      '--store',
      store,
    ]);
  };
  return { dir, ci, stranger, digest, otherDigest, run, ok, store, attestVex };
}
