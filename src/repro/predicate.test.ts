// The rebuild predicate against its JSON Schema (ajv, strict), built from a
// real check of a tiny build; and mutations the schema must reject.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { checkReproducible } from './check.ts';
import { matchOriginal, REBUILD_PREDICATE_V1, rebuildStatement } from './predicate.ts';

const schema = JSON.parse(
  await readFile(new URL('../../schemas/rebuild-v1.json', import.meta.url), 'utf8'),
);

test('a real check gives a predicate valid against schemas/rebuild-v1.json; mutations are not', async (t) => {
  const d = await mkdtemp(join(tmpdir(), 'vouch-repro-pred-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  await mkdir(join(d, 'src'));
  await writeFile(join(d, 'src', 'in.txt'), 'hello\n');
  const result = await checkReproducible({
    argv: ['sh', '-c', 'tr a-z A-Z < in.txt > out.txt'],
    source: join(d, 'src'),
    vary: ['tz', 'env', 'umask'],
  });
  assert.equal(result.reproducible, true);
  const st = rebuildStatement({
    result,
    argv: ['sh', '-c', 'tr a-z A-Z < in.txt > out.txt'],
    rebuilderId: 'https://vouch.dev/builders/local@v1',
    source: { digest: { sha256: 'a'.repeat(64) } },
    original: {
      bundle: { sha256: 'b'.repeat(64) },
      predicateType: 'https://slsa.dev/provenance/v1',
      signer: 'key:abc',
      ...matchOriginal(result.runs[0]?.products ?? [], [
        {
          name: 'out.txt',
          digest: { sha256: result.runs[0]?.products[0]?.digest.sha256 as string },
        },
      ]),
    },
    startedOn: '2024-01-01T00:00:00.000Z',
    finishedOn: '2024-01-01T00:00:01.000Z',
  });
  assert.equal(st.predicateType, REBUILD_PREDICATE_V1);
  assert.deepEqual(
    st.subject.map((s) => s.name),
    ['out.txt'],
  );
  const pred = st.predicate;
  assert.ok(pred);
  assert.equal(pred.original?.matches, true);
  assert.equal(pred.agreement.agreeing, 2);
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  const validate = ajv.compile(schema);
  const p = JSON.parse(JSON.stringify(st.predicate));
  assert.equal(validate(p), true, JSON.stringify(validate.errors));
  // biome-ignore lint/suspicious/noExplicitAny: mutations poke at a parsed JSON copy
  const mutations: [string, (x: any) => void][] = [
    ['unknown variation', (x) => x.variations.varied.push('moon')],
    ['one run', (x) => x.runs.splice(1)],
    [
      'bad digest',
      (x) => {
        x.runs[0].products[0].digest.sha256 = 'xyz';
      },
    ],
    [
      'extra field',
      (x) => {
        x.agreement.extra = 1;
      },
    ],
    [
      'no rebuilder',
      (x) => {
        delete x.rebuilder;
      },
    ],
    [
      'empty command',
      (x) => {
        x.command = [];
      },
    ],
  ];
  for (const [name, mutate] of mutations) {
    const m = JSON.parse(JSON.stringify(p));
    mutate(m);
    assert.equal(validate(m), false, `schema accepted: ${name}`);
  }
});

test('matchOriginal: every original subject must be rebuilt with the same digest', () => {
  const products = [
    { name: 'a', digest: { sha256: '1'.repeat(64) } },
    { name: 'b', digest: { sha256: '2'.repeat(64) } },
  ];
  assert.equal(
    matchOriginal(products, [{ name: 'a', digest: { sha256: '1'.repeat(64) } }]).matches,
    true,
  );
  const bad = matchOriginal(products, [
    { name: 'a', digest: { sha256: '1'.repeat(64) } },
    { name: 'b', digest: { sha256: '3'.repeat(64) } },
    { name: 'c', digest: { sha256: '1'.repeat(64) } },
  ]);
  assert.deepEqual(bad, { matches: false, matched: ['a'], mismatched: ['b'], missing: ['c'] });
  assert.equal(matchOriginal(products, []).matches, false);
});

test('a product that differs under identical conditions is a culprit with no variations, valid against the schema', async (t) => {
  const d = await mkdtemp(join(tmpdir(), 'vouch-repro-pred-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  await mkdir(join(d, 'src'));
  const argv = ['sh', '-c', 'mktemp -u > out.txt'];
  const result = await checkReproducible({ argv, source: join(d, 'src'), vary: ['tz'] });
  assert.equal(result.reproducible, false);
  const st = rebuildStatement({
    result,
    argv,
    rebuilderId: 'https://vouch.dev/builders/local@v1',
    source: { digest: { sha256: 'a'.repeat(64) } },
    startedOn: '2024-01-01T00:00:00.000Z',
    finishedOn: '2024-01-01T00:00:01.000Z',
  });
  assert.deepEqual(st.predicate?.agreement.culprits, [{ variations: [], products: ['out.txt'] }]);
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  const validate = ajv.compile(schema);
  assert.equal(
    validate(JSON.parse(JSON.stringify(st.predicate))),
    true,
    JSON.stringify(validate.errors),
  );
});
