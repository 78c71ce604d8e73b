import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { PREDICATE_TYPES } from '../src/core/predicates.ts';
import { makeStatement } from '../src/core/statement.ts';
import { parsePolicy } from '../src/policy/index.ts';
import { AdmissionGate, createAdmissionServer, StoreEvidenceSource } from '../src/server/index.ts';
import { generateKeyPair, loadSigningKey, signStatement } from '../src/sign/index.ts';
import { DirectoryStore } from '../src/store/index.ts';
import { BenchFailure, type Benchmark, type BenchOptions, judge } from './lib.ts';

const CONCURRENCY = 8;

/**
 * Admission latency under a bounded closed-loop load (8 concurrent keep-alive
 * HTTPS connections from a worker thread) on localhost, three ways in the
 * same Fastify server and the same run:
 *   bare     — POST /bare: the same AdmissionReview body parsed and a fixed
 *              allow returned (the framework + TLS floor, the peer);
 *   cached   — POST /validate for a digest whose verdict is cached;
 *   uncached — POST /validate, a new digest every request: evidence read from
 *              a directory store, signature verified, policy evaluated.
 * Target: cached p99 within 2x of bare p99. Evidence-source round trips per
 * admission come from the webhook's own counters: 0 when cached.
 */
export const benchmark: Benchmark = {
  name: 'admission',
  async run(options: BenchOptions) {
    const n = options.quick ? 400 : 3000;
    const base = {
      name: 'admission',
      input: `${n} AdmissionReviews per side, ${CONCURRENCY} concurrent`,
      peer: 'bare Fastify HTTPS endpoint, same server',
      maxRatio: 2,
      target: 'cached p99 / bare p99 <= 2; 0 round trips when cached',
    };
    const dir = await mkdtemp(join(tmpdir(), 'vouch-bench-admission-'));
    try {
      const ssl = (...a: string[]) => execFileSync('openssl', a, { stdio: 'pipe' });
      ssl(
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-keyout',
        join(dir, 'tls.key'),
        '-out',
        join(dir, 'tls.crt'),
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost',
      );
      const tls = {
        cert: await readFile(join(dir, 'tls.crt'), 'utf8'),
        key: await readFile(join(dir, 'tls.key'), 'utf8'),
      };
      const key = generateKeyPair('ecdsa-p256', undefined);
      const policyText = `apiVersion: vouch.dev/policy/v1
kind: Policy
metadata:
  name: bench
trust:
  signers:
    - name: ci
      key: |
        ${key.publicKeyPem.trim().replace(/\n/g, '\n        ')}
require:
  - name: provenance
    predicateType: slsaprovenance
`;
      const parsed = await parsePolicy(policyText, { source: 'bench.yaml' });
      if (!parsed.ok) throw new BenchFailure('policy does not parse');
      // One digest for the cached side, one per request (per run) for the uncached side.
      const unc = options.runs * n + n;
      options.log(`  signing and storing ${unc + 1} bundles`);
      const store = new DirectoryStore(join(dir, 'store'));
      const signer = loadSigningKey(key.privateKeyPem, 'bench');
      const digests: string[] = [];
      for (let i = 0; i <= unc; i++) {
        const hex = Buffer.from(`${i}`.padStart(32, '0')).toString('hex');
        const st = makeStatement(
          [{ name: 'image', digest: { sha256: hex } }],
          PREDICATE_TYPES.slsaprovenance,
          {
            buildDefinition: { buildType: 'https://vouch.dev/build/v1', externalParameters: {} },
            runDetails: { builder: { id: 'https://ci.example/builder' } },
          },
        );
        await store.put(
          Buffer.from(JSON.stringify(await signStatement(st, { mode: 'key', key: signer }))),
        );
        digests.push(`sha256:${hex}`);
      }
      const gate = new AdmissionGate({
        policy: parsed.policy,
        source: new StoreEvidenceSource(join(dir, 'store')),
        mode: 'enforce',
        timeoutMs: 8000,
        maxInFlight: 64,
      });
      const app = createAdmissionServer({ gate, tls });
      const fixed = (uid: string) => ({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: { uid, allowed: true },
      });
      app.post('/bare', async (request) => {
        const body = request.body as { request?: { uid?: string } };
        return fixed(String(body?.request?.uid ?? ''));
      });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const review = (i: number, digest: string) =>
        JSON.stringify({
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          request: {
            uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
            kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
            resource: { group: 'apps', version: 'v1', resource: 'deployments' },
            name: 'web',
            namespace: 'team-a',
            operation: 'CREATE',
            userInfo: { username: 'admin', groups: ['system:authenticated'] },
            object: {
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              metadata: { name: 'web', namespace: 'team-a' },
              spec: {
                replicas: 2,
                selector: { matchLabels: { app: 'web' } },
                template: {
                  metadata: { labels: { app: 'web' } },
                  spec: {
                    containers: [
                      {
                        name: 'web',
                        image: `registry.example.com/team/web@${digest}`,
                        resources: {},
                      },
                    ],
                  },
                },
              },
            },
            oldObject: null,
            dryRun: false,
          },
        });
      const load = (path: string, bodies: string[]) =>
        new Promise<{ latencies: number[]; denied: number; wallMs: number }>((resolve, reject) => {
          const w = new Worker(new URL('./admission-load.ts', import.meta.url), {
            workerData: { port, ca: tls.cert, path, bodies, concurrency: CONCURRENCY },
          });
          w.once('message', resolve);
          w.once('error', reject);
        });
      const pct = (xs: number[], p: number) => {
        const s = [...xs].sort((a, b) => a - b);
        return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
      };
      const calls = () =>
        gate.metrics.sourceCalls.get({ op: 'fetch', outcome: 'ok' }) +
        gate.metrics.sourceCalls.get({ op: 'resolve', outcome: 'ok' });
      const cachedDigest = digests[0] as string;
      const cachedBodies = Array.from({ length: n }, (_, i) => review(i, cachedDigest));
      // Warm-up, untimed: connections, JIT, and the one verdict the cached side uses.
      await load('/bare', cachedBodies.slice(0, 200));
      await load('/validate', cachedBodies.slice(0, 200));
      const best = {
        bare: Number.POSITIVE_INFINITY,
        cached: Number.POSITIVE_INFINITY,
        bareP50: 0,
        cachedP50: 0,
      };
      let uncachedP50 = Number.POSITIVE_INFINITY;
      let uncachedP99 = Number.POSITIVE_INFINITY;
      let cachedTrips = 0;
      let uncachedTrips = 0;
      let cursor = 1;
      for (let r = 0; r < options.runs; r++) {
        const bare = await load('/bare', cachedBodies);
        const before = calls();
        const cached = await load('/validate', cachedBodies);
        cachedTrips = (calls() - before) / n;
        if (cached.denied > 0) throw new BenchFailure(`${cached.denied} cached admissions denied`);
        const fresh = digests.slice(cursor, cursor + n).map((d, i) => review(i, d));
        cursor += n;
        const b2 = calls();
        const uncached = await load('/validate', fresh);
        uncachedTrips = (calls() - b2) / n;
        if (uncached.denied > 0)
          throw new BenchFailure(`${uncached.denied} uncached admissions denied`);
        const [bp99, cp99] = [pct(bare.latencies, 99), pct(cached.latencies, 99)];
        options.log(
          `  run ${r + 1}/${options.runs}: p50/p99 ms bare ${pct(bare.latencies, 50).toFixed(2)}/${bp99.toFixed(2)}, cached ${pct(cached.latencies, 50).toFixed(2)}/${cp99.toFixed(2)}, uncached ${pct(uncached.latencies, 50).toFixed(2)}/${pct(uncached.latencies, 99).toFixed(2)}`,
        );
        if (bp99 < best.bare) {
          best.bare = bp99;
          best.bareP50 = pct(bare.latencies, 50);
        }
        if (cp99 < best.cached) {
          best.cached = cp99;
          best.cachedP50 = pct(cached.latencies, 50);
        }
        uncachedP50 = Math.min(uncachedP50, pct(uncached.latencies, 50));
        uncachedP99 = Math.min(uncachedP99, pct(uncached.latencies, 99));
      }
      await app.close();
      if (cachedTrips !== 0)
        throw new BenchFailure(`cached admissions made ${cachedTrips} evidence requests each`);
      const note = `p50/p99 ms: bare ${best.bareP50.toFixed(2)}/${best.bare.toFixed(2)}, cached ${best.cachedP50.toFixed(2)}/${best.cached.toFixed(2)}, uncached ${uncachedP50.toFixed(2)}/${uncachedP99.toFixed(2)}; evidence round trips per admission: cached ${cachedTrips}, uncached ${uncachedTrips}`;
      return judge(base, best.cached, best.bare, note);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
