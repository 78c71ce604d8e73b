// Layout verification against real in-toto vectors:
// - in-toto-golang test data (../shared/vectors/intoto/in-toto-golang, Apache-2.0):
//   demo.layout (Metablock), demo.dsse.layout and dsse-only.root.layout (DSSE),
//   all PASS with alice.pub and the links beside them (in-toto-golang's
//   TestInTotoVerifyPass); super.layout (unsigned, expired 2021) with
//   sub_layout.70ca5750.link, arranged as TestVerifySublayouts does.
// - in-toto (Python) demo_files (../shared/vectors/intoto/in-toto-python,
//   Apache-2.0): demo.layout.template is unsigned; its tests sign it with alice.
// Each test works on a writable temp copy, since inspections write files.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { SHARED } from '../../../test/shared.ts';
import { loadIntotoPublicKey, loadIntotoSigningKey, securesystemslibKeyid } from './keys.ts';
import { metablockJson, signMetablock } from './link.ts';
import { type InspectionMode, type IntotoVerdict, verifyIntotoLayout } from './verify.ts';

const VECTORS = `${SHARED}/vectors/intoto`;
const GOLANG = join(VECTORS, 'in-toto-golang');
const PYTHON = join(VECTORS, 'in-toto-python', 'demo_files');
const NOW = new Date('2026-01-01T00:00:00Z');

const temps: string[] = [];
after(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

function copyOf(dir: string): string {
  const t = mkdtempSync(join(tmpdir(), 'vouch-intoto-'));
  temps.push(t);
  cpSync(dir, t, { recursive: true });
  return t;
}

const pub = (dir: string, name: string) =>
  loadIntotoPublicKey(readFileSync(join(dir, name), 'utf8'), name);
const priv = (dir: string, name: string) =>
  loadIntotoSigningKey(readFileSync(join(dir, name), 'utf8'), name);

async function verify(
  dir: string,
  layout: string,
  options: { keys?: string[]; at?: Date; inspections?: InspectionMode; linkDir?: string } = {},
): Promise<IntotoVerdict> {
  return verifyIntotoLayout({
    layoutPath: join(dir, layout),
    layoutKeys: (options.keys ?? ['alice.pub']).map((k) => pub(dir, k)),
    linkDir: options.linkDir ?? dir,
    at: options.at ?? NOW,
    inspections: options.inspections ?? { mode: 'run', workdir: dir },
  });
}

function failures(v: IntotoVerdict): string[] {
  return v.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
}

describe('securesystemslib key ids', () => {
  test('PEM public keys get the ids in-toto-golang and in-toto (Python) give them', () => {
    assert.equal(pub(GOLANG, 'alice.pub').keyid.slice(0, 8), '70ca5750');
    assert.equal(pub(GOLANG, 'dan.pub').keyid.slice(0, 8), 'b7d643de');
    assert.equal(pub(PYTHON, 'bob.pub').keyid.slice(0, 8), '776a00e2');
    assert.equal(pub(PYTHON, 'carl.pub').keyid.slice(0, 8), '2f89b927');
    assert.equal(pub(PYTHON, 'alice.pub').keyid.slice(0, 8), '556caebd');
  });

  test('the id is recomputed from the key dict the layout carries', () => {
    const layout = JSON.parse(readFileSync(join(GOLANG, 'demo.layout'), 'utf8'));
    for (const [keyid, dict] of Object.entries(layout.signed.keys)) {
      assert.equal(securesystemslibKeyid(dict as never), keyid);
    }
  });

  test('a private key signs under the same id as its public half', () => {
    assert.equal(priv(GOLANG, 'alice').keyid, pub(GOLANG, 'alice.pub').keyid);
  });
});

describe('in-toto-golang vectors', () => {
  test('demo.layout (Metablock) passes with its links, running the untar inspection', async () => {
    const dir = copyOf(GOLANG);
    const v = await verify(dir, 'demo.layout');
    assert.deepEqual(failures(v), []);
    assert.equal(v.ok, true);
    assert.equal(v.envelope, 'metablock');
    assert.ok(v.checks.some((c) => c.name === 'inspection untar' && c.ok));
    assert.deepEqual(Object.keys(v.summary?.products ?? {}), ['foo.tar.gz']);
  });

  test('demo.dsse.layout and dsse-only.root.layout (DSSE) pass', async () => {
    const dir = copyOf(GOLANG);
    const dsse = await verify(dir, 'demo.dsse.layout');
    assert.deepEqual(failures(dsse), []);
    assert.equal(dsse.envelope, 'dsse');
    const only = await verify(dir, 'dsse-only.root.layout');
    assert.deepEqual(failures(only), []);
    assert.equal(only.ok, true);
  });

  test('without running inspections a layout that has them does not pass, and nothing runs', async () => {
    const dir = copyOf(GOLANG);
    const v = await verify(dir, 'demo.layout', { inspections: { mode: 'refuse' } });
    assert.equal(v.ok, false);
    assert.deepEqual(failures(v), [
      "inspections: not run: the layout's inspections (untar) run commands; pass --run-inspections to run them",
    ]);
    const skipped = await verify(dir, 'demo.layout', { inspections: { mode: 'insecure-skip' } });
    assert.equal(skipped.ok, true);
    assert.match(skipped.warnings.join('\n'), /inspections skipped \(insecure\): untar/);
  });

  test('the wrong owner key, a tampered link and a missing link each fail with their reason', async () => {
    const dir = copyOf(GOLANG);
    const wrongKey = await verify(dir, 'demo.layout', { keys: ['dan.pub'] });
    assert.equal(wrongKey.ok, false);
    assert.match(
      failures(wrongKey).join('\n'),
      /layout signature: no valid metablock signature by b7d643de/,
    );
    assert.match(
      failures(wrongKey).join('\n'),
      /inspections: not run \(untar\): earlier checks failed/,
    );

    const file = join(dir, 'package.d3ffd108.link');
    const link = JSON.parse(readFileSync(file, 'utf8'));
    link.signed.products['foo.tar.gz'].sha256 = '0'.repeat(64);
    writeFileSync(file, JSON.stringify(link));
    rmSync(join(dir, 'write-code.b7d643de.link'));
    const v = await verify(dir, 'demo.layout');
    assert.equal(v.ok, false);
    const why = failures(v).join('\n');
    assert.match(why, /step write-code: threshold: 0 of 1/);
    assert.match(
      why,
      /step package: threshold: 0 of 1 .*package\.d3ffd108\.link: no valid signature/,
    );
    assert.match(why, /inspections: not run/);
  });

  test('super.layout: unsigned and expired fails with both reasons', async () => {
    const dir = copyOf(GOLANG);
    const v = await verify(dir, 'super.layout');
    const why = failures(v).join('\n');
    assert.match(why, /layout signature: no valid metablock signature/);
    assert.match(why, /layout expiry: expired 2021-03-06T11:54:25Z/);
  });

  test('super.layout signed by alice: the sublayout verifies from sub_layout.70ca5750/ at a time before expiry', async () => {
    const dir = copyOf(GOLANG);
    const layout = JSON.parse(readFileSync(join(dir, 'super.layout'), 'utf8'));
    writeFileSync(
      join(dir, 'super.signed.layout'),
      metablockJson(await signMetablock(layout.signed, priv(dir, 'alice'))),
    );
    const sub = join(dir, 'sub_layout.70ca5750');
    mkdirSync(sub);
    for (const f of ['write-code.b7d643de.link', 'package.d3ffd108.link']) {
      cpSync(join(dir, f), join(sub, f));
    }
    const before = new Date('2021-01-01T00:00:00Z');
    const v = await verify(dir, 'super.signed.layout', { at: before });
    assert.deepEqual(failures(v), []);
    assert.ok(v.checks.some((c) => c.name === 'sublayout sub_layout.70ca5750: inspection untar'));

    const expired = await verify(dir, 'super.signed.layout');
    assert.deepEqual(failures(expired), [
      'layout expiry: expired 2021-03-06T11:54:25Z (verification time 2026-01-01T00:00:00.000Z)',
      'sublayout sub_layout.70ca5750: inspections: not run (untar): earlier checks failed',
      'step sub_layout: threshold: 0 of 1 required link(s) validly signed by distinct authorized functionaries (sub_layout.70ca5750.link: sublayout failed verification)',
    ]);

    rmSync(join(sub, 'package.d3ffd108.link'));
    const missing = await verify(dir, 'super.signed.layout', { at: before });
    const why = failures(missing).join('\n');
    assert.match(why, /sublayout sub_layout\.70ca5750: step package: threshold: 0 of 1/);
    assert.match(why, /step sub_layout: threshold: 0 of 1 .*sublayout failed verification/);
  });
});

describe('in-toto (Python) demo_files', () => {
  /** The demo layout signed by alice as the Python tests do, its inspection run with tar directly. */
  async function signedDemo(
    dir: string,
    edit: (signed: Record<string, unknown>) => void = () => {},
  ) {
    const template = JSON.parse(readFileSync(join(dir, 'demo.layout.template'), 'utf8'));
    const signed = template.signed;
    signed.expires = '2030-01-01T00:00:00Z';
    // The template runs `python ./scripts/tar`, a script of the Python test suite.
    signed.inspect[0].run = ['tar', 'xfz', 'foo.tar.gz'];
    edit(signed);
    writeFileSync(
      join(dir, 'root.layout'),
      metablockJson(await signMetablock(signed, priv(dir, 'alice'))),
    );
  }

  test('passes with the links made by in-toto-run', async () => {
    const dir = copyOf(PYTHON);
    await signedDemo(dir);
    const v = await verify(dir, 'root.layout');
    assert.deepEqual(failures(v), []);
  });

  test('threshold 2 is not met by one functionary, nor by one key listed under two ids', async () => {
    const dir = copyOf(PYTHON);
    await signedDemo(dir, (signed) => {
      const steps = signed.steps as Array<Record<string, unknown>>;
      (steps[0] as Record<string, unknown>).threshold = 2;
    });
    const v = await verify(dir, 'root.layout');
    assert.match(failures(v).join('\n'), /step write-code: threshold: 1 of 2/);

    // Bob's key again under a second id, with his link copied to that id's file name.
    const alias = 'f'.repeat(64);
    await signedDemo(dir, (signed) => {
      const keys = signed.keys as Record<string, Record<string, unknown>>;
      const bob = Object.values(keys).find((k) => String(k.keyid).startsWith('776a00e2'));
      keys[alias] = { ...bob, keyid: alias };
      const step = (signed.steps as Array<Record<string, unknown>>)[0] as Record<string, unknown>;
      step.threshold = 2;
      step.pubkeys = [...(step.pubkeys as string[]), alias];
    });
    cpSync(
      join(dir, 'write-code.776a00e2.link'),
      join(dir, `write-code.${alias.slice(0, 8)}.link`),
    );
    const twice = await verify(dir, 'root.layout');
    assert.match(
      failures(twice).join('\n'),
      /step write-code: threshold: 1 of 2 .*same public key as another link, counted once/,
    );
  });

  test('a changed artifact rule is reported with the artifact it matched', async () => {
    const dir = copyOf(PYTHON);
    await signedDemo(dir, (signed) => {
      const steps = signed.steps as Array<Record<string, unknown>>;
      (steps[1] as Record<string, unknown>).expected_products = [['DISALLOW', 'foo.tar.gz']];
    });
    const v = await verify(dir, 'root.layout');
    assert.deepEqual(
      failures(v).filter((f) => f.startsWith('step')),
      [
        "step package: expected_products: package expected_products: 'DISALLOW foo.tar.gz' matched foo.tar.gz",
      ],
    );
  });
});
