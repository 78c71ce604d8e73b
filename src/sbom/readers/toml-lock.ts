import { parse, TomlError } from 'smol-toml';
import { VouchError } from '../../core/errors.ts';

/**
 * Parses a TOML lockfile (Cargo.lock, poetry.lock, uv.lock). Errors name the
 * file and the line.
 *
 * @throws VouchError LOCKFILE_MALFORMED
 */
export function parseTomlLock(bytes: Buffer, file: string): Record<string, unknown> {
  const text = bytes.toString('utf8');
  if (text.trim() === '') throw new VouchError('LOCKFILE_MALFORMED', 'empty file', { file });
  try {
    return parse(text) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof TomlError) {
      const first = e.message.split('\n')[0] ?? 'invalid TOML';
      throw new VouchError('LOCKFILE_MALFORMED', `${first} (column ${e.column})`, {
        file,
        field: `line ${e.line}`,
        cause: e,
      });
    }
    throw new VouchError('LOCKFILE_MALFORMED', 'invalid TOML', { file, cause: e });
  }
}

/** Type guard for TOML tables. */
export function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** The 1-based line of the n-th (0-based) `[[package]]` header, for error messages. */
export function packageLine(text: string, index: number): number {
  const re = /^\[\[package\]\]/gm;
  let m: RegExpExecArray | null = re.exec(text);
  for (let i = 0; m && i < index; i++) m = re.exec(text);
  return m ? text.slice(0, m.index).split('\n').length : 0;
}
