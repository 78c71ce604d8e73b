import { isObject } from '../../core/json.ts';

/** The one AdmissionReview version this webhook speaks (the API server sends what we list). */
export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

/** One image a Pod would run, and where in the object it is named. */
export interface PodImage {
  image: string;
  /** JSON-path-like place, e.g. `spec.template.spec.initContainers[0].image`. */
  field: string;
}

/** The parts of an AdmissionReview request the gate decides on. */
export interface AdmissionRequest {
  uid: string;
  kind: string;
  group: string;
  namespace: string;
  name: string;
  operation: string;
  subResource?: string | undefined;
  dryRun: boolean;
  object: unknown;
}

export type ParsedReview =
  | { ok: true; request: AdmissionRequest }
  /** `uid` is set when the request named one: the answer is then a denial, else HTTP 400. */
  | { ok: false; uid?: string; message: string };

const UID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Checks the envelope (apiVersion, kind, request.uid, request.kind) of an AdmissionReview. */
export function parseReview(body: unknown): ParsedReview {
  if (!isObject(body)) return { ok: false, message: 'body is not a JSON object' };
  const req = body.request;
  const uid =
    isObject(req) && typeof req.uid === 'string' && UID.test(req.uid) ? req.uid : undefined;
  const fail = (message: string): ParsedReview =>
    uid === undefined ? { ok: false, message } : { ok: false, uid, message };
  if (body.apiVersion !== ADMISSION_API_VERSION)
    return fail(
      `apiVersion must be ${ADMISSION_API_VERSION}, got ${JSON.stringify(body.apiVersion ?? null)?.slice(0, 80)}`,
    );
  if (body.kind !== 'AdmissionReview')
    return fail(
      `kind must be AdmissionReview, got ${JSON.stringify(body.kind ?? null)?.slice(0, 80)}`,
    );
  if (!isObject(req)) return fail('request is missing');
  if (uid === undefined) return fail('request.uid is missing or not a valid uid');
  const gvk = req.kind;
  if (!isObject(gvk) || typeof gvk.kind !== 'string' || typeof gvk.version !== 'string')
    return fail('request.kind must be a GroupVersionKind');
  if (typeof req.operation !== 'string') return fail('request.operation is missing');
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  return {
    ok: true,
    request: {
      uid,
      kind: gvk.kind,
      group: str(gvk.group),
      namespace: str(req.namespace),
      name:
        str(req.name) ||
        str(metadataOf(req.object).name) ||
        str(metadataOf(req.object).generateName),
      operation: req.operation,
      subResource:
        typeof req.subResource === 'string' && req.subResource ? req.subResource : undefined,
      dryRun: req.dryRun === true,
      object: req.object,
    },
  };
}

const metadataOf = (o: unknown): Record<string, unknown> =>
  isObject(o) && isObject(o.metadata) ? o.metadata : {};

/** Where each gated kind keeps its Pod spec (group/kind → path). */
const POD_SPEC_PATHS: Record<string, string[]> = {
  '/Pod': ['spec'],
  'apps/Deployment': ['spec', 'template', 'spec'],
  'apps/StatefulSet': ['spec', 'template', 'spec'],
  'apps/DaemonSet': ['spec', 'template', 'spec'],
  'apps/ReplicaSet': ['spec', 'template', 'spec'],
  '/ReplicationController': ['spec', 'template', 'spec'],
  'batch/Job': ['spec', 'template', 'spec'],
  'batch/CronJob': ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

/** The kinds the webhook gates, as `group/Kind` (core group empty). */
export const GATED_KINDS: readonly string[] = Object.keys(POD_SPEC_PATHS);

/** Subresources that cannot change which images run. */
const IMAGE_FREE_SUBRESOURCES = new Set([
  'status',
  'scale',
  'binding',
  'eviction',
  'log',
  'exec',
  'attach',
  'portforward',
  'proxy',
]);

const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'] as const;
const MAX_CONTAINERS = 512;

export type ImageExtraction =
  | { gated: true; images: PodImage[] }
  | { gated: false; why: string }
  | { error: string };

/**
 * Every image the object would run: each container, initContainer and
 * ephemeral container, and image volumes (`volumes[].image.reference`,
 * Kubernetes 1.31+), which also pull and mount an image.
 */
export function imagesOf(req: AdmissionRequest): ImageExtraction {
  if (req.operation === 'DELETE' || req.operation === 'CONNECT')
    return { gated: false, why: `operation ${req.operation} starts no image` };
  if (req.subResource !== undefined && IMAGE_FREE_SUBRESOURCES.has(req.subResource))
    return { gated: false, why: `subresource ${req.subResource} starts no image` };
  const path = POD_SPEC_PATHS[`${req.group}/${req.kind}`];
  if (!path)
    return {
      error: `kind ${req.group ? `${req.group}/` : ''}${req.kind} is not one vouch knows how to read images from; the webhook's rules should list only pods and pod-bearing workloads`,
    };
  let spec: unknown = req.object;
  for (const p of path) spec = isObject(spec) ? spec[p] : undefined;
  const at = path.join('.');
  if (!isObject(spec)) return { error: `object has no ${at}` };
  const images: PodImage[] = [];
  for (const list of CONTAINER_LISTS) {
    const containers = spec[list];
    if (containers === undefined || containers === null) continue;
    if (!Array.isArray(containers)) return { error: `${at}.${list} is not a list` };
    if (containers.length > MAX_CONTAINERS)
      return { error: `${at}.${list} has more than ${MAX_CONTAINERS} entries` };
    for (const [i, c] of containers.entries()) {
      const field = `${at}.${list}[${i}].image`;
      if (!isObject(c) || typeof c.image !== 'string' || c.image === '')
        return { error: `${field} is missing` };
      images.push({ image: c.image, field });
    }
  }
  const volumes = spec.volumes;
  if (Array.isArray(volumes)) {
    if (volumes.length > MAX_CONTAINERS)
      return { error: `${at}.volumes has more than ${MAX_CONTAINERS} entries` };
    for (const [i, v] of volumes.entries()) {
      if (!isObject(v) || v.image === undefined) continue;
      const field = `${at}.volumes[${i}].image.reference`;
      if (!isObject(v.image) || typeof v.image.reference !== 'string' || v.image.reference === '')
        return { error: `${field} is missing` };
      images.push({ image: v.image.reference, field });
    }
  }
  if (images.length === 0 && !Array.isArray(spec.containers))
    return { error: `${at}.containers is missing` };
  return { gated: true, images };
}
