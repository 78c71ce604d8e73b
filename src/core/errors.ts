/**
 * One error type for the whole library. A `VouchError` always carries a code
 * from the closed union below, a message that names the offending file or
 * field, and the exit code the CLI maps it to (2: bad input or usage,
 * 1: verification or policy failure).
 *
 * Verification *failures* are normally results (see sign/verify), not
 * exceptions; a VouchError with exit code 1 is used only where a caller asked
 * for "verify or throw".
 */
export type ErrorCode =
  // input and usage (exit 2)
  | 'USAGE'
  | 'FILE_NOT_FOUND'
  | 'FILE_READ'
  | 'FILE_WRITE'
  | 'JSON_MALFORMED'
  | 'JSON_TOO_DEEP'
  | 'JSON_TOO_LARGE'
  | 'JSON_NOT_CANONICALIZABLE'
  | 'DSSE_MALFORMED'
  | 'DSSE_NO_SIGNATURES'
  | 'STATEMENT_MALFORMED'
  | 'STATEMENT_UNKNOWN_TYPE'
  | 'PREDICATE_MALFORMED'
  | 'BUNDLE_MALFORMED'
  | 'POLICY_MALFORMED'
  | 'KEY_MALFORMED'
  | 'KEY_UNSUPPORTED'
  | 'KEY_PASSPHRASE'
  | 'TRUSTED_ROOT_MALFORMED'
  | 'TRUST_UPDATE_FAILED'
  | 'PATH_ESCAPE'
  | 'DIGEST_MALFORMED'
  | 'STORE_CORRUPT'
  | 'COMMAND_FAILED_TO_START'
  | 'SIGNING_FAILED'
  | 'IDENTITY_TOKEN_MISSING'
  | 'IDENTITY_TOKEN_INVALID'
  | 'LOCKFILE_UNSUPPORTED'
  | 'LOCKFILE_MALFORMED'
  | 'ARCHIVE_MALFORMED'
  | 'ARCHIVE_TOO_LARGE'
  | 'ARCHIVE_UNSAFE'
  | 'IMAGE_MALFORMED'
  | 'IMAGE_UNSUPPORTED'
  | 'IMAGE_DIGEST_MISMATCH'
  | 'IMAGE_PLATFORM_NOT_FOUND'
  | 'ARCHIVE_TOO_DEEP'
  | 'REPRO_BUILD_FAILED'
  | 'REPRO_TOOL_MISSING'
  | 'SCAN_PARSE_ERROR'
  | 'SCAN_DEPS_POLICY_MALFORMED'
  | 'SCAN_BASELINE_MALFORMED'
  | 'SCAN_GIT_HISTORY'
  | 'VERSION_MALFORMED'
  | 'OSV_MALFORMED'
  | 'CVSS_MALFORMED'
  | 'TEE_MALFORMED'
  | 'TEE_UNAVAILABLE'
  | 'VULN_DB_MISSING'
  | 'VULN_DB_CORRUPT'
  | 'VULN_DB_UPDATE_FAILED'
  | 'VULN_DB_BUSY'
  | 'VEX_MALFORMED'
  | 'OCI_REFERENCE_MALFORMED'
  | 'OCI_REGISTRY_UNAVAILABLE'
  | 'OCI_REGISTRY_ERROR'
  | 'OCI_AUTH_FAILED'
  | 'OCI_NOT_FOUND'
  | 'OCI_MANIFEST_MALFORMED'
  | 'OCI_TOO_LARGE'
  | 'OCI_DIGEST_MISMATCH'
  | 'OCI_PACK_MALFORMED'
  | 'OCI_PACK_POLICY_MISMATCH'
  | 'RELEASE_MALFORMED'
  | 'IMAGE_DIGEST_FILE_STALE'
  // verification (exit 1)
  | 'VERIFICATION_FAILED';

const EXIT_ONE: ReadonlySet<ErrorCode> = new Set(['VERIFICATION_FAILED']);

export interface VouchErrorOptions {
  /** The file the problem is in, when there is one. */
  file?: string | undefined;
  /** A JSON pointer, field name or line the problem is at. */
  field?: string | undefined;
  cause?: unknown;
}

export class VouchError extends Error {
  override readonly name = 'VouchError';
  readonly code: ErrorCode;
  readonly file: string | undefined;
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, options: VouchErrorOptions = {}) {
    super(formatMessage(message, options), { cause: options.cause });
    this.code = code;
    this.file = options.file;
    this.field = options.field;
  }

  /** Exit code the CLI uses for this error: 1 for verification, 2 otherwise. */
  get exitCode(): 1 | 2 {
    return EXIT_ONE.has(this.code) ? 1 : 2;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, file: this.file, field: this.field };
  }
}

function formatMessage(message: string, { file, field }: VouchErrorOptions): string {
  const where = [file, field].filter(Boolean).join(': ');
  return where ? `${where}: ${message}` : message;
}

export function isVouchError(e: unknown): e is VouchError {
  return e instanceof VouchError;
}

/** The message of anything thrown, for wrapping foreign errors. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
