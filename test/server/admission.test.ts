// The webhook's decisions over HTTPS, with evidence from a real directory
// store (the offline mode: evidence copied into a store in CI).
import assert from 'node:assert/strict';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Policy } from '../../src/policy/index.ts';
import { StoreEvidenceSource } from '../../src/server/index.ts';
import { DirectoryStore } from '../../src/store/index.ts';
import {
  admit,
  hexOf,
  https,
  makePolicy,
  makeTls,
  mallory,
  provenanceBundle,
  type RunningWebhook,
  review,
  startWebhook,
  type TestContext,
  type Tls,
  tempDir,
  workload,
} from './helpers.ts';

const GOOD = hexOf('good image');
const GOOD2 = hexOf('good image 2');
const BARE = hexOf('image without evidence');
const FORGED = hexOf('image signed by mallory');
const OTHER = hexOf('image with evidence about another digest');
const REG = 'registry.example.com/team';
const good = `${REG}/app@sha256:${GOOD}`;
const good2 = `${REG}/sidecar:1.2@sha256:${GOOD2}`;
const bare = `${REG}/bare@sha256:${BARE}`;

const cleanups: Array<() => Promise<void> | void> = [];
const suite: TestContext = { after: (fn) => cleanups.push(fn) };
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

let dir: string;
let tls: Tls;
let storeDir: string;
let policy: Policy;
let hook: RunningWebhook;

before(async () => {
  dir = await tempDir(suite);
  tls = await makeTls(dir);
  storeDir = join(dir, 'store');
  const store = new DirectoryStore(storeDir);
  await store.put(await provenanceBundle(GOOD));
  await store.put(await provenanceBundle(GOOD2));
  await store.put(await provenanceBundle(FORGED, { key: mallory }));
  // Evidence about GOOD, re-indexed (by hand, as an attacker with write access
  // to the store would) under OTHER: the index claims it is about OTHER.
  const entry = (await store.find(`sha256:${GOOD}`))[0];
  assert.ok(entry);
  const from = join(storeDir, 'index', 'sha256', GOOD, `${entry.id}.json`);
  const to = join(storeDir, 'index', 'sha256', OTHER);
  await mkdir(to, { recursive: true });
  const forged = JSON.parse(await readFile(from, 'utf8'));
  forged.subjects = [{ name: 'image', digest: { sha256: OTHER } }];
  await writeFile(join(to, `${entry.id}.json`), JSON.stringify(forged));
  policy = await makePolicy();
  hook = await startWebhook(suite, tls, { policy, source: new StoreEvidenceSource(storeDir) });
});

const deny = (r: { json: { response: { allowed: boolean; status: { message: string } } } }) => {
  assert.equal(r.json.response.allowed, false, r.json.response.status.message);
  return r.json.response.status.message;
};

describe('admission: allow and deny', () => {
  test('a Pod whose every image has verified provenance is allowed; uid echoed, no patch', async () => {
    const rv = review(workload('Pod', { containers: [good], initContainers: [good2] }));
    const r = await admit(hook, rv);
    assert.equal(r.status, 200);
    assert.equal(r.json.apiVersion, 'admission.k8s.io/v1');
    assert.equal(r.json.kind, 'AdmissionReview');
    const res = r.json.response;
    assert.equal(res.uid, (rv.request as { uid: string }).uid);
    assert.equal(res.allowed, true, res.status?.message);
    assert.equal(res.patch, undefined);
    assert.equal(res.patchType, undefined);
    assert.equal(res.warnings, undefined);
    assert.match(res.status.message, /2 image\(s\) satisfy policy prod/);
    assert.equal(res.auditAnnotations.decision, 'allow');
    assert.match(res.auditAnnotations.digests, new RegExp(GOOD2));
  });

  test('one image without evidence denies the Deployment, naming the image, field and failing rule', async () => {
    const r = await admit(hook, review(workload('Deployment', { containers: [good, bare] })));
    const msg = deny(r);
    assert.equal(r.json.response.status.code, 403);
    assert.match(msg, /1 of 2 image\(s\) denied by policy prod/);
    assert.ok(msg.includes(bare), msg);
    assert.ok(msg.includes('spec.template.spec.containers[1].image'), msg);
    assert.match(
      msg,
      /rule provenance: no verified evidence of type https:\/\/slsa.dev\/provenance\/v1/,
    );
    assert.ok(!msg.includes(`- ${good}`), 'the good image is not listed as denied');
    assert.equal(r.json.response.patch, undefined);
  });

  for (const kind of [
    'Pod',
    'Deployment',
    'StatefulSet',
    'DaemonSet',
    'ReplicaSet',
    'ReplicationController',
    'Job',
    'CronJob',
  ]) {
    test(`${kind}: every container, initContainer and ephemeral container image is checked`, async () => {
      for (const [slot, parts] of [
        ['containers', { containers: [good, bare] }],
        ['initContainers', { containers: [good], initContainers: [bare] }],
        ['ephemeralContainers', { containers: [good], ephemeralContainers: [bare] }],
      ] as const) {
        const msg = deny(await admit(hook, review(workload(kind, parts))));
        assert.ok(msg.includes(`${slot}[`), `${kind} ${slot}: ${msg}`);
        assert.ok(msg.includes(bare), msg);
      }
      const ok = await admit(
        hook,
        review(workload(kind, { containers: [good], initContainers: [good2] })),
      );
      assert.equal(ok.json.response.allowed, true, ok.json.response.status.message);
    });
  }

  test('an unsigned image used in several places is checked once and the denial names every place', async () => {
    const r = await admit(
      hook,
      review(workload('Pod', { containers: [good, bare], initContainers: [bare] })),
    );
    const msg = deny(r);
    assert.match(msg, /^vouch: 1 of 2 image\(s\) denied/);
    assert.ok(msg.includes('spec.containers[1].image'), msg);
    assert.ok(msg.includes('spec.initContainers[0].image'), msg);
  });

  test('an ephemeral container added through pods/ephemeralcontainers is checked', async () => {
    const pod = workload('Pod', {
      containers: [good],
      ephemeralContainers: [`busybox@sha256:${BARE}`],
    });
    const msg = deny(await admit(hook, review(pod, { subResource: 'ephemeralcontainers' })));
    assert.ok(msg.includes('docker.io') || msg.includes('busybox'), msg);
    assert.match(msg, /ephemeralContainers\[0\]/);
  });

  test('an image volume (volumes[].image.reference) is checked like a container image', async () => {
    const pod = workload('Pod', { containers: [good] });
    (pod.spec as { volumes: unknown[] }).volumes = [{ name: 'data', image: { reference: bare } }];
    const msg = deny(await admit(hook, review(pod)));
    assert.match(msg, /volumes\[0\]\.image\.reference/);
  });

  test('a tag is denied when the policy requires digests, and the message says how to pin', async () => {
    const msg = deny(
      await admit(hook, review(workload('Pod', { containers: [`${REG}/app:1.0`] }))),
    );
    assert.match(msg, /not pinned by digest \(tag 1\.0\)/);
    assert.match(msg, /registry\.example\.com\/team\/app@sha256:/);
  });

  test('a bare name is a Docker Hub tag (latest) and is denied', async () => {
    const msg = deny(await admit(hook, review(workload('Pod', { containers: ['nginx'] }))));
    assert.match(msg, /tag latest/);
    assert.match(msg, /docker\.io\/library\/nginx@sha256/);
  });

  test('evidence signed by a key the policy does not trust denies', async () => {
    const msg = deny(
      await admit(hook, review(workload('Pod', { containers: [`${REG}/x@sha256:${FORGED}`] }))),
    );
    assert.match(msg, /rule provenance/);
    assert.match(msg, /1 of 1 bundle\(s\) rejected/);
  });

  test('evidence about another digest, indexed under this one, denies', async () => {
    const msg = deny(
      await admit(hook, review(workload('Pod', { containers: [`${REG}/x@sha256:${OTHER}`] }))),
    );
    assert.match(msg, /rule provenance: no verified evidence/);
    assert.match(msg, /rejected/);
  });

  test('a malformed image reference denies', async () => {
    const msg = deny(
      await admit(
        hook,
        review(workload('Pod', { containers: ['Registry.Example.com/UPPER/app@sha256:zz'] })),
      ),
    );
    assert.match(msg, /invalid/);
  });

  test('a container without an image denies (cannot know what would run)', async () => {
    const pod = workload('Pod', { containers: [good] });
    (pod.spec as { containers: Array<Record<string, unknown>> }).containers.push({ name: 'x' });
    const msg = deny(await admit(hook, review(pod)));
    assert.match(msg, /containers\[1\]\.image is missing/);
  });

  test('a kind vouch cannot read images from denies; DELETE and the scale subresource are allowed', async () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: {} };
    assert.match(deny(await admit(hook, review(cm))), /kind ConfigMap is not one vouch knows/);
    const del = await admit(
      hook,
      review(workload('Pod', { containers: [bare] }), { operation: 'DELETE' }),
    );
    assert.equal(del.json.response.allowed, true);
    const scale = await admit(
      hook,
      review(workload('Deployment', { containers: [bare] }), { subResource: 'scale' }),
    );
    assert.equal(scale.json.response.allowed, true);
  });

  test('one structured log line per decision, with uid, namespace, kind, images, digests, allowed, reasons, ms', async () => {
    const rv = review(workload('Deployment', { containers: [bare] }));
    await admit(hook, rv);
    const line = hook.logs.find((l) => l.uid === (rv.request as { uid: string }).uid);
    assert.ok(line);
    assert.equal(line.namespace, 'team-a');
    assert.equal(line.kind, 'apps/Deployment');
    assert.deepEqual(line.images, [bare]);
    assert.deepEqual(line.digests, [`sha256:${BARE}`]);
    assert.equal(line.allowed, false);
    assert.equal(line.reason, 'policy');
    assert.ok(Array.isArray(line.reasons) && (line.reasons as string[]).length > 0);
    assert.equal(typeof line.ms, 'number');
  });
});

describe('admission: malformed requests deny and the server keeps serving', () => {
  const stillServing = async () => {
    assert.equal((await https(hook, 'GET', '/healthz')).status, 200);
    const r = await admit(hook, review(workload('Pod', { containers: [good] })));
    assert.equal(r.json.response.allowed, true);
  };

  test('not JSON: 400', async () => {
    const r = await https(
      hook,
      'POST',
      '/validate',
      '{"apiVersion": "admission.k8s.io/v1", "kind": ',
    );
    assert.equal(r.status, 400);
    await stillServing();
  });

  test('wrong apiVersion or kind with a uid: a denial echoing the uid', async () => {
    for (const change of [{ apiVersion: 'admission.k8s.io/v1beta1' }, { kind: 'Pod' }]) {
      const rv = {
        ...review(workload('Pod', { containers: [good] }), {
          uid: 'a3f1c2de-0000-4000-8000-000000000001',
        }),
        ...change,
      };
      const r = await admit(hook, rv);
      assert.equal(r.status, 200);
      assert.equal(r.json.response.uid, 'a3f1c2de-0000-4000-8000-000000000001');
      assert.match(deny(r), /malformed AdmissionReview/);
    }
    await stillServing();
  });

  test('no request.uid, no request, an array, a number: 400', async () => {
    const rv = review(workload('Pod', { containers: [good] }));
    delete (rv.request as { uid?: string }).uid;
    for (const body of [
      rv,
      { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' },
      [],
      42,
    ]) {
      const r = await admit(hook, body);
      assert.equal(r.status, 400, JSON.stringify(body).slice(0, 80));
      assert.match(r.json.message, /uid|request|object/);
    }
    await stillServing();
  });

  test('a body over the limit: 413, not read into memory', async () => {
    const big = Buffer.alloc(4 * 1024 * 1024, 0x20);
    const r = await https(hook, 'POST', '/validate', big);
    assert.equal(r.status, 413);
    await stillServing();
  });

  test('a deeply nested or non-object spec denies with the field', async () => {
    const pod = workload('Pod', { containers: [good] });
    (pod.spec as Record<string, unknown>).containers = 'DEEP';
    // 100k levels of nesting, as text: JSON.stringify itself could not write it.
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const text = JSON.stringify(review(pod)).replace('"DEEP"', deep);
    const r = await https(hook, 'POST', '/validate', text);
    assert.match(deny(r), /spec\.containers\[0\]\.image is missing/);
    const cron = workload('CronJob', { containers: [good] });
    (cron.spec as Record<string, unknown>).jobTemplate = 'oops';
    assert.match(
      deny(await admit(hook, review(cron))),
      /object has no spec\.jobTemplate\.spec\.template\.spec/,
    );
    await stillServing();
  });

  test('wrong content type: 415 (or 400 for text)', async () => {
    const r = await https(hook, 'POST', '/validate', 'x', {
      'content-type': 'application/octet-stream',
    });
    assert.equal(r.status, 415);
    const text = await https(hook, 'POST', '/validate', 'x', { 'content-type': 'text/plain' });
    assert.equal(text.status, 400);
    await stillServing();
  });
});

describe('admission: modes and selection', () => {
  test('warn mode allows what enforce denies, with warnings and an audit annotation', async (t) => {
    const warn = await startWebhook(t, tls, {
      policy,
      source: new StoreEvidenceSource(storeDir),
      mode: 'warn',
    });
    const r = await admit(warn, review(workload('Deployment', { containers: [good, bare] })));
    const res = r.json.response;
    assert.equal(res.allowed, true);
    assert.equal(res.warnings.length, 1);
    assert.match(res.warnings[0], /warn mode.*would be denied.*rule provenance/);
    assert.ok(res.warnings[0].length <= 256);
    assert.equal(res.auditAnnotations.decision, 'deny');
    assert.equal(res.auditAnnotations.mode, 'warn');
    const ok = await admit(warn, review(workload('Pod', { containers: [good] })));
    assert.equal(ok.json.response.warnings, undefined);
  });

  test('excluded namespaces and unselected images are allowed without checks; others are not', async (t) => {
    const sel = await startWebhook(t, tls, {
      policy,
      source: new StoreEvidenceSource(storeDir),
      excludeNamespaces: ['kube-system'],
      images: ['registry.example.com/team/**'],
    });
    const sys = await admit(
      sel,
      review(workload('Pod', { containers: [bare] }), { namespace: 'kube-system' }),
    );
    assert.equal(sys.json.response.allowed, true);
    assert.equal(sys.json.response.auditAnnotations.reason, 'namespace-excluded');
    const other = await admit(
      sel,
      review(workload('Pod', { containers: [`quay.io/other/x@sha256:${BARE}`] })),
    );
    assert.equal(other.json.response.allowed, true);
    assert.equal(other.json.response.auditAnnotations.reason, 'not-selected');
    assert.match(
      deny(
        await admit(
          sel,
          review(workload('Pod', { containers: [`quay.io/other/x@sha256:${BARE}`, bare] })),
        ),
      ),
      /bare/,
    );
  });

  test('a long denial is truncated and says how much was left out', async () => {
    const many = Array.from(
      { length: 60 },
      (_, i) => `${REG}/bare-${'x'.repeat(60)}-${i}@sha256:${hexOf(`n${i}`)}`,
    );
    const msg = deny(await admit(hook, review(workload('Pod', { containers: many }))));
    assert.ok(msg.length <= 3000, `${msg.length}`);
    assert.match(msg, /more line\(s\) left out/);
  });
});

describe('admission: metrics', () => {
  test('/metrics counts decisions by result and reason, latency, cache and in-flight', async () => {
    const r = await https(hook, 'GET', '/metrics');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.match(
      r.text,
      /^vouch_admission_decisions_total\{reason="policy",result="deny"\} [1-9]/m,
    );
    assert.match(
      r.text,
      /^vouch_admission_decisions_total\{reason="verified",result="allow"\} [1-9]/m,
    );
    assert.match(r.text, /^vouch_admission_duration_seconds_bucket\{le="\+Inf"\} [1-9]/m);
    assert.match(r.text, /^vouch_admission_cache_hits_total [1-9]/m);
    assert.match(r.text, /^vouch_admission_in_flight 0$/m);
    assert.match(r.text, /^# TYPE vouch_admission_duration_seconds histogram$/m);
  });

  test('/readyz names the policy digest', async () => {
    const r = await https(hook, 'GET', '/readyz');
    assert.equal(r.status, 200);
    assert.equal(r.json.policy, policy.digest);
  });
});

describe('admission: a tampered store denies', () => {
  test('a bundle changed on disk after it was stored: evidence unavailable, denied', async (t) => {
    const copy = join(await tempDir(t), 'store');
    await cp(storeDir, copy, { recursive: true });
    const hex = GOOD;
    const entry = (await new DirectoryStore(copy).find(`sha256:${hex}`))[0];
    assert.ok(entry);
    const bundleDir = join(copy, 'bundles', 'sha256', entry.id.slice(0, 2));
    const file = join(
      bundleDir,
      (await readdir(bundleDir)).find((f) => f.startsWith(entry.id)) as string,
    );
    await writeFile(file, (await readFile(file, 'utf8')).replace('"', ' "'));
    const h = await startWebhook(t, tls, { policy, source: new StoreEvidenceSource(copy) });
    const msg = deny(await admit(h, review(workload('Pod', { containers: [good] }))));
    assert.match(msg, /unavailable: .*bundle bytes hash to/);
  });
});

describe('admission: a store that is not there denies as unavailable', () => {
  test('a missing store directory (volume not mounted, wrong path) is evidence-unavailable, not "no evidence"', async (t) => {
    const missing = join(await tempDir(t), 'not-mounted');
    const h = await startWebhook(t, tls, { policy, source: new StoreEvidenceSource(missing) });
    const r = await admit(h, review(workload('Pod', { containers: [good] })));
    const msg = deny(r);
    const response = (r.json as { response: { auditAnnotations: { reason: string } } }).response;
    assert.equal(response.auditAnnotations.reason, 'evidence-unavailable');
    assert.match(msg, /unavailable: .*not-mounted/);
    assert.doesNotMatch(msg, /no verified evidence/);
  });
});
