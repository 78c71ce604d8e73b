// The output-flag rule of every verb (docs/cli/README.md#conventions), for the
// verbs that used to break it: -o/--output is the verb's main output, --out the
// signed bundle. `vouch comply`, `vouch policy init` and `vouch pack` took --out
// for their main output; the old spelling still works where it cannot be
// misread, with one warning on stderr.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  attestTestResultArgs,
  generateKey,
  isolatedEnv,
  jsonOf,
  show,
  statementOf,
  tempDir,
  type VouchResult,
  vouch,
} from './helpers.ts';

const POLICY = `apiVersion: vouch.dev/policy/v1
kind: Policy
metadata: { name: release }
trust:
  signers:
    - { name: ci, key: ci.pub }
require:
  - { name: tests, predicateType: test-result, where: 'predicate.result == "PASSED"' }
ssdf:
  PW.8.2: [tests]
`;

/** How many lines of stderr are deprecation warnings. */
function warnings(r: VouchResult): number {
  return r.stderr.split('\n').filter((l) => / warning: .* is deprecated: use /.test(l)).length;
}

describe('output flags: -o/--output is the main output, --out the signed bundle', () => {
  let dir = '';
  let run: (...args: string[]) => Promise<VouchResult>;
  const comply = (...args: string[]) =>
    run('comply', 'app.bin', '--policy', 'policy.yaml', '--profile', 'policy', ...args);

  before(async () => {
    dir = await tempDir({ after: (fn) => cleanup.push(fn) });
    await mkdir(join(dir, '.home'));
    const env = isolatedEnv(dir);
    run = (...args) => vouch(args, { cwd: dir, env });
    await generateKey(dir, env, 'ci');
    await writeFile(join(dir, 'app.bin'), 'the app\n');
    await writeFile(join(dir, 'tests.json'), '{"result": "PASSED"}');
    await writeFile(join(dir, 'policy.yaml'), POLICY);
    const a = await run(...attestTestResultArgs('app.bin'));
    assert.equal(a.code, 0, show(a));
  });
  const cleanup: Array<() => Promise<void>> = [];
  after(async () => {
    for (const fn of cleanup) await fn();
  });

  test('policy init: -o and --output write the policy; --out still does, with one warning', async () => {
    const short = await run('policy', 'init', '--key', 'ci.pub', '-o', 'p-short.yaml');
    assert.equal(short.code, 0, show(short));
    assert.equal(warnings(short), 0, show(short));
    const long = await run(
      'policy',
      'init',
      '--key',
      'ci.pub',
      '--output',
      'p-long.yaml',
      '--json',
    );
    assert.equal(long.code, 0, show(long));
    assert.deepEqual(jsonOf(long), { out: 'p-long.yaml', bundles: 1 });
    const text = await readFile(join(dir, 'p-long.yaml'), 'utf8');
    assert.match(text, /test-result/);
    assert.equal(await readFile(join(dir, 'p-short.yaml'), 'utf8'), text);

    const old = await run('policy', 'init', '--key', 'ci.pub', '--out', 'p-old.yaml');
    assert.equal(old.code, 0, show(old));
    assert.equal(warnings(old), 1, show(old));
    assert.match(old.stderr, /vouch policy init: warning: --out is deprecated: use -o\/--output/);
    assert.equal(await readFile(join(dir, 'p-old.yaml'), 'utf8'), text);
  });

  test('policy init: both spellings, or an empty name, are exit 2 and write nothing', async () => {
    const both = await run('policy', 'init', '-o', 'p-a.yaml', '--out', 'p-b.yaml');
    assert.equal(both.code, 2, show(both));
    assert.match(both.stderr, /--out is the old spelling of -o\/--output/);
    assert.ok(!existsSync(join(dir, 'p-a.yaml')) && !existsSync(join(dir, 'p-b.yaml')));
    const empty = await run('policy', 'init', '--output=');
    assert.equal(empty.code, 2, show(empty));
    assert.match(empty.stderr, /-o\/--output needs a file name/);
    const help = await run('policy', 'init', '--help');
    assert.match(help.stdout, /-o, --output FILE/);
  });

  test('pack: -o/--output writes the pack; --out writes the same bytes, with one warning', async () => {
    const r = await run('pack', 'app.bin', '--policy', 'policy.yaml', '--output', 'a.pack');
    assert.equal(r.code, 0, show(r));
    assert.equal(warnings(r), 0, show(r));
    const pack = JSON.parse(await readFile(join(dir, 'a.pack'), 'utf8'));
    assert.equal(pack.format, 'vouch-evidence-pack');
    assert.equal(pack.bundles.length, 1);
    const old = await run(
      'pack',
      'app.bin',
      '--policy',
      'policy.yaml',
      '--out',
      'b.pack',
      '--json',
    );
    assert.equal(old.code, 0, show(old));
    assert.equal(warnings(old), 1, show(old));
    assert.match(old.stderr, /vouch pack: warning: --out is deprecated: use -o\/--output/);
    assert.equal(jsonOf(old).out, 'b.pack');
    assert.deepEqual(await readFile(join(dir, 'b.pack')), await readFile(join(dir, 'a.pack')));
    // The pack a verify reads is the one written.
    const v = await run('verify', 'app.bin', '--pack', 'b.pack', '--policy', 'policy.yaml');
    assert.equal(v.code, 0, show(v));
  });

  test('pack: both spellings or neither are exit 2 and write nothing', async () => {
    const both = await run('pack', 'app.bin', '-o', 'c.pack', '--out', 'd.pack');
    assert.equal(both.code, 2, show(both));
    assert.ok(!existsSync(join(dir, 'c.pack')) && !existsSync(join(dir, 'd.pack')));
    const none = await run('pack', 'app.bin');
    assert.equal(none.code, 2, show(none));
    assert.match(none.stderr, /-o\/--output FILE is required/);
  });

  test('comply: -o/--output is the report; --out is the signed bundle with --attest, no warning', async () => {
    const r = await comply(
      '--format',
      'json',
      '--output',
      'report.json',
      '--attest',
      '--key',
      'ci.key',
      '--out',
      'report.sigstore.json',
      '--json',
    );
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stderr.includes('warning'), false, show(r));
    const out = jsonOf(r);
    assert.equal(out.written, 'report.json');
    assert.equal(out.attestation.out, 'report.sigstore.json');
    const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8'));
    assert.equal(report.reportVersion, 'vouch.dev/compliance-report/v1');
    const st = await statementOf(join(dir, 'report.sigstore.json'));
    assert.equal(st.predicateType, 'https://vouch.dev/attestation/ssdf-report/v1');
    assert.deepEqual(st.predicate.summary, report.summary);
  });

  test('comply: without --attest, --out is still the report, with one warning', async () => {
    const r = await comply('--out', 'old.md');
    assert.equal(r.code, 0, show(r));
    assert.equal(warnings(r), 1, show(r));
    assert.match(r.stderr, /vouch comply: warning: --out is deprecated: use -o\/--output/);
    assert.match(await readFile(join(dir, 'old.md'), 'utf8'), /PW\.8\.2/);
    assert.equal(r.stdout, '', 'the report went to the file, not stdout');
  });

  test('comply: --attestation-out still names the bundle with --attest, with one warning', async () => {
    const r = await comply(
      '-o',
      'r2.md',
      '--attest',
      '--key',
      'ci.key',
      '--attestation-out',
      'r2.sigstore.json',
    );
    assert.equal(r.code, 0, show(r));
    assert.equal(warnings(r), 1, show(r));
    assert.match(r.stderr, /--attestation-out is deprecated: use --out/);
    assert.match(await readFile(join(dir, 'r2.md'), 'utf8'), /PW\.8\.2/);
    const st = await statementOf(join(dir, 'r2.sigstore.json'));
    assert.equal(st.predicateType, 'https://vouch.dev/attestation/ssdf-report/v1');
  });

  test('comply: with --attest, an --out that does not look like a bundle still gets the bundle, and a warning', async () => {
    const r = await comply('--attest', '--key', 'ci.key', '--out', 'was-report.md');
    assert.equal(r.code, 0, show(r));
    assert.match(
      r.stderr,
      /with --attest, --out was-report\.md is the signed bundle, not the report/,
    );
    const st = await statementOf(join(dir, 'was-report.md'));
    assert.equal(st.predicateType, 'https://vouch.dev/attestation/ssdf-report/v1');
    assert.match(r.stdout, /PW\.8\.2/, 'the report is on stdout');
  });

  test('comply: conflicting output flags are exit 2 and write nothing', async () => {
    const cases: Array<{ args: string[]; error: RegExp; files: string[] }> = [
      {
        args: ['-o', 'x1.md', '--out', 'x2.md'],
        error: /--out is the old spelling of -o\/--output/,
        files: ['x1.md', 'x2.md'],
      },
      {
        args: ['--out', 'x3.sigstore.json'],
        error: /--out x3\.sigstore\.json names a signed bundle: that needs --attest/,
        files: ['x3.sigstore.json'],
      },
      {
        args: ['--attestation-out', 'x4.sigstore.json'],
        error: /need --attest/,
        files: ['x4.sigstore.json'],
      },
      {
        // The old way to get both: now --out is the bundle, which --attestation-out names too.
        args: ['--out', 'x5.md', '--attest', '--key', 'ci.key', '--attestation-out', 'x6.json'],
        error: /give the report as -o\/--output and the bundle as --out/,
        files: ['x5.md', 'x6.json'],
      },
      {
        args: ['-o', 'x7.json', '--attest', '--key', 'ci.key', '--out', './x7.json'],
        error: /both name \.\/x7\.json: give two files/,
        files: ['x7.json'],
      },
      {
        args: ['--attest', '--key', 'ci.key', '--out', ''],
        error: /--out needs a file name/,
        files: [],
      },
    ];
    for (const c of cases) {
      const r = await comply(...c.args);
      assert.equal(r.code, 2, `${c.args.join(' ')}\n${show(r)}`);
      assert.match(r.stderr, c.error, c.args.join(' '));
      for (const f of c.files) assert.ok(!existsSync(join(dir, f)), `${f} was written`);
    }
    const help = await run('comply', '--help');
    assert.match(help.stdout, /-o, --output FILE/);
    assert.match(help.stdout, /--out FILE +with --attest: also write the signed report bundle/);
  });
});
