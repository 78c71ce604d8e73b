/** Names and values of configuration variables that hold credentials. */

const SECRET_NAME =
  /(?:^|[_.-])(?:TOKEN|PASSWORD|PASSWD|PASS|PWD|SECRET|SECRETS|API_?KEY|APIKEY|PRIVATE_?KEY|ACCESS_?KEY|SECRET_?KEY|AUTH|CREDENTIALS?|CLIENT_SECRET)(?:$|[_.-])/i;
const NOT_SECRET_NAME =
  /(?:_FILE|_PATH|_DIR|_URL|_URI|_ENABLED|_LENGTH|_NAME|_USER|_USERNAME|_TYPE|_MODE|_HEADER|_POLICY|_EXPIRY|_TTL|_TIMEOUT|_VERSION|_ID|_REGEX)$/i;

/** A variable name that says it holds a credential (DB_PASSWORD, GITHUB_TOKEN…). */
export function isSecretName(name: string): boolean {
  const n = name.replace(/([a-z])([A-Z])/g, '$1_$2');
  return SECRET_NAME.test(n) && !NOT_SECRET_NAME.test(n);
}

const KEY_VALUES: readonly RegExp[] = [
  /\bAKIA[0-9A-Z]{16}\b/, // AWS access key id
  /\bgh[pousr]_[A-Za-z0-9]{36,}\b/, // GitHub tokens
  /\bgithub_pat_[A-Za-z0-9_]{60,}\b/,
  /\bglpat-[A-Za-z0-9_-]{20,}\b/, // GitLab
  /\bnpm_[A-Za-z0-9]{36}\b/,
  /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/, // Slack
  /\b[rs]k_live_[A-Za-z0-9]{20,}\b/, // Stripe
  /\bAIza[0-9A-Za-z_-]{35}\b/, // Google API key
  /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/,
  /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:[^\s@/$]{3,}@/, // URL with a password
];

/** A value that looks like a credential whatever its name. */
export function looksLikeKey(value: string): boolean {
  return KEY_VALUES.some((r) => r.test(value));
}

/**
 * A literal value, not a reference to one: empty strings, `$VAR`/`${VAR}`,
 * CI expressions and obvious placeholders are not secrets.
 */
export function isLiteralSecretValue(value: string): boolean {
  const v = value.trim();
  if (v === '' || v.length < 4) return false;
  if (/^\$\{?[A-Za-z_][A-Za-z0-9_]*(?::?[-=?+][^}]*)?\}?$/.test(v)) return false;
  if (/^\$\{\{.*\}\}$/.test(v) || /^\$\(.*\)$/.test(v)) return false;
  if (
    /^(?:true|false|yes|no|null|none|changeme|change_me|xxx+|\*+|<[^>]*>|your[-_].*|example.*|dummy|test|placeholder)$/i.test(
      v,
    )
  )
    return false;
  if (v.startsWith('/') && !v.includes(' ')) return false; // a file path
  return true;
}
