// Live TPM 2.0: a real software TPM (swtpm) started by this test, driven with
// tpm2-tools (createek, createak, quote, checkquote), then vouch tee verify and
// the `vouch run --tee tpm` round trip. Recipe: shared/design/SERVICES.md.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { isolatedEnv, jsonOf, REPO_ROOT, show, tempDir, vouch } from './helpers.ts';

// ajv-formats is CommonJS; under Node's ESM loader its default export is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020;

async function freePortPair(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
      s.on('error', reject);
    });
    const next = await new Promise<boolean>((resolve) => {
      const s = createServer().listen(port + 1, '127.0.0.1', () => s.close(() => resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (next && port < 65534) return port;
  }
  throw new Error('no free port pair');
}

/** Starts swtpm in `dir`; returns the TCTI string. Stopped by PID after the test. */
async function startSwtpm(
  t: { after: (fn: () => Promise<void>) => void },
  dir: string,
): Promise<string> {
  const port = await freePortPair();
  execFileSync('mkdir', ['-p', join(dir, 'tpmstate')]);
  execFileSync('swtpm', [
    'socket',
    '--tpmstate',
    `dir=${join(dir, 'tpmstate')}`,
    '--tpm2',
    '--server',
    `type=tcp,port=${port}`,
    '--ctrl',
    `type=tcp,port=${port + 1}`,
    '--flags',
    'not-need-init,startup-clear',
    '--daemon',
    '--pid',
    `file=${join(dir, 'swtpm.pid')}`,
  ]);
  // Read the PID now: the temp dir (and the pid file) may be removed before this hook runs.
  const pid = Number((await readFile(join(dir, 'swtpm.pid'), 'utf8')).trim());
  t.after(async () => {
    try {
      process.kill(pid);
    } catch {}
  });
  return `swtpm:host=127.0.0.1,port=${port}`;
}

function tpm(tcti: string, cwd: string, ...args: string[]): string {
  const env = { ...process.env, TPM2TOOLS_TCTI: tcti };
  const out = execFileSync(args[0] as string, args.slice(1), { cwd, env, encoding: 'utf8' });
  // No resource manager: flush transient objects and sessions between commands.
  execFileSync('tpm2_flushcontext', ['-t'], { cwd, env });
  execFileSync('tpm2_flushcontext', ['-s'], { cwd, env });
  return out;
}

/** An AK (ECDSA P-256, SHA-256) under the EK in ek.ctx: its context in `ctx`, its public key as PEM in `pem`. */
function createAk(tcti: string, dir: string, ctx: string, pem: string): void {
  tpm(
    tcti,
    dir,
    'tpm2_createak',
    '-C',
    'ek.ctx',
    '-c',
    ctx,
    '-G',
    'ecc',
    '-g',
    'sha256',
    '-s',
    'ecdsa',
    '-u',
    pem,
    '-f',
    'pem',
  );
}

/** An EK and an AK (ECDSA P-256) made persistent at 0x81010002; ak.pem is its public key. */
function provisionAk(tcti: string, dir: string): void {
  tpm(tcti, dir, 'tpm2_createek', '-c', 'ek.ctx', '-G', 'rsa', '-u', 'ek.pub');
  createAk(tcti, dir, 'ak.ctx', 'ak.pem');
  tpm(tcti, dir, 'tpm2_evictcontrol', '-C', 'o', '-c', 'ak.ctx', '0x81010002');
}

test('swtpm: a real quote verifies; wrong nonce, changed PCR, flipped byte and a foreign AK fail; tpm2_checkquote agrees', async (t) => {
  const dir = await tempDir(t);
  const tcti = await startSwtpm(t, dir);
  provisionAk(tcti, dir);
  // Make PCR 16 non-zero so a changed value is a real difference.
  tpm(tcti, dir, 'tpm2_pcrextend', `16:sha256=${'ab'.repeat(32)}`);
  const nonce = 'c0ffee0123456789';
  const out = tpm(
    tcti,
    dir,
    'tpm2_quote',
    '-c',
    '0x81010002',
    '-l',
    'sha256:0,1,2,16',
    '-q',
    nonce,
    '-m',
    'quote.msg',
    '-s',
    'quote.sig',
    '-o',
    'quote.pcrs',
    '-g',
    'sha256',
  );
  await writeFile(join(dir, 'pcrs.yaml'), out.slice(out.indexOf('pcrs:')));
  // The reference tool accepts it.
  tpm(
    tcti,
    dir,
    'tpm2_checkquote',
    '-u',
    'ak.pem',
    '-m',
    'quote.msg',
    '-s',
    'quote.sig',
    '-f',
    'quote.pcrs',
    '-g',
    'sha256',
    '-q',
    nonce,
  );

  const base = [
    'tee',
    'verify',
    'quote.msg',
    '--signature',
    'quote.sig',
    '--pcrs',
    'pcrs.yaml',
    '--ak',
    'ak.pem',
  ];
  const ok = await vouch([...base, '--expect-nonce', nonce, '--json'], { cwd: dir });
  assert.equal(ok.code, 0, show(ok));
  const j = jsonOf(ok);
  assert.equal(j.platform, 'tpm');
  assert.equal(j.claims.nonce, nonce);
  assert.equal(j.claims.pcrs.sha256['16'].length, 64);
  assert.notEqual(j.claims.pcrs.sha256['16'], '00'.repeat(32));

  const wrongNonce = await vouch([...base, '--expect-nonce', 'c0ffee0123456788', '--json'], {
    cwd: dir,
  });
  assert.equal(wrongNonce.code, 1, show(wrongNonce));
  assert.deepEqual(
    jsonOf(wrongNonce)
      .checks.filter((c: { ok: boolean }) => !c.ok)
      .map((c: { name: string }) => c.name),
    ['nonce'],
  );

  await writeFile(
    join(dir, 'pcrs-changed.yaml'),
    (await readFile(join(dir, 'pcrs.yaml'), 'utf8')).replace(
      /16\s*:\s*0x[0-9A-Fa-f]/,
      (m) => `${m.slice(0, -1)}${m.endsWith('0') ? '1' : '0'}`,
    ),
  );
  const changed = await vouch(
    [...base.slice(0, 6), 'pcrs-changed.yaml', '--ak', 'ak.pem', '--json'],
    { cwd: dir },
  );
  assert.equal(changed.code, 1, show(changed));
  assert.match(
    jsonOf(changed).checks.find((c: { name: string }) => c.name === 'pcr-digest').detail,
    /the quote says/,
  );

  const msg = readFileSync(join(dir, 'quote.msg'));
  const flipped = Buffer.from(msg);
  // A bit of clockInfo.clock: after magic, type, qualifiedSigner and extraData; still parseable.
  const clockAt = 6 + 2 + msg.readUInt16BE(6) + 2 + msg.readUInt16BE(8 + msg.readUInt16BE(6));
  flipped[clockAt + 7] = (flipped[clockAt + 7] as number) ^ 0x01;
  await writeFile(join(dir, 'flipped.msg'), flipped);
  const f = await vouch(['tee', 'verify', 'flipped.msg', ...base.slice(3), '--json'], { cwd: dir });
  assert.equal(f.code, 1, show(f));
  assert.equal(jsonOf(f).checks.find((c: { name: string }) => c.name === 'signature').ok, false);

  createAk(tcti, dir, 'other.ctx', 'other.pem');
  const foreign = await vouch([...base.slice(0, 7), '--ak', 'other.pem', '--json'], { cwd: dir });
  assert.equal(foreign.code, 1, show(foreign));
  assert.equal(
    jsonOf(foreign).checks.find((c: { name: string }) => c.name === 'signature').ok,
    false,
  );
});

test('swtpm: vouch run --tee tpm binds a quote to the provenance; vouch verify + vouch tee verify pass; tampering is denied', async (t) => {
  const dir = await tempDir(t);
  const tcti = await startSwtpm(t, dir);
  provisionAk(tcti, dir);
  const env = isolatedEnv(dir, {
    TPM2TOOLS_TCTI: tcti,
    VOUCH_TPM_AK: '0x81010002',
    PATH: process.env.PATH,
  });
  await writeFile(join(dir, 'src.txt'), 'hello\n');
  const keys = await vouch(['keys', 'generate', '--no-passphrase', '--prefix', 'k'], {
    cwd: dir,
    env,
  });
  assert.equal(keys.code, 0, show(keys));
  const run = await vouch(
    [
      'run',
      '--key',
      'k.key',
      '--tee',
      'tpm',
      '--materials',
      'src.txt',
      '--out',
      'prov.sigstore.json',
      '--',
      'sh',
      '-c',
      'tr a-z A-Z < src.txt > out.txt',
    ],
    { cwd: dir, env },
  );
  assert.equal(run.code, 0, show(run));

  const sig = await vouch(['verify', 'out.txt', '--key', 'k.pub'], { cwd: dir, env });
  assert.equal(sig.code, 0, show(sig));
  const tee = await vouch(['tee', 'verify', 'prov.sigstore.json', '--ak', 'ak.pem', '--json'], {
    cwd: dir,
    env,
  });
  assert.equal(tee.code, 0, show(tee));
  const j = jsonOf(tee);
  assert.deepEqual(
    j.checks.map((c: { name: string }) => c.name),
    ['binding', 'ak', 'signature', 'pcr-digest', 'nonce'],
  );

  // The provenance as signed carries the byproduct; change a material digest and the binding breaks.
  const bundle = JSON.parse(await readFile(join(dir, 'prov.sigstore.json'), 'utf8'));
  const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
  const byproduct = statement.predicate.runDetails.byproducts.find(
    (b: { name: string }) => b.name === 'tee',
  );
  assert.equal(byproduct.uri, 'https://vouch.dev/attestors/tee/v1');
  assert.equal(byproduct.annotations.binding.value, j.claims.nonce);
  const dep = statement.predicate.buildDefinition.resolvedDependencies.find(
    (d: { uri: string }) => d.uri === 'file:src.txt',
  );
  assert.ok(dep, 'src.txt is a material');
  dep.digest.sha256 = '0'.repeat(64);
  await writeFile(join(dir, 'tampered.json'), JSON.stringify(statement));
  const tampered = await vouch(['tee', 'verify', 'tampered.json', '--ak', 'ak.pem', '--json'], {
    cwd: dir,
    env,
  });
  assert.equal(tampered.code, 1, show(tampered));
  const failed = jsonOf(tampered)
    .checks.filter((c: { ok: boolean }) => !c.ok)
    .map((c: { name: string }) => c.name);
  assert.deepEqual(failed, ['binding', 'nonce']);

  // A verifier signs its verdict as a TEE evidence Statement; a policy requires it (verified, not debug).
  const good = await vouch(
    ['tee', 'verify', 'prov.sigstore.json', '--ak', 'ak.pem', '--predicate-out', 'tee-ok.json'],
    { cwd: dir, env },
  );
  assert.equal(good.code, 0, show(good));
  const bad = await vouch(
    ['tee', 'verify', 'tampered.json', '--ak', 'ak.pem', '--predicate-out', 'tee-bad.json'],
    { cwd: dir, env },
  );
  assert.equal(bad.code, 1, show(bad));
  const schema = JSON.parse(await readFile(join(REPO_ROOT, 'schemas', 'tee-v1.json'), 'utf8'));
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  for (const f of ['tee-ok.json', 'tee-bad.json']) {
    const predicate = JSON.parse(await readFile(join(dir, f), 'utf8'));
    assert.ok(validate(predicate), `${f}: ${JSON.stringify(validate.errors)}`);
  }
  const okPredicate = JSON.parse(await readFile(join(dir, 'tee-ok.json'), 'utf8'));
  assert.equal(okPredicate.binding.value, j.claims.nonce);
  assert.equal(okPredicate.verification.ok, true);
  await vouch(['keys', 'generate', '--no-passphrase', '--prefix', 'verifier'], { cwd: dir, env });
  for (const [predicate, out] of [
    ['tee-ok.json', 'tee-ok.sigstore.json'],
    ['tee-bad.json', 'tee-bad.sigstore.json'],
  ]) {
    const a = await vouch(
      [
        'attest',
        'out.txt',
        '--predicate-type',
        'https://vouch.dev/attestation/tee/v1',
        '--predicate',
        predicate as string,
        '--key',
        'verifier.key',
        '--no-store',
        '--out',
        out as string,
      ],
      { cwd: dir, env },
    );
    assert.equal(a.code, 0, show(a));
  }
  await writeFile(
    join(dir, 'policy.yaml'),
    [
      'apiVersion: vouch.dev/policy/v1',
      'kind: Policy',
      'metadata: { name: tee-built }',
      'trust:',
      '  signers:',
      '    - { name: ci, key: k.pub }',
      '    - { name: tee-verifier, key: verifier.pub }',
      'require:',
      '  - { name: provenance, predicateType: slsaprovenance, signers: [ci] }',
      '  - name: built-in-tee',
      '    predicateType: https://vouch.dev/attestation/tee/v1',
      '    signers: [tee-verifier]',
      '    where: predicate.verification.ok && predicate.verification.claims.debug == false',
      '',
    ].join('\n'),
  );
  // The provenance with one TEE verdict bundle, judged by policy.yaml.
  const verifyWithTee = (teeBundle: string) =>
    vouch(
      [
        'verify',
        'out.txt',
        '--policy',
        'policy.yaml',
        '--no-store',
        '--bundle',
        'prov.sigstore.json',
        '--bundle',
        teeBundle,
      ],
      { cwd: dir, env },
    );
  const allow = await verifyWithTee('tee-ok.sigstore.json');
  assert.equal(allow.code, 0, show(allow));
  const deny = await verifyWithTee('tee-bad.sigstore.json');
  assert.equal(deny.code, 1, show(deny));
  assert.match(deny.stdout, /built-in-tee/);

  // Another AK is not trusted.
  createAk(tcti, dir, 'other.ctx', 'other.pem');
  const foreign = await vouch(['tee', 'verify', 'prov.sigstore.json', '--ak', 'other.pem'], {
    cwd: dir,
    env,
  });
  assert.equal(foreign.code, 1, show(foreign));

  // No TPM reachable: run --tee says so (exit 2) and nothing is faked.
  const none = await vouch(
    ['run', '--key', 'k.key', '--tee', 'tpm', '--no-store', '--', 'sh', '-c', 'echo x > o2.txt'],
    {
      cwd: dir,
      env: { ...env, TPM2TOOLS_TCTI: 'swtpm:host=127.0.0.1,port=1' },
    },
  );
  assert.equal(none.code, 2, show(none));
  assert.match(none.stderr, /TEE_UNAVAILABLE/);
});
