import { VouchError } from '../../core/errors.ts';
import { isObject } from '../../core/json.ts';
import type { VexReader, VexStatement } from './model.ts';

/**
 * CycloneDX VEX (a BOM with `vulnerabilities[]`): `id` (+ `references[].id`
 * as aliases), `analysis.state`, `analysis.justification`, `analysis.detail`,
 * `affects[].ref`. A ref is resolved to the purl of the VEX document's own
 * component with that bom-ref; a ref that is a purl is taken as is; a
 * `urn:cdx:…#ref` BOM-link keeps its bom-ref part, matched against the
 * scanned SBOM's refs.
 */
export const cycloneDxVexReader: VexReader = {
  format: 'cyclonedx',
  accepts: (doc) => doc.bomFormat === 'CycloneDX',
  read(doc, source) {
    const bad = (field: string, message: string) =>
      new VouchError('VEX_MALFORMED', message, { file: source, field });
    if (!Array.isArray(doc.vulnerabilities)) {
      throw bad('/vulnerabilities', 'a CycloneDX VEX document needs vulnerabilities[]');
    }
    const purlOfRef = new Map<string, string>();
    const walk = (list: unknown) => {
      if (!Array.isArray(list)) return;
      for (const c of list) {
        if (!isObject(c)) continue;
        if (typeof c['bom-ref'] === 'string' && typeof c.purl === 'string')
          purlOfRef.set(c['bom-ref'], c.purl);
        walk(c.components);
      }
    };
    walk(doc.components);
    if (isObject(doc.metadata) && isObject(doc.metadata.component)) walk([doc.metadata.component]);
    const docTime =
      isObject(doc.metadata) && typeof doc.metadata.timestamp === 'string'
        ? doc.metadata.timestamp
        : '';
    const out: VexStatement[] = [];
    doc.vulnerabilities.forEach((v, i) => {
      const at = `/vulnerabilities/${i}`;
      if (!isObject(v)) throw bad(at, 'not an object');
      if (typeof v.id !== 'string' || v.id === '') throw bad(`${at}/id`, 'no vulnerability id');
      // A vulnerability without analysis is a report (VDR), not a VEX statement.
      if (!isObject(v.analysis) || typeof v.analysis.state !== 'string') return;
      const ids = [v.id];
      for (const r of Array.isArray(v.references) ? v.references : []) {
        if (isObject(r) && typeof r.id === 'string') ids.push(r.id);
      }
      if (!Array.isArray(v.affects) || v.affects.length === 0) {
        throw bad(`${at}/affects`, 'a VEX statement needs affects[].ref');
      }
      const products: string[] = [];
      v.affects.forEach((a, j) => {
        if (!isObject(a) || typeof a.ref !== 'string')
          throw bad(`${at}/affects/${j}/ref`, 'not a string');
        const ref = a.ref;
        const hash = ref.startsWith('urn:cdx:') ? ref.indexOf('#') : -1;
        const local = hash >= 0 ? decodeURIComponent(ref.slice(hash + 1)) : ref;
        products.push(purlOfRef.get(local) ?? local);
      });
      out.push({
        source,
        format: 'cyclonedx',
        vulnerability: [...new Set(ids)],
        products,
        status: v.analysis.state,
        justification: typeof v.analysis.justification === 'string' ? v.analysis.justification : '',
        detail: typeof v.analysis.detail === 'string' ? v.analysis.detail : '',
        timestamp:
          typeof v.analysis.lastUpdated === 'string'
            ? v.analysis.lastUpdated
            : typeof v.updated === 'string'
              ? v.updated
              : docTime,
      });
    });
    return out;
  },
};
