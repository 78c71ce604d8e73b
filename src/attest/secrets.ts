/**
 * Heuristics that keep credentials out of provenance. Provenance is signed
 * and often published, so a leaked token cannot be taken back: when in doubt
 * we redact. False positives cost a "[redacted]" marker; false negatives
 * cost a credential rotation.
 */

export const REDACTED = '[redacted]';

const SECRET_NAME = /TOKEN|SECRET|PASSWORD|PASSWD|KEY|CREDENTIAL|AUTH|COOKIE|SESSION|PRIVATE/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

const VALUE_PATTERNS: ReadonlyArray<readonly [string, RegExp]> = [
  ['jwt', /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/],
  ['github-token', /\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})/],
  ['aws-access-key', /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/],
  ['pem', /-----BEGIN [A-Z0-9 ]*-----/],
  // Personal, CI job, trigger, deploy, runner, feed, incoming-mail, agent, OAuth tokens.
  [
    'gitlab-token',
    /\b(?:glpat|glcbt|glptt|gldt|glrt|glsoat|glft|glimt|glagent|gloas)-[A-Za-z0-9_.-]{20,}/,
  ],
  ['slack-token', /\bxox[abposr]-[A-Za-z0-9-]{10,}/],
  ['npm-token', /\bnpm_[A-Za-z0-9]{36}\b/],
  // The user name may be empty: redis://:password@host.
  ['url-credentials', /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:[^/\s@]+@/i],
  // `Authorization: Bearer …`, `PRIVATE-TOKEN: …`, `X-Api-Key: …` (curl -H, inside a script too);
  // `$VAR` is a reference, not a secret, so a script that uses one stays readable.
  [
    'credential-header',
    /\b(?:[A-Za-z0-9]+-)*(?:[A-Za-z0-9]*(?:TOKEN|SECRET|PASSWORD|AUTH[A-Za-z]*|COOKIE|SESSION)|KEY)(?:-[A-Za-z0-9]+)*:\s*(?:(?:Bearer|Basic|Token|Digest|Negotiate)\s+)?(?!\$|(?:Bearer|Basic|Token|Digest|Negotiate)\s)[^\s"'$]{4,}/i,
  ],
  // `curl -u admin:hunter2 …` / `--user` / `--proxy-user` inside a script; a
  // numeric pair (`docker run -u 1000:1000`) is a uid:gid, not a password.
  [
    'user-password',
    /(?:^|\s)(?:-u|-U|--user|--proxy-user)(?:\s+|=)?["']?(?!\d+:\d+\b)[^\s:"'$]+:(?!\$)[^\s"'$]+/,
  ],
  // `mysql -phunter2` (mysql's password sticks to -p), `sshpass -p hunter2`, inside a script.
  [
    'password-flag',
    /\b(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump)\b[^|;&\n]*\s-p(?!\$)[^\s"'$]+|\bsshpass\s+-p\s*(?!\$)[^\s"'$]+/,
  ],
  // `NPM_TOKEN=… npm publish` inside `sh -c`.
  [
    'secret-assignment',
    /\b[A-Za-z_][A-Za-z0-9_]*(?:TOKEN|SECRET|PASSWORD|PASSWD|KEY|CREDENTIAL|AUTH|PRIVATE)[A-Za-z0-9_]*=(?!\$)[^\s"';$]+/i,
  ],
];

/** Names the kind of secret `value` looks like, or undefined when it looks harmless. */
export function secretKind(value: string): string | undefined {
  for (const [kind, re] of VALUE_PATTERNS) if (re.test(value)) return kind;
  if (hasHighEntropyRun(value)) return 'high-entropy';
  return undefined;
}

/**
 * A run of 20+ token characters mixing upper case, lower case and digits with
 * high Shannon entropy looks like a random key. Hex digests (commit SHAs) use
 * one case, so they pass; paths and words fail the entropy bound.
 */
function hasHighEntropyRun(value: string): boolean {
  for (const run of value.match(/[A-Za-z0-9+/=_-]{20,}/g) ?? []) {
    if (!/[a-z]/.test(run) || !/[A-Z]/.test(run) || !/[0-9]/.test(run)) continue;
    if (entropy(run) >= 3.5) return true;
  }
  return false;
}

function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** Flags whose value is `user:password` (curl, wget-style tools); redacted when it has a password. */
const USER_PAIR_FLAGS: ReadonlySet<string> = new Set(['-u', '-U', '--user', '--proxy-user']);

/** `sshpass -p PASSWORD`, where -p means port or parents elsewhere. */
function passwordAfter(argv: readonly string[], i: number): boolean {
  return argv[i - 1] === '-p' && /(?:^|\/)sshpass$/.test(argv[0] ?? '');
}

/** `mysql -phunter2`: the client's password sticks to -p. */
function isStuckPassword(argv: readonly string[], arg: string): boolean {
  return (
    /^-p.+/s.test(arg) &&
    /(?:^|\/)(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump)$/.test(argv[0] ?? '')
  );
}

/**
 * Redacts command-line arguments that carry credentials: `--token=…`,
 * `NPM_TOKEN=…`, `--password …` (the argument after a secret-named flag) and any argument
 * whose value looks like a secret. Returns the redacted argv and the indexes
 * changed, so the record says exactly what was withheld.
 */
export function redactArgv(argv: readonly string[]): { argv: string[]; redacted: number[] } {
  const out: string[] = [];
  const redacted: number[] = [];
  argv.forEach((arg, i) => {
    // `--token=…`, and `NAME=…` as docker -e, --build-arg and env(1) take it.
    const flagValue = /^(-{0,2}[A-Za-z0-9_.-]+)=(.*)$/s.exec(arg);
    const prev = i > 0 ? argv[i - 1] : undefined;
    const prevIsSecretFlag =
      prev !== undefined &&
      ((/^-{1,2}[A-Za-z0-9_.-]+$/.test(prev) && isSecretName(prev)) ||
        passwordAfter(argv, i) ||
        (USER_PAIR_FLAGS.has(prev) && /^(?!\d+:\d+$)[^:]+:./s.test(arg)));
    if (flagValue?.[1] && isSecretName(flagValue[1])) {
      out.push(`${flagValue[1]}=${REDACTED}`);
      redacted.push(i);
    } else if (isStuckPassword(argv, arg)) {
      out.push(`-p${REDACTED}`);
      redacted.push(i);
    } else if (prevIsSecretFlag || secretKind(arg)) {
      out.push(REDACTED);
      redacted.push(i);
    } else {
      out.push(arg);
    }
  });
  return { argv: out, redacted };
}
