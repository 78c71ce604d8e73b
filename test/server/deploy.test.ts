// The manifests in deploy/ are what a cluster admin applies: each parses,
// carries the fields that make the webhook fail closed, and the Deployment
// passes vouch's own Kubernetes scan rules.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { serveCommand } from '../../src/cli/commands/serve.ts';
import { parsePolicy } from '../../src/policy/index.ts';
import { kubernetesRuleSet } from '../../src/scan/rules/kubernetes/index.ts';
import { scanText } from '../../src/scan/rules/testing.ts';
import { GATED_KINDS } from '../../src/server/admission/index.ts';
import { REPO_ROOT } from '../cli/helpers.ts';
import { tempDir } from './helpers.ts';

const DEPLOY = join(REPO_ROOT, 'deploy');
// biome-ignore lint/suspicious/noExplicitAny: manifests are asserted on field by field
type Obj = any;

async function manifests(): Promise<Map<string, Obj[]>> {
  const out = new Map<string, Obj[]>();
  for (const f of (await readdir(DEPLOY)).filter((f) => f.endsWith('.yaml')).sort()) {
    const docs = parseAllDocuments(await readFile(join(DEPLOY, f), 'utf8'));
    for (const d of docs) assert.deepEqual(d.errors, [], f);
    out.set(
      f,
      docs.map((d) => d.toJS()),
    );
  }
  return out;
}

const all = async () => [...(await manifests()).values()].flat();
const byKind = async (kind: string) => (await all()).filter((o) => o.kind === kind);

const RESOURCES: Record<string, string> = {
  '/Pod': 'pods',
  'apps/Deployment': 'deployments',
  'apps/StatefulSet': 'statefulsets',
  'apps/DaemonSet': 'daemonsets',
  'apps/ReplicaSet': 'replicasets',
  '/ReplicationController': 'replicationcontrollers',
  'batch/Job': 'jobs',
  'batch/CronJob': 'cronjobs',
};

describe('deploy/ manifests', () => {
  test('every file parses and every object has apiVersion, kind and metadata.name', async () => {
    const files = await manifests();
    assert.ok(files.size >= 7, [...files.keys()].join());
    for (const [file, objs] of files)
      for (const o of objs) {
        assert.equal(typeof o.apiVersion, 'string', file);
        assert.equal(typeof o.kind, 'string', file);
        if (o.kind !== 'Kustomization') assert.equal(typeof o.metadata?.name, 'string', file);
      }
    const kustomization = files.get('kustomization.yaml')?.[0];
    const listed = new Set(kustomization.resources);
    for (const f of files.keys())
      if (f !== 'kustomization.yaml') assert.ok(listed.has(f), `${f} not in kustomization`);
  });

  test('the ValidatingWebhookConfiguration fails closed and covers pods and every workload kind', async () => {
    const [config] = await byKind('ValidatingWebhookConfiguration');
    assert.equal(config.apiVersion, 'admissionregistration.k8s.io/v1');
    assert.equal(
      config.metadata.annotations['cert-manager.io/inject-ca-from'],
      'vouch-system/vouch-webhook',
    );
    const [hook] = config.webhooks;
    assert.equal(hook.failurePolicy, 'Fail');
    assert.equal(hook.sideEffects, 'None');
    assert.equal(hook.timeoutSeconds, 10);
    assert.deepEqual(hook.admissionReviewVersions, ['v1']);
    assert.equal(hook.clientConfig.service.path, '/validate');
    const excluded = hook.namespaceSelector.matchExpressions.find(
      (e: Obj) => e.key === 'kubernetes.io/metadata.name',
    );
    assert.equal(excluded.operator, 'NotIn');
    assert.ok(excluded.values.includes('kube-system') && excluded.values.includes('vouch-system'));
    for (const kind of GATED_KINDS) {
      const group = kind.split('/')[0];
      const resource = RESOURCES[kind];
      const rule = hook.rules.find(
        (r: Obj) => r.apiGroups.includes(group) && r.resources.includes(resource),
      );
      assert.ok(rule, `no rule for ${kind}`);
      assert.deepEqual([...rule.operations].sort(), ['CREATE', 'UPDATE']);
    }
    assert.ok(hook.rules.some((r: Obj) => r.resources.includes('pods/ephemeralcontainers')));
  });

  test('the Deployment is restricted, has resources and probes, and passes vouch scan k8s rules', async () => {
    const [d] = await byKind('Deployment');
    const pod = d.spec.template.spec;
    assert.equal(pod.automountServiceAccountToken, false);
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
    const [c] = pod.containers;
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
    assert.ok(c.resources.limits.cpu && c.resources.limits.memory && c.resources.requests.memory);
    assert.equal(c.livenessProbe.httpGet.scheme, 'HTTPS');
    assert.equal(c.readinessProbe.httpGet.path, '/readyz');
    assert.match(c.image, /@sha256:[0-9a-f]{64}$/);
    const text = await readFile(join(DEPLOY, 'deployment.yaml'), 'utf8');
    const findings = scanText(kubernetesRuleSet, text, 'deploy/deployment.yaml');
    assert.deepEqual(
      findings.map((f) => `${f.ruleId}: ${f.message}`),
      [],
    );
  });

  test("the Deployment's args are vouch serve flags, with a budget below the webhook timeout", async () => {
    const [d] = await byKind('Deployment');
    const args: string[] = d.spec.template.spec.containers[0].args;
    assert.equal(args[0], 'serve');
    for (const a of args.slice(1)) {
      const flag = a.split('=')[0] as string;
      assert.ok(serveCommand.help.includes(flag), `${flag} is not a vouch serve flag`);
    }
    const timeout = Number(args.find((a) => a.startsWith('--timeout-ms='))?.split('=')[1]);
    const [config] = await byKind('ValidatingWebhookConfiguration');
    assert.ok(timeout < config.webhooks[0].timeoutSeconds * 1000);
    const secret = d.spec.template.spec.volumes.find((v: Obj) => v.name === 'tls').secret
      .secretName;
    const [cert] = await byKind('Certificate');
    assert.equal(cert.spec.secretName, secret);
    const [svc] = await byKind('Service');
    assert.ok(cert.spec.dnsNames.includes(`${svc.metadata.name}.${svc.metadata.namespace}.svc`));
  });

  test('the example policy in the ConfigMap is a valid vouch policy', async () => {
    const [cm] = await byKind('ConfigMap');
    const r = await parsePolicy(cm.data['policy.yaml'], { source: 'deploy/policy.yaml' });
    assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
    assert.equal(r.policy.requireDigest, true);
  });

  test('gen-certs.sh makes a serving certificate for the Service name, signed by its CA', async (t) => {
    const dir = await tempDir(t);
    execFileSync('sh', [join(DEPLOY, 'gen-certs.sh'), '--out', dir], { stdio: 'pipe' });
    const ca = new X509Certificate(await readFile(join(dir, 'ca.crt')));
    const cert = new X509Certificate(await readFile(join(dir, 'tls.crt')));
    assert.ok(cert.verify(ca.publicKey));
    assert.match(cert.subjectAltName ?? '', /DNS:vouch-webhook\.vouch-system\.svc/);
  });
});
