import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { VouchError } from '../core/errors.ts';
import { DirectoryStore } from './directory.ts';

// Hand-built bundles: the store never verifies signatures, so a placeholder
// signature is enough and keeps these tests independent of sign/.
const MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const PROVENANCE = 'https://slsa.dev/provenance/v1';

const hex = (seed: string) => createHash('sha256').update(seed).digest('hex');
const hex512 = (seed: string) => createHash('sha512').update(seed).digest('hex');
const b64 = (s: string) => Buffer.from(s).toString('base64');

type Digest = Record<string, string>;

function statement(subjects: Array<{ name: string; digest: Digest }>, predicateType = PROVENANCE) {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: subjects,
    predicateType,
    predicate: {},
  };
}

function bundleObject(stmt: unknown): Record<string, unknown> {
  return {
    mediaType: MEDIA_TYPE,
    verificationMaterial: { publicKey: { hint: 'x' } },
    dsseEnvelope: {
      payloadType: 'application/vnd.in-toto+json',
      payload: b64(JSON.stringify(stmt)),
      signatures: [{ keyid: 'x', sig: b64('sig') }],
    },
  };
}

function bundle(
  subjects: Array<{ name: string; digest: Digest }>,
  predicateType = PROVENANCE,
): Buffer {
  return Buffer.from(JSON.stringify(bundleObject(statement(subjects, predicateType))));
}

const idOf = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const bundlePath = (root: string, id: string) =>
  join(root, 'bundles', 'sha256', id.slice(0, 2), `${id}.sigstore.json`);

/** A clock that ticks one second per call, so storedAt order is known. */
function ticking(start = Date.UTC(2026, 0, 1)): () => Date {
  let t = start;
  return () => {
    t += 1000;
    return new Date(t);
  };
}

async function rejectsWith(p: Promise<unknown>, code: string, match?: RegExp): Promise<VouchError> {
  let caught: unknown;
  await assert.rejects(p, (e: unknown) => {
    caught = e;
    return true;
  });
  assert.ok(caught instanceof VouchError, `expected VouchError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (match) assert.match(caught.message, match);
  return caught;
}

/** Every file name under `dir`, recursively. */
async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, d.name);
    if (d.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

let root: string;
let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'vouch-store-'));
  root = join(tmp, '.vouch');
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('DirectoryStore', () => {
  it('round-trips a bundle with two subjects', async () => {
    const store = new DirectoryStore(root, { now: () => new Date('2026-02-03T04:05:06.000Z') });
    const a = { name: 'a.tgz', digest: { sha256: hex('a') } };
    const b = { name: 'b.tgz', digest: { sha256: hex('b') } };
    const bytes = bundle([a, b]);
    const entry = await store.put(bytes);
    assert.deepEqual(entry, {
      id: idOf(bytes),
      predicateType: PROVENANCE,
      subjects: [a, b],
      storedAt: '2026-02-03T04:05:06.000Z',
    });
    assert.deepEqual(await store.find(`sha256:${hex('a')}`), [entry]);
    assert.deepEqual(await store.find(`sha256:${hex('b')}`), [entry]);
    assert.deepEqual(await store.find(`sha256:${hex('c')}`), []);
    assert.deepEqual(await store.read(entry.id), bytes);
    assert.deepEqual(await store.list(), [entry]);
    // Upper-case input is the same digest.
    assert.deepEqual(await store.find(`sha256:${hex('a').toUpperCase()}`), [entry]);
  });

  it('writes the version marker on first put and reads an absent store as empty', async () => {
    const store = new DirectoryStore(root);
    assert.deepEqual(await store.find(`sha256:${hex('a')}`), []);
    assert.deepEqual(await store.list(), []);
    await assert.rejects(stat(root), { code: 'ENOENT' }, 'reading must not create the store');
    await store.put(bundle([{ name: 'a', digest: { sha256: hex('a') } }]));
    assert.deepEqual(JSON.parse(await readFile(join(root, 'store.json'), 'utf8')), {
      format: 'vouch-directory-store',
      version: 1,
    });
  });

  it('fails closed on an unknown store version or a foreign marker', async () => {
    await mkdir(root, { recursive: true });
    const marker = join(root, 'store.json');
    await writeFile(marker, JSON.stringify({ format: 'vouch-directory-store', version: 2 }));
    const e = await rejectsWith(
      new DirectoryStore(root).find(`sha256:${hex('a')}`),
      'STORE_CORRUPT',
      /version 2/,
    );
    assert.equal(e.file, marker);
    await rejectsWith(
      new DirectoryStore(root).put(bundle([{ name: 'a', digest: { sha256: hex('a') } }])),
      'STORE_CORRUPT',
      /unknown store version/,
    );
    await writeFile(marker, JSON.stringify({ format: 'something-else', version: 1 }));
    await rejectsWith(
      new DirectoryStore(root).list(),
      'STORE_CORRUPT',
      /not a vouch directory store/,
    );
  });

  it('refuses a directory with data but no marker', async () => {
    await mkdir(join(root, 'index', 'sha256'), { recursive: true });
    await rejectsWith(new DirectoryStore(root).list(), 'STORE_CORRUPT', /store\.json: missing/);
  });

  it('is idempotent: same bytes, same entry, one index file', async () => {
    const store = new DirectoryStore(root, { now: ticking() });
    const bytes = bundle([{ name: 'a', digest: { sha256: hex('a') } }]);
    const first = await store.put(bytes);
    const second = await store.put(bytes);
    assert.deepEqual(second, first, 'the second put keeps the first storedAt');
    assert.deepEqual(await store.find(`sha256:${hex('a')}`), [first]);
    const files = await walk(root);
    assert.equal(files.filter((f) => f.endsWith('.sigstore.json')).length, 1);
    assert.equal(files.filter((f) => f.includes(`${join('index', 'sha256')}`)).length, 1);
  });

  it('returns entries oldest first and lists each bundle once', async () => {
    const store = new DirectoryStore(root, { now: ticking() });
    const shared = { name: 'app', digest: { sha256: hex('app') } };
    const entries = [];
    for (const p of ['https://a.example/x', 'https://b.example/y', 'https://c.example/z']) {
      entries.push(await store.put(bundle([shared, { name: p, digest: { sha256: hex(p) } }], p)));
    }
    assert.deepEqual(await store.find(`sha256:${hex('app')}`), entries);
    assert.deepEqual(await store.list(), entries);
  });

  it('indexes sha512 subject digests and finds them by sha512', async () => {
    const store = new DirectoryStore(root);
    const subject = { name: 'a', digest: { sha256: hex('a'), sha512: hex512('a') } };
    const only512 = { name: 'b', digest: { sha512: hex512('b') } };
    const entry = await store.put(bundle([subject, only512]));
    assert.deepEqual(await store.find(`sha512:${hex512('a')}`), [entry]);
    assert.deepEqual(await store.find(`sha512:${hex512('b')}`), [entry]);
    assert.deepEqual(await store.find(`sha256:${hex('a')}`), [entry]);
    assert.deepEqual(await store.list(), [entry], 'listed once although indexed three times');
  });

  it('rejects a Statement no subject of which the index could find', async () => {
    const store = new DirectoryStore(root);
    const e = await rejectsWith(
      store.put(bundle([{ name: 'c', digest: { gitCommit: 'a'.repeat(40) } }])),
      'BUNDLE_MALFORMED',
    );
    assert.equal(e.field, '/dsseEnvelope/payload/subject');
  });

  it('keeps every entry when 8 processes put at once', async () => {
    const shared = { name: 'shared', digest: { sha256: hex('shared') } };
    const same = bundle([shared], 'https://same.example/v1');
    const script = join(tmp, 'put-child.mjs');
    const storeUrl = pathToFileURL(fileURLToPath(new URL('./directory.ts', import.meta.url))).href;
    await writeFile(
      script,
      `import { DirectoryStore } from ${JSON.stringify(storeUrl)};
const [root, ...bundles] = process.argv.slice(2);
const store = new DirectoryStore(root);
for (const b of bundles) await store.put(Buffer.from(b, 'base64'));
`,
    );
    const distinct = Array.from({ length: 8 }, (_, i) =>
      bundle(
        [shared, { name: `own-${i}`, digest: { sha256: hex(`own-${i}`) } }],
        `https://p${i}.example/v1`,
      ),
    );
    const runs = distinct.map((b, i) => {
      // Half the children put the shared bundle first, half last, so puts of
      // identical bytes overlap with puts of distinct ones.
      const order = i % 2 === 0 ? [same, b] : [b, same];
      return new Promise<void>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [script, root, ...order.map((x) => x.toString('base64'))],
          {
            stdio: ['ignore', 'ignore', 'pipe'],
          },
        );
        let stderr = '';
        child.stderr.on('data', (d) => {
          stderr += d;
        });
        child.on('error', reject);
        child.on('close', (code) =>
          code === 0 ? resolve() : reject(new Error(`child ${i} exited ${code}: ${stderr}`)),
        );
      });
    });
    await Promise.all(runs);

    const store = new DirectoryStore(root);
    const found = await store.find(`sha256:${hex('shared')}`);
    const expected = [...distinct, same].map(idOf).sort();
    assert.deepEqual(found.map((e) => e.id).sort(), expected);
    for (let i = 0; i < 8; i++) {
      const own = await store.find(`sha256:${hex(`own-${i}`)}`);
      assert.deepEqual(
        own.map((e) => e.id),
        [idOf(distinct[i] as Buffer)],
      );
    }
    const leftovers = (await walk(root)).filter((f) => /\.tmp-/.test(f));
    assert.deepEqual(leftovers, [], 'no temp files left');
    assert.deepEqual(await store.check(), []);
  });

  it('ignores what a killed put leaves behind and reports it from check()', async () => {
    const store = new DirectoryStore(root);
    const subject = { name: 'a', digest: { sha256: hex('a') } };
    const complete = await store.put(bundle([subject]));
    // A put killed after writing its bundle but before its index file:
    const orphan = bundle([subject], 'https://orphan.example/v1');
    const orphanId = idOf(orphan);
    await mkdir(join(root, 'bundles', 'sha256', orphanId.slice(0, 2)), { recursive: true });
    await writeFile(bundlePath(root, orphanId), orphan);
    // ...and writes killed before their rename:
    const indexDir = join(root, 'index', 'sha256', hex('a'));
    const tmpIndex = join(indexDir, `.${orphanId}.json.tmp-123-abcdef`);
    await writeFile(tmpIndex, '{"id":"trunc');
    const tmpBundle = join(
      root,
      'bundles',
      'sha256',
      orphanId.slice(0, 2),
      `.${orphanId}.sigstore.json.tmp-1-2`,
    );
    await writeFile(tmpBundle, '{');

    assert.deepEqual(await store.find(`sha256:${hex('a')}`), [complete]);
    assert.deepEqual(await store.list(), [complete]);
    assert.deepEqual(
      (await store.check()).map((p) => [p.kind, p.file]),
      [
        ['orphan-bundle', bundlePath(root, orphanId)],
        ['temp-file', tmpBundle],
        ['temp-file', tmpIndex],
      ].sort((x, y) => ((x[1] as string) < (y[1] as string) ? -1 : 1)),
    );
    // Putting the orphan again completes it.
    const repaired = await store.put(orphan);
    assert.deepEqual(
      (await store.find(`sha256:${hex('a')}`)).map((e) => e.id).sort(),
      [complete.id, repaired.id].sort(),
    );
  });

  it('a put killed by SIGKILL at a random point leaves a readable store', async () => {
    // The test above builds the leftovers by hand; this one really kills a
    // writer mid-stream. Wherever the kill lands, every put it reported is
    // found, nothing readable is corrupt, and check() finds only leftovers.
    const script = join(tmp, 'put-loop.mjs');
    const storeUrl = pathToFileURL(fileURLToPath(new URL('./directory.ts', import.meta.url))).href;
    await writeFile(
      script,
      `import { createHash } from 'node:crypto';
import { DirectoryStore } from ${JSON.stringify(storeUrl)};
const hex = (s) => createHash('sha256').update(s).digest('hex');
const b64 = (s) => Buffer.from(s).toString('base64');
const store = new DirectoryStore(process.argv[2]);
for (let i = 0; ; i++) {
  // Three subjects: three index files per put, so a kill can land between them.
  const subject = ['x', 'y', 'z'].map((n) => ({ name: n + i, digest: { sha256: hex(n + i) } }));
  const stmt = { _type: 'https://in-toto.io/Statement/v1', subject, predicateType: 'https://k.example/v1', predicate: { i } };
  const bundle = { mediaType: ${JSON.stringify(MEDIA_TYPE)}, verificationMaterial: { publicKey: { hint: 'x' } },
    dsseEnvelope: { payloadType: 'application/vnd.in-toto+json', payload: b64(JSON.stringify(stmt)), signatures: [{ keyid: 'x', sig: b64('sig') }] } };
  await store.put(Buffer.from(JSON.stringify(bundle)));
  process.stdout.write(i + '\\n');
}
`,
    );
    const reported = await new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, [script, root], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let stderr = '';
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      child.stdout.on('data', (d) => {
        out += d;
        if (out.split('\n').length > 20) child.kill('SIGKILL');
      });
      child.on('error', reject);
      child.on('close', (_code, signal) => {
        if (signal !== 'SIGKILL') reject(new Error(`child ended without the kill: ${stderr}`));
        else resolve(out.split('\n').filter((l) => /^\d+$/.test(l)).length);
      });
    });
    assert.ok(reported >= 20, `${reported} puts reported`);

    const store = new DirectoryStore(root);
    const listed = await store.list();
    assert.ok(listed.length >= reported, `${listed.length} listed, ${reported} reported`);
    for (let i = 0; i < reported; i++) {
      for (const n of ['x', 'y', 'z']) {
        const found = await store.find(`sha256:${hex(`${n}${i}`)}`);
        assert.equal(found.length, 1, `put ${i} subject ${n}`);
      }
    }
    for (const e of listed) await store.read(e.id);
    const problems = await store.check();
    assert.deepEqual(
      problems.filter((p) => p.kind !== 'orphan-bundle' && p.kind !== 'temp-file'),
      [],
    );
  });

  it('detects a bundle whose bytes changed on disk', async () => {
    const store = new DirectoryStore(root);
    const bytes = bundle([{ name: 'a', digest: { sha256: hex('a') } }]);
    const entry = await store.put(bytes);
    const path = bundlePath(root, entry.id);
    const tampered = Buffer.from(bytes);
    const at = tampered.length - 2;
    tampered[at] = (tampered[at] as number) ^ 1;
    await writeFile(path, tampered);
    let e = await rejectsWith(store.find(`sha256:${hex('a')}`), 'STORE_CORRUPT', /changed on disk/);
    assert.equal(e.file, path);
    e = await rejectsWith(store.read(entry.id), 'STORE_CORRUPT');
    assert.equal(e.file, path);
    await rejectsWith(store.list(), 'STORE_CORRUPT');
    const problems = await store.check();
    assert.equal(problems.length, 1);
    assert.equal(problems[0]?.kind, 'corrupt');
    assert.match(problems[0]?.detail ?? '', /changed on disk/);
  });

  it('reports an index entry whose bundle is missing', async () => {
    const store = new DirectoryStore(root);
    const entry = await store.put(bundle([{ name: 'a', digest: { sha256: hex('a') } }]));
    await rm(bundlePath(root, entry.id));
    const e = await rejectsWith(
      store.find(`sha256:${hex('a')}`),
      'STORE_CORRUPT',
      /missing bundle/,
    );
    assert.equal(e.file, join(root, 'index', 'sha256', hex('a'), `${entry.id}.json`));
    await rejectsWith(store.read(entry.id), 'FILE_NOT_FOUND');
  });

  it('reports corrupt index JSON with its path', async () => {
    const store = new DirectoryStore(root);
    const entry = await store.put(bundle([{ name: 'a', digest: { sha256: hex('a') } }]));
    const index = join(root, 'index', 'sha256', hex('a'), `${entry.id}.json`);
    await writeFile(index, '{"id": ');
    const e = await rejectsWith(
      store.find(`sha256:${hex('a')}`),
      'STORE_CORRUPT',
      /not valid JSON/,
    );
    assert.equal(e.file, index);
    assert.ok(e.message.includes(index), e.message);
  });

  it('reports an index entry that does not match its place in the tree', async () => {
    const store = new DirectoryStore(root);
    const entry = await store.put(bundle([{ name: 'a', digest: { sha256: hex('a') } }]));
    const index = join(root, 'index', 'sha256', hex('a'), `${entry.id}.json`);
    // Moved under another subject:
    const elsewhere = join(root, 'index', 'sha256', hex('b'));
    await mkdir(elsewhere, { recursive: true });
    await writeFile(join(elsewhere, `${entry.id}.json`), await readFile(index));
    await rejectsWith(store.find(`sha256:${hex('b')}`), 'STORE_CORRUPT', /no subject with sha256/);
    // Renamed to another id:
    const other = 'f'.repeat(64);
    await writeFile(
      join(root, 'index', 'sha256', hex('a'), `${other}.json`),
      await readFile(index),
    );
    await rejectsWith(store.find(`sha256:${hex('a')}`), 'STORE_CORRUPT', /names bundle/);
    // Wrong shape:
    await rm(join(root, 'index', 'sha256', hex('a'), `${other}.json`));
    await writeFile(index, JSON.stringify({ id: entry.id, predicateType: 1 }));
    await rejectsWith(store.find(`sha256:${hex('a')}`), 'STORE_CORRUPT', /predicateType/);
  });

  it('rejects digests and ids that could escape the store', async () => {
    const store = new DirectoryStore(root);
    await store.put(bundle([{ name: 'a', digest: { sha256: hex('a') } }]));
    for (const d of [
      '../../etc',
      'sha256:../../etc',
      `sha256:${hex('a')}/../x`,
      'sha256:',
      `md5:${'a'.repeat(32)}`,
    ]) {
      await rejectsWith(store.find(d), 'DIGEST_MALFORMED');
    }
    for (const id of ['../../etc/passwd', `${hex('a').slice(0, 62)}/.`, '', `sha512:${hex('a')}`]) {
      await rejectsWith(store.read(id), 'DIGEST_MALFORMED');
    }
    // A subject digest is validated before it becomes a directory name.
    await rejectsWith(
      store.put(bundle([{ name: 'evil', digest: { sha256: `../../${'a'.repeat(58)}` } }])),
      'BUNDLE_MALFORMED',
    );
    const files = await walk(tmp);
    assert.ok(
      files.every((f) => f.startsWith(root)),
      'nothing written outside the store',
    );
  });

  describe('rejects what is not a DSSE in-toto bundle, naming the field', () => {
    const good = () => bundleObject(statement([{ name: 'a', digest: { sha256: hex('a') } }]));
    const env = (o: Record<string, unknown>) => o.dsseEnvelope as Record<string, unknown>;
    const cases: Array<[string, () => unknown, string]> = [
      ['not JSON', () => '{', '/'],
      ['an array', () => [], '/'],
      ['no mediaType', () => ({ ...good(), mediaType: undefined }), '/mediaType'],
      ['foreign mediaType', () => ({ ...good(), mediaType: 'application/json' }), '/mediaType'],
      [
        'no verificationMaterial',
        () => ({ ...good(), verificationMaterial: null }),
        '/verificationMaterial',
      ],
      [
        'message signature',
        () => ({ ...good(), dsseEnvelope: undefined, messageSignature: { signature: 'eA==' } }),
        '/dsseEnvelope',
      ],
      [
        'payload not base64',
        () => {
          const o = good();
          env(o).payload = '!!!';
          return o;
        },
        '/dsseEnvelope/payload',
      ],
      [
        'no signatures',
        () => {
          const o = good();
          env(o).signatures = [];
          return o;
        },
        '/dsseEnvelope/signatures',
      ],
      [
        'other payloadType',
        () => {
          const o = good();
          env(o).payloadType = 'text/plain';
          return o;
        },
        '/dsseEnvelope/payloadType',
      ],
      [
        'payload not a Statement',
        () => {
          const o = good();
          env(o).payload = b64(
            JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [] }),
          );
          return o;
        },
        '/dsseEnvelope/payload/subject',
      ],
    ];
    for (const [name, make, field] of cases) {
      it(name, async () => {
        const value = make();
        const bytes = Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
        const e = await rejectsWith(new DirectoryStore(root).put(bytes), 'BUNDLE_MALFORMED');
        assert.equal(e.field, field, e.message);
        await assert.rejects(stat(join(root, 'bundles')), { code: 'ENOENT' }, 'nothing stored');
      });
    }
  });
});
