import { errorMessage, VouchError } from '../core/errors.ts';
import { isObject } from '../core/json.ts';

/** The audience Fulcio expects in OIDC tokens. */
export const FULCIO_AUDIENCE = 'sigstore';

/** How long the CI's token endpoint may take before vouch gives up (never a hang). */
const TOKEN_REQUEST_TIMEOUT_MS = 30_000;

/**
 * The ambient OIDC token of a CI job, for audience `sigstore`, from (first
 * that applies): `SIGSTORE_ID_TOKEN` (GitLab `id_tokens`, cosign's variable),
 * a GitHub Actions job with `id-token: write`, a Buildkite job. Never a
 * browser flow. `flag` is how the verb spells `--identity-token`, for the
 * message when there is no token.
 *
 * @throws VouchError IDENTITY_TOKEN_MISSING naming what is missing, or what the CI answered.
 */
export async function ambientIdentityToken(
  env: NodeJS.ProcessEnv = process.env,
  flag = '--identity-token',
): Promise<string> {
  const missing = (message: string) => new VouchError('IDENTITY_TOKEN_MISSING', message);
  if (env.SIGSTORE_ID_TOKEN) return env.SIGSTORE_ID_TOKEN;
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const bearer = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (url || bearer) {
    if (!url || !bearer) {
      throw missing(
        `GitHub Actions: ${url ? 'ACTIONS_ID_TOKEN_REQUEST_TOKEN' : 'ACTIONS_ID_TOKEN_REQUEST_URL'} is not set (both are needed to request the job's OIDC token)`,
      );
    }
    return githubActionsToken(url, bearer);
  }
  if (env.BUILDKITE === 'true') {
    const { CIContextProvider } = await import('@sigstore/sign');
    try {
      return await new CIContextProvider(FULCIO_AUDIENCE).getToken();
    } catch (e) {
      throw missing(`Buildkite: buildkite-agent oidc request-token failed: ${errorMessage(e)}`);
    }
  }
  if (env.GITHUB_ACTIONS === 'true') {
    throw missing(
      'GitHub Actions job without an OIDC token (ACTIONS_ID_TOKEN_REQUEST_URL is not set): give the job "permissions: id-token: write"',
    );
  }
  if (env.GITLAB_CI === 'true') {
    throw missing(
      'GitLab CI job without SIGSTORE_ID_TOKEN: add "id_tokens: SIGSTORE_ID_TOKEN: aud: sigstore" to the job',
    );
  }
  throw missing(
    `no OIDC identity token: pass ${flag} TOKEN|FILE, set SIGSTORE_ID_TOKEN, or run in GitHub Actions with "permissions: id-token: write" (GitLab: id_tokens SIGSTORE_ID_TOKEN with aud sigstore)`,
  );
}

/** GitHub's token endpoint: GET URL&audience=sigstore with the request token as bearer → `{ value }`. */
async function githubActionsToken(requestUrl: string, bearer: string): Promise<string> {
  const fail = (why: string, cause?: unknown) =>
    new VouchError('IDENTITY_TOKEN_MISSING', `GitHub Actions OIDC token request failed: ${why}`, {
      cause,
    });
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch (e) {
    throw fail('ACTIONS_ID_TOKEN_REQUEST_URL is not a URL', e);
  }
  url.searchParams.set('audience', FULCIO_AUDIENCE);
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { Accept: 'application/json', Authorization: `Bearer ${bearer}` },
      signal: AbortSignal.timeout(TOKEN_REQUEST_TIMEOUT_MS),
    });
  } catch (e) {
    throw fail(`${url.origin}: ${errorMessage((e as { cause?: unknown }).cause ?? e)}`, e);
  }
  if (!response.ok) throw fail(`HTTP ${response.status} ${response.statusText} from ${url.origin}`);
  let body: unknown;
  try {
    body = await response.json();
  } catch (e) {
    throw fail(`the answer from ${url.origin} is not JSON`, e);
  }
  const value = (body as { value?: unknown } | null)?.value;
  if (typeof value !== 'string' || value === '') {
    throw fail(`the answer from ${url.origin} holds no token ("value")`);
  }
  return value;
}

/** The claims of a JWT, unverified (for diagnosis only), or undefined when it is not one. */
export function unverifiedClaims(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims: unknown = JSON.parse(
      Buffer.from(parts[1] as string, 'base64url').toString('utf8'),
    );
    return isObject(claims) ? claims : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why Fulcio may have refused a token, read from its own claims: Fulcio
 * answers only "There was an error processing the identity token".
 */
export function tokenRefusalHints(token: string, now = new Date()): string[] {
  const claims = unverifiedClaims(token);
  if (!claims) return [];
  const hints: string[] = [];
  if (typeof claims.exp === 'number' && claims.exp * 1000 <= now.getTime()) {
    hints.push(`the token expired at ${new Date(claims.exp * 1000).toISOString()}`);
  }
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (claims.aud !== undefined && !aud.includes(FULCIO_AUDIENCE)) {
    hints.push(
      `its audience ${aud.map((a) => JSON.stringify(a)).join(', ')} is not "${FULCIO_AUDIENCE}" (public-good Fulcio's)`,
    );
  }
  if (typeof claims.iss === 'string') hints.push(`issuer ${claims.iss}`);
  return hints;
}
