import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage, VouchError } from '../core/errors.ts';
import { isObject, parseJson, readTextFile } from '../core/json.ts';
import type { KeylessIdentity, TrustPolicy, VerificationKey } from '../sign/index.ts';
import {
  loadTrustedRoot,
  loadVerificationKey,
  publicGoodTrustedRoot,
  type TrustedRootJson,
  trustedRootFromJson,
} from '../sign/index.ts';
import { usage } from './args.ts';

/** Flags of every verifying verb, named as cosign names them. */
export const TRUST_OPTIONS = {
  key: { type: 'string', multiple: true },
  'certificate-identity': { type: 'string' },
  'certificate-identity-regexp': { type: 'string' },
  'certificate-oidc-issuer': { type: 'string' },
  'trusted-root': { type: 'string' },
  'tuf-mirror': { type: 'string' },
  'tuf-root': { type: 'string' },
  'tuf-cache-only': { type: 'boolean' },
} as const;

/**
 * cosign's GitHub Actions claim flags (keyless only), each checked as an exact
 * match against the certificate's Fulcio extension; for the verbs that list
 * WORKFLOW_HELP. Flag → identity field, the one a policy's keyless signer uses.
 */
export const WORKFLOW_FLAGS = {
  'certificate-github-workflow-repository': 'repository',
  'certificate-github-workflow-ref': 'ref',
  'certificate-github-workflow-sha': 'sha',
  'certificate-github-workflow-name': 'workflowName',
  'certificate-github-workflow-trigger': 'trigger',
} as const satisfies Record<string, keyof KeylessIdentity>;

type WorkflowFlag = keyof typeof WORKFLOW_FLAGS;

/** The parse options of WORKFLOW_FLAGS: each takes a string. */
export const WORKFLOW_OPTIONS = Object.fromEntries(
  Object.keys(WORKFLOW_FLAGS).map((flag) => [flag, { type: 'string' }]),
) as { readonly [F in WorkflowFlag]: { readonly type: 'string' } };

export const WORKFLOW_HELP = `GitHub Actions claims (keyless; exact match against the certificate's Fulcio
extension; a certificate without it fails):
  --certificate-github-workflow-repository OWNER/REPO   .12 (URL) or .5
  --certificate-github-workflow-ref REF                  e.g. refs/heads/main: .14 or .6
  --certificate-github-workflow-sha SHA                  commit: .13 or .3
  --certificate-github-workflow-name NAME                the workflow's name: .4
  --certificate-github-workflow-trigger EVENT            e.g. push: .20 or .2`;

/**
 * The flags a policy file takes the place of (it says whom to trust and which
 * predicate types to require), so that giving one with --policy is an error.
 */
export const POLICY_EXCLUDES = [
  'key',
  'certificate-identity',
  'certificate-identity-regexp',
  'certificate-oidc-issuer',
  'trusted-root',
  'tuf-mirror',
  'tuf-root',
  'tuf-cache-only',
  ...(Object.keys(WORKFLOW_FLAGS) as WorkflowFlag[]),
  'type',
] as const;

export const TRUST_HELP = `Trust (one of):
  --key FILE                          trusted public key (SPKI / PKCS#1 PEM or certificate);
                                      repeat for several
  --certificate-identity ID           keyless: exact certificate SAN (email or URI)
  --certificate-identity-regexp RE    keyless: SAN must match RE (whole string)
  --certificate-oidc-issuer URL       keyless: required with either of the above
  --trusted-root FILE                 Sigstore trusted_root.json (default: the public-good
                                      root shipped with vouch, no network)
  --tuf-mirror URL                    update the trusted root from a Sigstore TUF repository
                                      (e.g. https://tuf-repo-cdn.sigstore.dev); fails closed
  --tuf-root FILE                     the TUF root.json to start from for a mirror with none
                                      built in (first use; later runs use the cached one)
  --tuf-cache-only                    with --tuf-mirror: no network, use the cached TUF
                                      metadata while none of it has expired`;

/** The trust flags' parsed values; verbs that take more extend this. */
export interface TrustValues extends WorkflowValues {
  key?: string[] | undefined;
  'certificate-identity'?: string | undefined;
  'certificate-identity-regexp'?: string | undefined;
  'certificate-oidc-issuer'?: string | undefined;
  'trusted-root'?: string | undefined;
  'tuf-mirror'?: string | undefined;
  'tuf-root'?: string | undefined;
  'tuf-cache-only'?: boolean | undefined;
}

type WorkflowValues = { [F in WorkflowFlag]?: string | undefined };

/**
 * @throws VouchError USAGE | FILE_* | KEY_* | TRUSTED_ROOT_MALFORMED | TRUST_UPDATE_FAILED
 */
export async function trustPolicyFrom(
  verb: string,
  v: TrustValues,
  cacheDir: string,
): Promise<TrustPolicy> {
  const identity = v['certificate-identity'];
  const identityRe = v['certificate-identity-regexp'];
  const issuer = v['certificate-oidc-issuer'];
  const keyless = identity !== undefined || identityRe !== undefined || issuer !== undefined;
  const claims = workflowClaimsFrom(verb, v);
  const firstClaim = Object.keys(claims)[0];
  if (v.key?.length && (keyless || firstClaim !== undefined))
    throw usage(verb, '--key and --certificate-* flags exclude each other');
  if (v['tuf-mirror'] === undefined) {
    if (v['tuf-root'] !== undefined) throw usage(verb, '--tuf-root needs --tuf-mirror URL');
    if (v['tuf-cache-only']) throw usage(verb, '--tuf-cache-only needs --tuf-mirror URL');
  } else if (v['trusted-root'] !== undefined) {
    throw usage(verb, '--trusted-root and --tuf-mirror exclude each other');
  }
  if (firstClaim !== undefined && identity === undefined && identityRe === undefined)
    throw usage(
      verb,
      `--${firstClaim} needs keyless trust: --certificate-identity[-regexp] with --certificate-oidc-issuer`,
    );
  if (v.key?.length) {
    const keys: VerificationKey[] = [];
    for (const file of v.key)
      keys.push(loadVerificationKey(await readTextFile(file, 1024 * 1024), file));
    const policy: TrustPolicy = { mode: 'key', keys };
    if (v['trusted-root'] !== undefined || v['tuf-mirror'] !== undefined)
      policy.trustedRoot = await trustedRootFrom(v, cacheDir);
    return policy;
  }
  if (!keyless) {
    throw usage(
      verb,
      'say whom to trust: --key FILE, or --certificate-identity[-regexp] with --certificate-oidc-issuer',
    );
  }
  if (issuer === undefined)
    throw usage(verb, '--certificate-oidc-issuer is required for keyless verification');
  if ((identity === undefined) === (identityRe === undefined)) {
    throw usage(
      verb,
      'give exactly one of --certificate-identity and --certificate-identity-regexp',
    );
  }
  if (identityRe !== undefined) {
    try {
      new RegExp(identityRe);
    } catch (e) {
      throw usage(
        verb,
        `--certificate-identity-regexp is not a valid regular expression: ${errorMessage(e)}`,
      );
    }
  }
  const keylessIdentity: KeylessIdentity =
    identity !== undefined
      ? { issuer, subject: identity }
      : { issuer, subjectRegExp: identityRe as string };
  for (const [flag, value] of Object.entries(claims))
    keylessIdentity[WORKFLOW_FLAGS[flag as WorkflowFlag]] = value;
  return {
    mode: 'keyless',
    trustedRoot: await trustedRootFrom(v, cacheDir),
    identity: keylessIdentity,
  };
}

/**
 * The workflow claim flags given, by flag name, in WORKFLOW_FLAGS order.
 * An empty value is refused: it would check nothing where a check was asked for.
 *
 * @throws VouchError USAGE
 */
function workflowClaimsFrom(verb: string, v: TrustValues): Record<string, string> {
  const out: Record<string, string> = {};
  for (const flag of Object.keys(WORKFLOW_FLAGS) as WorkflowFlag[]) {
    const value = v[flag];
    if (value === undefined) continue;
    if (value === '') throw usage(verb, `--${flag} needs a value`);
    out[flag] = value;
  }
  return out;
}

async function trustedRootFrom(v: TrustValues, cacheDir: string): Promise<TrustedRootJson> {
  if (v['trusted-root'] !== undefined) return loadTrustedRoot(v['trusted-root']);
  const mirror = v['tuf-mirror'];
  if (mirror !== undefined) {
    return tufTrustedRoot({
      mirror,
      cacheDir,
      rootFile: v['tuf-root'],
      cacheOnly: v['tuf-cache-only'] === true,
    });
  }
  return publicGoodTrustedRoot();
}

export interface TufOptions {
  /** The TUF repository's base URL (metadata at URL/N.root.json, URL/timestamp.json…). */
  mirror: string;
  /** Where the verified metadata of every mirror is kept, one folder per mirror. */
  cacheDir: string;
  /** The TUF root.json to start from when the cache has none for this mirror. */
  rootFile?: string | undefined;
  /** Do not contact the mirror: use the cached metadata while TUF expiry accepts it. */
  cacheOnly?: boolean | undefined;
}

const TRUSTED_ROOT_TARGET = 'trusted_root.json';
const CACHED_ROLES = ['root', 'timestamp', 'snapshot', 'targets'] as const;

/**
 * The Sigstore trusted root from a TUF repository, through @sigstore/tuf
 * (tuf-js): the TUF client workflow, so every metadata file is checked against
 * the keys and thresholds of the trusted TUF root, no role may be expired or
 * roll back, and the trusted_root.json target must match its signed length and
 * hash. Whatever the mirror serves is then checked as any trusted root is.
 *
 * Online (the default) it always refreshes, as the TUF specification says.
 * `cacheOnly` uses the metadata an earlier online run verified and cached,
 * without a request, as long as none of root, timestamp, snapshot and targets
 * has expired (sigstore-go's ForceCache); otherwise it fails, it never falls
 * back to expired metadata.
 *
 * @throws VouchError USAGE (a bad URL) | FILE_NOT_FOUND (rootFile) |
 *   TRUST_UPDATE_FAILED (unreachable, HTTP error, expired, bad signature, hash
 *   mismatch, no usable cache) | TRUSTED_ROOT_MALFORMED (what was served)
 */
export async function tufTrustedRoot(o: TufOptions): Promise<TrustedRootJson> {
  let url: URL;
  try {
    url = new URL(o.mirror);
  } catch {
    throw new VouchError('USAGE', `--tuf-mirror: not a URL: ${o.mirror}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new VouchError('USAGE', `--tuf-mirror: not an http(s) URL: ${o.mirror}`);
  const mirror = o.mirror.replace(/\/+$/, '');
  const failed = (cause: string, e?: unknown) =>
    new VouchError(
      'TRUST_UPDATE_FAILED',
      `cannot update the trusted root from TUF mirror ${mirror}: ${cause}`,
      { cause: e },
    );
  if (o.rootFile !== undefined)
    checkTufRoot(await readTextFile(o.rootFile, 1024 * 1024), o.rootFile);
  if (o.cacheOnly) await checkCache(tufCacheFolder(o.cacheDir, url), failed);
  // Loaded only here: tuf-js costs ~120 ms of start-up that offline verification never needs.
  const { initTUF } = await import('@sigstore/tuf');
  let client: Awaited<ReturnType<typeof initTUF>>;
  try {
    client = await initTUF({
      mirrorURL: mirror,
      cachePath: o.cacheDir,
      rootPath: o.rootFile,
      forceCache: o.cacheOnly === true,
    });
  } catch (e) {
    if ((e as { code?: unknown }).code === 'TUF_INIT_CACHE_ERROR') {
      throw new VouchError(
        'USAGE',
        `--tuf-mirror ${mirror}: no TUF root.json to start from (only the public-good mirror's is built in): give --tuf-root FILE`,
        { cause: e },
      );
    }
    throw failed(`refreshing the metadata: ${describeCause(e)}`, e);
  }
  let text: string;
  try {
    text = await client.getTarget(TRUSTED_ROOT_TARGET);
  } catch (e) {
    throw failed(`getting target ${TRUSTED_ROOT_TARGET}: ${describeCause(e)}`, e);
  }
  const source = `${mirror}/targets/${TRUSTED_ROOT_TARGET}`;
  const value = parseJson(text, source);
  trustedRootFromJson(value, source);
  return value as TrustedRootJson;
}

/**
 * The shape of a TUF root.json, checked before @sigstore/tuf copies it into
 * the cache (its signatures are checked by tuf-js, against itself).
 *
 * @throws VouchError TRUSTED_ROOT_MALFORMED
 */
function checkTufRoot(text: string, file: string): void {
  const value = parseJson(text, file);
  const bad = (field: string, message: string) =>
    new VouchError('TRUSTED_ROOT_MALFORMED', message, { file, field });
  if (!isObject(value)) throw bad('/', 'a TUF root.json is a JSON object');
  if (!Array.isArray(value.signatures)) throw bad('/signatures', 'missing or not an array');
  const signed = value.signed;
  if (!isObject(signed) || signed._type !== 'root')
    throw bad('/signed/_type', 'not a TUF root metadata file (expected "root")');
  if (!isObject(signed.keys) || !isObject(signed.roles))
    throw bad('/signed', 'missing keys or roles');
}

/** The folder @sigstore/tuf keeps one mirror's metadata in (its TUFClient's naming). */
function tufCacheFolder(cacheDir: string, url: URL): string {
  return join(cacheDir, encodeURIComponent(url.host + url.pathname.replace(/\/$/, '')));
}

/**
 * With --tuf-cache-only, refuse before tuf-js runs when the cache is missing
 * or any role has expired: tuf-js would fall back to the network then. The
 * signatures are still checked by tuf-js; this only reads `signed.expires`.
 */
async function checkCache(
  folder: string,
  failed: (cause: string, e?: unknown) => VouchError,
): Promise<void> {
  const now = Date.now();
  for (const role of CACHED_ROLES) {
    const file = join(folder, `${role}.json`);
    let value: unknown;
    try {
      value = parseJson(await readFile(file, 'utf8'), file);
    } catch (e) {
      const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
      throw failed(
        missing
          ? `--tuf-cache-only: no cached ${role}.json (${file}); run once with --tuf-mirror online first`
          : `--tuf-cache-only: cached ${role}.json is unreadable: ${errorMessage(e)}`,
        e,
      );
    }
    const signed = isObject(value) ? value.signed : undefined;
    const expires = isObject(signed) ? signed.expires : undefined;
    const at = typeof expires === 'string' ? Date.parse(expires) : Number.NaN;
    if (Number.isNaN(at))
      throw failed(`--tuf-cache-only: cached ${role}.json has no valid signed.expires (${file})`);
    if (at <= now) {
      throw failed(
        `--tuf-cache-only: cached ${role}.json expired at ${expires} (${file}); update online with --tuf-mirror`,
      );
    }
  }
  if (!existsSync(join(folder, 'targets', TRUSTED_ROOT_TARGET)))
    throw failed(`--tuf-cache-only: no cached ${TRUSTED_ROOT_TARGET}; run once online first`);
}

function causeChain(e: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let c: unknown = e; c !== undefined && c !== null && chain.length < 8; ) {
    chain.push(c);
    c = c instanceof Error ? c.cause : undefined;
  }
  return chain;
}

/**
 * One line naming what went wrong, from the innermost cause outwards: a
 * network error code (ENOTFOUND, ECONNREFUSED, ETIMEDOUT…), an HTTP status,
 * expired metadata, a signature threshold not met, a hash mismatch.
 */
function describeCause(e: unknown): string {
  const chain = causeChain(e);
  const parts: string[] = [];
  let code: string | undefined;
  let status: number | undefined;
  for (const c of chain) {
    const rec = c as { code?: unknown; statusCode?: unknown; name?: unknown };
    if (code === undefined && typeof rec.code === 'string' && /^E[A-Z_]+$/.test(rec.code))
      code = rec.code;
    if (status === undefined && typeof rec.statusCode === 'number') status = rec.statusCode;
    const m = errorMessage(c);
    // @sigstore/tuf's own wrappers say less than the stage vouch names.
    if (/^error (refreshing TUF metadata|downloading target)/.test(m)) continue;
    if (m && !parts.some((p) => p.includes(m))) parts.push(m);
  }
  const kind =
    code ??
    (status !== undefined
      ? `HTTP ${status}`
      : chain.some((c) => c instanceof Error && /Expired/.test(c.name)) ||
          parts.some((p) => /expired/i.test(p))
        ? 'expired metadata'
        : chain.some((c) => c instanceof Error && /Unsigned/.test(c.name)) ||
            parts.some((p) => /signed by \d+\/\d+ keys/.test(p))
          ? 'signature check failed'
          : undefined);
  const detail = parts.reverse().join(' <- ');
  return kind !== undefined && !detail.startsWith(kind) ? `${kind}: ${detail}` : detail;
}
