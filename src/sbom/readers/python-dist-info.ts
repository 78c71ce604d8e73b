import { VouchError } from '../../core/errors.ts';
import { ResultBuilder } from '../builder.ts';
import type { ReaderResult } from '../model.ts';
import type { Reader, SourceFile } from '../reader.ts';
import { pypiName } from './python-name.ts';

/**
 * An installed Python distribution: `<name>-<version>.dist-info/METADATA`
 * (core metadata, RFC 822 style headers), or the same metadata in the older
 * egg-info layout — `<name>-<version>.egg-info/PKG-INFO` (setuptools; how
 * Debian's python3-* packages install) or a single `<name>.egg-info` file
 * (distutils). `License-Expression` (core metadata 2.4) is preferred; the
 * free-text `License` header is kept only when it is short enough to be a
 * licence name rather than the licence text. A dist-info's RECORD (the
 * installed file list) is noted as present or absent: without it pip cannot
 * uninstall the package and its files cannot be verified.
 */
export const distInfoReader: Reader = {
  name: 'python-dist-info',
  matches: (path) => DIST_INFO.test(path) || EGG_INFO.test(path),
  read,
};

const DIST_INFO = /(^|\/)[^/]+\.dist-info\/METADATA$/;
const EGG_INFO = /(^|\/)[^/]+\.egg-info(\/PKG-INFO)?$/;

async function read(file: SourceFile): Promise<ReaderResult> {
  const headers = parseHeaders((await file.bytes()).toString('utf8'));
  const distInfo = DIST_INFO.test(file.path);
  const what = distInfo ? 'METADATA' : file.path.endsWith('/PKG-INFO') ? 'PKG-INFO' : 'egg-info';
  const b = new ResultBuilder(
    file.path,
    'python-dist-info',
    `${distInfo ? 'dist-info METADATA' : what === 'PKG-INFO' ? 'egg-info PKG-INFO' : 'egg-info file'} ${headers.get('metadata-version')?.[0] ?? '?'}`,
  );
  b.declare();
  const name = headers.get('name')?.[0];
  const version = headers.get('version')?.[0];
  if (!name || !version) {
    throw new VouchError('LOCKFILE_MALFORMED', `${what} without Name and Version headers`, {
      file: file.path,
    });
  }
  const licenses: string[] = [];
  const expr = headers.get('license-expression')?.[0];
  const free = headers.get('license')?.[0];
  if (expr) licenses.push(expr);
  else if (free && free.length <= 80 && !free.includes('\n') && free.toUpperCase() !== 'UNKNOWN')
    licenses.push(free);
  const properties: Record<string, string> = {};
  if (distInfo) properties['python:record'] = (await file.sibling('RECORD')) ? 'present' : 'absent';
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
