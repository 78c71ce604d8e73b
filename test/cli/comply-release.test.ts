// `vouch comply` for a release: several artifacts judged together, from
// evidence made here by vouch itself (`vouch run` provenance for both
// artifacts, a `vouch attest` test result for only one of them).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import {
  attestTestResultArgs,
  generateKey,
  isolatedEnv,
  jsonOf,
  sha256File,
  show,
  tempDir,
  type VouchResult,
  vouch,
} from './helpers.ts';

// biome-ignore lint/suspicious/noExplicitAny: reports as JSON, asserted on field by field
type J = any;

interface Fixture {
  root: string;
  env: NodeJS.ProcessEnv;
  /** sha256 hex of dist/app.bin and dist/lib.bin. */
  app: string;
  lib: string;
}
let fx: Fixture;

const POLICY = `apiVersion: vouch.dev/policy/v1
kind: Policy
metadata: { name: release }
trust:
  signers:
    - { name: ci, key: ci.pub }
require:
  - { name: provenance, predicateType: slsaprovenance }
  - { name: tests, predicateType: test-result, where: 'predicate.result == "PASSED"' }
ssdf:
  PS.2.1: [provenance]
  PW.8.2: [tests]
`;

function schemaFile(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../../schemas/${name}`, import.meta.url), 'utf8'));
}
const ajv = new Ajv2020({ strict: false });
addFormats.default(ajv);
ajv.addSchema(schemaFile('ssdf-report-v1.json') as object);
const validateRelease = ajv.compile(schemaFile('release-report-v1.json') as object);
/** A plain predicate: Ajv's type guard would narrow the report to `unknown`. */
const valid = (d: J): boolean => validateRelease(d);

async function comply(args: string[], cwd = fx.root): Promise<VouchResult> {
  return vouch(['comply', ...args], { cwd, env: fx.env });
}

function task(report: J, id: string): J {
  const t = report.tasks.find((x: J) => x.id === id);
  assert.ok(t, `no task ${id}`);
  return t;
}

/** Both artifacts of the fixture, judged by its policy under the `policy` profile. */
const BOTH = ['dist/app.bin', 'dist/lib.bin', '--policy', 'policy.yaml', '--profile', 'policy'];

/** A release manifest (outside the fixture) judged by the fixture's policy and store. */
function judgeRelease(manifestPath: string): string[] {
  return [
    '--release',
    manifestPath,
    '--policy',
    join(fx.root, 'policy.yaml'),
    '--profile',
    'policy',
    '--store',
    join(fx.root, '.vouch'),
  ];
}

function manifest(artifacts: string): string {
  return `apiVersion: vouch.dev/release/v1\nkind: Release\nname: app\nversion: "2.0.0"\nartifacts:\n${artifacts}`;
}

describe('vouch comply for a release', { concurrency: false }, () => {
  const cleanups: Array<() => Promise<void>> = [];
  before(async () => {
    const root = await tempDir({ after: (fn) => cleanups.push(fn) });
    const env = isolatedEnv(root);
    await generateKey(root, env, 'ci');
    const ok = async (args: string[]) => {
      const r = await vouch(args, { cwd: root, env });
      assert.equal(r.code, 0, `vouch ${args.join(' ')}\n${show(r)}`);
      return r;
    };
    await writeFile(join(root, 'src.txt'), 'hello, release\n');
    // One build step, two products: one provenance whose subjects are both.
    await ok([
      'run',
      '--key',
      'ci.key',
      '--products',
      'dist/*',
      '--',
      'sh',
      '-c',
      'mkdir -p dist && tr a-z A-Z < src.txt > dist/app.bin && rev src.txt > dist/lib.bin',
    ]);
    await writeFile(
      join(root, 'tests.json'),
      JSON.stringify({ result: 'PASSED', passedTests: ['unit'], failedTests: [] }),
    );
    // Only app.bin has a test result.
    await ok(attestTestResultArgs('dist/app.bin'));
    await writeFile(join(root, 'policy.yaml'), POLICY);
    fx = {
      root,
      env,
      app: await sha256File(join(root, 'dist', 'app.bin')),
      lib: await sha256File(join(root, 'dist', 'lib.bin')),
    };
  });
  after(async () => {
    for (const fn of cleanups) await fn();
  });

  test('two artifacts: a task one lacks is not satisfied for the release, naming it; the rest is satisfied; exit 1', async () => {
    const r = await comply([...BOTH, '--format', 'json']);
    assert.equal(r.code, 1, show(r));
    const rep = jsonOf(r);
    assert.ok(valid(rep), JSON.stringify(validateRelease.errors));
    assert.equal(rep.reportVersion, 'vouch.dev/release-compliance-report/v1');
    assert.deepEqual(rep.release, {});
    assert.equal(rep.ok, false);
    assert.deepEqual(
      rep.artifacts.map((a: J) => [a.subject.digest, a.subject.name]),
      [
        [`sha256:${fx.app}`, 'dist/app.bin'],
        [`sha256:${fx.lib}`, 'dist/lib.bin'],
      ],
    );
    // Provenance is about both products: PS.2.1 holds for the release.
    const ps21 = task(rep, 'PS.2.1');
    assert.equal(ps21.status, 'satisfied');
    assert.deepEqual(
      ps21.artifacts.map((a: J) => a.status),
      ['satisfied', 'satisfied'],
    );
    assert.deepEqual(ps21.lacking, []);
    // The tests are only about app.bin: PW.8.2 fails for the release, naming lib.bin.
    const pw82 = task(rep, 'PW.8.2');
    assert.equal(pw82.status, 'not-satisfied');
    assert.deepEqual(pw82.lacking, [
      { digest: `sha256:${fx.lib}`, name: 'dist/lib.bin', rules: ['tests'] },
    ]);
    assert.deepEqual(rep.summary, { satisfied: 1, notSatisfied: 1, notApplicable: 0, total: 2 });
    // The per-artifact matrices are the single-artifact reports.
    assert.equal(task(rep.artifacts[0], 'PW.8.2').status, 'satisfied');
    assert.equal(task(rep.artifacts[0], 'PW.8.2').evidence[0].signers[0].name, 'ci');
    assert.match(
      task(rep.artifacts[1], 'PW.8.2').missing[0].reasons.join('\n'),
      /no verified evidence of type https:\/\/in-toto\.io\/attestation\/test-result/,
    );
    // One evaluation time for the release.
    assert.ok(rep.artifacts.every((a: J) => a.evaluatedAt === rep.evaluatedAt));
    assert.match(r.stderr, /NOT COMPLIANT: release of 2 artifact\(s\): 1 of 2 applicable/);
    // The single-artifact report is unchanged for one argument.
    const one = jsonOf(
      await comply(['dist/app.bin', '--policy', 'policy.yaml', '--profile', 'policy', '--json']),
    );
    assert.equal(one.reportVersion, 'vouch.dev/compliance-report/v1');
    // Named as every verb names a file: relative to the working directory.
    assert.equal(one.subject.name, 'dist/app.bin');
    assert.equal(one.ok, true);
    // The policy is named as the user gave it: no machine path in the report.
    assert.equal(one.profile.source, 'policy.yaml');
    assert.ok(!JSON.stringify(one).includes(fx.root), 'an absolute path leaked into the report');
  });

  test('--release: a manifest with a path and a sha256 digest; given evidence for the second makes the release compliant, exit 0', async (t) => {
    const dir = await tempDir(t);
    await mkdir(join(dir, 'dist'));
    await copyFile(join(fx.root, 'dist', 'app.bin'), join(dir, 'dist', 'app.bin'));
    await writeFile(
      join(dir, 'release.yaml'),
      manifest(`  - path: dist/app.bin\n  - digest: sha256:${fx.lib}\n    name: lib\n`),
    );
    // The missing test result for lib.bin, signed by ci, given as a file.
    const attest = await vouch(
      [
        ...attestTestResultArgs('dist/lib.bin'),
        '--no-store',
        '--out',
        join(dir, 'lib-tests.sigstore.json'),
      ],
      { cwd: fx.root, env: fx.env },
    );
    assert.equal(attest.code, 0, show(attest));
    const base = [...judgeRelease(join(dir, 'release.yaml')), '--format', 'json'];
    const without = jsonOf(await comply(base, dir));
    assert.deepEqual(task(without, 'PW.8.2').lacking, [
      { digest: `sha256:${fx.lib}`, name: 'lib', rules: ['tests'] },
    ]);
    const r = await comply([...base, '--bundle', 'lib-tests.sigstore.json'], dir);
    assert.equal(r.code, 0, show(r));
    const rep = jsonOf(r);
    assert.ok(valid(rep), JSON.stringify(validateRelease.errors));
    assert.equal(rep.ok, true);
    assert.equal(rep.release.name, 'app');
    assert.equal(rep.release.version, '2.0.0');
    assert.equal(
      rep.release.manifest.digest,
      `sha256:${await sha256File(join(dir, 'release.yaml'))}`,
    );
    assert.deepEqual(
      rep.artifacts.map((a: J) => a.subject),
      [
        { digest: `sha256:${fx.app}`, name: 'dist/app.bin' },
        { digest: `sha256:${fx.lib}`, name: 'lib' },
      ],
    );
    assert.deepEqual(rep.summary, { satisfied: 2, notSatisfied: 0, notApplicable: 0, total: 2 });
    assert.match(r.stderr, /COMPLIANT: release of 2 artifact/);
  });

  test('a tampered artifact in a release: its evidence does not count, and the release says which', async (t) => {
    const dir = await tempDir(t);
    await mkdir(join(dir, 'dist'));
    await copyFile(join(fx.root, 'dist', 'lib.bin'), join(dir, 'dist', 'lib.bin'));
    await writeFile(
      join(dir, 'dist', 'app.bin'),
      `${await readFile(join(fx.root, 'dist', 'app.bin'), 'utf8')}evil\n`,
    );
    await writeFile(
      join(dir, 'release.yaml'),
      manifest('  - path: dist/app.bin\n  - path: dist/lib.bin\n'),
    );
    const r = await comply([...judgeRelease('release.yaml'), '--json'], dir);
    assert.equal(r.code, 1, show(r));
    const rep = jsonOf(r);
    const tampered = `sha256:${await sha256File(join(dir, 'dist', 'app.bin'))}`;
    assert.notEqual(tampered, `sha256:${fx.app}`);
    assert.equal(rep.artifacts[0].subject.digest, tampered);
    // No bundle is about the tampered bytes: nothing holds for it.
    assert.equal(rep.artifacts[0].summary.satisfied, 0);
    assert.ok(rep.artifacts[0].tasks.every((x: J) => x.evidence.length === 0));
    const ps21 = task(rep, 'PS.2.1');
    assert.equal(ps21.status, 'not-satisfied');
    assert.deepEqual(ps21.lacking, [
      { digest: tampered, name: 'dist/app.bin', rules: ['provenance'] },
    ]);
    // PW.8.2 lacks both now: the tampered app.bin and the untested lib.bin.
    assert.deepEqual(
      task(rep, 'PW.8.2').lacking.map((l: J) => l.name),
      ['dist/app.bin', 'dist/lib.bin'],
    );
    // lib.bin's provenance still counts for lib.bin.
    assert.equal(task(rep.artifacts[1], 'PS.2.1').status, 'satisfied');
  });

  test('not applicable for the release only when not applicable to every artifact', async (t) => {
    const dir = await tempDir(t);
    await mkdir(join(dir, 'dist'));
    for (const f of ['app.bin', 'lib.bin'])
      await copyFile(join(fx.root, 'dist', f), join(dir, 'dist', f));
    const run = async (kinds: [string, string]) => {
      await writeFile(
        join(dir, 'release.yaml'),
        manifest(
          `  - path: dist/app.bin\n    kind: ${kinds[0]}\n  - path: dist/lib.bin\n    kind: ${kinds[1]}\n`,
        ),
      );
      const r = await comply(
        [
          '--release',
          'release.yaml',
          '--policy',
          join(fx.root, 'policy.yaml'),
          '--store',
          join(fx.root, '.vouch'),
          '--format',
          'json',
        ],
        dir,
      );
      assert.equal(r.code, 1, show(r));
      return jsonOf(r);
    };
    // The built-in profile: PW.6.1 and PW.6.2 are not applicable to source.
    const both = await run(['source', 'source']);
    assert.ok(valid(both), JSON.stringify(validateRelease.errors));
    assert.equal(task(both, 'PW.6.1').status, 'not-applicable');
    assert.match(task(both, 'PW.6.1').notApplicableReason, /^source: /);
    assert.equal(both.summary.notApplicable, 2);
    const mixed = await run(['source', 'binary']);
    const pw61 = task(mixed, 'PW.6.1');
    assert.equal(pw61.status, 'not-satisfied');
    assert.deepEqual(
      pw61.artifacts.map((a: J) => a.status),
      ['not-applicable', 'not-satisfied'],
    );
    assert.deepEqual(
      pw61.lacking.map((l: J) => l.name),
      ['dist/lib.bin'],
    );
    assert.equal(mixed.summary.notApplicable, 0);
    // PS.2.1: satisfied for both whatever their kind.
    assert.equal(task(mixed, 'PS.2.1').status, 'satisfied');
  });

  test('Markdown, HTML and OSCAL carry the release matrix and every artifact', async () => {
    const md = await comply(BOTH);
    assert.equal(md.code, 1, show(md));
    assert.match(md.stdout, /^# NIST SP 800-218 .*: release compliance report/);
    assert.match(md.stdout, /\| PS\.2\.1 \| ✅ satisfied \| ✅ \| ✅ \| {2}\|/);
    assert.match(
      md.stdout,
      /\| PW\.8\.2 \| ❌ not satisfied \| ✅ \| ❌ \| dist\/lib\.bin lacks tests \|/,
    );
    assert.match(md.stdout, /^## Artifact 1: dist\/app\.bin$/m);
    assert.match(md.stdout, /^## Artifact 2: dist\/lib\.bin$/m);
    assert.match(md.stdout, /^#### PW\.8\.2: not satisfied$/m);

    const html = await comply([...BOTH, '--format', 'html', '-o', 'release.html']);
    assert.equal(html.code, 1, show(html));
    const page = await readFile(join(fx.root, 'release.html'), 'utf8');
    assert.match(page, /^<!DOCTYPE html>/);
    assert.ok(!/<script|<link|src=/i.test(page), 'self-contained, no scripts');
    assert.match(page, /<tr class="not-satisfied" id="PW.8.2">/);
    assert.match(page, /<li>dist\/lib\.bin lacks <b>tests<\/b><\/li>/);
    assert.match(page, /<tr class="satisfied" id="a1-PW.8.2">/);
    assert.match(page, /<tr class="not-satisfied" id="a2-PW.8.2">/);
    const ids = [...page.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]);
    assert.equal(new Set(ids).size, ids.length, 'element ids are unique');
    for (const href of page.matchAll(/href="#([^"]+)"/g))
      assert.ok(ids.includes(href[1]), `#${href[1]} resolves`);

    const o = await comply([...BOTH, '--format', 'oscal', '-o', 'release-ar.json', '--json']);
    assert.equal(o.code, 1, show(o));
    assert.equal(jsonOf(o).written, 'release-ar.json');
    const ar = JSON.parse(await readFile(join(fx.root, 'release-ar.json'), 'utf8'))[
      'assessment-results'
    ];
    const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    assert.match(ar.uuid, UUID);
    assert.equal(ar.metadata['oscal-version'], '1.1.2');
    assert.deepEqual(
      ar.metadata.props.filter((p: J) => p.name === 'subject-digest').map((p: J) => p.value),
      [`sha256:${fx.app}`, `sha256:${fx.lib}`],
    );
    const resources = new Map<string, J>(ar['back-matter'].resources.map((x: J) => [x.uuid, x]));
    assert.ok(resources.has(ar['import-ap'].href.slice(1)), 'import-ap points at a resource');
    assert.equal(ar.results.length, 1);
    const result = ar.results[0];
    for (const f of ['uuid', 'title', 'description', 'start', 'reviewed-controls'])
      assert.ok(result[f] !== undefined, `result.${f}`);
    const items = new Map<string, J>(
      result['local-definitions']['inventory-items'].map((i: J) => [i.uuid, i]),
    );
    assert.equal(items.size, 2);
    for (const i of items.values()) assert.ok(i.description, 'inventory-item description');
    const observations = new Map<string, J>(result.observations.map((x: J) => [x.uuid, x]));
    assert.equal(observations.size, 4, 'one per task and artifact');
    for (const x of observations.values()) {
      assert.match(x.uuid, UUID);
      assert.ok(x.description && x.methods.length > 0 && x.collected, 'observation fields');
      assert.equal(x.subjects.length, 1);
      assert.equal(x.subjects[0].type, 'inventory-item');
      assert.ok(items.has(x.subjects[0]['subject-uuid']), 'subject is an inventory item');
      for (const ev of x['relevant-evidence'] ?? [])
        assert.ok(resources.has(ev.href.slice(1)), `evidence ${ev.href} resolves`);
    }
    assert.equal(result.findings.length, 2, 'one finding per task');
    const byTask = new Map<string, J>(result.findings.map((f: J) => [f.target['target-id'], f]));
    const pw82 = byTask.get('PW.8.2');
    assert.equal(pw82.target.type, 'objective-id');
    assert.deepEqual(
      { state: pw82.target.status.state, reason: pw82.target.status.reason },
      { state: 'not-satisfied', reason: 'fail' },
    );
    assert.match(pw82.target.status.remarks, /dist\/lib\.bin lacks tests/);
    const related = pw82['related-observations'].map((x: J) =>
      observations.get(x['observation-uuid']),
    );
    assert.equal(related.length, 2);
    const libItem = [...items.values()].find((i) =>
      i.props.some((p: J) => p.value === `sha256:${fx.lib}`),
    );
    const libObs = related.find((x: J) => x.subjects[0]['subject-uuid'] === libItem.uuid);
    assert.deepEqual(libObs.types, ['finding']);
    assert.match(libObs.description, /no verified evidence of type/);
    assert.equal(byTask.get('PS.2.1').target.status.state, 'satisfied');
    // The provenance bundle is one resource, about both artifacts.
    const bundleResources = [...resources.values()].filter((x) => x.rlinks[0]['media-type']);
    assert.equal(bundleResources.length, 2, 'provenance and the test result');
  });

  test('--attest signs one Statement whose subjects are every artifact; vouch verify accepts it for each', async () => {
    const r = await comply([
      ...BOTH,
      '--json',
      '--attest',
      '--key',
      'ci.key',
      '--out',
      'release-report.sigstore.json',
    ]);
    assert.equal(r.code, 1, show(r));
    assert.equal(jsonOf(r).attestation.out, 'release-report.sigstore.json');
    const bundle = JSON.parse(
      await readFile(join(fx.root, 'release-report.sigstore.json'), 'utf8'),
    );
    const st = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
    assert.equal(st.predicateType, 'https://vouch.dev/attestation/ssdf-release-report/v1');
    assert.deepEqual(st.subject.map((s: J) => s.digest.sha256).sort(), [fx.app, fx.lib].sort());
    assert.ok(valid(st.predicate), JSON.stringify(validateRelease.errors));
    assert.equal(st.predicate.ok, false);
    for (const f of ['dist/app.bin', 'dist/lib.bin']) {
      const v = await vouch(
        [
          'verify',
          f,
          '--key',
          'ci.pub',
          '--no-store',
          '--bundle',
          'release-report.sigstore.json',
          '--type',
          'https://vouch.dev/attestation/ssdf-release-report/v1',
        ],
        { cwd: fx.root, env: fx.env },
      );
      assert.equal(v.code, 0, `${f}: ${show(v)}`);
    }
  });

  test('bad release input is exit 2, naming the file and the field', async (t) => {
    const dir = await tempDir(t);
    await mkdir(join(dir, 'rel', 'dist'), { recursive: true });
    await copyFile(join(fx.root, 'dist', 'app.bin'), join(dir, 'rel', 'dist', 'app.bin'));
    await copyFile(join(fx.root, 'dist', 'lib.bin'), join(dir, 'outside.bin'));
    await symlink(join(dir, 'outside.bin'), join(dir, 'rel', 'dist', 'sneaky.bin'));
    const policy = join(fx.root, 'policy.yaml');
    const bad = async (
      text: string | null,
      expect: { code: string; field?: string; message: RegExp },
      extra: string[] = [],
    ) => {
      if (text !== null) await writeFile(join(dir, 'rel', 'release.yaml'), text);
      const r = await comply(['--release', 'rel/release.yaml', '--policy', policy, ...extra], dir);
      assert.equal(r.code, 2, `${expect.code}: ${show(r)}`);
      assert.match(r.stderr, new RegExp(`error ${expect.code}`), show(r));
      assert.match(r.stderr, /rel\/release\.yaml/);
      if (expect.field) assert.ok(r.stderr.includes(expect.field), `${expect.field}: ${r.stderr}`);
      assert.match(r.stderr, expect.message);
      assert.equal(r.stdout, '');
    };
    await bad(null, { code: 'FILE_NOT_FOUND', message: /no such file/ });
    await bad('apiVersion: vouch.dev/release/v1\nartifacts: [\n', {
      code: 'RELEASE_MALFORMED',
      message: /YAML/,
    });
    await bad(`${manifest('  - path: dist/app.bin\n')}signedBy: me\n`, {
      code: 'RELEASE_MALFORMED',
      field: '/signedBy',
      message: /unknown field "signedBy" \(line 7\)/,
    });
    await bad(manifest('  - path: dist/app.bin\n    sha256: x\n'), {
      code: 'RELEASE_MALFORMED',
      field: '/artifacts/0/sha256',
      message: /unknown field/,
    });
    await bad(manifest('  - path: ../outside.bin\n'), {
      code: 'PATH_ESCAPE',
      field: '/artifacts/0/path',
      message: /outside the manifest's directory/,
    });
    await bad(manifest('  - path: dist/sneaky.bin\n'), {
      code: 'PATH_ESCAPE',
      field: '/artifacts/0/path',
      message: /symbolic link/,
    });
    await bad(manifest(`  - path: ${join(dir, 'outside.bin')}\n`), {
      code: 'RELEASE_MALFORMED',
      field: '/artifacts/0/path',
      message: /not absolute/,
    });
    await bad(manifest('  - path: dist/missing.bin\n'), {
      code: 'FILE_NOT_FOUND',
      field: '/artifacts/0/path',
      message: /no such file dist\/missing\.bin/,
    });
    await bad(manifest('  - path: dist/app.bin\n    kind: firmware\n'), {
      code: 'RELEASE_MALFORMED',
      field: '/artifacts/0/kind',
      message: /kind must be one of binary, image, source/,
    });
    await bad(manifest(`  - path: dist/app.bin\n  - digest: sha256:${fx.app}\n`), {
      code: 'RELEASE_MALFORMED',
      field: '/artifacts/1/digest',
      message: /has the digest .* of \/artifacts\/0\/path/,
    });
    // --release with artifact arguments; the same artifact twice on the command line.
    await writeFile(join(dir, 'rel', 'release.yaml'), manifest('  - path: dist/app.bin\n'));
    const both = await comply(
      ['--release', 'rel/release.yaml', 'rel/dist/app.bin', '--policy', policy],
      dir,
    );
    assert.equal(both.code, 2, show(both));
    assert.match(both.stderr, /USAGE.*no artifact arguments/);
    const twice = await comply(['rel/dist/app.bin', `sha256:${fx.app}`, '--policy', policy], dir);
    assert.equal(twice.code, 2, show(twice));
    assert.match(twice.stderr, /USAGE.*judged once/);
    // --json: the error is JSON on stdout too.
    await writeFile(
      join(dir, 'rel', 'release.yaml'),
      manifest('  - path: dist/app.bin\n    kind: firmware\n'),
    );
    const json = await comply(['--release', 'rel/release.yaml', '--policy', policy, '--json'], dir);
    assert.equal(json.code, 2);
    const { error } = jsonOf(json);
    assert.equal(error.code, 'RELEASE_MALFORMED');
    assert.equal(error.file, 'rel/release.yaml');
    assert.equal(error.field, '/artifacts/0/kind');
  });
});
