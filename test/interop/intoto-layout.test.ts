// Layout-level interop with the Python in-toto reference tools (Debian's
// `in-toto` 1.3.1, securesystemslib 0.26), both ways, through vouch's CLI:
// (a) keys from in-toto-keygen, a layout written with the in-toto Python API
//     and signed by the owner key, links from in-toto-run for two steps:
//     `vouch verify --intoto-layout` passes (exit 0) as in-toto-verify does,
//     and after tampering both exit 1;
// (b) links written by `vouch run --format in-toto-link` with RSA (PKCS#1 PEM),
//     Ed25519 and ECDSA keys from in-toto-keygen (the last two in
//     securesystemslib's JSON key format) are accepted by in-toto-verify, and a
//     tampered one is rejected.
// `.ci/run` installs the tools; without them every test skips with the reason.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, type TestContext, test } from 'node:test';
import { jsonOf, show as output, vouch } from '../cli/helpers.ts';

const PYTHON = '/usr/bin/python3';
const TOOLS = ['in-toto-keygen', 'in-toto-run', 'in-toto-verify'];

function missingTools(): string | undefined {
  for (const tool of TOOLS) {
    const r = spawnSync(tool, ['--version'], { encoding: 'utf8' });
    if (r.error || r.status !== 0) {
      return `${tool} not installed (apt-get install -y in-toto; .ci/run does this)`;
    }
  }
  const py = spawnSync(PYTHON, ['-c', 'import in_toto.models.layout'], { encoding: 'utf8' });
  if (py.error || py.status !== 0) return `${PYTHON} cannot import in_toto`;
  return undefined;
}

const SKIP = missingTools();

function skipWithoutTools(t: TestContext): boolean {
  if (SKIP) t.skip(SKIP);
  return SKIP !== undefined;
}

function run(cmd: string, args: readonly string[], cwd: string) {
  return spawnSync(cmd, args, { cwd, encoding: 'utf8' });
}

function ok(cmd: string, args: readonly string[], cwd: string): string {
  const r = run(cmd, args, cwd);
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/**
 * Writes root.layout with in-toto's own Python API from a JSON spec (argv[1]):
 * {owner, steps: [{name, key, type, command, materials, products}], inspect: [...]}.
 */
const PY_LAYOUT = `
import json, sys
from in_toto.models.layout import Layout, Step, Inspection
from in_toto.models.metadata import Metablock
from securesystemslib import interface
spec = json.load(open(sys.argv[1]))
importers = {'rsa': interface.import_rsa_publickey_from_file,
             'ed25519': interface.import_ed25519_publickey_from_file,
             'ecdsa': interface.import_ecdsa_publickey_from_file}
layout = Layout()
layout.set_relative_expiration(days=30)
for s in spec['steps']:
    key = importers[s['type']](s['key'] + '.pub')
    layout.add_functionary_key(key)
    step = Step(name=s['name'])
    step.pubkeys = [key['keyid']]
    step.expected_command = s['command']
    step.expected_materials = s['materials']
    step.expected_products = s['products']
    layout.steps.append(step)
for i in spec.get('inspect', []):
    inspection = Inspection(name=i['name'])
    inspection.run = i['run']
    inspection.expected_materials = i['materials']
    inspection.expected_products = i['products']
    layout.inspect.append(inspection)
metablock = Metablock(signed=layout)
metablock.sign(interface.import_rsa_privatekey_from_file(spec['owner']))
metablock.dump('root.layout')
`;

function writeLayout(dir: string, spec: object): void {
  writeFileSync(join(dir, 'layout-spec.json'), JSON.stringify(spec));
  ok(PYTHON, ['-c', PY_LAYOUT, 'layout-spec.json'], dir);
}

const temps: string[] = [];
after(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

function workDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'vouch-intoto-layout-'));
  temps.push(d);
  return d;
}

/** Changes the first hex digit of one recorded digest of a link file: its signature no longer holds. */
function tamperLink(file: string, kind: 'materials' | 'products', path: string): void {
  const link = JSON.parse(readFileSync(file, 'utf8'));
  const digest = link.signed[kind][path];
  assert.ok(digest, `${file} records ${kind} ${path}`);
  digest.sha256 = (digest.sha256[0] === '0' ? '1' : '0') + digest.sha256.slice(1);
  writeFileSync(file, JSON.stringify(link));
}

function linkFile(dir: string, step: string): string {
  const out = ok('sh', ['-c', `ls ${step}.*.link`], dir).trim();
  assert.ok(out && !out.includes('\n'), `one link for ${step}: ${out}`);
  return join(dir, out);
}

const VERIFY = (extra: string[] = []) => [
  'verify',
  '--intoto-layout',
  'root.layout',
  '--layout-key',
  'owner.pub',
  '--link-dir',
  '.',
  ...extra,
];

describe('in-toto 1.3.1 layout and links → vouch verify --intoto-layout', () => {
  let built: string | undefined;

  /** A fresh copy of the supply chain below, built once. */
  function pythonSupplyChain(): string {
    built ??= buildPythonSupplyChain();
    const dir = workDir();
    cpSync(built, dir, { recursive: true });
    return dir;
  }

  /** Two steps (RSA and Ed25519 functionaries) and an inspection, all made by the Python tools. */
  function buildPythonSupplyChain(): string {
    const dir = workDir();
    ok('in-toto-keygen', ['-b', '2048', 'owner'], dir);
    ok('in-toto-keygen', ['-b', '2048', 'alice'], dir);
    ok('in-toto-keygen', ['-t', 'ed25519', 'bob'], dir);
    writeFileSync(join(dir, 'src.txt'), 'print("hello")\n');
    writeLayout(dir, {
      owner: 'owner',
      steps: [
        {
          name: 'write-code',
          key: 'alice',
          type: 'rsa',
          command: ['cp', 'src.txt', 'foo.py'],
          materials: [],
          products: [
            ['CREATE', 'foo.py'],
            ['DISALLOW', '*'],
          ],
        },
        {
          name: 'package',
          key: 'bob',
          type: 'ed25519',
          command: ['tar', 'czf', 'foo.tar.gz', 'foo.py'],
          materials: [
            ['MATCH', 'foo.py', 'WITH', 'PRODUCTS', 'FROM', 'write-code'],
            ['DISALLOW', '*'],
          ],
          products: [
            ['CREATE', 'foo.tar.gz'],
            ['DISALLOW', '*'],
          ],
        },
      ],
      inspect: [
        {
          name: 'untar',
          run: ['tar', 'xzf', 'foo.tar.gz'],
          materials: [
            ['MATCH', 'foo.tar.gz', 'WITH', 'PRODUCTS', 'FROM', 'package'],
            ['DISALLOW', 'foo.tar.gz'],
            ['ALLOW', '*'],
          ],
          products: [
            ['MATCH', 'foo.py', 'WITH', 'PRODUCTS', 'FROM', 'write-code'],
            ['DISALLOW', 'foo.py'],
            ['ALLOW', '*'],
          ],
        },
      ],
    });
    ok(
      'in-toto-run',
      ['-n', 'write-code', '-k', 'alice', '-p', 'foo.py', '--', 'cp', 'src.txt', 'foo.py'],
      dir,
    );
    ok(
      'in-toto-run',
      [
        ...['-n', 'package', '-t', 'ed25519', '-k', 'bob', '-m', 'foo.py', '-p', 'foo.tar.gz'],
        ...['--', 'tar', 'czf', 'foo.tar.gz', 'foo.py'],
      ],
      dir,
    );
    return dir;
  }

  test('verifies (exit 0) as in-toto-verify does; --json lists every check', async (t) => {
    if (skipWithoutTools(t)) return;
    const dir = pythonSupplyChain();
    ok('in-toto-verify', ['-l', 'root.layout', '-k', 'owner.pub'], dir);
    const r = await vouch(VERIFY(['--run-inspections', '--json']), { cwd: dir });
    assert.equal(r.code, 0, output(r));
    const verdict = jsonOf(r);
    assert.equal(verdict.ok, true);
    assert.deepEqual(
      verdict.checks.map((c: { name: string }) => c.name),
      [
        'layout signature',
        'layout expiry',
        'step write-code: threshold',
        'step package: threshold',
        'step write-code: expected_materials',
        'step write-code: expected_products',
        'step package: expected_materials',
        'step package: expected_products',
        'inspection untar',
        'inspection untar: expected_materials',
        'inspection untar: expected_products',
      ],
    );
    // Without --run-inspections the layout cannot pass, and says why.
    const refused = await vouch(VERIFY(), { cwd: dir });
    assert.equal(refused.code, 1, output(refused));
    assert.match(refused.stdout, /pass --run-inspections/);
  });

  test('a replaced product fails in both (exit 1), with the rule that caught it', async (t) => {
    if (skipWithoutTools(t)) return;
    const dir = pythonSupplyChain();
    writeFileSync(join(dir, 'foo.py'), 'print("evil")\n');
    ok('tar', ['czf', 'foo.tar.gz', 'foo.py'], dir);
    const py = run('in-toto-verify', ['-l', 'root.layout', '-k', 'owner.pub'], dir);
    assert.equal(py.status, 1, `in-toto-verify should fail:\n${py.stderr}`);
    assert.match(py.stderr, /RuleVerificationError/);
    const r = await vouch(VERIFY(['--run-inspections']), { cwd: dir });
    assert.equal(r.code, 1, output(r));
    assert.match(
      r.stdout,
      /✗ inspection untar: expected_materials: .*'DISALLOW foo\.tar\.gz' matched foo\.tar\.gz/,
    );
    assert.match(
      r.stdout,
      /✗ inspection untar: expected_products: .*'DISALLOW foo\.py' matched foo\.py/,
    );
  });

  test('a tampered link digest fails in both (exit 1)', async (t) => {
    if (skipWithoutTools(t)) return;
    const dir = pythonSupplyChain();
    tamperLink(linkFile(dir, 'package'), 'products', 'foo.tar.gz');
    const py = run('in-toto-verify', ['-l', 'root.layout', '-k', 'owner.pub'], dir);
    assert.equal(py.status, 1, `in-toto-verify should fail:\n${py.stderr}`);
    const r = await vouch(VERIFY(['--run-inspections']), { cwd: dir });
    assert.equal(r.code, 1, output(r));
    assert.match(r.stdout, /✗ step package: threshold: 0 of 1 .*no valid signature/);
    assert.match(r.stdout, /✗ inspections: not run \(untar\): earlier checks failed/);
  });

  test('the wrong owner key is exit 1; an unreadable layout or key is exit 2', async (t) => {
    if (skipWithoutTools(t)) return;
    const dir = pythonSupplyChain();
    const wrong = await vouch(
      [
        'verify',
        '--intoto-layout',
        'root.layout',
        '--layout-key',
        'alice.pub',
        '--run-inspections',
      ],
      { cwd: dir },
    );
    assert.equal(wrong.code, 1, output(wrong));
    assert.match(wrong.stdout, /✗ layout signature/);
    writeFileSync(join(dir, 'broken.layout'), '{"signed": ');
    const broken = await vouch(
      ['verify', '--intoto-layout', 'broken.layout', '--layout-key', 'owner.pub'],
      { cwd: dir },
    );
    assert.equal(broken.code, 2, output(broken));
    const noKey = await vouch(['verify', '--intoto-layout', 'root.layout'], { cwd: dir });
    assert.equal(noKey.code, 2, output(noKey));
    const badAt = await vouch(VERIFY(['--at', 'yesterday']), { cwd: dir });
    assert.equal(badAt.code, 2, output(badAt));
  });

  test('--at after the layout expires fails with the expiry', async (t) => {
    if (skipWithoutTools(t)) return;
    const dir = pythonSupplyChain();
    const r = await vouch(VERIFY(['--run-inspections', '--at', '2099-01-01T00:00:00Z']), {
      cwd: dir,
    });
    assert.equal(r.code, 1, output(r));
    assert.match(r.stdout, /✗ layout expiry: expired .*verification time 2099-01-01/);
  });
});

describe('vouch run --format in-toto-link → in-toto-verify 1.3.1', () => {
  const KINDS = ['rsa', 'ed25519', 'ecdsa'] as const;

  test('links signed with RSA (PKCS#1 PEM), Ed25519 and ECDSA keys from in-toto-keygen verify; a tampered one does not', async (t) => {
    if (skipWithoutTools(t)) return;
    const dir = workDir();
    ok('in-toto-keygen', ['-b', '2048', 'owner'], dir);
    writeFileSync(join(dir, 'src.txt'), 'hello from the source\n');
    for (const kind of KINDS) {
      ok(
        'in-toto-keygen',
        [...(kind === 'rsa' ? ['-b', '2048'] : []), '-t', kind, `key-${kind}`],
        dir,
      );
    }
    assert.match(readFileSync(join(dir, 'key-rsa'), 'utf8'), /BEGIN RSA PRIVATE KEY/);
    writeLayout(dir, {
      owner: 'owner',
      steps: KINDS.map((kind) => ({
        name: `build-${kind}`,
        key: `key-${kind}`,
        type: kind,
        command: ['cp', 'src.txt', `out-${kind}.txt`],
        materials: [
          ['ALLOW', 'src.txt'],
          ['DISALLOW', '*'],
        ],
        products: [
          ['CREATE', `out-${kind}.txt`],
          ['DISALLOW', '*'],
        ],
      })),
    });
    const keyids: Record<string, string> = {};
    for (const kind of KINDS) {
      const r = await vouch(
        [
          ...[
            'run',
            '--format',
            'in-toto-link',
            '--step-name',
            `build-${kind}`,
            '--key',
            `key-${kind}`,
          ],
          ...['--materials', 'src.txt', '--products', `out-${kind}.txt`, '--json'],
          ...['--', 'cp', 'src.txt', `out-${kind}.txt`],
        ],
        { cwd: dir },
      );
      assert.equal(r.code, 0, output(r));
      const summary = jsonOf(r);
      keyids[kind] = summary.keyid;
      assert.equal(summary.link, `build-${kind}.${summary.keyid.slice(0, 8)}.link`);
    }
    // The key ids are the ones securesystemslib gives the same public keys.
    const layout = JSON.parse(readFileSync(join(dir, 'root.layout'), 'utf8'));
    assert.deepEqual(Object.keys(layout.signed.keys).sort(), Object.values(keyids).sort());

    ok('in-toto-verify', ['-l', 'root.layout', '-k', 'owner.pub'], dir);
    const mine = await vouch(VERIFY(), { cwd: dir });
    assert.equal(mine.code, 0, output(mine));

    for (const kind of KINDS) {
      const file = join(dir, `build-${kind}.${(keyids[kind] as string).slice(0, 8)}.link`);
      const good = readFileSync(file, 'utf8');
      tamperLink(file, 'products', `out-${kind}.txt`);
      const py = run('in-toto-verify', ['-l', 'root.layout', '-k', 'owner.pub'], dir);
      assert.notEqual(py.status, 0, `in-toto-verify should reject the tampered ${kind} link`);
      assert.match(py.stderr, new RegExp(`Step 'build-${kind}' requires at least '1' links`));
      const r = await vouch(VERIFY(), { cwd: dir });
      assert.equal(r.code, 1, output(r));
      writeFileSync(file, good);
    }
  });

  test('a failed step writes no link and exits with the command’s code', async (t) => {
    if (skipWithoutTools(t)) return;
    const dir = workDir();
    ok('in-toto-keygen', ['-t', 'ed25519', 'key'], dir);
    const r = await vouch(
      [
        'run',
        '--format',
        'in-toto-link',
        '--step-name',
        'fail',
        '--key',
        'key',
        '--',
        'sh',
        '-c',
        'exit 3',
      ],
      { cwd: dir },
    );
    assert.equal(r.code, 3, output(r));
    assert.equal(run('sh', ['-c', 'ls fail.*.link'], dir).status, 2);
    const noName = await vouch(['run', '--format', 'in-toto-link', '--key', 'key', '--', 'true'], {
      cwd: dir,
    });
    assert.equal(noName.code, 2, output(noName));
  });
});

describe('vouch verify --run-inspections --inspection-timeout', () => {
  /** A layout (written by in-toto's Python API) whose one inspection hangs in a child it starts. */
  function hangingLayout(): string {
    const dir = workDir();
    ok('in-toto-keygen', ['-b', '2048', 'owner'], dir);
    writeLayout(dir, {
      owner: 'owner',
      steps: [],
      inspect: [
        {
          name: 'hang',
          run: ['sh', '-c', 'sleep 60 & echo $! > child.pid; wait'],
          materials: [],
          products: [],
        },
      ],
    });
    return dir;
  }

  test('a hanging inspection fails (exit 1) at the timeout, naming it, and leaves no process', async (t) => {
    if (skipWithoutTools(t)) return;
    const dir = hangingLayout();
    const r = await vouch(VERIFY(['--run-inspections', '--inspection-timeout', '0.5', '--json']), {
      cwd: dir,
    });
    assert.equal(r.code, 1, output(r));
    const verdict = jsonOf(r);
    assert.equal(verdict.ok, false);
    const hang = verdict.checks.find((c: { name: string }) => c.name === 'inspection hang');
    assert.equal(hang?.ok, false, output(r));
    assert.match(
      hang.detail,
      /^timed out after 0\.5 s: \["sh","-c",.*every process it started were killed/,
    );
    const pid = Number(readFileSync(join(dir, 'child.pid'), 'utf8'));
    let gone = false;
    for (let i = 0; i < 50 && !gone; i++) {
      let state = '';
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      } catch {}
      gone = state === '' || state === 'Z';
      if (!gone) await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(gone, `the inspection's child ${pid} is still running`);
  });

  test('a bad --inspection-timeout, or one without --run-inspections, is a usage error (exit 2)', async (t) => {
    if (skipWithoutTools(t)) return;
    const dir = hangingLayout();
    for (const bad of ['0', '-1', 'ten', '1e3', '', '99999999']) {
      const r = await vouch(VERIFY(['--run-inspections', `--inspection-timeout=${bad}`]), {
        cwd: dir,
      });
      assert.equal(r.code, 2, `${bad}: ${output(r)}`);
      assert.match(r.stderr, /--inspection-timeout must be a number of seconds/);
    }
    const alone = await vouch(VERIFY(['--inspection-timeout', '5']), { cwd: dir });
    assert.equal(alone.code, 2, output(alone));
    assert.match(alone.stderr, /--inspection-timeout applies only with --run-inspections/);
    assert.throws(() => readFileSync(join(dir, 'child.pid')), 'nothing ran');
  });
});
