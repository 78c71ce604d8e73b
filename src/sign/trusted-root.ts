import { createRequire } from 'node:module';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { errorMessage, VouchError } from '../core/errors.ts';
import { isObject, readJsonFile } from '../core/json.ts';

/** The JSON form of a Sigstore trusted root, checked by `trustedRootFromJson`. */
export type TrustedRootJson = Record<string, unknown>;

const MEDIA_TYPE_PREFIX = 'application/vnd.dev.sigstore.trustedroot';
const PUBLIC_GOOD_MIRROR = 'https://tuf-repo-cdn.sigstore.dev';

/**
 * Reads and checks a trusted_root.json.
 *
 * @throws VouchError FILE_NOT_FOUND | FILE_READ | JSON_* | TRUSTED_ROOT_MALFORMED
 */
export async function loadTrustedRoot(path: string): Promise<TrustedRootJson> {
  const value = await readJsonFile(path);
  trustedRootFromJson(value, path);
  return value as TrustedRootJson;
}

/**
 * Converts trusted-root JSON into the protobuf model @sigstore/verify needs.
 * `TrustedRoot.fromJSON` fills any missing field with a default, so a
 * missing validity start would silently become "since the beginning of
 * time"; the structural checks here reject that first.
 *
 * @throws VouchError TRUSTED_ROOT_MALFORMED
 */
export function trustedRootFromJson(value: unknown, source: string): TrustedRoot {
  const bad = (field: string, message: string) =>
    new VouchError('TRUSTED_ROOT_MALFORMED', message, { file: source, field });
  if (!isObject(value)) throw bad('/', 'trusted root is not a JSON object');
  if (typeof value.mediaType !== 'string' || !value.mediaType.startsWith(MEDIA_TYPE_PREFIX)) {
    throw bad('/mediaType', `expected ${MEDIA_TYPE_PREFIX}+json;version=…`);
  }
  for (const list of ['tlogs', 'ctlogs'] as const) {
    const items = optionalArray(value[list], `/${list}`, bad);
    items.forEach((item, i) => {
      const field = `/${list}/${i}`;
      if (!isObject(item) || !isObject(item.publicKey)) throw bad(`${field}/publicKey`, 'missing');
      if (typeof item.publicKey.rawBytes !== 'string') {
        throw bad(`${field}/publicKey/rawBytes`, 'missing or not a string');
      }
      if (!isObject(item.logId) || typeof item.logId.keyId !== 'string') {
        throw bad(`${field}/logId/keyId`, 'missing or not a string');
      }
      checkTimeRange(item.publicKey.validFor, `${field}/publicKey/validFor`, bad);
    });
  }
  for (const list of ['certificateAuthorities', 'timestampAuthorities'] as const) {
    const items = optionalArray(value[list], `/${list}`, bad);
    items.forEach((item, i) => {
      const field = `/${list}/${i}`;
      if (
        !isObject(item) ||
        !isObject(item.certChain) ||
        !Array.isArray(item.certChain.certificates)
      ) {
        throw bad(`${field}/certChain/certificates`, 'missing or not an array');
      }
      if (item.certChain.certificates.length === 0) {
        throw bad(`${field}/certChain/certificates`, 'empty certificate chain');
      }
      checkTimeRange(item.validFor, `${field}/validFor`, bad);
    });
  }
  try {
    return TrustedRoot.fromJSON(value);
  } catch (e) {
    throw new VouchError('TRUSTED_ROOT_MALFORMED', `not a trusted root: ${errorMessage(e)}`, {
      file: source,
      cause: e,
    });
  }
}

/**
 * The Sigstore public-good trusted root, offline: the copy embedded in
 * @sigstore/tuf's seeds. It is as trustworthy as the installed package and
 * as fresh as its release; use a TUF refresh for key rotations after that.
 *
 * @throws VouchError TRUSTED_ROOT_MALFORMED when the package has no usable seed.
 */
export function publicGoodTrustedRoot(): TrustedRootJson {
  const source = '@sigstore/tuf/seeds.json';
  let seeds: unknown;
  try {
    seeds = createRequire(import.meta.url)('@sigstore/tuf/seeds.json');
  } catch (e) {
    throw new VouchError('TRUSTED_ROOT_MALFORMED', `cannot load: ${errorMessage(e)}`, {
      file: source,
      cause: e,
    });
  }
  const mirror = isObject(seeds) ? seeds[PUBLIC_GOOD_MIRROR] : undefined;
  const targets = isObject(mirror) ? mirror.targets : undefined;
  const encoded = isObject(targets) ? targets['trusted_root.json'] : undefined;
  if (typeof encoded !== 'string') {
    throw new VouchError('TRUSTED_ROOT_MALFORMED', 'no embedded trusted_root.json target', {
      file: source,
      field: `/${PUBLIC_GOOD_MIRROR}/targets/trusted_root.json`,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
  } catch (e) {
    throw new VouchError('TRUSTED_ROOT_MALFORMED', 'embedded trusted_root.json is not JSON', {
      file: source,
      cause: e,
    });
  }
  trustedRootFromJson(value, source);
  return value as TrustedRootJson;
}

function optionalArray(
  v: unknown,
  field: string,
  bad: (field: string, message: string) => VouchError,
): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw bad(field, 'not an array');
  return v;
}

function checkTimeRange(
  v: unknown,
  field: string,
  bad: (field: string, message: string) => VouchError,
): void {
  if (!isObject(v)) throw bad(field, 'missing validity period');
  for (const end of ['start', 'end'] as const) {
    const t = v[end];
    // Exported roots write an open end as null; an open start is never allowed.
    if ((t === undefined || t === null) && end === 'end') continue;
    if (typeof t !== 'string' || Number.isNaN(Date.parse(t))) {
      throw bad(
        `${field}/${end}`,
        end === 'start' ? 'missing or not an RFC 3339 time' : 'not an RFC 3339 time',
      );
    }
  }
}
