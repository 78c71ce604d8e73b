import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { VouchError } from '../core/errors.ts';
import { isObject, parseJson, readTextFile } from '../core/json.ts';

/**
 * An evidence pack: one JSON file with everything `vouch verify --pack`
 * needs to decide about one artifact offline — the bundles (exact bytes, as
 * text, each with its sha256), the trusted root, and the policy with the key
 * and trusted-root files it names (so its digest, over its exact bytes, is
 * unchanged). Written deterministically: fixed key order, bundles sorted by
 * digest, files by name, no timestamps.
 */
export const PACK_FORMAT = 'vouch-evidence-pack';
export const PACK_VERSION = 1;
const MAX_PACK_BYTES = 256 * 1024 * 1024;
const HEX64 = /^[0-9a-f]{64}$/;

export interface EvidencePack {
  format: typeof PACK_FORMAT;
  version: typeof PACK_VERSION;
  subject: { name: string; digest: string };
  bundles: Array<{ sha256: string; source: string; bundle: string }>;
  trustedRoot: { sha256: string; json: string } | null;
  policy: { name: string; sha256: string; text: string; files: Record<string, string> } | null;
}

export interface PackInput {
  subject: { name: string; sha256: string };
  bundles: Array<{ source: string; text: string }>;
  trustedRoot?: string | undefined;
  policy?: { name: string; text: string; files: Record<string, string> } | undefined;
}

const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** The pack's bytes. Identical bundles are kept once. */
export function writePack(input: PackInput): Buffer {
  const bundles = new Map<string, { sha256: string; source: string; bundle: string }>();
  for (const b of input.bundles) {
    const h = sha(b.text);
    const seen = bundles.get(h);
    // The same bundle from several places: keep the first source in sort order, so input order does not matter.
    if (!seen || b.source < seen.source)
      bundles.set(h, { sha256: h, source: b.source, bundle: b.text });
  }
  const pack: EvidencePack = {
    format: PACK_FORMAT,
    version: PACK_VERSION,
    subject: { name: input.subject.name, digest: `sha256:${input.subject.sha256}` },
    bundles: [...bundles.values()].sort((a, b) => (a.sha256 < b.sha256 ? -1 : 1)),
    trustedRoot:
      input.trustedRoot !== undefined
        ? { sha256: sha(input.trustedRoot), json: input.trustedRoot }
        : null,
    policy: input.policy
      ? {
          name: input.policy.name,
          sha256: sha(input.policy.text),
          text: input.policy.text,
          files: Object.fromEntries(
            Object.entries(input.policy.files).sort(([a], [b]) => (a < b ? -1 : 1)),
          ),
        }
      : null,
  };
  return Buffer.from(`${JSON.stringify(pack, null, 2)}\n`, 'utf8');
}

/**
 * Reads and checks a pack: format and version, every field's type, every
 * bundle and the policy against their sha256, every file name relative and
 * inside the pack.
 *
 * @throws VouchError OCI_PACK_MALFORMED | FILE_* | JSON_*
 */
export async function readPack(path: string, display: string): Promise<EvidencePack> {
  const text = await readTextFile(path, MAX_PACK_BYTES);
  const bad = (field: string, why: string) =>
    new VouchError('OCI_PACK_MALFORMED', why, { file: display, field });
  let v: unknown;
  try {
    v = parseJson(text, display, { maxBytes: MAX_PACK_BYTES, maxDepth: 16 });
  } catch (e) {
    throw new VouchError(
      'OCI_PACK_MALFORMED',
      `not an evidence pack: ${(e as Error).message.replace(`${display}: `, '')}`,
      { file: display },
    );
  }
  if (!isObject(v)) throw bad('/', 'not a JSON object');
  if (v.format !== PACK_FORMAT)
    throw bad('/format', `format is ${JSON.stringify(v.format)}, not ${PACK_FORMAT}`);
  if (v.version !== PACK_VERSION)
    throw bad(
      '/version',
      `unsupported version ${JSON.stringify(v.version)} (this vouch reads ${PACK_VERSION})`,
    );
  const subject = v.subject;
  if (
    !isObject(subject) ||
    typeof subject.name !== 'string' ||
    typeof subject.digest !== 'string' ||
    !/^sha256:[0-9a-f]{64}$/.test(subject.digest)
  )
    throw bad('/subject', 'subject must be { name, digest: sha256:HEX }');
  if (!Array.isArray(v.bundles)) throw bad('/bundles', 'bundles must be an array');
  const bundles = v.bundles.map((b, i) => {
    if (
      !isObject(b) ||
      typeof b.sha256 !== 'string' ||
      typeof b.source !== 'string' ||
      typeof b.bundle !== 'string'
    )
      throw bad(`/bundles/${i}`, 'each bundle must be { sha256, source, bundle }');
    if (!HEX64.test(b.sha256) || sha(b.bundle) !== b.sha256)
      throw bad(`/bundles/${i}/sha256`, 'bundle bytes do not match their sha256');
    return { sha256: b.sha256, source: b.source, bundle: b.bundle };
  });
  let trustedRoot: EvidencePack['trustedRoot'] = null;
  if (v.trustedRoot !== null && v.trustedRoot !== undefined) {
    const t = v.trustedRoot;
    if (
      !isObject(t) ||
      typeof t.json !== 'string' ||
      typeof t.sha256 !== 'string' ||
      sha(t.json) !== t.sha256
    )
      throw bad('/trustedRoot', 'trustedRoot must be { sha256, json } with a matching sha256');
    trustedRoot = { sha256: t.sha256, json: t.json };
  }
  let policy: EvidencePack['policy'] = null;
  if (v.policy !== null && v.policy !== undefined) {
    const p = v.policy;
    if (
      !isObject(p) ||
      typeof p.name !== 'string' ||
      typeof p.text !== 'string' ||
      typeof p.sha256 !== 'string' ||
      !isObject(p.files)
    )
      throw bad('/policy', 'policy must be { name, sha256, text, files }');
    if (sha(p.text) !== p.sha256)
      throw bad('/policy/sha256', 'policy text does not match its sha256');
    safeName(p.name, display, '/policy/name');
    const files: Record<string, string> = {};
    for (const [name, content] of Object.entries(p.files)) {
      safeName(name, display, `/policy/files/${name}`);
      // Written beside the policy, a file of the same name would replace the policy itself.
      if (name === p.name)
        throw bad(`/policy/files/${name}`, `a file named like the policy (${p.name})`);
      if (typeof content !== 'string')
        throw bad(`/policy/files/${name}`, 'file content must be a string');
      files[name] = content;
    }
    policy = { name: p.name, sha256: p.sha256, text: p.text, files };
  }
  return {
    format: PACK_FORMAT,
    version: PACK_VERSION,
    subject: { name: subject.name, digest: subject.digest },
    bundles,
    trustedRoot,
    policy,
  };
}

/** A relative path with no `..`, no empty or absolute parts, no backslashes. */
function safeName(name: string, file: string, field: string): void {
  const parts = name.split('/');
  if (
    name === '' ||
    name.length > 255 ||
    name.includes('\\') ||
    name.includes('\0') ||
    parts.some((p) => p === '' || p === '.' || p === '..')
  )
    throw new VouchError(
      'OCI_PACK_MALFORMED',
      `unsafe file name ${JSON.stringify(name.slice(0, 100))} in the pack`,
      { file, field },
    );
}

/**
 * The pin of a pack's policy (`vouch verify --pack-policy-sha256`): the
 * sha256 of one line `<sha256 hex>  <name>\n` per file the pack carries for
 * its policy — the policy itself and the key, trusted-root and extended
 * policy files beside it — sorted by name: `sha256sum`'s output, so the
 * owner of the files can compute it without vouch. The policy's own digest
 * would not do: the keys it names travel beside it and would be unpinned.
 */
export function packPolicyDigest(policy: NonNullable<EvidencePack['policy']>): string {
  const entries: Array<[string, string]> = [
    [policy.name, policy.text],
    ...Object.entries(policy.files).filter(([name]) => name !== policy.name),
  ];
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return sha(entries.map(([name, text]) => `${sha(text)}  ${name}\n`).join(''));
}

export interface PackMaterial {
  policyFile?: string | undefined;
}

/**
 * Writes the pack's policy (with its files) under `dir`, for the loaders that
 * read files. Only the policy's own files: the pack's trusted root is not
 * written, so a policy cannot reach it by a relative path (it is not covered
 * by the pin, {@link packPolicyDigest}).
 */
export async function materializePack(pack: EvidencePack, dir: string): Promise<PackMaterial> {
  const out: PackMaterial = {};
  const put = async (name: string, text: string) => {
    const path = resolve(dir, name);
    if (!path.startsWith(resolve(dir) + sep))
      throw new VouchError('OCI_PACK_MALFORMED', `unsafe file name ${name}`);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
    return path;
  };
  if (pack.policy) {
    const policyDir = join(dir, 'policy');
    await mkdir(policyDir);
    for (const [name, text] of Object.entries(pack.policy.files))
      await put(join('policy', name), text);
    out.policyFile = await put(join('policy', pack.policy.name), pack.policy.text);
  }
  return out;
}
