import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { errorMessage, VouchError } from '../core/errors.ts';
import { isObject, parseJson } from '../core/json.ts';

/** Credentials for a registry. */
export type RegistryAuth =
  | { kind: 'anonymous' }
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'bearer'; token: string }
  | {
      kind: 'docker-config';
      /** Path of config.json (default: $DOCKER_CONFIG/config.json, else ~/.docker/config.json). */
      path?: string | undefined;
      /**
       * Run `docker-credential-<helper> get` for registries configured in
       * `credHelpers`/`credsStore`. Off by default: it executes a program
       * named by a config file.
       */
      credentialHelpers?: boolean | undefined;
      /** Environment to find DOCKER_CONFIG and HOME in (default process.env). */
      env?: NodeJS.ProcessEnv | undefined;
    };

/** What to send when a registry challenges: a user name and secret, or nothing. */
export interface Credentials {
  username: string;
  password: string;
}

const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * The username/password for `registry` (host[:port]) that `auth` gives.
 * For docker-config: the `auths` entry keyed by the host (also as
 * `https://host`, `http://host` or `https://host/v1/`), its base64 `auth`
 * ("user:password") or `username`/`password` fields. A missing config file
 * means anonymous; a malformed one is an error naming the file.
 *
 * @throws VouchError FILE_READ | JSON_* | OCI_AUTH_FAILED
 */
export function credentialsFor(registry: string, auth: RegistryAuth): Credentials | undefined {
  switch (auth.kind) {
    case 'anonymous':
    case 'bearer':
      return undefined;
    case 'basic':
      return { username: auth.username, password: auth.password };
    case 'docker-config':
      return fromDockerConfig(registry, auth);
  }
}

export function dockerConfigPath(env: NodeJS.ProcessEnv): string {
  const dir = env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker');
  return join(dir, 'config.json');
}

function fromDockerConfig(
  registry: string,
  auth: Extract<RegistryAuth, { kind: 'docker-config' }>,
): Credentials | undefined {
  const path = auth.path ?? dockerConfigPath(auth.env ?? process.env);
  let text: string;
  try {
    const buf = readFileSync(path);
    if (buf.length > MAX_CONFIG_BYTES)
      throw new VouchError('JSON_TOO_LARGE', 'docker config is too large', { file: path });
    text = buf.toString('utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (e instanceof VouchError) throw e;
    throw new VouchError('FILE_READ', `cannot read: ${errorMessage(e)}`, { file: path });
  }
  const config = parseJson(text, path);
  if (!isObject(config))
    throw new VouchError('JSON_MALFORMED', 'not a JSON object', { file: path });
  const auths = isObject(config.auths) ? config.auths : {};
  for (const key of [
    registry,
    `https://${registry}`,
    `http://${registry}`,
    `https://${registry}/v1/`,
  ]) {
    const entry = auths[key];
    if (!isObject(entry)) continue;
    if (typeof entry.auth === 'string' && entry.auth !== '') {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon === -1)
        throw new VouchError(
          'OCI_AUTH_FAILED',
          `auths entry for ${registry} is not base64 "user:password"`,
          {
            file: path,
            field: `/auths/${key}/auth`,
          },
        );
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    if (typeof entry.username === 'string' && typeof entry.password === 'string')
      return { username: entry.username, password: entry.password };
  }
  const helpers = isObject(config.credHelpers) ? config.credHelpers : {};
  const helper =
    typeof helpers[registry] === 'string'
      ? (helpers[registry] as string)
      : typeof config.credsStore === 'string'
        ? config.credsStore
        : undefined;
  if (helper === undefined || !auth.credentialHelpers) return undefined;
  return runHelper(helper, registry, path);
}

function runHelper(helper: string, registry: string, file: string): Credentials | undefined {
  if (!/^[A-Za-z0-9_.-]+$/.test(helper))
    throw new VouchError(
      'OCI_AUTH_FAILED',
      `credential helper name ${JSON.stringify(helper)} is not a plain name`,
      {
        file,
      },
    );
  let out: string;
  try {
    out = execFileSync(`docker-credential-${helper}`, ['get'], {
      input: registry,
      encoding: 'utf8',
      timeout: 30_000,
      maxBuffer: MAX_CONFIG_BYTES,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (e) {
    const stdout = String((e as { stdout?: unknown }).stdout ?? '');
    if (/credentials not found/i.test(stdout)) return undefined;
    throw new VouchError(
      'OCI_AUTH_FAILED',
      `docker-credential-${helper} get failed: ${errorMessage(e)}`,
      {
        file,
      },
    );
  }
  const value = parseJson(out, `docker-credential-${helper}`);
  if (!isObject(value) || typeof value.Username !== 'string' || typeof value.Secret !== 'string')
    throw new VouchError('OCI_AUTH_FAILED', `docker-credential-${helper} gave no Username/Secret`, {
      file,
    });
  return { username: value.Username, password: value.Secret };
}
