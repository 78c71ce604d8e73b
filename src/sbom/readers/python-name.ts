/** PEP 503 normalised project name: lower-case, runs of `-`, `_`, `.` become one `-`. */
export function pypiName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** A PEP 508 project name (letters, digits, `-_.`, starting and ending with a letter or digit). */
export const PYPI_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;

/** `sha256:<hex>` (pip, Pipfile.lock, poetry, uv) to a Hash; undefined for other algorithms. */
export function pypiHash(
  s: string,
): { algorithm: 'SHA-256' | 'SHA-384' | 'SHA-512' | 'MD5'; value: string } | undefined {
  const m = /^(sha256|sha384|sha512|md5)[:=]([0-9a-fA-F]+)$/.exec(s.trim());
  if (!m) return undefined;
  const algorithm = (
    { sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512', md5: 'MD5' } as const
  )[m[1] as 'sha256' | 'sha384' | 'sha512' | 'md5'];
  return { algorithm, value: (m[2] as string).toLowerCase() };
}
