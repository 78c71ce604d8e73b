import { canonicalizeOlpc } from '../../core/canonical.ts';
import { type Envelope, envelopeFromJson, pae } from '../../core/dsse.ts';
import { VouchError } from '../../core/errors.ts';
import { isObject } from '../../core/json.ts';
import type { IntotoPublicKey } from './keys.ts';
import { type ArtifactRule, parseRule } from './rules.ts';

/** The DSSE payload type in-toto uses for layouts and links. */
export const INTOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** Path -> digest set (algorithm -> hex), as a link records artifacts. */
export type Artifacts = Record<string, Record<string, string>>;

/** in-toto metadata v0.9 link (the `signed` part). */
export interface Link {
  _type: 'link';
  name: string;
  command: string[];
  materials: Artifacts;
  products: Artifacts;
  byproducts: Record<string, unknown>;
  environment: Record<string, unknown>;
}

export interface Step {
  name: string;
  threshold: number;
  /** Key ids authorized to sign this step's links. */
  pubkeys: string[];
  expectedCommand: string[];
  expectedMaterials: ArtifactRule[];
  expectedProducts: ArtifactRule[];
}

export interface Inspection {
  name: string;
  run: string[];
  expectedMaterials: ArtifactRule[];
  expectedProducts: ArtifactRule[];
}

/** in-toto metadata v0.9 layout, converted once into this model. */
export interface Layout {
  expires: string;
  /** Milliseconds since the epoch of `expires`. */
  expiresAt: number;
  readme: string;
  /** Functionary keys by key id. */
  keys: Map<string, IntotoPublicKey>;
  steps: Step[];
  inspections: Inspection[];
}

/**
 * One signed in-toto document, whichever envelope it came in: a classic
 * Metablock (hex signatures over the OLPC canonical `signed`) or DSSE
 * (base64 signatures over the PAE of the payload bytes). Verification only
 * ever sees this model.
 */
export interface SignedMetadata {
  envelope: 'metablock' | 'dsse';
  source: string;
  /** The signed document as parsed JSON (`_type` is "layout" or "link"). */
  signed: Record<string, unknown>;
  signatures: Array<{ keyid: string; sig: Buffer }>;
  /** The exact bytes the signatures are over. */
  message: Buffer;
}

/**
 * Turns a parsed metadata file (Metablock or DSSE envelope) into the model.
 *
 * @throws VouchError JSON_MALFORMED | DSSE_MALFORMED | DSSE_NO_SIGNATURES | JSON_NOT_CANONICALIZABLE
 */
export function parseSignedMetadata(value: unknown, source: string): SignedMetadata {
  if (!isObject(value)) throw malformed(source, '/', 'metadata is not a JSON object');
  if ('payloadType' in value || 'payload' in value) {
    const env: Envelope = envelopeFromJson(value, source);
    if (env.payloadType !== INTOTO_PAYLOAD_TYPE) {
      throw new VouchError(
        'DSSE_MALFORMED',
        `payloadType is ${JSON.stringify(env.payloadType)}, expected ${INTOTO_PAYLOAD_TYPE}`,
        { file: source, field: '/payloadType' },
      );
    }
    let signed: unknown;
    try {
      signed = JSON.parse(env.payload.toString('utf8'));
    } catch {
      throw malformed(source, '/payload', 'DSSE payload is not JSON');
    }
    if (!isObject(signed)) throw malformed(source, '/payload', 'DSSE payload is not a JSON object');
    return {
      envelope: 'dsse',
      source,
      signed,
      signatures: env.signatures,
      message: pae(env.payloadType, env.payload),
    };
  }
  const { signed, signatures } = value;
  if (!isObject(signed)) throw malformed(source, '/signed', 'missing or not a JSON object');
  if (!Array.isArray(signatures)) {
    throw malformed(source, '/signatures', 'missing or not an array');
  }
  const sigs = signatures.map((s, i) => {
    const field = `/signatures/${i}`;
    if (!isObject(s)) throw malformed(source, field, 'not a JSON object');
    if (typeof s.keyid !== 'string') throw malformed(source, `${field}/keyid`, 'not a string');
    if (typeof s.sig !== 'string' || !/^(?:[0-9a-fA-F]{2})*$/.test(s.sig)) {
      throw malformed(source, `${field}/sig`, 'not a hex string');
    }
    return { keyid: s.keyid, sig: Buffer.from(s.sig, 'hex') };
  });
  return {
    envelope: 'metablock',
    source,
    signed,
    signatures: sigs,
    message: Buffer.from(canonicalizeOlpc(signed), 'utf8'),
  };
}

export interface SignatureResult {
  /** Signatures that verified, by the key ids of the keys that verified them. */
  verifiedBy: string[];
}

/**
 * Checks `metadata`'s signatures against `key`. A signature whose keyid names
 * the key is tried first; since the keyid is an unauthenticated hint (and
 * in-toto-golang's DSSE keyids may differ), any other signature is tried too.
 */
export function signedBy(metadata: SignedMetadata, key: IntotoPublicKey): boolean {
  const ordered = [
    ...metadata.signatures.filter((s) => s.keyid === key.keyid),
    ...metadata.signatures.filter((s) => s.keyid !== key.keyid),
  ];
  return ordered.some((s) => s.sig.length > 0 && key.verify(metadata.message, s.sig));
}

export function metadataType(m: SignedMetadata): string {
  return typeof m.signed._type === 'string' ? m.signed._type : '';
}

/**
 * Reads a link's `signed` part.
 *
 * @throws VouchError JSON_MALFORMED
 */
export function parseLink(signed: Record<string, unknown>, source: string): Link {
  if (signed._type !== 'link') throw malformed(source, '/_type', 'expected "link"');
  const name = stringField(signed, 'name', source);
  return {
    _type: 'link',
    name,
    command: stringList(signed.command ?? [], source, '/command'),
    materials: artifacts(signed.materials ?? {}, source, '/materials'),
    products: artifacts(signed.products ?? {}, source, '/products'),
    byproducts: isObject(signed.byproducts) ? signed.byproducts : {},
    environment: isObject(signed.environment) ? signed.environment : {},
  };
}

/**
 * Reads a layout's `signed` part, checking every field in-toto's schema checks.
 * Keys come from `keyFromDict` so schemes and key ids are validated once, here.
 *
 * @throws VouchError JSON_MALFORMED | KEY_MALFORMED | KEY_UNSUPPORTED
 */
export function parseLayout(
  signed: Record<string, unknown>,
  source: string,
  keyFromDict: (value: unknown, source: string) => IntotoPublicKey,
): Layout {
  if (signed._type !== 'layout') throw malformed(source, '/_type', 'expected "layout"');
  const expires = stringField(signed, 'expires', source);
  const expiresAt = parseTime(expires);
  if (expiresAt === undefined) {
    throw malformed(source, '/expires', `not an ISO 8601 UTC time: ${JSON.stringify(expires)}`);
  }
  const keys = new Map<string, IntotoPublicKey>();
  const rawKeys = signed.keys ?? {};
  if (!isObject(rawKeys)) throw malformed(source, '/keys', 'not a JSON object');
  for (const [keyid, dict] of Object.entries(rawKeys)) {
    const key = keyFromDict(
      isObject(dict) && dict.keyid === undefined ? { ...dict, keyid } : dict,
      `${source}: /keys/${keyid}`,
    );
    if (key.keyid !== keyid) {
      throw malformed(source, `/keys/${keyid}`, `the key says its keyid is ${key.keyid}`);
    }
    keys.set(keyid, key);
  }
  const names = new Set<string>();
  const uniqueName = (name: string, field: string) => {
    if (names.has(name))
      throw malformed(source, field, `duplicate step or inspection name ${name}`);
    names.add(name);
  };
  const steps = list(signed.steps ?? [], source, '/steps').map((s, i): Step => {
    const field = `/steps/${i}`;
    if (!isObject(s)) throw malformed(source, field, 'not a JSON object');
    if (s._type !== undefined && s._type !== 'step') {
      throw malformed(source, `${field}/_type`, 'expected "step"');
    }
    const name = stringField(s, 'name', source, field);
    uniqueName(name, `${field}/name`);
    const threshold = s.threshold ?? 1;
    if (typeof threshold !== 'number' || !Number.isSafeInteger(threshold) || threshold < 1) {
      throw malformed(source, `${field}/threshold`, 'not a positive integer');
    }
    const pubkeys = stringList(s.pubkeys ?? [], source, `${field}/pubkeys`);
    return {
      name,
      threshold,
      pubkeys,
      expectedCommand: stringList(s.expected_command ?? [], source, `${field}/expected_command`),
      expectedMaterials: rules(s.expected_materials, source, `${field}/expected_materials`),
      expectedProducts: rules(s.expected_products, source, `${field}/expected_products`),
    };
  });
  const inspections = list(signed.inspect ?? [], source, '/inspect').map((s, i): Inspection => {
    const field = `/inspect/${i}`;
    if (!isObject(s)) throw malformed(source, field, 'not a JSON object');
    if (s._type !== undefined && s._type !== 'inspection') {
      throw malformed(source, `${field}/_type`, 'expected "inspection"');
    }
    const name = stringField(s, 'name', source, field);
    uniqueName(name, `${field}/name`);
    return {
      name,
      run: stringList(s.run ?? [], source, `${field}/run`),
      expectedMaterials: rules(s.expected_materials, source, `${field}/expected_materials`),
      expectedProducts: rules(s.expected_products, source, `${field}/expected_products`),
    };
  });
  return {
    expires,
    expiresAt,
    readme: typeof signed.readme === 'string' ? signed.readme : '',
    keys,
    steps,
    inspections,
  };
}

/** RFC 3339 / ISO 8601 with a zone (in-toto writes `2030-11-18T16:06:36Z`). */
export function parseTime(text: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})$/i.test(text)) {
    return undefined;
  }
  const t = Date.parse(text);
  return Number.isNaN(t) ? undefined : t;
}

function rules(value: unknown, source: string, field: string): ArtifactRule[] {
  return list(value ?? [], source, field).map((r, i) =>
    parseRule(stringList(r, source, `${field}/${i}`), source, `${field}/${i}`),
  );
}

function list(value: unknown, source: string, field: string): unknown[] {
  if (!Array.isArray(value)) throw malformed(source, field, 'not a list');
  return value;
}

function stringList(value: unknown, source: string, field: string): string[] {
  const l = list(value, source, field);
  if (!l.every((x) => typeof x === 'string'))
    throw malformed(source, field, 'not a list of strings');
  return l as string[];
}

function stringField(o: Record<string, unknown>, name: string, source: string, at = ''): string {
  const v = o[name];
  if (typeof v !== 'string') throw malformed(source, `${at}/${name}`, 'missing or not a string');
  return v;
}

function artifacts(value: unknown, source: string, field: string): Artifacts {
  if (!isObject(value)) throw malformed(source, field, 'not a JSON object');
  const out: Artifacts = {};
  for (const [path, digests] of Object.entries(value)) {
    if (!isObject(digests) || !Object.values(digests).every((d) => typeof d === 'string')) {
      throw malformed(source, `${field}/${path}`, 'not a digest set (algorithm -> hex)');
    }
    out[path] = digests as Record<string, string>;
  }
  return out;
}

export function malformed(source: string, field: string, message: string): VouchError {
  return new VouchError('JSON_MALFORMED', `in-toto metadata: ${message}`, { file: source, field });
}
