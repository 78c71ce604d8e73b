import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVouchError } from '../../../core/errors.ts';
import { scanText, where } from '../testing.ts';
import { kubernetesRuleSet as set } from './index.ts';

const DIGEST = '@sha256:0000000000000000000000000000000000000000000000000000000000000000';

/** A Deployment that passes every rule; `extra` lines are spliced into the container or pod. */
function deployment(
  opts: {
    pod?: string[];
    container?: string[];
    podSc?: string[];
    sc?: string[];
    image?: string;
  } = {},
): string {
  return [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    '  name: web',
    'spec:',
    '  template:',
    '    spec:',
    '      automountServiceAccountToken: false',
    ...(opts.pod ?? []).map((l) => `      ${l}`),
    '      securityContext:',
    '        runAsNonRoot: true',
    '        seccompProfile:',
    '          type: RuntimeDefault',
    ...(opts.podSc ?? []).map((l) => `        ${l}`),
    '      containers:',
    '        - name: app',
    `          image: ${opts.image ?? `nginx:1.27${DIGEST}`}`,
    ...(opts.container ?? []).map((l) => `          ${l}`),
    '          resources:',
    '            limits: { cpu: 500m, memory: 128Mi }',
    '          securityContext:',
    '            allowPrivilegeEscalation: false',
    '            capabilities:',
    '              drop: [ALL]',
    ...(opts.sc ?? []).map((l) => `            ${l}`),
  ].join('\n');
}
const scan = (t: string) => where(scanText(set, t, 'k.yaml'));

test('a hardened Deployment has no findings', () => {
  assert.deepEqual(scan(deployment()), []);
});

test('matches manifests by content, not workflows or Helm templates', () => {
  assert.ok(set.matches('deploy/app.yaml', 'apiVersion: v1\nkind: Pod\n'));
  assert.ok(
    set.matches('-', '---\n# Source: chart/templates/x.yaml\napiVersion: v1\nkind: Service\n'),
  );
  assert.ok(!set.matches('values.yaml', 'replicas: 1\n'));
  assert.ok(
    !set.matches(
      'chart/templates/dep.yaml',
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n',
    ),
  );
  assert.ok(!set.matches('README.md', 'apiVersion: v1\nkind: Pod\n'));
});

test('PSS baseline controls, each at its own line', () => {
  assert.deepEqual(scan(deployment({ pod: ['hostNetwork: true', 'hostPID: false'] })), [
    'k8s/pss-host-namespaces@9',
  ]);
  assert.deepEqual(scan(deployment({ sc: ['privileged: true'] })), ['k8s/pss-privileged@22']);
  assert.deepEqual(scan(deployment({ sc: ['procMount: Unmasked'] })), ['k8s/pss-proc-mount@22']);
  assert.deepEqual(scan(deployment({ sc: ['windowsOptions: { hostProcess: true }'] })), [
    'k8s/pss-host-process@22',
  ]);
  assert.deepEqual(
    scan(deployment({ container: ['ports: [{ containerPort: 80, hostPort: 8080 }]'] })),
    ['k8s/pss-host-ports@16'],
  );
  assert.deepEqual(scan(deployment({ container: ['ports: [{ containerPort: 80 }]'] })), []);
  assert.deepEqual(
    scan(
      deployment({
        pod: ['volumes:', '  - name: sock', '    hostPath: { path: /var/run/docker.sock }'],
      }),
    ),
    ['k8s/pss-host-path@11'],
  );
  assert.deepEqual(
    scan(
      deployment({
        podSc: [
          'sysctls: [{ name: kernel.msgmax, value: "1" }, { name: net.ipv4.tcp_syncookies, value: "1" }]',
        ],
      }),
    ),
    ['k8s/pss-sysctls@13'],
  );
  assert.deepEqual(scan(deployment({ sc: ['seLinuxOptions: { type: spc_t }'] })), [
    'k8s/pss-selinux@22',
  ]);
  assert.deepEqual(scan(deployment({ sc: ['seLinuxOptions: { type: container_t }'] })), []);
  assert.deepEqual(scan(deployment({ sc: ['appArmorProfile: { type: Unconfined }'] })), [
    'k8s/pss-apparmor@22',
  ]);
  assert.deepEqual(scan(deployment({ sc: ['appArmorProfile: { type: RuntimeDefault }'] })), []);
  assert.deepEqual(scan(deployment({ sc: ['seccompProfile: { type: Unconfined }'] })), [
    'k8s/pss-seccomp@22',
  ]);
});

test('capabilities: baseline add is high, restricted add medium, NET_BIND_SERVICE allowed', () => {
  const fs = scanText(
    set,
    deployment({ sc: ['  add: [SYS_ADMIN, CHOWN, NET_BIND_SERVICE]'] }),
    'k.yaml',
  );
  assert.deepEqual(
    fs.map((f) => [f.ruleId, f.severity]),
    [
      ['k8s/pss-capabilities-added', 'high'],
      ['k8s/pss-capabilities-added', 'medium'],
    ],
  );
  const noDrop = deployment().replace('              drop: [ALL]', '              drop: [NET_RAW]');
  assert.deepEqual(scan(noDrop), ['k8s/pss-capabilities-drop-all@20']);
});

test('PSS restricted: pod-level setting counts; reported once at the pod when nothing sets it', () => {
  const none = deployment().replace('        runAsNonRoot: true\n', '');
  assert.deepEqual(scan(none), ['k8s/pss-run-as-non-root@9']);
  const override = deployment({ sc: ['runAsNonRoot: false'] });
  assert.deepEqual(scan(override), ['k8s/pss-run-as-non-root@14']);
  assert.deepEqual(scan(deployment({ podSc: ['runAsUser: 0'] })), ['k8s/pss-run-as-user-root@13']);
  assert.deepEqual(
    scan(deployment().replace('            allowPrivilegeEscalation: false\n', '')),
    ['k8s/pss-privilege-escalation@14'],
  );
  assert.deepEqual(
    scan(
      deployment({
        pod: [
          'volumes: [{ name: n, nfs: { server: s, path: / } }, { name: c, configMap: { name: x } }]',
        ],
      }),
    ),
    ['k8s/pss-volume-types@9'],
  );
});

test('images, limits, service account token', () => {
  assert.deepEqual(scan(deployment({ image: 'nginx' })), ['k8s/image-latest-tag@15']);
  assert.deepEqual(scan(deployment({ image: 'nginx:1.27' })), ['k8s/image-not-pinned@15']);
  assert.deepEqual(
    scan(
      deployment().replace(
        '            limits: { cpu: 500m, memory: 128Mi }',
        '            limits: { cpu: 500m }',
      ),
    ),
    ['k8s/missing-resource-limits@16'],
  );
  const auto = deployment().replace(
    '      automountServiceAccountToken: false\n',
    '      serviceAccountName: app\n',
  );
  assert.deepEqual(scan(auto), ['k8s/automount-service-account-token@8']);
  assert.deepEqual(
    scan(
      `apiVersion: v1\nkind: ServiceAccount\nmetadata: { name: app }\nautomountServiceAccountToken: false\n---\n${auto}`,
    ),
    [],
  );
});

test('every workload kind is read: CronJob, Pod, List items, initContainers', () => {
  const cron = `apiVersion: batch/v1\nkind: CronJob\nmetadata: { name: c }\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          hostIPC: true\n          containers: []\n`;
  assert.deepEqual(
    scan(cron).filter((x) => x.includes('host')),
    ['k8s/pss-host-namespaces@9'],
  );
  const list = `apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Pod\n    metadata: { name: p }\n    spec:\n      initContainers:\n        - name: init\n          image: busybox\n          securityContext: { privileged: true }\n      containers: []\n`;
  assert.deepEqual(where(scanText(set, list, 'l.yaml'), 'k8s/pss-privileged'), [
    'k8s/pss-privileged@11',
  ]);
});

test('multi-document streams keep absolute line numbers', () => {
  const s = `---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\n---\n# Source: a\n${deployment({ sc: ['privileged: true'] })}\n---\n${deployment({ pod: ['hostPID: true'] })}\n`;
  const fs = scanText(set, s, 's.yaml');
  assert.deepEqual(where(fs, 'k8s/pss-privileged'), ['k8s/pss-privileged@28']);
  assert.deepEqual(where(fs, 'k8s/pss-host-namespaces'), ['k8s/pss-host-namespaces@38']);
  assert.equal(fs.find((f) => f.ruleId === 'k8s/pss-privileged')?.snippet, 'privileged: true');
});

test('RBAC: wildcard, secrets, escalate/bind/impersonate', () => {
  const role = (kind: string, rules: string) =>
    `apiVersion: rbac.authorization.k8s.io/v1\nkind: ${kind}\nmetadata: { name: r }\nrules:\n${rules}`;
  assert.deepEqual(
    scan(role('ClusterRole', '  - apiGroups: ["*"]\n    resources: ["*"]\n    verbs: ["*"]\n')),
    ['k8s/rbac-wildcard@5'],
  );
  const sec = scanText(
    set,
    role('Role', '  - apiGroups: [""]\n    resources: [secrets]\n    verbs: [get, list]\n'),
    'r.yaml',
  );
  assert.deepEqual(
    sec.map((f) => [f.ruleId, f.line, f.severity]),
    [['k8s/rbac-secrets-access', 5, 'medium']],
  );
  assert.deepEqual(
    scan(
      role(
        'Role',
        '  - apiGroups: [""]\n    resources: [secrets]\n    resourceNames: [tls]\n    verbs: [get]\n',
      ),
    ),
    [],
  );
  assert.deepEqual(
    scan(
      role(
        'ClusterRole',
        '  - apiGroups: [rbac.authorization.k8s.io]\n    resources: [clusterroles]\n    verbs: [bind, escalate]\n  - apiGroups: [""]\n    resources: [users]\n    verbs: [impersonate]\n',
      ),
    ),
    ['k8s/rbac-escalation-verbs@5', 'k8s/rbac-escalation-verbs@8'],
  );
  assert.deepEqual(
    scan(role('Role', '  - apiGroups: [""]\n    resources: [endpoints]\n    verbs: [get]\n')),
    [],
  );
});

test('YAML bombs and broken YAML are SCAN_PARSE_ERROR naming the file', () => {
  let bomb = 'apiVersion: v1\nkind: ConfigMap\na: &a ["x","x","x","x","x","x","x","x","x","x"]\n';
  for (let i = 1; i < 9; i++) {
    const p = String.fromCharCode(96 + i);
    bomb += `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${p}`).join(',')}]\n`;
  }
  for (const t of [bomb, 'apiVersion: v1\nkind: Pod\nspec: [unclosed\n', '- just\n- a list\n'])
    assert.throws(
      () => set.parse(t, 'm.yaml'),
      (e) =>
        isVouchError(e) &&
        e.code === 'SCAN_PARSE_ERROR' &&
        e.file === 'm.yaml' &&
        /line \d+/.test(e.field ?? ''),
    );
});

test('a key given twice counts with its last value, as Kubernetes decodes it (first-wins hid hostPID: true)', () => {
  const t =
    'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  hostPID: false\n  hostPID: true\n  containers:\n    - name: a\n      image: x:1\n      securityContext: {privileged: false}\n      securityContext:\n        privileged: true\n';
  const fs = scanText(set, t, 'dup.yaml');
  assert.deepEqual(where(fs, 'k8s/pss-host-namespaces'), ['k8s/pss-host-namespaces@7']);
  assert.deepEqual(where(fs, 'k8s/pss-privileged'), ['k8s/pss-privileged@13']);
  // The later value wins the other way round too: no finding for a true that was overridden.
  const safe = t.replace('hostPID: false\n  hostPID: true', 'hostPID: true\n  hostPID: false');
  assert.deepEqual(where(scanText(set, safe, 'dup.yaml'), 'k8s/pss-host-namespaces'), []);
});
