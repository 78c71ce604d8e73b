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

export function isPlaceholder(value: string): boolean {
  return PLACEHOLDER_PATTERNS.some((re) => re.test(value));
}

/** Test and fixture paths, where the generic entropy detector does not search. */
const FIXTURE_PATH =
  /(?:^|\/)(?:fixtures?|__fixtures__|testdata|test-data|__mocks__|__snapshots__)\/|(?:\.|_)(?:test|spec)\.[A-Za-z0-9]+$/;

export function isFixturePath(path: string): boolean {
  return FIXTURE_PATH.test(path);
}
