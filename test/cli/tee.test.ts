// vouch tee verify on the real Nitro and GCE vTPM vectors (MANIFEST.md: pinned
// times), tamper cases that must fail with a reason, and malformed input (exit 2).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeCbor, encodeCbor } from '../../src/tee/cbor.ts';
import { parseCoseSign1 } from '../../src/tee/cose.ts';
import { detectPlatform, TEE_BYPRODUCT_URI, TPM_EVIDENCE_FORMAT } from '../../src/tee/index.ts';
import { parseGceAttestation } from '../../src/tee/tpm/gce.ts';
import { parseQuote, parseSignature, publicKeyFromTpmt } from '../../src/tee/tpm/structures.ts';
import { jsonOf, show, tempDir, VECTORS, vouch } from './helpers.ts';

const NITRO = join(VECTORS, 'tee', 'nitro');
const TPM = join(VECTORS, 'tee', 'tpm');
const NITRO_AT = '2024-09-07T14:37:39.545Z';
const DEBUG_AT = '2024-09-07T14:38:06.508Z';
const SELF_AT = '2024-04-17T18:51:46Z';
const nitroDoc = () =>
  Buffer.from(readFileSync(join(NITRO, 'nitro_attestation.b64'), 'utf8').trim(), 'base64');
// biome-ignore lint/suspicious/noExplicitAny: tests read JSON of a shape they assert on
const check = (j: any, name: string) => j.checks.find((c: { name: string }) => c.name === name);

test('nitro: the real document verifies at its pinned time against the built-in AWS root', async (t) => {
  const dir = await tempDir(t);
  const r = await vouch(
    ['tee', 'verify', join(NITRO, 'nitro_attestation.b64'), '--at', NITRO_AT, '--json'],
    { cwd: dir },
  );
  assert.equal(r.code, 0, show(r));
  const j = jsonOf(r);
  assert.equal(j.platform, 'nitro');
  assert.deepEqual(
    j.checks.map((c: { name: string; ok: boolean }) => [c.name, c.ok]),
    [
      ['signature', true],
      ['chain', true],
      ['debug', true],
    ],
  );
  assert.match(check(j, 'chain').detail, /aws\.nitro-enclaves \(AWS Nitro root, pinned by digest/);
  assert.equal(j.claims.moduleId, 'i-0a22e5c5f24d22174-enc0191cceb4289903f');
  assert.equal(j.claims.timestamp, '2024-09-07T14:37:39.545Z');
  assert.equal(Object.keys(j.claims.pcrs).length, 16);
  assert.equal(j.claims.measurement, j.claims.pcrs['0']);
  // user_data and nonce of this sample are 1024 bytes of 0x01 (nitrite's test fixture).
  const ones = '01'.repeat(1024);
  assert.equal(j.claims.nonce, ones);
  const bound = await vouch(
    [
      'tee',
      'verify',
      join(NITRO, 'nitro_attestation.b64'),
      '--at',
      NITRO_AT,
      '--expect-nonce',
      ones,
      '--expect-report-data',
      ones,
      '--measurement',
      j.claims.measurement,
    ],
    { cwd: dir },
  );
  assert.equal(bound.code, 0, show(bound));
  assert.match(bound.stdout, /VERIFIED: 6 of 6/);
});

test('nitro: expired chain, debug enclave, wrong nonce, wrong PCR and a foreign root fail with reasons', async (t) => {
  const dir = await tempDir(t);
  const doc = join(NITRO, 'nitro_attestation.b64');
  const now = await vouch(['tee', 'verify', doc, '--json'], { cwd: dir });
  assert.equal(now.code, 1, show(now));
  assert.match(check(jsonOf(now), 'chain').detail, /is not valid at/);

  const debug = await vouch(
    ['tee', 'verify', join(NITRO, 'nitro_attestation_debug.b64'), '--at', DEBUG_AT, '--json'],
    { cwd: dir },
  );
  assert.equal(debug.code, 1, show(debug));
  assert.equal(check(jsonOf(debug), 'debug').ok, false);
  assert.equal(check(jsonOf(debug), 'chain').ok, true);
  const allowed = await vouch(
    [
      'tee',
      'verify',
      join(NITRO, 'nitro_attestation_debug.b64'),
      '--at',
      DEBUG_AT,
      '--insecure-allow-debug',
    ],
    { cwd: dir },
  );
  assert.equal(allowed.code, 0, show(allowed));
  assert.match(allowed.stderr, /warning/);

  const nonce = await vouch(
    ['tee', 'verify', doc, '--at', NITRO_AT, '--expect-nonce', '0102', '--json'],
    { cwd: dir },
  );
  assert.equal(nonce.code, 1);
  assert.match(check(jsonOf(nonce), 'nonce').detail, /expected 0102/);

  await writeFile(join(dir, 'pcrs.json'), JSON.stringify({ sha384: { 0: 'ab'.repeat(48) } }));
  const pcr = await vouch(
    ['tee', 'verify', doc, '--at', NITRO_AT, '--pcrs', 'pcrs.json', '--json'],
    { cwd: dir },
  );
  assert.equal(pcr.code, 1, show(pcr));
  assert.equal(check(jsonOf(pcr), 'pcr-0').ok, false);

  // The self-signed sample: not AWS, so refused; accepted only with its own root given explicitly.
  const self = join(NITRO, 'selfsigned_attestation.b64');
  const refused = await vouch(['tee', 'verify', self, '--at', SELF_AT, '--json'], { cwd: dir });
  assert.equal(refused.code, 1, show(refused));
  assert.match(
    check(jsonOf(refused), 'chain').detail,
    /no trusted issuer for "self-signed attester"/,
  );
  const own = await vouch(
    ['tee', 'verify', self, '--at', SELF_AT, '--root', join(NITRO, 'selfsigned_cert.der')],
    { cwd: dir },
  );
  assert.equal(own.code, 0, show(own));
});

test('nitro: a flipped byte in the payload or the signature breaks the signature', async (t) => {
  const dir = await tempDir(t);
  const raw = nitroDoc();
  const cose = parseCoseSign1(raw, 'doc');
  for (const [name, at] of [
    ['payload', raw.indexOf(Buffer.from(cose.payload).subarray(200, 232))],
    ['signature', raw.length - 5],
  ] as const) {
    assert.ok(at > 0);
    const bad = Buffer.from(raw);
    bad[at] = (bad[at] as number) ^ 0x01;
    await writeFile(join(dir, `${name}.cbor`), bad);
    const r = await vouch(
      ['tee', 'verify', `${name}.cbor`, '--platform', 'nitro', '--at', NITRO_AT, '--json'],
      { cwd: dir },
    );
    assert.equal(r.code, 1, `${name}: ${show(r)}`);
    assert.equal(check(jsonOf(r), 'signature').ok, false, name);
  }
  // A swapped certificate: re-encode the payload with the cabundle's intermediate as the signer.
  const payload = decodeCbor(cose.payload, 'p') as Map<string, unknown>;
  const bundle = payload.get('cabundle') as Uint8Array[];
  payload.set('certificate', bundle[bundle.length - 1] as Uint8Array);
  const swapped = encodeCbor([
    cose.protectedBytes,
    new Map(),
    encodeCbor(payload as never),
    cose.signature,
  ]);
  await writeFile(join(dir, 'swapped.cbor'), swapped);
  const r = await vouch(['tee', 'verify', 'swapped.cbor', '--at', NITRO_AT, '--json'], {
    cwd: dir,
  });
  assert.equal(r.code, 1, show(r));
  assert.equal(check(jsonOf(r), 'signature').ok, false);
});

test('nitro/cbor: hostile input is refused with the offset (depth, lengths, indefinite, duplicates, trailing)', async (t) => {
  const bad: Array<[string, Buffer, RegExp]> = [
    [
      'deep',
      Buffer.concat([Buffer.alloc(100, 0x81), Buffer.from([0x00])]),
      /nested deeper than 16/,
    ],
    ['lying length', Buffer.from([0x5a, 0xff, 0xff, 0xff, 0xff, 0x00]), /longer than the 1 byte/],
    [
      'huge array',
      Buffer.from([0x9a, 0x00, 0x10, 0x00, 0x00, ...Buffer.alloc(70000)]),
      /array of 1048576 items|longer than/,
    ],
    ['indefinite', Buffer.from([0x9f, 0x01, 0xff]), /indefinite-length/],
    ['duplicate key', Buffer.from([0xa2, 0x01, 0x01, 0x01, 0x02]), /duplicate map key 1/],
    ['trailing', Buffer.from([0x01, 0x02]), /1 trailing byte/],
    ['truncated', nitroDoc().subarray(0, 2000), /truncated|longer than/],
  ];
  for (const [name, bytes, re] of bad) assert.throws(() => decodeCbor(bytes, name), re, name);
  assert.throws(
    () =>
      parseCoseSign1(
        encodeCbor([new Uint8Array(0), new Map(), new Uint8Array(1), new Uint8Array(96)]),
        'x',
      ),
    /unsupported or missing algorithm/,
  );

  const dir = await tempDir(t);
  await writeFile(join(dir, 'cut.cbor'), nitroDoc().subarray(0, 3000));
  const r = await vouch(['tee', 'verify', 'cut.cbor', '--platform', 'nitro', '--json'], {
    cwd: dir,
  });
  assert.equal(r.code, 2, show(r));
  assert.equal(jsonOf(r).error.code, 'TEE_MALFORMED');
  assert.equal(jsonOf(r).error.file, 'cut.cbor');
  await writeFile(join(dir, 'junk.bin'), Buffer.from('not evidence at all'));
  const auto = await vouch(['tee', 'verify', 'junk.bin'], { cwd: dir });
  assert.equal(auto.code, 2);
  assert.match(auto.stderr, /not recognised as SEV-SNP, TDX, Nitro or TPM/);
  const usage = await vouch(['tee', 'verify', 'junk.bin', '--at', 'yesterday'], { cwd: dir });
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /RFC 3339/);
});

test('tpm: the GCE vTPM attestations (3 banks) verify with their AK; nonce 9009 binds; tampering fails', async (t) => {
  const dir = await tempDir(t);
  const pb = join(TPM, 'attestations', 'gce-cos-85-nonce9009.pb');
  // The AK is certified by Google's EK/AK CA; trust it through the AK certificate and the CA roots.
  const args = [
    'tee',
    'verify',
    pb,
    '--at',
    '2023-01-01T00:00:00Z',
    '--root',
    join(TPM, 'roots', 'gcp_ek_ak_ca_root.crt'),
    '--cert-chain',
    join(TPM, 'roots', 'gcp_ek_ak_ca_intermediate_v3.crt'),
    '--json',
  ];
  const r = await vouch([...args, '--expect-nonce', '9009'], { cwd: dir });
  const j = jsonOf(r);
  assert.equal(j.platform, 'tpm');
  // Signatures, PCR digests and nonce of all three quotes (sha1, sha256, sha384 banks).
  for (const name of ['signature', 'pcr-digest', 'nonce'])
    assert.equal(
      j.checks.filter((c: { name: string; ok: boolean }) => c.name === name && c.ok).length,
      3,
      `${name}: ${show(r)}`,
    );
  assert.equal(j.claims.nonce, '9009');
  assert.equal(Object.keys(j.claims.pcrs).sort().join(), 'sha1,sha256,sha384');

  const wrong = await vouch([...args, '--expect-nonce', '9008'], { cwd: dir });
  assert.equal(wrong.code, 1);
  const noNonce = await vouch(
    [
      ...args.slice(0, 2),
      join(TPM, 'attestations', 'gce-cos-85-no-nonce.pb'),
      ...args.slice(3),
      '--expect-nonce',
      '9009',
    ],
    { cwd: dir },
  );
  assert.equal(noNonce.code, 1);
  assert.match(check(jsonOf(noNonce), 'nonce').detail, /extraData is \(empty\)/);
  const untrusted = await vouch(['tee', 'verify', pb, '--json'], { cwd: dir });
  assert.equal(untrusted.code, 1);
  assert.match(check(jsonOf(untrusted), 'ak').detail, /without trust anchors/);

  // Flip one byte inside the first quote's TPMS_ATTEST (its clock): the signature must fail.
  const bytes = readFileSync(pb);
  const magic = bytes.indexOf(Buffer.from([0xff, 0x54, 0x43, 0x47, 0x80, 0x18]));
  const flipped = Buffer.from(bytes);
  flipped[magic + 60] = (flipped[magic + 60] as number) ^ 0x80;
  await writeFile(join(dir, 'flipped.pb'), flipped);
  const f = await vouch([...args.slice(0, 2), 'flipped.pb', ...args.slice(3)], { cwd: dir });
  assert.equal(f.code, 1, show(f));
  assert.equal(
    jsonOf(f).checks.filter((c: { name: string; ok: boolean }) => c.name === 'signature' && !c.ok)
      .length,
    1,
  );
  assert.equal(detectPlatform(bytes), 'tpm');
});

test('tpm: the GCE AK certificate chains to the Google TPM EK root (MANIFEST: root + intermediates 2/3)', async (t) => {
  const dir = await tempDir(t);
  const r = await vouch(
    [
      'tee',
      'verify',
      join(TPM, 'attestations', 'gce-cos-85-nonce9009.pb'),
      '--at',
      '2023-01-01T00:00:00Z',
      '--root',
      join(TPM, 'roots', 'tpm_ek_root_1.cer'),
      '--cert-chain',
      join(TPM, 'roots', 'tpm_ek_intermediate_2.crt'),
      '--cert-chain',
      join(TPM, 'roots', 'tpm_ek_intermediate_3.crt'),
      '--expect-nonce',
      '9009',
      '--json',
    ],
    { cwd: dir },
  );
  assert.equal(check(jsonOf(r), 'ak').ok, true, check(jsonOf(r), 'ak').detail);
  assert.equal(r.code, 0, show(r));
});

test('tpm: structure parsers refuse wrong magic, wrong type, bad selections, truncation and trailing bytes', () => {
  const pb = readFileSync(join(TPM, 'attestations', 'gce-cos-85-nonce9009.pb'));
  const start = pb.indexOf(Buffer.from([0xff, 0x54, 0x43, 0x47, 0x80, 0x18]));
  const len = pb.readUInt8(start - 1); // protobuf length byte of a short quote (< 128 bytes)
  const quote = pb.subarray(start, start + len);
  const q = parseQuote(Buffer.from(quote));
  assert.equal(q.extraData.toString('hex'), '9009');
  assert.equal(q.selections[0]?.pcrs.length, 24);
  const mutate = (at: number, v: number) => {
    const b = Buffer.from(quote);
    b[at] = v;
    return b;
  };
  assert.throws(() => parseQuote(mutate(0, 0xfe)), /magic 0xfe544347/);
  assert.throws(() => parseQuote(mutate(5, 0x17)), /type 0x8017, expected TPM_ST_ATTEST_QUOTE/);
  assert.throws(() => parseQuote(quote.subarray(0, quote.length - 3)), /truncated/);
  assert.throws(() => parseQuote(Buffer.concat([quote, Buffer.from([0])])), /1 trailing byte/);
  assert.throws(
    () => parseSignature(Buffer.from([0x00, 0x99, 0x00, 0x0b])),
    /signature algorithm 0x99/,
  );
  assert.throws(
    () => parseSignature(Buffer.from([0x00, 0x14, 0x00, 0x0b, 0xff, 0xff])),
    /at most 1024/,
  );
});

test('tpm: a PCR value the quote does not cover is neither a claim nor a match for an expected value', async (t) => {
  const dir = await tempDir(t);
  // A real GCE quote (sha256 bank, PCRs 0-23) in vouch's TPM JSON, with an extra, unquoted sha512 bank.
  const g = parseGceAttestation(readFileSync(join(TPM, 'attestations', 'gce-cos-85-nonce9009.pb')));
  const q = g.quotes.find((x) => parseQuote(x.quote).selections[0]?.hashName === 'sha256');
  assert.ok(q);
  const forged = 'ee'.repeat(64);
  const hexOf = (m: Map<number, Buffer>) =>
    Object.fromEntries([...m].map(([i, v]) => [String(i), v.toString('hex')]));
  await writeFile(
    join(dir, 'ev.json'),
    JSON.stringify({
      format: TPM_EVIDENCE_FORMAT,
      quote: q.quote.toString('base64'),
      signature: q.rawSig.toString('base64'),
      pcrs: { sha256: hexOf(q.pcrs), sha512: { '0': forged } },
    }),
  );
  await writeFile(
    join(dir, 'ak.pem'),
    publicKeyFromTpmt(g.akPub).export({ type: 'spki', format: 'pem' }) as string,
  );
  const args = ['tee', 'verify', 'ev.json', '--ak', 'ak.pem', '--expect-nonce', '9009', '--json'];
  const quoted = await vouch(args, { cwd: dir });
  assert.equal(quoted.code, 0, show(quoted));
  assert.deepEqual(Object.keys(jsonOf(quoted).claims.pcrs), ['sha256']);

  await writeFile(join(dir, 'want.json'), JSON.stringify({ sha512: { '0': forged } }));
  const r = await vouch([...args, '--pcrs', 'want.json'], { cwd: dir });
  assert.equal(r.code, 1, show(r));
  assert.equal(check(jsonOf(r), 'pcr-0').ok, false);
  assert.match(check(jsonOf(r), 'pcr-0').detail, /sha512:0 is not quoted/);
});

test('bad certificate, root and collateral files are named in the error, not the evidence (exit 2)', async (t) => {
  const dir = await tempDir(t);
  const snp = join(VECTORS, 'tee', 'sev-snp');
  await writeFile(join(dir, 'bad.pem'), 'not a certificate');
  const cases: [string[], string | RegExp][] = [
    [['--cert-chain', join(snp, 'vcek.testcer'), '--cert-chain', 'bad.pem'], 'bad.pem'],
    [['--cert-chain', join(snp, 'vcek.testcer'), '--root', 'bad.pem'], 'bad.pem'],
    [['--cert-chain', join(snp, 'vcek.testcer'), '--collateral', 'col'], /\/col\/milan\.crl$/],
  ];
  await mkdir(join(dir, 'col'));
  await writeFile(join(dir, 'col', 'milan.crl'), 'junk');
  for (const [extra, want] of cases) {
    const r = await vouch(['tee', 'verify', join(snp, 'attestation.bin'), ...extra, '--json'], {
      cwd: dir,
    });
    assert.equal(r.code, 2, show(r));
    const e = jsonOf(r).error;
    assert.equal(e.code, 'TEE_MALFORMED');
    if (typeof want === 'string') assert.equal(e.file, want, show(r));
    else assert.match(e.file, want, show(r));
  }
});

test('provenance evidence: --expect-nonce / --expect-report-data would be replaced by the binding, so they are refused', async (t) => {
  const dir = await tempDir(t);
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'out.txt', digest: { sha256: 'ab'.repeat(32) } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: { externalParameters: { command: ['make'] }, resolvedDependencies: [] },
      runDetails: {
        metadata: { startedOn: '2024-09-07T14:37:00Z' },
        byproducts: [
          {
            name: 'tee',
            uri: TEE_BYPRODUCT_URI,
            annotations: {
              platform: 'nitro',
              binding: { value: '00'.repeat(32) },
              evidence: { data: nitroDoc().toString('base64') },
            },
          },
        ],
      },
    },
  };
  await writeFile(join(dir, 'prov.json'), JSON.stringify(statement));
  for (const flag of ['--expect-nonce', '--expect-report-data']) {
    const r = await vouch(['tee', 'verify', 'prov.json', flag, '0101', '--at', NITRO_AT], {
      cwd: dir,
    });
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, new RegExp(`${flag}.*binding`));
  }
  // Without them the binding decides: the recorded value is not the provenance's hash.
  const r = await vouch(['tee', 'verify', 'prov.json', '--at', NITRO_AT, '--json'], { cwd: dir });
  assert.equal(r.code, 1, show(r));
  assert.equal(check(jsonOf(r), 'binding').ok, false);
});
