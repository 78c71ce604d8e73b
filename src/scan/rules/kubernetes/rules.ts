/**
 * Kubernetes rules: every control of the Pod Security Standards (baseline and
 * restricted profiles, https://kubernetes.io/docs/concepts/security/pod-security-standards/),
 * image pinning, resource limits, service-account tokens and RBAC. Each PSS
 * rule names its control; baseline violations are high, restricted-only ones
 * medium. A setting allowed at pod or container level is reported once: at
 * the pod when neither level sets it, at each container that overrides it.
 */
import type { Finding } from '../../finding.ts';
import { findingAt, type Position, type Rule, type RuleContext } from '../../rule.ts';
import { pinning } from '../image.ts';
import { entries, entry, get, isFalse, isTrue, items, str, type YNode } from '../yaml.ts';
import { type Container, label, type Manifests, type PodSpec } from './parse.ts';

type KRule = Rule<Manifests>;

const PSS = 'https://kubernetes.io/docs/concepts/security/pod-security-standards/';

function at(n: YNode | undefined, fallback: YNode): Position {
  const x = n ?? fallback;
  return { line: x.line, column: x.column };
}
function keyAt(n: YNode | undefined, key: string, fallback: YNode): Position {
  const e = entry(n, key);
  return { line: e ? e.keyLine : fallback.line };
}
function cname(c: Container): string {
  return `${label(c.pod.owner)} container ${c.name}`;
}
function sc(c: Container): YNode | undefined {
  return get(c.node, 'securityContext');
}
function psc(p: PodSpec): YNode | undefined {
  return get(p.spec, 'securityContext');
}
function containersOf(doc: Manifests, p: PodSpec): Container[] {
  return doc.containers.filter((c) => c.pod === p);
}

/**
 * A control settable at pod and container level (`securityContext.X`):
 * `good(node)` says whether a securityContext satisfies it, undefined when
 * it does not set it. Reports once per pod when nothing sets it, else once
 * per failing container.
 */
function podOrContainer(
  rule: KRule,
  doc: Manifests,
  ctx: RuleContext,
  good: (securityContext: YNode | undefined) => boolean | undefined,
  what: string,
  skip: (c: Container) => boolean = () => false,
): Finding[] {
  const out: Finding[] = [];
  for (const p of doc.pods) {
    const podVal = good(psc(p));
    const cs = containersOf(doc, p).filter((c) => !skip(c));
    const failing = cs.filter((c) => {
      const v = good(sc(c));
      return v === false || (v === undefined && podVal !== true);
    });
    if (failing.length === 0) continue;
    const unset = failing.filter((c) => good(sc(c)) === undefined);
    if (podVal !== true && unset.length === cs.length) {
      out.push(
        findingAt(
          rule,
          ctx,
          keyAt(p.spec, 'securityContext', p.spec),
          `${label(p.owner)}: ${what} (neither the pod nor its containers set it)`,
        ),
      );
      continue;
    }
    for (const c of failing)
      out.push(findingAt(rule, ctx, keyAt(sc(c), '', c.node), `${cname(c)}: ${what}`));
  }
  return out;
}

export const hostProcess: KRule = {
  id: 'k8s/pss-host-process',
  severity: 'high',
  title: 'PSS baseline "HostProcess": Windows HostProcess container',
  description:
    'A HostProcess container runs as a process on the Windows node with full access to it. Remove `securityContext.windowsOptions.hostProcess: true`.',
  references: [PSS],
  check(doc, ctx) {
    const out: Finding[] = [];
    for (const p of doc.pods) {
      const n = get(psc(p), 'windowsOptions', 'hostProcess');
      if (isTrue(n))
        out.push(findingAt(this, ctx, at(n, p.spec), `${label(p.owner)}: hostProcess: true`));
    }
    for (const c of doc.containers) {
      const n = get(sc(c), 'windowsOptions', 'hostProcess');
      if (isTrue(n))
        out.push(findingAt(this, ctx, at(n, c.node), `${cname(c)}: hostProcess: true`));
    }
    return out;
  },
};

export const hostNamespaces: KRule = {
  id: 'k8s/pss-host-namespaces',
  severity: 'high',
  title: 'PSS baseline "Host Namespaces": hostNetwork, hostPID or hostIPC',
  description:
    "Sharing the node's network, PID or IPC namespace lets the pod see and talk to every process and socket on the node. Remove `hostNetwork`, `hostPID` and `hostIPC` (or set them to false).",
  references: [PSS],
  check(doc, ctx) {
    const out: Finding[] = [];
    for (const p of doc.pods) {
      for (const k of ['hostNetwork', 'hostPID', 'hostIPC']) {
        const e = entry(p.spec, k);
        if (e && isTrue(e.value))
          out.push(findingAt(this, ctx, { line: e.keyLine }, `${label(p.owner)}: ${k}: true`));
      }
    }
    return out;
  },
};

export const privileged: KRule = {
  id: 'k8s/pss-privileged',
  severity: 'critical',
  title: 'PSS baseline "Privileged Containers"',
  description:
    'A privileged container has every capability and all host devices: it is root on the node. Remove `securityContext.privileged: true`; grant only the capability needed.',
  references: [PSS],
  check(doc, ctx) {
    return doc.containers
      .filter((c) => isTrue(get(sc(c), 'privileged')))
      .map((c) =>
        findingAt(this, ctx, keyAt(sc(c), 'privileged', c.node), `${cname(c)}: privileged: true`),
      );
  },
};

const BASELINE_CAPS = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);

export const capabilitiesAdded: KRule = {
  id: 'k8s/pss-capabilities-added',
  severity: 'high',
  title: 'PSS "Capabilities": capabilities added',
  description:
    'Baseline forbids adding capabilities beyond the container runtime defaults (SYS_ADMIN, NET_ADMIN, NET_RAW, SYS_PTRACE… open paths to the node); restricted allows adding only NET_BIND_SERVICE. Remove them from `securityContext.capabilities.add`.',
  references: [PSS],
  check(doc, ctx) {
    const out: Finding[] = [];
    for (const c of doc.containers) {
      if (isTrue(get(sc(c), 'privileged'))) continue;
      for (const n of items(get(sc(c), 'capabilities', 'add'))) {
        const cap = (str(n) ?? '').toUpperCase().replace(/^CAP_/, '');
        if (cap === 'NET_BIND_SERVICE') continue;
        const baseline = !BASELINE_CAPS.has(cap);
        out.push(
          findingAt(
            this,
            ctx,
            at(n, c.node),
            `${cname(c)}: adds capability ${cap} (${baseline ? 'baseline' : 'restricted'})`,
            {
              severity: baseline ? 'high' : 'medium',
            },
          ),
        );
      }
    }
    return out;
  },
};

export const capabilitiesDropAll: KRule = {
  id: 'k8s/pss-capabilities-drop-all',
  severity: 'medium',
  title: 'PSS restricted "Capabilities": ALL not dropped',
  description:
    'Restricted requires every container to drop all capabilities and add back only NET_BIND_SERVICE. Set `securityContext.capabilities.drop: ["ALL"]`.',
  references: [PSS],
  check(doc, ctx) {
    return doc.containers
      .filter((c) => c.field !== 'ephemeralContainers' && !isTrue(get(sc(c), 'privileged')))
      .filter(
        (c) =>
          !items(get(sc(c), 'capabilities', 'drop')).some((n) => str(n)?.toUpperCase() === 'ALL'),
      )
      .map((c) =>
        findingAt(
          this,
          ctx,
          keyAt(sc(c), 'capabilities', c.node),
          `${cname(c)}: capabilities.drop does not include ALL`,
        ),
      );
  },
};

export const hostPath: KRule = {
  id: 'k8s/pss-host-path',
  severity: 'high',
  title: 'PSS baseline "HostPath Volumes"',
  description:
    'A hostPath volume mounts a directory of the node into the pod; with the right path (/, /var/run/docker.sock, /etc) that is the node. Use a PersistentVolumeClaim, ConfigMap, Secret or emptyDir instead.',
  references: [PSS],
  check(doc, ctx) {
    const out: Finding[] = [];
    for (const p of doc.pods) {
      for (const v of items(get(p.spec, 'volumes'))) {
        const hp = entry(v, 'hostPath');
        if (hp)
          out.push(
            findingAt(
              this,
              ctx,
              { line: hp.keyLine },
              `${label(p.owner)}: volume ${str(get(v, 'name')) ?? '?'} mounts host path ${str(get(hp.value, 'path')) ?? '?'}`,
            ),
          );
      }
    }
    return out;
  },
};

export const hostPorts: KRule = {
  id: 'k8s/pss-host-ports',
  severity: 'medium',
  title: 'PSS baseline "Host Ports"',
  description:
    "A hostPort binds the container to a port on the node's own address, bypassing network policy and limiting scheduling. Expose the pod through a Service instead and remove `hostPort`.",
  references: [PSS],
  check(doc, ctx) {
    const out: Finding[] = [];
    for (const c of doc.containers) {
      for (const port of items(get(c.node, 'ports'))) {
        const e = entry(port, 'hostPort');
        if (e && str(e.value) !== '0' && str(e.value) !== undefined)
          out.push(
            findingAt(this, ctx, { line: e.keyLine }, `${cname(c)}: hostPort ${str(e.value)}`),
          );
      }
    }
    return out;
  },
};

const APPARMOR_ANN = 'container.apparmor.security.beta.kubernetes.io/';

export const appArmor: KRule = {
  id: 'k8s/pss-apparmor',
  severity: 'high',
  title: 'PSS baseline "AppArmor": profile set to unconfined',
  description:
    'Baseline forbids overriding the default AppArmor profile with an unconfined one. Use `appArmorProfile.type: RuntimeDefault` (or Localhost) and no `unconfined` annotation.',
  references: [PSS],
  check(doc, ctx) {
    const out: Finding[] = [];
    for (const p of doc.pods) {
      for (const e of entries(get(p.metadata, 'annotations'))) {
        const v = str(e.value) ?? '';
        if (
          e.key.startsWith(APPARMOR_ANN) &&
          v !== 'runtime/default' &&
          !v.startsWith('localhost/')
        )
          out.push(
            findingAt(
              this,
              ctx,
              { line: e.keyLine },
              `${label(p.owner)}: AppArmor annotation ${e.key}: ${v}`,
            ),
          );
      }
    }
    const bad = (n: YNode | undefined) => {
      const t = str(get(n, 'appArmorProfile', 'type'));
      return t !== undefined && t !== 'RuntimeDefault' && t !== 'Localhost';
    };
    for (const p of doc.pods)
      if (bad(psc(p)))
        out.push(
          findingAt(
            this,
            ctx,
            at(get(psc(p), 'appArmorProfile'), p.spec),
            `${label(p.owner)}: appArmorProfile ${str(get(psc(p), 'appArmorProfile', 'type'))}`,
          ),
        );
    for (const c of doc.containers)
      if (bad(sc(c)))
        out.push(
          findingAt(
            this,
            ctx,
            at(get(sc(c), 'appArmorProfile'), c.node),
            `${cname(c)}: appArmorProfile ${str(get(sc(c), 'appArmorProfile', 'type'))}`,
          ),
        );
    return out;
  },
};

const SELINUX_TYPES = new Set([
  '',
  'container_t',
  'container_init_t',
  'container_kvm_t',
  'container_engine_t',
]);

export const seLinux: KRule = {
  id: 'k8s/pss-selinux',
  severity: 'high',
  title: 'PSS baseline "SELinux": custom SELinux user, role or type',
  description:
    'Baseline allows only the container_t family of SELinux types and forbids setting a user or role, which could lift the confinement. Remove `seLinuxOptions.user`/`role` and custom types.',
  references: [PSS],
  check(doc, ctx) {
    const out: Finding[] = [];
    const checkSc = (n: YNode | undefined, who: string, fallback: YNode) => {
      const o = get(n, 'seLinuxOptions');
      if (!o) return;
      const t = str(get(o, 'type'));
      if (t !== undefined && !SELINUX_TYPES.has(t))
        out.push(
          findingAt(this, ctx, keyAt(o, 'type', fallback), `${who}: seLinuxOptions.type ${t}`),
        );
      for (const k of ['user', 'role'])
        if (str(get(o, k)))
          out.push(
            findingAt(
              this,
              ctx,
              keyAt(o, k, fallback),
              `${who}: seLinuxOptions.${k} ${str(get(o, k))}`,
            ),
          );
    };
    for (const p of doc.pods) checkSc(psc(p), label(p.owner), p.spec);
    for (const c of doc.containers) checkSc(sc(c), cname(c), c.node);
    return out;
  },
};

export const procMount: KRule = {
  id: 'k8s/pss-proc-mount',
  severity: 'high',
  title: 'PSS baseline "/proc Mount Type": unmasked /proc',
  description:
    'procMount: Unmasked exposes /proc paths the runtime normally masks (kernel memory, sysrq…). Remove `procMount` or set it to Default.',
  references: [PSS],
  check(doc, ctx) {
    return doc.containers
      .filter((c) => {
        const v = str(get(sc(c), 'procMount'));
        return v !== undefined && v !== 'Default';
      })
      .map((c) =>
        findingAt(
          this,
          ctx,
          keyAt(sc(c), 'procMount', c.node),
          `${cname(c)}: procMount ${str(get(sc(c), 'procMount'))}`,
        ),
      );
  },
};

export const seccomp: KRule = {
  id: 'k8s/pss-seccomp',
  severity: 'medium',
  title: 'PSS "Seccomp": no RuntimeDefault/Localhost profile',
  description:
    'Baseline forbids `seccompProfile.type: Unconfined`; restricted requires RuntimeDefault or Localhost at pod or container level, which blocks hundreds of rarely needed system calls. Set `securityContext.seccompProfile.type: RuntimeDefault` in the pod.',
  references: [PSS],
  check(doc, ctx) {
    const out: Finding[] = [];
    // Baseline: explicit Unconfined, wherever it is.
    const unconfined = (n: YNode | undefined) =>
      str(get(n, 'seccompProfile', 'type')) === 'Unconfined';
    for (const p of doc.pods)
      if (unconfined(psc(p)))
        out.push(
          findingAt(
            this,
            ctx,
            at(get(psc(p), 'seccompProfile'), p.spec),
            `${label(p.owner)}: seccompProfile Unconfined (baseline)`,
            { severity: 'high' },
          ),
        );
    for (const c of doc.containers)
      if (unconfined(sc(c)))
        out.push(
          findingAt(
            this,
            ctx,
            at(get(sc(c), 'seccompProfile'), c.node),
            `${cname(c)}: seccompProfile Unconfined (baseline)`,
            { severity: 'high' },
          ),
        );
    // Restricted: something must set it (Unconfined already reported above).
    const good = (n: YNode | undefined) => {
      const t = str(get(n, 'seccompProfile', 'type'));
      if (t === undefined) return undefined;
      return t === 'RuntimeDefault' || t === 'Localhost' || t === 'Unconfined';
    };
    out.push(
      ...podOrContainer(
        this,
        doc,
        ctx,
        good,
        'no seccompProfile RuntimeDefault or Localhost (restricted)',
      ),
    );
    return out;
  },
};

const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);

export const sysctls: KRule = {
  id: 'k8s/pss-sysctls',
  severity: 'high',
  title: 'PSS baseline "Sysctls": unsafe sysctl',
  description:
    'Only namespaced sysctls known to be safe may be set; others change the kernel for every pod on the node. Remove the sysctl or allow it only on dedicated nodes.',
  references: [PSS],
  check(doc, ctx) {
    const out: Finding[] = [];
    for (const p of doc.pods)
      for (const s of items(get(psc(p), 'sysctls'))) {
        const name = str(get(s, 'name')) ?? '';
        if (!SAFE_SYSCTLS.has(name))
          out.push(findingAt(this, ctx, at(s, p.spec), `${label(p.owner)}: unsafe sysctl ${name}`));
      }
    return out;
  },
};

const RESTRICTED_VOLUMES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

export const volumeTypes: KRule = {
  id: 'k8s/pss-volume-types',
  severity: 'medium',
  title: 'PSS restricted "Volume Types"',
  description:
    'Restricted allows only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected and secret volumes; other in-tree types (nfs, iscsi, gitRepo…) run node-level code or reach outside the cluster. Use a PersistentVolumeClaim. (hostPath is reported by k8s/pss-host-path.)',
  references: [PSS],
  check(doc, ctx) {
    const out: Finding[] = [];
    for (const p of doc.pods)
      for (const v of items(get(p.spec, 'volumes')))
        for (const e of entries(v)) {
          if (e.key === 'name' || e.key === 'hostPath' || RESTRICTED_VOLUMES.has(e.key)) continue;
          out.push(
            findingAt(
              this,
              ctx,
              { line: e.keyLine },
              `${label(p.owner)}: volume ${str(get(v, 'name')) ?? '?'} of type ${e.key}`,
            ),
          );
        }
    return out;
  },
};

export const privilegeEscalation: KRule = {
  id: 'k8s/pss-privilege-escalation',
  severity: 'medium',
  title: 'PSS restricted "Privilege Escalation": allowPrivilegeEscalation not false',
  description:
    'Unless allowPrivilegeEscalation is false, a process can gain more privileges than its parent (setuid binaries, file capabilities). Set `securityContext.allowPrivilegeEscalation: false` in every container.',
  references: [PSS],
  check(doc, ctx) {
    return doc.containers
      .filter((c) => c.field !== 'ephemeralContainers' && !isTrue(get(sc(c), 'privileged')))
      .filter((c) => !isFalse(get(sc(c), 'allowPrivilegeEscalation')))
      .map((c) =>
        findingAt(
          this,
          ctx,
          keyAt(sc(c), 'allowPrivilegeEscalation', c.node),
          `${cname(c)}: allowPrivilegeEscalation is not false`,
        ),
      );
  },
};

export const runAsNonRoot: KRule = {
  id: 'k8s/pss-run-as-non-root',
  severity: 'medium',
  title: 'PSS restricted "Running as Non-root": runAsNonRoot not true',
  description:
    'Without runAsNonRoot: true the kubelet starts the container as whatever user the image says, often root. Set `securityContext.runAsNonRoot: true` in the pod (and a non-zero runAsUser if the image has no numeric USER).',
  references: [PSS],
  check(doc, ctx) {
    const good = (n: YNode | undefined) => {
      const v = get(n, 'runAsNonRoot');
      return v === undefined || (v.kind === 'scalar' && v.value === null) ? undefined : isTrue(v);
    };
    return podOrContainer(this, doc, ctx, good, 'runAsNonRoot is not true', (c) =>
      isTrue(get(sc(c), 'privileged')),
    );
  },
};

export const runAsUserRoot: KRule = {
  id: 'k8s/pss-run-as-user-root',
  severity: 'high',
  title: 'PSS restricted "Running as Non-root user": runAsUser 0',
  description: 'runAsUser: 0 runs the container as root explicitly. Use a non-zero UID.',
  references: [PSS],
  check(doc, ctx) {
    const out: Finding[] = [];
    for (const p of doc.pods)
      if (str(get(psc(p), 'runAsUser')) === '0')
        out.push(
          findingAt(
            this,
            ctx,
            keyAt(psc(p), 'runAsUser', p.spec),
            `${label(p.owner)}: runAsUser 0`,
          ),
        );
    for (const c of doc.containers)
      if (str(get(sc(c), 'runAsUser')) === '0')
        out.push(
          findingAt(this, ctx, keyAt(sc(c), 'runAsUser', c.node), `${cname(c)}: runAsUser 0`),
        );
    return out;
  },
};

function imageRule(
  id: string,
  verdict: 'latest' | 'tag',
  title: string,
  description: string,
  severity: 'medium' | 'low',
): KRule {
  return {
    id,
    severity,
    title,
    description,
    check(doc, ctx) {
      const out: Finding[] = [];
      for (const c of doc.containers) {
        const e = entry(c.node, 'image');
        const img = str(e?.value);
        if (e && img && !img.includes('{{') && pinning(img) === verdict)
          out.push(
            findingAt(
              this,
              ctx,
              { line: e.keyLine },
              `${cname(c)}: image ${img} ${verdict === 'latest' ? 'uses latest or no tag' : 'is not pinned by digest'}`,
            ),
          );
      }
      return out;
    },
  };
}

export const imageLatest = imageRule(
  'k8s/image-latest-tag',
  'latest',
  'Container image uses the latest tag or no tag',
  'The node pulls whatever `latest` points at when the pod is scheduled: replicas can run different code and a bad push rolls out by itself. Pin a version and digest: `image: nginx:1.27.2@sha256:…`.',
  'medium',
);
export const imageUnpinned = imageRule(
  'k8s/image-not-pinned',
  'tag',
  'Container image not pinned by digest',
  'Tags are mutable: whoever controls the registry repository can change what runs. Pin the digest (`image: repo:tag@sha256:…`), e.g. with `kustomize edit set image` or a digest-resolving admission controller.',
  'low',
);

export const resourceLimits: KRule = {
  id: 'k8s/missing-resource-limits',
  severity: 'low',
  title: 'Container without CPU or memory limits',
  description:
    'A container without limits can take all memory or CPU of its node and starve its neighbours (a denial of service from one bug or one attacker). Set `resources.limits.memory` and `resources.limits.cpu` (and requests).',
  check(doc, ctx) {
    const out: Finding[] = [];
    for (const c of doc.containers) {
      if (c.field === 'ephemeralContainers') continue;
      const limits = get(c.node, 'resources', 'limits');
      const missing = ['cpu', 'memory'].filter((k) => str(get(limits, k)) === undefined);
      if (missing.length > 0)
        out.push(
          findingAt(
            this,
            ctx,
            keyAt(c.node, limits ? 'resources' : 'name', c.node),
            `${cname(c)}: no ${missing.join(' or ')} limit`,
          ),
        );
    }
    return out;
  },
};

export const automountToken: KRule = {
  id: 'k8s/automount-service-account-token',
  severity: 'low',
  title: 'Service account token mounted automatically',
  description:
    'Every pod gets an API token for its service account unless told otherwise; an attacker in the pod can use it against the API server. Set `automountServiceAccountToken: false` in the pod spec (or on the ServiceAccount) unless the pod calls the API.',
  check(doc, ctx) {
    const out: Finding[] = [];
    const saOff = new Set(
      doc.objects
        .filter(
          (o) =>
            o.kind === 'ServiceAccount' && isFalse(get(o.node, 'automountServiceAccountToken')),
        )
        .map((o) => o.name),
    );
    for (const p of doc.pods) {
      const e = entry(p.spec, 'automountServiceAccountToken');
      if (e) {
        if (isTrue(e.value))
          out.push(
            findingAt(
              this,
              ctx,
              { line: e.keyLine },
              `${label(p.owner)}: automountServiceAccountToken: true`,
            ),
          );
        continue;
      }
      const sa =
        str(get(p.spec, 'serviceAccountName')) ?? str(get(p.spec, 'serviceAccount')) ?? 'default';
      if (!saOff.has(sa))
        out.push(
          findingAt(
            this,
            ctx,
            at(p.spec, p.spec),
            `${label(p.owner)}: the token of service account ${sa} is mounted automatically`,
          ),
        );
    }
    return out;
  },
};

interface RbacRule {
  node: YNode;
  owner: string;
  cluster: boolean;
  verbs: string[];
  resources: string[];
}
function rbacRules(doc: Manifests): RbacRule[] {
  const out: RbacRule[] = [];
  for (const o of doc.objects) {
    if (o.kind !== 'Role' && o.kind !== 'ClusterRole') continue;
    if (!o.apiVersion.startsWith('rbac.authorization.k8s.io/')) continue;
    for (const r of items(get(o.node, 'rules')))
      out.push({
        node: r,
        owner: label(o),
        cluster: o.kind === 'ClusterRole',
        verbs: items(get(r, 'verbs')).map((n) => str(n) ?? ''),
        resources: items(get(r, 'resources')).map((n) => str(n) ?? ''),
      });
  }
  return out;
}

export const rbacWildcard: KRule = {
  id: 'k8s/rbac-wildcard',
  severity: 'high',
  title: 'RBAC rule with a wildcard verb or resource',
  description:
    '`*` in verbs or resources grants everything, including resources and verbs added later (and secrets, escalate, impersonate). List the verbs and resources the subject needs.',
  check(doc, ctx) {
    return rbacRules(doc)
      .filter((r) => r.verbs.includes('*') || r.resources.includes('*'))
      .map((r) =>
        findingAt(
          this,
          ctx,
          at(r.node, r.node),
          `${r.owner}: wildcard ${r.verbs.includes('*') ? 'verbs' : 'resources'} (verbs ${r.verbs.join(',')}; resources ${r.resources.join(',')})`,
          {
            severity: r.cluster ? 'high' : 'medium',
          },
        ),
      );
  },
};

export const rbacSecrets: KRule = {
  id: 'k8s/rbac-secrets-access',
  severity: 'medium',
  title: 'RBAC rule that reads secrets',
  description:
    'get/list/watch on secrets reads every credential in the namespace (cluster-wide for a ClusterRole), including service-account tokens of more powerful accounts. Grant access to named secrets only (`resourceNames`), or mount the one secret needed.',
  check(doc, ctx) {
    return rbacRules(doc)
      .filter((r) => !r.verbs.includes('*') && !r.resources.includes('*'))
      .filter(
        (r) =>
          r.resources.includes('secrets') &&
          r.verbs.some((v) => v === 'get' || v === 'list' || v === 'watch'),
      )
      .filter((r) => items(get(r.node, 'resourceNames')).length === 0)
      .map((r) =>
        findingAt(this, ctx, at(r.node, r.node), `${r.owner}: ${r.verbs.join(',')} on secrets`, {
          severity: r.cluster ? 'high' : 'medium',
        }),
      );
  },
};

export const rbacEscalation: KRule = {
  id: 'k8s/rbac-escalation-verbs',
  severity: 'high',
  title: 'RBAC rule with escalate, bind or impersonate',
  description:
    '`escalate` and `bind` let a subject grant itself roles it does not hold; `impersonate` lets it act as any user or group. Remove these verbs except for trusted controllers.',
  check(doc, ctx) {
    return rbacRules(doc)
      .filter((r) => !r.verbs.includes('*'))
      .filter((r) => r.verbs.some((v) => v === 'escalate' || v === 'bind' || v === 'impersonate'))
      .map((r) =>
        findingAt(
          this,
          ctx,
          at(r.node, r.node),
          `${r.owner}: verbs ${r.verbs.filter((v) => /^(?:escalate|bind|impersonate)$/.test(v)).join(',')}`,
        ),
      );
  },
};

export const KUBERNETES_RULES: readonly KRule[] = [
  hostProcess,
  hostNamespaces,
  privileged,
  capabilitiesAdded,
  capabilitiesDropAll,
  hostPath,
  hostPorts,
  appArmor,
  seLinux,
  procMount,
  seccomp,
  sysctls,
  volumeTypes,
  privilegeEscalation,
  runAsNonRoot,
  runAsUserRoot,
  imageLatest,
  imageUnpinned,
  resourceLimits,
  automountToken,
  rbacWildcard,
  rbacSecrets,
  rbacEscalation,
];
