// Shared fixtures for the admission webhook tests (not itself a test file):
// TLS material made by openssl, signed evidence made with keys generated at
// test time, a real directory store, a real OCI registry (Debian's
// docker-registry) with images copied in by skopeo, and AdmissionReview
// bodies shaped like the Kubernetes API reference examples.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { gzipSync } from 'node:zlib';
import { PREDICATE_TYPES } from '../../src/core/predicates.ts';
import { makeStatement } from '../../src/core/statement.ts';
import type { Policy } from '../../src/policy/index.ts';
import { parsePolicy } from '../../src/policy/index.ts';
import {
  AdmissionGate,
  type AdmissionServer,
  createAdmissionServer,
  type EvidenceSource,
  type GateOptions,
} from '../../src/server/index.ts';
import { generateKeyPair, loadSigningKey, signStatement } from '../../src/sign/index.ts';

export type TestContext = { after: (fn: () => Promise<void> | void) => void };

/**
 * A context for fixtures a whole test file shares (made in its `before`): what
 * they register runs after all the file's tests, last registered first.
 */
export function fileContext(): TestContext {
  const cleanups: Array<() => Promise<void> | void> = [];
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  return { after: (fn) => cleanups.push(fn) };
}

export async function tempDir(t: TestContext, prefix = 'vouch-admission-'): Promise<string> {
  const dir = await realpath(await mkdtemp(join(tmpdir(), prefix)));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface Tls {
  ca: string;
  cert: string;
  key: string;
}

/** A CA and a server certificate for localhost / 127.0.0.1, made by openssl. */
export async function makeTls(dir: string): Promise<Tls> {
  const f = (n: string) => join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.crt'),
    '-days',
    '2',
    '-subj',
    '/CN=vouch test CA',
  );
  ssl(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    f('tls.key'),
    '-out',
    f('tls.csr'),
    '-subj',
    '/CN=vouch-webhook.vouch-system.svc',
  );
  await writeFile(
    f('ext.cnf'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1,DNS:vouch-webhook.vouch-system.svc\nextendedKeyUsage=serverAuth\n',
  );
  ssl(
    'x509',
    '-req',
    '-in',
    f('tls.csr'),
    '-CA',
    f('ca.crt'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-out',
    f('tls.crt'),
    '-days',
    '2',
    '-extfile',
    f('ext.cnf'),
  );
  return {
    ca: await readFile(f('ca.crt'), 'utf8'),
    cert: await readFile(f('tls.crt'), 'utf8'),
    key: await readFile(f('tls.key'), 'utf8'),
  };
}

export const alice = generateKeyPair('ecdsa-p256', undefined);
export const mallory = generateKeyPair('ecdsa-p256', undefined);

const indent = (pem: string) => pem.trim().replace(/\n/g, '\n        ');

/**
 * A policy trusting alice: provenance is required, with `maxAge` and any
 * further `rule` fields given (YAML lines such as `select: newest`).
 */
export async function makePolicy(
  options: { requireDigest?: boolean; maxAge?: string; rule?: readonly string[] } = {},
): Promise<Policy> {
  const text = `apiVersion: vouch.dev/policy/v1
kind: Policy
metadata:
  name: prod
requireDigest: ${options.requireDigest ?? true}
trust:
  signers:
    - name: alice
      key: |
        ${indent(alice.publicKeyPem)}
require:
  - name: provenance
    predicateType: slsaprovenance
${options.maxAge ? `    maxAge: ${options.maxAge}\n` : ''}${(options.rule ?? []).map((l) => `    ${l}\n`).join('')}`;
  const r = await parsePolicy(text, { source: 'prod.yaml' });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.policy;
}

/** A signed SLSA provenance bundle about `hex`, as bytes. */
export async function provenanceBundle(
  hex: string,
  options: { key?: { privateKeyPem: string }; finishedOn?: string; builderId?: string } = {},
): Promise<Buffer> {
  const st = makeStatement(
    [{ name: 'image', digest: { sha256: hex } }],
    PREDICATE_TYPES.slsaprovenance,
    {
      buildDefinition: { buildType: 'https://vouch.dev/build/v1', externalParameters: {} },
      runDetails: {
        builder: { id: options.builderId ?? 'https://ci.example/builder' },
        metadata: { finishedOn: options.finishedOn ?? new Date().toISOString() },
      },
    },
  );
  const b = await signStatement(st, {
    mode: 'key',
    key: loadSigningKey((options.key ?? alice).privateKeyPem, 'test'),
  });
  return Buffer.from(JSON.stringify(b));
}

export const hexOf = (s: string) => createHash('sha256').update(s).digest('hex');

export interface RunningWebhook {
  gate: AdmissionGate;
  app: AdmissionServer;
  port: number;
  ca: string;
  logs: Array<Record<string, unknown>>;
}

/** Starts the webhook over HTTPS on a free port; stopped after the test. */
export async function startWebhook(
  t: TestContext,
  tls: Tls,
  gateOptions: Partial<GateOptions> & { policy: Policy; source: EvidenceSource },
  serverOptions: { bodyLimit?: number } = {},
): Promise<RunningWebhook> {
  const logs: Array<Record<string, unknown>> = [];
  const gate = new AdmissionGate({
    mode: 'enforce',
    timeoutMs: 8000,
    maxInFlight: 64,
    log: (l) => logs.push(l),
    ...gateOptions,
  });
  const app = createAdmissionServer({ gate, tls, ...serverOptions });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { gate, app, port, ca: tls.ca, logs };
}

export interface HttpsResult {
  status: number;
  headers: Record<string, unknown>;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests assert on the JSON shape
  json: any;
}

/** One HTTPS request with the test CA pinned (no other root trusted). */
export function https(
  hook: { port: number; ca: string },
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = body === undefined
    ? {}
    : { 'content-type': 'application/json' },
): Promise<HttpsResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: hook.port,
        method,
        path,
        ca: hook.ca,
        servername: 'localhost',
        headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export function admit(hook: { port: number; ca: string }, review: unknown): Promise<HttpsResult> {
  return https(hook, 'POST', '/validate', JSON.stringify(review));
}

const USER_INFO = {
  username: 'admin',
  uid: '014fbff9a07c',
  groups: ['system:authenticated', 'my-admin-group'],
};

const GROUPS: Record<string, { group: string; resource: string }> = {
  Pod: { group: '', resource: 'pods' },
  Deployment: { group: 'apps', resource: 'deployments' },
  StatefulSet: { group: 'apps', resource: 'statefulsets' },
  DaemonSet: { group: 'apps', resource: 'daemonsets' },
  ReplicaSet: { group: 'apps', resource: 'replicasets' },
  ReplicationController: { group: '', resource: 'replicationcontrollers' },
  Job: { group: 'batch', resource: 'jobs' },
  CronJob: { group: 'batch', resource: 'cronjobs' },
};

export interface PodSpecParts {
  containers?: readonly string[];
  initContainers?: readonly string[];
  ephemeralContainers?: readonly string[];
}

function podSpec(p: PodSpecParts): Record<string, unknown> {
  const list = (images: readonly string[], prefix: string) =>
    images.map((image, i) => ({ name: `${prefix}${i}`, image, resources: {} }));
  const spec: Record<string, unknown> = {
    containers: list(p.containers ?? [], 'c'),
    restartPolicy: 'Always',
  };
  if (p.initContainers) spec.initContainers = list(p.initContainers, 'init');
  if (p.ephemeralContainers) spec.ephemeralContainers = list(p.ephemeralContainers, 'debug');
  return spec;
}

/** The object of the given kind with the Pod spec at the place that kind keeps it. */
export function workload(kind: string, parts: PodSpecParts, name = 'web'): Record<string, unknown> {
  const { group } = GROUPS[kind] ?? { group: '' };
  const apiVersion = group ? `${group}/v1` : 'v1';
  const metadata = { name, namespace: 'team-a', labels: { app: name } };
  const template = { metadata: { labels: { app: name } }, spec: podSpec(parts) };
  switch (kind) {
    case 'Pod':
      return { apiVersion, kind, metadata, spec: podSpec(parts) };
    case 'CronJob':
      return {
        apiVersion,
        kind,
        metadata,
        spec: {
          schedule: '*/5 * * * *',
          jobTemplate: {
            spec: {
              template: { ...template, spec: { ...podSpec(parts), restartPolicy: 'OnFailure' } },
            },
          },
        },
      };
    case 'Job':
      return {
        apiVersion,
        kind,
        metadata,
        spec: { template: { ...template, spec: { ...podSpec(parts), restartPolicy: 'Never' } } },
      };
    case 'ReplicationController':
      return {
        apiVersion,
        kind,
        metadata,
        spec: { replicas: 1, selector: { app: name }, template },
      };
    default:
      return {
        apiVersion,
        kind,
        metadata,
        spec: { replicas: 1, selector: { matchLabels: { app: name } }, template },
      };
  }
}

/**
 * An AdmissionReview v1 request, shaped like the example in the Kubernetes
 * reference ("Dynamic Admission Control", request section).
 */
export function review(
  object: Record<string, unknown>,
  options: { uid?: string; operation?: string; namespace?: string; subResource?: string } = {},
): Record<string, unknown> {
  const kind = String(object.kind);
  const { group, resource } = GROUPS[kind] ?? { group: '', resource: `${kind.toLowerCase()}s` };
  const gvk = { group, version: 'v1', kind };
  const gvr = { group, version: 'v1', resource };
  const namespace = options.namespace ?? 'team-a';
  const request: Record<string, unknown> = {
    uid: options.uid ?? randomUUID(),
    kind: gvk,
    resource: gvr,
    requestKind: gvk,
    requestResource: gvr,
    name: (object.metadata as { name: string }).name,
    namespace,
    operation: options.operation ?? 'CREATE',
    userInfo: USER_INFO,
    object: { ...object, metadata: { ...(object.metadata as object), namespace } },
    oldObject: null,
    dryRun: false,
    options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
  };
  if (options.subResource) {
    request.subResource = options.subResource;
    request.requestSubResource = options.subResource;
    request.operation = options.operation ?? 'UPDATE';
    request.options = { apiVersion: 'meta.k8s.io/v1', kind: 'UpdateOptions' };
  }
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request };
}

/** A port nothing listens on (bound, then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface Registry {
  host: string;
  port: number;
  process: ChildProcess;
}

/** Debian's docker-registry (distribution 2.8) on a free localhost port, stopped by PID after the test. */
export async function startRegistry(t: TestContext, dir: string): Promise<Registry> {
  const port = await freePort();
  await mkdir(join(dir, 'data'), { recursive: true });
  const config = join(dir, 'registry.yml');
  await writeFile(
    config,
    `version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: ${join(dir, 'data')}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
`,
  );
  const child = spawn('docker-registry', ['serve', config], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGTERM');
  });
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/v2/`);
      if (r.status === 200) return { host: `127.0.0.1:${port}`, port, process: child };
    } catch {
      // not up yet
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`docker-registry did not start: ${stderr}`);
}

/**
 * Writes a one-layer OCI image layout (the layer holds `content`) and copies
 * it to `registry/repo:tag` with skopeo. Returns the manifest digest.
 */
export async function pushImage(
  dir: string,
  registry: Registry,
  repo: string,
  tag: string,
  content: string,
): Promise<string> {
  const layout = join(dir, `layout-${hexOf(content).slice(0, 12)}`);
  const blobs = join(layout, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const put = async (bytes: Buffer) => {
    const hex = createHash('sha256').update(bytes).digest('hex');
    await writeFile(join(blobs, hex), bytes);
    return { digest: `sha256:${hex}`, size: bytes.length };
  };
  const src = join(layout, 'src');
  await mkdir(src);
  await writeFile(join(src, 'app.txt'), content);
  const tar = execFileSync('tar', [
    '--sort=name',
    '--mtime=@0',
    '--owner=0',
    '--group=0',
    '-C',
    src,
    '-cf',
    '-',
    'app.txt',
  ]);
  await rm(src, { recursive: true });
  const diffId = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
  const layer = await put(gzipSync(tar));
  const config = await put(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: {},
        rootfs: { type: 'layers', diff_ids: [diffId] },
      }),
    ),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
    }),
  );
  const m = await put(manifest);
  await writeFile(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...m,
          annotations: { 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
  );
  execFileSync(
    'skopeo',
    [
      'copy',
      '--quiet',
      '--preserve-digests',
      '--dest-tls-verify=false',
      `oci:${layout}:${tag}`,
      `docker://${registry.host}/${repo}:${tag}`,
    ],
    { stdio: 'pipe', env: { ...process.env, HOME: dir } },
  );
  return m.digest;
}
