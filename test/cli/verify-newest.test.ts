// `vouch verify --policy` with `select: newest`, end to end: vulnerability
// scans signed with `vouch attest`, an older clean one and a newer critical
// one in the store, plus newer clean bundles an attacker could drop beside
// them (one by an untrusted key, one tampered), which must never be the newest.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generateKey, isolatedEnv, jsonOf, show, tempDir, vouch } from './helpers.ts';

const HOUR = 3_600_000;
const at = (hoursAgo: number) => new Date(Date.now() - hoursAgo * HOUR).toISOString();

const scan = (finishedOn: string, score?: string) =>
  JSON.stringify({
    scanner: {
      uri: 'https://example.com/scanner',
      result: score ? [{ id: 'CVE-2025-0001', severity: [{ method: 'CVSSv3', score }] }] : [],
    },
    metadata: { scanStartedOn: finishedOn, scanFinishedOn: finishedOn },
  });

const policy = (select: string) => `apiVersion: vouch.dev/policy/v1
kind: Policy
metadata: { name: scans }
trust:
  signers: [{ name: scanner, key: scanner.pub }]
require:
  - name: no-critical
    predicateType: vuln
    maxAge: 7d
${select}    where: predicate.scanner.result.all(r, r.severity.all(s, double(s.score) < 9.0))
`;

describe('vouch verify --policy with select: newest', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const criticalAt = at(1);
  const cleanAt = at(24);
  const forgedAt = at(0.5);
  const cleanupFns: Array<() => Promise<void>> = [];
  const run = (args: string[]) => vouch(args, { cwd: dir, env });
  after(async () => {
    for (const fn of cleanupFns) await fn();
  });

  before(async () => {
    dir = await tempDir({ after: (fn) => cleanupFns.push(fn) });
    env = isolatedEnv(dir);
    await generateKey(dir, env, 'scanner');
    await generateKey(dir, env, 'stranger');
    await writeFile(join(dir, 'app.bin'), 'the app\n');
    await writeFile(join(dir, 'clean.json'), scan(cleanAt));
    await writeFile(join(dir, 'critical.json'), scan(criticalAt, '9.8'));
    await writeFile(join(dir, 'forged-clean.json'), scan(forgedAt));
    await writeFile(join(dir, 'any.yaml'), policy(''));
    await writeFile(join(dir, 'newest.yaml'), policy('    select: newest\n'));
    await writeFile(join(dir, 'bad.yaml'), policy('    select: latest\n'));
    const attest = async (predicate: string, key: string, ...more: string[]) => {
      const r = await run([
        'attest',
        'app.bin',
        '--predicate-type',
        'vuln',
        '--predicate',
        predicate,
        '--key',
        key,
        '--json',
        ...more,
      ]);
      assert.equal(r.code, 0, show(r));
    };
    for (const p of ['clean.json', 'critical.json']) await attest(p, 'scanner.key');
    // Newer and clean, but by a key the policy does not trust.
    await attest('forged-clean.json', 'stranger.key', '--no-store', '--out', 'stranger.json');
    // Newer and clean, signed by the trusted key over other content, then its payload swapped.
    await attest('critical.json', 'scanner.key', '--no-store', '--out', 'signed.json');
    const b = JSON.parse(await readFile(join(dir, 'signed.json'), 'utf8'));
    const st = JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString('utf8'));
    st.predicate = JSON.parse(scan(forgedAt));
    b.dsseEnvelope.payload = Buffer.from(JSON.stringify(st)).toString('base64');
    await writeFile(join(dir, 'tampered.json'), JSON.stringify(b));
  });

  test('an older clean scan and a newer critical one: allowed without select (unchanged), denied with select newest, naming the scan and its time', async () => {
    const any = await run(['verify', 'app.bin', '--policy', 'any.yaml', '--json']);
    assert.equal(any.code, 0, show(any));
    const anyRule = jsonOf(any).rules[0];
    assert.equal(anyRule.status, 'pass');
    assert.equal(anyRule.selected, undefined);
    assert.equal(anyRule.evidence.length, 1, 'the older clean scan satisfies it');

    const newest = await run(['verify', 'app.bin', '--policy', 'newest.yaml', '--json']);
    assert.equal(newest.code, 1, show(newest));
    const v = jsonOf(newest);
    assert.equal(v.decision, 'deny');
    const rule = v.rules[0];
    assert.equal(rule.status, 'fail');
    assert.equal(rule.selected.timeSource, 'predicate');
    assert.equal(rule.selected.time, criticalAt);
    assert.equal(rule.selected.timeField, 'predicate.metadata.scanFinishedOn');
    assert.equal(rule.selected.compared, 2);
    assert.equal(rule.selected.bundles.length, 1);
    const chosen = rule.selected.bundles[0].source as string;
    // The chosen bundle is the critical scan.
    const payload = JSON.parse(
      Buffer.from(
        JSON.parse(await readFile(join(dir, chosen), 'utf8')).dsseEnvelope.payload,
        'base64',
      ).toString('utf8'),
    );
    assert.equal(payload.predicate.scanner.result[0].severity[0].score, '9.8');
    assert.equal(
      rule.reasons[0],
      `newest of 2 verified statement(s): ${chosen}, at ${criticalAt} (predicate.metadata.scanFinishedOn, claimed by its signer: no verified time)`,
    );
    assert.ok(
      rule.reasons.some((x: string) => x.startsWith(`${chosen}: where expression is false`)),
      rule.reasons.join('\n'),
    );

    // The human output says the same.
    const text = await run(['verify', 'app.bin', '--policy', 'newest.yaml']);
    assert.equal(text.code, 1);
    assert.ok(
      `${text.stdout}${text.stderr}`.includes(
        `newest of 2 verified statement(s): ${chosen}, at ${criticalAt}`,
      ),
      show(text),
    );
  });

  test('newer clean bundles that do not verify or are signed by an untrusted key are never the newest', async () => {
    const r = await run([
      'verify',
      'app.bin',
      '--policy',
      'newest.yaml',
      '--json',
      '--bundle',
      'stranger.json',
      '--bundle',
      'tampered.json',
    ]);
    assert.equal(r.code, 1, show(r));
    const v = jsonOf(r);
    const dropped = v.evidence
      .filter((e: { accepted: boolean }) => !e.accepted)
      .map((e: { source: string }) => e.source)
      .sort();
    assert.deepEqual(dropped, ['stranger.json', 'tampered.json']);
    assert.equal(v.rules[0].selected.time, criticalAt, 'still the critical scan');
    assert.equal(v.rules[0].selected.compared, 2);
    // Without select newest, the same evidence is allowed by the older clean scan.
    const any = await run([
      'verify',
      'app.bin',
      '--policy',
      'any.yaml',
      '--bundle',
      'stranger.json',
      '--bundle',
      'tampered.json',
    ]);
    assert.equal(any.code, 0, show(any));
  });

  test('a bad select value is exit 2 naming the file, line and field', async () => {
    const r = await run(['verify', 'app.bin', '--policy', 'bad.yaml', '--json']);
    assert.equal(r.code, 2, show(r));
    const err = jsonOf(r).error;
    assert.equal(err.code, 'POLICY_MALFORMED');
    assert.equal(err.file, 'bad.yaml');
    assert.deepEqual(err.problems, [
      {
        path: '/require/0/select',
        line: 10,
        column: 5,
        message: 'must be one of "all", "newest", not "latest"',
      },
    ]);
    const human = await run(['verify', 'app.bin', '--policy', 'bad.yaml']);
    assert.equal(human.code, 2);
    assert.match(
      human.stderr,
      /bad\.yaml:10:5: \/require\/0\/select: must be one of "all", "newest", not "latest"/,
    );
  });
});
