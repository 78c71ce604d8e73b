/**
 * Kubernetes manifests: a multi-document YAML stream (plain files, or
 * `helm template` / `kustomize build` output on stdin) read into objects
 * with their pod specs located, keeping every node's line in the stream.
 */
import { VouchError } from '../../../core/errors.ts';
import { get, items, parseYamlStream, str, type YMap, type YNode } from '../yaml.ts';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  name: string;
  node: YMap;
}

export interface PodSpec {
  owner: K8sObject;
  /** The pod spec map (`spec`, `spec.template.spec`, …). */
  spec: YMap;
  /** The pod metadata (annotations live there). */
  metadata: YNode | undefined;
}

export interface Container {
  pod: PodSpec;
  node: YMap;
  name: string;
  /** containers, initContainers or ephemeralContainers. */
  field: string;
}

export interface Manifests {
  objects: K8sObject[];
  pods: PodSpec[];
  containers: Container[];
}

/** Where each workload kind keeps its pod template. */
const POD_PATHS: Record<string, string[]> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
  PodTemplate: ['template', 'spec'],
};

/** @throws VouchError SCAN_PARSE_ERROR */
export function parseManifests(text: string, file: string): Manifests {
  const stream = parseYamlStream(text, file);
  const objects: K8sObject[] = [];
  const add = (n: YNode | undefined, depth: number) => {
    if (n === undefined || (n.kind === 'scalar' && n.value === null)) return;
    if (n.kind !== 'map') {
      throw new VouchError('SCAN_PARSE_ERROR', 'a Kubernetes document must be a mapping', {
        file,
        field: `line ${n.line}`,
      });
    }
    const kind = str(get(n, 'kind')) ?? '';
    if (kind.endsWith('List') && depth < 4) {
      for (const it of items(get(n, 'items'))) add(it, depth + 1);
      return;
    }
    objects.push({
      apiVersion: str(get(n, 'apiVersion')) ?? '',
      kind,
      name: str(get(n, 'metadata', 'name')) ?? '',
      node: n,
    });
  };
  for (const d of stream.docs) add(d.root, 0);
  const pods: PodSpec[] = [];
  for (const o of objects) {
    const path = POD_PATHS[o.kind];
    if (!path) continue;
    const spec = get(o.node, ...path);
    if (spec?.kind !== 'map') continue;
    const metadata =
      path.length === 1 ? get(o.node, 'metadata') : get(o.node, ...path.slice(0, -1), 'metadata');
    pods.push({ owner: o, spec, metadata });
  }
  const containers: Container[] = [];
  for (const pod of pods) {
    for (const field of ['initContainers', 'containers', 'ephemeralContainers']) {
      for (const c of items(get(pod.spec, field))) {
        if (c.kind === 'map')
          containers.push({ pod, node: c, name: str(get(c, 'name')) ?? '?', field });
      }
    }
  }
  return { objects, pods, containers };
}

/** `Deployment/web` for messages. */
export function label(o: K8sObject): string {
  return `${o.kind}/${o.name || '?'}`;
}
