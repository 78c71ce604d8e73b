import type { Distro } from '../reader.ts';

/**
 * Parses os-release(5): `KEY=value` lines, values optionally in single or
 * double quotes with backslash escapes. Returns undefined without an `ID`.
 */
export function parseOsRelease(text: string): Distro | undefined {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z0-9_]+)=(.*?)\s*$/.exec(line);
    if (!m) continue;
    let v = m[2] as string;
    const q = v[0];
    if ((q === '"' || q === "'") && v.length >= 2 && v.endsWith(q)) {
      v = v.slice(1, -1);
      if (q === '"') v = v.replace(/\\(["\\`$])/g, '$1');
    }
    fields.set(m[1] as string, v);
  }
  const id = fields.get('ID')?.toLowerCase();
  if (!id || !/^[a-z0-9._-]+$/.test(id)) return undefined;
  const versionId = fields.get('VERSION_ID');
  return versionId && /^[A-Za-z0-9._~+-]+$/.test(versionId) ? { id, versionId } : { id };
}
