import { VouchError } from '../../core/errors.ts';
import { ResultBuilder } from '../builder.ts';
import type { ReaderResult } from '../model.ts';
import type { Reader, SourceFile } from '../reader.ts';
import { pypiName } from './python-name.ts';

/**
 * An installed Python distribution: `<name>-<version>.dist-info/METADATA`
 * (core metadata, RFC 822 style headers). `License-Expression` (core
 * metadata 2.4) is preferred; the free-text `License` header is kept only
 * when it is short enough to be a licence name rather than the licence text.
 * RECORD (the installed file list) is noted as present or absent: without it
 * pip cannot uninstall the package and its files cannot be verified.
 */
export const distInfoReader: Reader = {
  name: 'python-dist-info',
  matches: (path) => /(^|\/)[^/]+\.dist-info\/METADATA$/.test(path),
  read,
};

async function read(file: SourceFile): Promise<ReaderResult> {
  const headers = parseHeaders((await file.bytes()).toString('utf8'));
  const b = new ResultBuilder(
    file.path,
    'python-dist-info',
    `dist-info METADATA ${headers.get('metadata-version')?.[0] ?? '?'}`,
  );
  b.declare();
  const name = headers.get('name')?.[0];
  const version = headers.get('version')?.[0];
  if (!name || !version) {
    throw new VouchError('LOCKFILE_MALFORMED', 'METADATA without Name and Version headers', {
      file: file.path,
    });
  }
  const licenses: string[] = [];
  const expr = headers.get('license-expression')?.[0];
  const free = headers.get('license')?.[0];
  if (expr) licenses.push(expr);
  else if (free && free.length <= 80 && !free.includes('\n') && free.toUpperCase() !== 'UNKNOWN')
    licenses.push(free);
  const properties: Record<string, string> = {
    'python:record': (await file.sibling('RECORD')) ? 'present' : 'absent',
  };
  b.add({ ecosystem: 'pypi', name: pypiName(name), version, licenses, properties });
  return b.build();
}

/** Header block of an email-style message: lower-cased names, continuation lines folded. */
function parseHeaders(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let last: { name: string; values: string[] } | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line === '') break; // the body (long description) follows the first blank line
    if (/^[ \t]/.test(line) && last) {
      const i = last.values.length - 1;
      last.values[i] = `${last.values[i]}\n${line.trim()}`;
      continue;
    }
    const m = /^([A-Za-z0-9-]+):\s?(.*)$/.exec(line);
    if (!m) continue;
    const name = (m[1] as string).toLowerCase();
    const values = out.get(name) ?? [];
    values.push((m[2] as string).trim());
    out.set(name, values);
    last = { name, values };
  }
  return out;
}
