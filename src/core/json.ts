import { readFile, stat } from 'node:fs/promises';
import { errorMessage, VouchError } from './errors.ts';
import { locateJsonError } from './json-locate.ts';

export interface JsonLimits {
  /** Largest input accepted, in bytes. */
  maxBytes?: number;
  /** Deepest nesting of arrays and objects accepted. */
  maxDepth?: number;
}

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_DEPTH = 64;

/**
 * Parses untrusted JSON text. Errors name the source and the line and column,
 * and refuse input that is too large or nested too deep for later walkers.
 *
 * @throws VouchError JSON_MALFORMED | JSON_TOO_LARGE | JSON_TOO_DEEP
 */
export function parseJson(text: string, source: string, limits: JsonLimits = {}): unknown {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES;
  if (text.length > maxBytes) {
    throw new VouchError('JSON_TOO_LARGE', `larger than the limit of ${maxBytes} bytes`, {
      file: source,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new VouchError('JSON_MALFORMED', `not valid JSON: ${describeSyntaxError(text)}`, {
      file: source,
      cause: e,
    });
  }
  const maxDepth = limits.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (!fewerOpeningsThan(text, maxDepth + 1)) checkDepth(value, maxDepth, source);
  return value;
}

/**
 * True when `text` holds fewer than `n` of `[` and `{` together (inside
 * strings too): then nothing in it can be nested `n` deep, and the walk is
 * not needed. Stops counting at `n`, so on a large document it costs a few
 * native searches, not a pass over the text.
 */
function fewerOpeningsThan(text: string, n: number): boolean {
  let count = 0;
  for (const c of ['{', '[']) {
    for (let i = text.indexOf(c); i !== -1; i = text.indexOf(c, i + 1)) {
      if (++count >= n) return false;
    }
  }
  return true;
}

/**
 * @throws VouchError FILE_NOT_FOUND | FILE_READ | JSON_*
 */
export async function readJsonFile(path: string, limits: JsonLimits = {}): Promise<unknown> {
  return parseJson(await readTextFile(path, limits.maxBytes), path, limits);
}

/**
 * Reads a UTF-8 file with a size limit checked before reading.
 *
 * @throws VouchError FILE_NOT_FOUND | FILE_READ | JSON_TOO_LARGE
 */
export async function readTextFile(path: string, maxBytes = DEFAULT_MAX_BYTES): Promise<string> {
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new VouchError('FILE_READ', 'is a directory', { file: path });
    if (st.size > maxBytes) {
      throw new VouchError('JSON_TOO_LARGE', `larger than the limit of ${maxBytes} bytes`, {
        file: path,
      });
    }
    return await readFile(path, 'utf8');
  } catch (e) {
    if (e instanceof VouchError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new VouchError('FILE_NOT_FOUND', 'no such file', { file: path });
    }
    throw new VouchError('FILE_READ', `cannot read: ${errorMessage(e)}`, { file: path, cause: e });
  }
}

function checkDepth(root: unknown, maxDepth: number, source: string): void {
  // Only containers are pushed: on a large document most values are strings
  // and numbers, and a stack entry for each of them was most of the cost.
  const values: object[] = [];
  const depths: number[] = [];
  const push = (v: unknown, depth: number) => {
    if (v === null || typeof v !== 'object') return;
    if (depth > maxDepth) {
      throw new VouchError('JSON_TOO_DEEP', `nested deeper than ${maxDepth} levels`, {
        file: source,
      });
    }
    values.push(v);
    depths.push(depth);
  };
  push(root, 1);
  while (values.length > 0) {
    const v = values.pop() as object;
    const depth = (depths.pop() as number) + 1;
    if (Array.isArray(v)) {
      for (const child of v) push(child, depth);
    } else {
      for (const key in v) push((v as Record<string, unknown>)[key], depth);
    }
  }
}

function describeSyntaxError(text: string): string {
  if (text.trim() === '') return 'empty input';
  const { offset, reason } = locateJsonError(text);
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const col = offset - before.lastIndexOf('\n');
  return `${reason} at line ${line}, column ${col}`;
}

/** Type guard for plain JSON objects. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
