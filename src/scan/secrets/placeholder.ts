/**
 * Values that look like a secret's slot rather than a secret: templating,
 * environment references, documentation placeholders and the published
 * example credentials of cloud vendors. A match on one of these is not a
 * finding, whichever detector found it.
 */
const PLACEHOLDER_PATTERNS: readonly RegExp[] = [
  // ${VAR}, $VAR, {{ .Values.x }}, %(name)s, #{x}, <token>, [PASSWORD]
  /\$\{[^}]*\}/,
  /^\$[A-Za-z_][A-Za-z0-9_]*$/,
  // printf-style slots: %s, %v, %d
  /^%[a-z]$/,
  /\{\{[^}]*\}\}/,
  /%\([^)]*\)s/,
  /#\{[^}]*\}/,
  /^<[^>]*>$/,
  /^\[[^\]]*\]$/,
  // Runs of one character: xxxx, ****, 0000, ....
  /(.)\1{5,}/,
  // Words that mark a value as not real.
  /(?:change[-_]?me|placeholder|example|redacted|dummy|your[-_]?(?:api|secret|token|key|password)|insert[-_]?your|replace[-_]?me|not[-_]?a[-_]?real|fake|sample|foobar)/i,
  // Well-known documentation values (AWS documentation's example key id ends in EXAMPLE).
  /EXAMPLE/,
];

/** Eight or more consecutive ascending characters (abcdefgh, 12345678): typed, not generated. */
function hasAscendingRun(value: string): boolean {
  let run = 1;
  for (let i = 1; i < value.length; i++) {
    run = value.charCodeAt(i) === value.charCodeAt(i - 1) + 1 ? run + 1 : 1;
    if (run >= 8) return true;
  }
  return false;
}

export function isPlaceholder(value: string): boolean {
  return PLACEHOLDER_PATTERNS.some((re) => re.test(value)) || hasAscendingRun(value);
}

/** Test and fixture paths, where the generic entropy detector does not search. */
const FIXTURE_PATH =
  /(?:^|\/)(?:fixtures?|__fixtures__|testdata|test-data|__mocks__|__snapshots__)\/|(?:\.|_)(?:test|spec)\.[A-Za-z0-9]+$/;

export function isFixturePath(path: string): boolean {
  return FIXTURE_PATH.test(path);
}
