// The webhook against a real OCI registry (Debian's docker-registry 2.8, no
// referrers API: the tag-schema fallback), images copied in by skopeo and
// evidence attached with vouch's own OCI client. Also a registry that is
// down, and one that accepts connections and never answers.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { before, describe, test } from 'node:test';
import { pushEvidence, RegistryClient } from '../../src/oci/index.ts';
import type { Policy } from '../../src/policy/index.ts';
import { RegistryEvidenceSource } from '../../src/server/index.ts';
import {
  admit,
  fileContext,
  freePort,
  https,
  makePolicy,
  makeTls,
  provenanceBundle,
  pushImage,
  type Registry,
  review,
  startRegistry,
  startWebhook,
  type Tls,
  tempDir,
  workload,
} from './helpers.ts';

const suite = fileContext();

let dir: string;
let tls: Tls;
let registry: Registry;
let policy: Policy;
let v1: string;
let v2: string;
const warnings: string[] = [];
const source = () =>
  new RegistryEvidenceSource({
    insecure: true,
    auth: { kind: 'anonymous' },
    timeoutMs: 5000,
    warn: (m) => warnings.push(m),
  });

before(async () => {
  dir = await tempDir(suite);
  tls = await makeTls(dir);
  registry = await startRegistry(suite, dir);
  v1 = await pushImage(dir, registry, 'team/app', 'v1', 'version 1\n');
  v2 = await pushImage(dir, registry, 'team/app', 'v2', 'version 2 (never verified)\n');
  const client = new RegistryClient({
    insecure: true,
    auth: { kind: 'anonymous' },
    warn: () => {},
  });
  const [registryHost, port] = registry.host.split(':');
  assert.ok(registryHost && port);
  await pushEvidence(
    { registry: registry.host, repository: 'team/app', digest: v1 },
    await provenanceBundle(v1.slice('sha256:'.length)),
    client,
  );
  policy = await makePolicy({ requireDigest: false });
});

const msg = (r: { json: { response: { status: { message: string } } } }) =>
  r.json.response.status.message;

describe('admission with evidence from a real registry', () => {
  test('a digest with attached evidence is allowed; a second admission makes no registry request', async (t) => {
    const hook = await startWebhook(t, tls, { policy, source: source() });
    const pod = review(workload('Pod', { containers: [`${registry.host}/team/app@${v1}`] }));
    const first = await admit(hook, pod);
    assert.equal(first.json.response.allowed, true, msg(first));
    const second = await admit(hook, pod);
    assert.equal(second.json.response.allowed, true);
    assert.equal(hook.gate.metrics.sourceCalls.get({ op: 'fetch', outcome: 'ok' }), 1);
    assert.equal(hook.gate.metrics.cacheHits.get(), 1);
  });

  test('a tag is resolved once to its digest, and the message names the digest', async (t) => {
    const hook = await startWebhook(t, tls, { policy, source: source() });
    const r = await admit(
      hook,
      review(workload('Deployment', { containers: [`${registry.host}/team/app:v1`] })),
    );
    assert.equal(r.json.response.allowed, true, msg(r));
    assert.ok(msg(r).includes(`resolved to ${v1}`), msg(r));
    assert.equal(hook.gate.metrics.sourceCalls.get({ op: 'resolve', outcome: 'ok' }), 1);
  });

  test('a digest without evidence is denied; a tag moved after CI verification is denied, naming the new digest', async (t) => {
    const hook = await startWebhook(t, tls, { policy, source: source() });
    const bare = await admit(
      hook,
      review(workload('Pod', { containers: [`${registry.host}/team/app@${v2}`] })),
    );
    assert.equal(bare.json.response.allowed, false);
    assert.match(msg(bare), /rule provenance: no verified evidence/);

    /** Points the `moving` tag at the image tagged `from`, as a registry user would. */
    const moveTag = (from: string) =>
      execFileSync(
        'skopeo',
        [
          'copy',
          '--quiet',
          '--src-tls-verify=false',
          '--dest-tls-verify=false',
          `docker://${registry.host}/team/app:${from}`,
          `docker://${registry.host}/team/app:moving`,
        ],
        { stdio: 'pipe', env: { ...process.env, HOME: dir } },
      );
    // CI verified v1; then someone points the tag at other content.
    moveTag('v2');
    moveTag('v1');
    const before = await admit(
      hook,
      review(workload('Pod', { containers: [`${registry.host}/team/app:moving`] })),
    );
    assert.equal(before.json.response.allowed, true, msg(before));
    moveTag('v2');
    const moved = await admit(
      hook,
      review(workload('Pod', { containers: [`${registry.host}/team/app:moving`] })),
    );
    assert.equal(moved.json.response.allowed, false);
    assert.ok(msg(moved).includes(`resolved to ${v2}`), msg(moved));
  });

  test('a tag is denied when the policy requires digests, without asking the registry', async (t) => {
    const hook = await startWebhook(t, tls, { policy: await makePolicy(), source: source() });
    const r = await admit(
      hook,
      review(workload('Pod', { containers: [`${registry.host}/team/app:v1`] })),
    );
    assert.equal(r.json.response.allowed, false);
    assert.match(msg(r), /not pinned by digest/);
    assert.equal(hook.gate.metrics.sourceCalls.get({ op: 'resolve', outcome: 'ok' }), 0);
  });
});

describe('a registry that is down or hangs: denied, and the webhook keeps serving', () => {
  test('down (connection refused): denied with the reason', async (t) => {
    const port = await freePort();
    const hook = await startWebhook(t, tls, { policy, source: source() });
    const r = await admit(
      hook,
      review(workload('Pod', { containers: [`127.0.0.1:${port}/team/app@${v1}`] })),
    );
    assert.equal(r.json.response.allowed, false);
    assert.match(msg(r), /unavailable/);
    assert.equal(r.json.response.auditAnnotations.reason, 'evidence-unavailable');
  });

  test('hangs: denied when the budget runs out; a flood beyond maxInFlight is refused at once', async (t) => {
    const sockets = new Set<Socket>();
    const tarpit = createServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
    });
    await new Promise<void>((r) => tarpit.listen(0, '127.0.0.1', r));
    t.after(() => {
      for (const s of sockets) s.destroy();
      tarpit.close();
    });
    const address = tarpit.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const hook = await startWebhook(t, tls, {
      policy,
      source: source(),
      timeoutMs: 1500,
      maxInFlight: 2,
    });
    const image = (i: number) => `127.0.0.1:${port}/team/app${i}@${v1}`;
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        admit(hook, review(workload('Pod', { containers: [image(i)] }))),
      ),
    );
    const reasons = answers.map((a) => a.json.response.auditAnnotations.reason);
    for (const a of answers) assert.equal(a.json.response.allowed, false);
    assert.equal(reasons.filter((r) => r === 'timeout').length, 2, reasons.join());
    assert.equal(reasons.filter((r) => r === 'overloaded').length, 10, reasons.join());
    const timedOut = answers.find((a) => a.json.response.auditAnnotations.reason === 'timeout');
    assert.match(msg(timedOut as never), /not decided within the 1500 ms budget/);
    // Still serving: health, and a real decision against the working registry.
    assert.equal((await https(hook, 'GET', '/healthz')).status, 200);
    const ok = await admit(
      hook,
      review(workload('Pod', { containers: [`${registry.host}/team/app@${v1}`] })),
    );
    assert.equal(ok.json.response.allowed, true, msg(ok));
  });
});
